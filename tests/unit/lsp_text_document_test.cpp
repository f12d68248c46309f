#include "lib/lsp_text_document.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace wslgo {
namespace {

using nlohmann::json;

constexpr auto kUtf8 = PositionEncoding::Utf8;
constexpr auto kUtf16 = PositionEncoding::Utf16;
constexpr auto kUtf32 = PositionEncoding::Utf32;

LspPosition at(uint32_t line, uint32_t character) {
  return LspPosition{.line = line, .character = character};
}

TextChange edit(LspPosition start, LspPosition end, std::string text) {
  return TextChange{.range = LspRange{.start = start, .end = end}, .text = std::move(text)};
}

TextChange wholeText(std::string text) { return TextChange{.range = {}, .text = std::move(text)}; }

// `text` after the contentChanges of a didChange, read from JSON as the keeper reads them.
std::string afterChanges(std::string text, const json& contentChanges, PositionEncoding encoding) {
  auto changes = parseContentChanges(contentChanges);
  REQUIRE(changes);
  auto applied = applyTextChanges(text, *changes, encoding);
  const std::string why = applied.ok() ? std::string() : applied.error().describe();
  INFO(why);
  REQUIRE(applied);
  return text;
}

json rangeJson(uint32_t startLine, uint32_t startCharacter, uint32_t endLine,
               uint32_t endCharacter) {
  return {{"start", {{"line", startLine}, {"character", startCharacter}}},
          {"end", {{"line", endLine}, {"character", endCharacter}}}};
}

// "a😀b": 'a' is byte 0, the emoji bytes 1-4 (F0 9F 98 80), 'b' byte 5.
const std::string kEmojiLine =
    "a\xF0\x9F\x98\x80"
    "b";

}  // namespace

TEST_CASE("position encodings are named as LSP 3.17 spells them and nothing else", "[lsp_text]") {
  for (PositionEncoding encoding : {kUtf8, kUtf16, kUtf32}) {
    CHECK(parsePositionEncoding(positionEncodingName(encoding)) == encoding);
  }
  CHECK(positionEncodingName(kUtf16) == "utf-16");
  for (const char* other : {"", "utf16", "UTF-16", "utf-16 ", "latin1"}) {
    INFO(other);
    CHECK_FALSE(parsePositionEncoding(other).has_value());
  }
  CHECK(kDefaultPositionEncoding == kUtf16);
}

TEST_CASE("in ASCII every encoding counts bytes", "[lsp_text]") {
  const std::string text = "package main\nfunc main() {}\n";
  for (PositionEncoding encoding : {kUtf8, kUtf16, kUtf32}) {
    INFO(positionEncodingName(encoding));
    CHECK(byteOffsetOf(text, at(0, 0), encoding) == 0);
    CHECK(byteOffsetOf(text, at(0, 8), encoding) == 8);
    CHECK(byteOffsetOf(text, at(1, 0), encoding) == 13);
    CHECK(byteOffsetOf(text, at(1, 5), encoding) == 18);
    CHECK(byteOffsetOf(text, at(2, 0), encoding) == text.size());
  }
}

TEST_CASE("UTF-16 counts an emoji as a surrogate pair of two code units", "[lsp_text]") {
  CHECK(byteOffsetOf(kEmojiLine, at(0, 0), kUtf16) == 0);
  CHECK(byteOffsetOf(kEmojiLine, at(0, 1), kUtf16) == 1);  // before the emoji
  CHECK(byteOffsetOf(kEmojiLine, at(0, 3), kUtf16) == 5);  // after it, before 'b'
  CHECK(byteOffsetOf(kEmojiLine, at(0, 4), kUtf16) == 6);  // after 'b'
  CHECK(byteOffsetOf(kEmojiLine, at(0, 5), kUtf16) == 6);
}

TEST_CASE("a UTF-16 position inside a surrogate pair is the start of its code point",
          "[lsp_text]") {
  CHECK(byteOffsetOf(kEmojiLine, at(0, 2), kUtf16) == 1);
  std::string text = kEmojiLine;
  REQUIRE(applyTextChanges(text, {edit(at(0, 2), at(0, 3), "X")}, kUtf16));
  CHECK(text == "aXb");  // the edit took the whole emoji, never half of it
}

TEST_CASE("UTF-8 counts the emoji's four bytes and UTF-32 its one code point", "[lsp_text]") {
  CHECK(byteOffsetOf(kEmojiLine, at(0, 1), kUtf8) == 1);
  CHECK(byteOffsetOf(kEmojiLine, at(0, 5), kUtf8) == 5);
  CHECK(byteOffsetOf(kEmojiLine, at(0, 6), kUtf8) == 6);
  for (uint32_t inside : {2u, 3u, 4u}) {
    INFO(inside);
    CHECK(byteOffsetOf(kEmojiLine, at(0, inside), kUtf8) == 1);
  }
  CHECK(byteOffsetOf(kEmojiLine, at(0, 1), kUtf32) == 1);
  CHECK(byteOffsetOf(kEmojiLine, at(0, 2), kUtf32) == 5);
  CHECK(byteOffsetOf(kEmojiLine, at(0, 3), kUtf32) == 6);
  CHECK(byteOffsetOf(kEmojiLine, at(0, 4), kUtf32) == 6);
}

TEST_CASE("é and 日本 are one unit each in UTF-16 and UTF-32 and two or three in UTF-8",
          "[lsp_text]") {
  // é is bytes 0-1, 日 2-4, 本 5-7, x 8.
  const std::string text = "\xC3\xA9\xE6\x97\xA5\xE6\x9C\xACx";
  for (PositionEncoding encoding : {kUtf16, kUtf32}) {
    INFO(positionEncodingName(encoding));
    CHECK(byteOffsetOf(text, at(0, 1), encoding) == 2);
    CHECK(byteOffsetOf(text, at(0, 2), encoding) == 5);
    CHECK(byteOffsetOf(text, at(0, 3), encoding) == 8);
    CHECK(byteOffsetOf(text, at(0, 4), encoding) == 9);
  }
  CHECK(byteOffsetOf(text, at(0, 2), kUtf8) == 2);
  CHECK(byteOffsetOf(text, at(0, 3), kUtf8) == 2);  // inside 日
  CHECK(byteOffsetOf(text, at(0, 5), kUtf8) == 5);
  CHECK(byteOffsetOf(text, at(0, 8), kUtf8) == 8);
}

TEST_CASE("a CRLF is one line break and a position past the line's end stops before it",
          "[lsp_text]") {
  const std::string text = "ab\r\ncd\r\nef";
  CHECK(byteOffsetOf(text, at(1, 0), kUtf16) == 4);
  CHECK(byteOffsetOf(text, at(2, 0), kUtf16) == 8);
  CHECK(byteOffsetOf(text, at(0, 2), kUtf16) == 2);
  CHECK(byteOffsetOf(text, at(0, 3), kUtf16) == 2);  // not between '\r' and '\n'
  CHECK(byteOffsetOf(text, at(1, 99), kUtf16) == 6);
  CHECK(byteOffsetOf(text, at(2, 99), kUtf16) == 10);
  std::string joined = text;
  REQUIRE(applyTextChanges(joined, {edit(at(0, 2), at(1, 0), "")}, kUtf16));
  CHECK(joined == "abcd\r\nef");
}

TEST_CASE("a lone CR ends a line as well, and CR then CRLF then LF are three breaks",
          "[lsp_text]") {
  const std::string text = "a\rb\nc";
  CHECK(byteOffsetOf(text, at(1, 0), kUtf16) == 2);
  CHECK(byteOffsetOf(text, at(0, 5), kUtf16) == 1);
  CHECK(byteOffsetOf(text, at(2, 0), kUtf16) == 4);
  const std::string breaks = "\r\r\n\n";
  CHECK(byteOffsetOf(breaks, at(1, 0), kUtf16) == 1);
  CHECK(byteOffsetOf(breaks, at(2, 0), kUtf16) == 3);
  CHECK(byteOffsetOf(breaks, at(3, 0), kUtf16) == 4);
  CHECK(byteOffsetOf(breaks, at(1, 1), kUtf16) == 1);
}

TEST_CASE("a line past the last one is the end of the text", "[lsp_text]") {
  CHECK(byteOffsetOf("ab\ncd", at(2, 0), kUtf16) == 5);
  CHECK(byteOffsetOf("ab\ncd", at(9, 9), kUtf16) == 5);
  CHECK(byteOffsetOf("ab\n", at(1, 0), kUtf16) == 3);
  CHECK(byteOffsetOf("ab\n", at(1, 4), kUtf16) == 3);
  CHECK(byteOffsetOf("", at(0, 0), kUtf16) == 0);
  CHECK(byteOffsetOf("", at(0, 7), kUtf16) == 0);
  CHECK(byteOffsetOf("", at(4000000000u, 4000000000u), kUtf8) == 0);
}

TEST_CASE("invalid UTF-8 counts one code unit per bad byte and is never read past its end",
          "[lsp_text]") {
  // A lone continuation byte, an overlong '/', an encoded surrogate, and a truncated 日 at the
  // end of the text.
  const std::string text = "\x80x\xC0\xAFy\xED\xA0\x80z\xE6\x97";
  for (PositionEncoding encoding : {kUtf8, kUtf16, kUtf32}) {
    INFO(positionEncodingName(encoding));
    CHECK(byteOffsetOf(text, at(0, 1), encoding) == 1);
    CHECK(byteOffsetOf(text, at(0, 4), encoding) == 4);
    CHECK(byteOffsetOf(text, at(0, 8), encoding) == 8);
    CHECK(byteOffsetOf(text, at(0, 10), encoding) == 10);
    CHECK(byteOffsetOf(text, at(0, 11), encoding) == 11);
    CHECK(byteOffsetOf(text, at(0, 12), encoding) == 11);
  }
  // A truncated sequence right before a line break leaves the break alone.
  CHECK(byteOffsetOf("\xF0\x9F\n", at(0, 9), kUtf16) == 2);
  CHECK(byteOffsetOf("\xF0\x9F\n", at(1, 0), kUtf16) == 3);
}

TEST_CASE("typing at the end of the document appends, even past the last line", "[lsp_text]") {
  std::string text = "package main\n";
  REQUIRE(applyTextChanges(text, {edit(at(1, 0), at(1, 0), "func f() {}\n")}, kUtf16));
  CHECK(text == "package main\nfunc f() {}\n");
  REQUIRE(applyTextChanges(text, {edit(at(7, 3), at(7, 3), "// end")}, kUtf16));
  CHECK(text == "package main\nfunc f() {}\n// end");
  REQUIRE(applyTextChanges(text, {edit(at(0, 99), at(0, 99), " // x")}, kUtf16));
  CHECK(text == "package main // x\nfunc f() {}\n// end");
}

TEST_CASE("a deletion across lines joins the first line's head to the last line's tail",
          "[lsp_text]") {
  CHECK(afterChanges("one\ntwo\nthree",
                     json::array({{{"range", rangeJson(0, 2, 2, 1)}, {"text", ""}}}),
                     kUtf16) == "onhree");
  CHECK(afterChanges("one\ntwo\nthree",
                     json::array({{{"range", rangeJson(0, 3, 2, 0)}, {"text", ""}}}),
                     kUtf16) == "onethree");
}

TEST_CASE("the edits of one change apply in order, each to the text the last one left",
          "[lsp_text]") {
  // The second edit's (0,1)-(0,6) is "hello" only once the first has put 'X' in front of it.
  const json changes = json::array({{{"range", rangeJson(0, 0, 0, 0)}, {"text", "X"}},
                                    {{"range", rangeJson(0, 1, 0, 6)}, {"text", "bye"}},
                                    {{"range", rangeJson(1, 0, 1, 0)}, {"text", "new "}}});
  CHECK(afterChanges("hello\nworld", changes, kUtf16) == "Xbye\nnew world");
}

TEST_CASE("typing with two cursors, sent bottom edit first as VS Code does", "[lsp_text]") {
  const json changes = json::array({{{"range", rangeJson(1, 1, 1, 1)}, {"text", "x"}},
                                    {{"range", rangeJson(0, 1, 0, 1)}, {"text", "x"}}});
  CHECK(afterChanges("ab\ncd", changes, kUtf16) == "axb\ncxd");
}

TEST_CASE("a whole-text change replaces everything, and an edit after it edits the new text",
          "[lsp_text]") {
  const json changes =
      json::array({{{"text", "abc\ndef"}}, {{"range", rangeJson(1, 0, 1, 1)}, {"text", "D"}}});
  CHECK(afterChanges("something else\nentirely\n", changes, kUtf16) == "abc\nDef");
  CHECK(afterChanges("old", json::array({{{"text", ""}}}), kUtf16).empty());
}

TEST_CASE("an editor session over emoji and accents ends with the text the editor shows",
          "[lsp_text]") {
  // The user has fmt.Println("héllo 😀") on screen, selects the 😀, types 🎉, then types '!'
  // after it. Written out by hand: UTF-16 columns f=0 ... "=12 h=13 é=14 l=15 l=16 o=17 ' '=18,
  // 😀=19-20, "=21; the UTF-8 columns shift by one after é and by two more inside the emoji.
  const std::string start = "fmt.Println(\"h\xC3\xA9llo \xF0\x9F\x98\x80\")\n";
  const std::string expected = "fmt.Println(\"h\xC3\xA9llo \xF0\x9F\x8E\x89!\")\n";
  const std::string party = "\xF0\x9F\x8E\x89";
  const json utf16 = json::array({{{"range", rangeJson(0, 19, 0, 21)}, {"text", party}},
                                  {{"range", rangeJson(0, 21, 0, 21)}, {"text", "!"}}});
  CHECK(afterChanges(start, utf16, kUtf16) == expected);
  const json utf8 = json::array({{{"range", rangeJson(0, 20, 0, 24)}, {"text", party}},
                                 {{"range", rangeJson(0, 24, 0, 24)}, {"text", "!"}}});
  CHECK(afterChanges(start, utf8, kUtf8) == expected);
  const json utf32 = json::array({{{"range", rangeJson(0, 19, 0, 20)}, {"text", party}},
                                  {{"range", rangeJson(0, 20, 0, 20)}, {"text", "!"}}});
  CHECK(afterChanges(start, utf32, kUtf32) == expected);
}

TEST_CASE("a range that starts after it ends is an error that leaves the text unchanged",
          "[lsp_text]") {
  std::string text = "hello\nworld";
  auto backwards = applyTextChanges(text, {edit(at(0, 3), at(0, 1), "X")}, kUtf16);
  REQUIRE_FALSE(backwards);
  CHECK_THAT(backwards.error().describe(), Catch::Contains("contentChanges[0].range"));
  CHECK_THAT(backwards.error().describe(), Catch::Contains("is after end"));
  CHECK(text == "hello\nworld");

  // The first change was good and the second is not: neither is kept.
  auto halfway = applyTextChanges(
      text, {wholeText("replaced"), edit(at(0, 0), at(0, 1), "a"), edit(at(1, 0), at(0, 0), "")},
      kUtf16);
  REQUIRE_FALSE(halfway);
  CHECK_THAT(halfway.error().describe(), Catch::Contains("contentChanges[2]"));
  CHECK(text == "hello\nworld");
}

TEST_CASE("a backwards range whose ends resolve to the same byte is an empty edit", "[lsp_text]") {
  // Both ends are past the end of line 0, so both are its end; VS Code, which puts the ends in
  // order itself, makes the same edit.
  std::string text = "ab\ncd";
  REQUIRE(applyTextChanges(text, {edit(at(0, 9), at(0, 5), "!")}, kUtf16));
  CHECK(text == "ab!\ncd");
}

TEST_CASE("no changes leave the text as it was", "[lsp_text]") {
  std::string text = "unchanged";
  REQUIRE(applyTextChanges(text, {}, kUtf16));
  CHECK(text == "unchanged");
  auto none = parseContentChanges(json::array());
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("contentChanges parse into whole-text and ranged changes", "[lsp_text]") {
  const json contentChanges = json::parse(R"([
    {"text": "whole"},
    {"range": {"start": {"line": 1, "character": 2}, "end": {"line": 3, "character": 4}},
     "rangeLength": 999, "text": "part"},
    {"range": null, "text": "null range"},
    {"range": {"start": {"line": 0, "character": 99999999999}, "end": {"line": 0, "character": 0}},
     "text": ""}
  ])");
  auto changes = parseContentChanges(contentChanges);
  REQUIRE(changes);
  REQUIRE(changes->size() == 4);
  CHECK_FALSE((*changes)[0].range.has_value());
  CHECK((*changes)[0].text == "whole");
  REQUIRE((*changes)[1].range.has_value());
  CHECK((*changes)[1].range->start.line == 1);
  CHECK((*changes)[1].range->start.character == 2);
  CHECK((*changes)[1].range->end.line == 3);
  CHECK((*changes)[1].range->end.character == 4);
  CHECK((*changes)[1].text == "part");
  CHECK_FALSE((*changes)[2].range.has_value());
  REQUIRE((*changes)[3].range.has_value());
  CHECK((*changes)[3].range->start.character == 4294967295u);
}

TEST_CASE("malformed contentChanges are errors that name the element and the field", "[lsp_text]") {
  const auto position = [](const json& line, const json& character) {
    return json{{"line", line}, {"character", character}};
  };
  const json good = position(0, 0);
  struct Case {
    json contentChanges;
    const char* where;
    const char* what;
  };
  const Case cases[] = {
      {json::object({{"text", "x"}}), "contentChanges", "expected an array, got an object"},
      {json::array({5}), "contentChanges[0]", "expected an object, got 5"},
      {json::array({{{"text", "a"}}, json::object()}), "contentChanges[1].text", "missing"},
      {json::array({{{"text", 3}}}), "contentChanges[0].text", "expected a string, got 3"},
      {json::array({{{"text", nullptr}}}), "contentChanges[0].text", "got null"},
      {json::array({{{"text", ""}, {"range", "0:0"}}}), "contentChanges[0].range",
       "expected a range object"},
      {json::array({{{"text", ""}, {"range", {{"start", good}}}}}), "contentChanges[0].range.end",
       "missing"},
      {json::array({{{"text", ""}, {"range", {{"start", 1}, {"end", good}}}}}),
       "contentChanges[0].range.start", "expected a position object, got 1"},
      {json::array({{{"text", ""}, {"range", {{"start", position(-1, 0)}, {"end", good}}}}}),
       "contentChanges[0].range.start.line", "expected a non-negative integer, got -1"},
      {json::array({{{"text", ""}, {"range", {{"start", good}, {"end", position(0, 1.5)}}}}}),
       "contentChanges[0].range.end.character", "got 1.5"},
      {json::array({{{"text", ""}, {"range", {{"start", good}, {"end", position(0, "3")}}}}}),
       "contentChanges[0].range.end.character", "got a string"},
      {json::array({{{"text", ""}, {"range", {{"start", {{"line", 0}}}, {"end", good}}}}}),
       "contentChanges[0].range.start.character", "missing"},
  };
  for (const Case& bad : cases) {
    INFO(bad.contentChanges.dump());
    auto parsed = parseContentChanges(bad.contentChanges);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().path == bad.where);
    CHECK_THAT(parsed.error().message, Catch::Contains(bad.what));
  }
}

TEST_CASE("an edit at the end of a 10 MB document lands where it should, edit after edit",
          "[lsp_text]") {
  // 200,000 lines of 50 bytes: a linear scan per change is fine, anything quadratic is not.
  const std::string line = std::string(48, 'x') + "\r\n";
  std::string text;
  text.reserve(line.size() * 200000 + 64);
  for (int i = 0; i < 200000; ++i) text += line;
  std::string expected = text;
  for (uint32_t i = 0; i < 20; ++i) {
    REQUIRE(applyTextChanges(text, {edit(at(199999, 48 + i), at(199999, 48 + i), "y")}, kUtf16));
    REQUIRE(applyTextChanges(text, {edit(at(0, 0), at(0, 1), "z")}, kUtf16));
  }
  expected.insert(expected.size() - 2, std::string(20, 'y'));
  expected[0] = 'z';
  CHECK(text == expected);
  CHECK(byteOffsetOf(text, at(200000, 0), kUtf16) == text.size());
}

}  // namespace wslgo
