#include "lib/lsp_text_document.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "lib/utf8.h"

namespace wslgo {
namespace {

bool isLineBreak(char c) { return c == '\n' || c == '\r'; }

// The length of the UTF-8 sequence at `at`, or 1 for a byte that does not start a well-formed
// one. A continuation byte is never '\r' or '\n', so a sequence never runs across a line break.
size_t sequenceLength(std::string_view text, size_t at) {
  return std::max<size_t>(1, utf8SequenceLength(text, at));
}

// How many code units of `encoding` a sequence of `length` UTF-8 bytes is.
uint32_t codeUnits(size_t length, PositionEncoding encoding) {
  switch (encoding) {
    case PositionEncoding::Utf8:
      return static_cast<uint32_t>(length);
    case PositionEncoding::Utf16:
      return length == 4 ? 2 : 1;  // only code points from U+10000 take four bytes
    case PositionEncoding::Utf32:
      return 1;
  }
  return 1;
}

// The start of the line `lines` lines below the one that starts at `lineStart`, or nullopt when
// the text ends first. A plain byte loop: it runs over the document up to the edit on every
// keystroke.
std::optional<size_t> skipLines(std::string_view text, size_t lineStart, uint32_t lines) {
  size_t at = lineStart;
  while (lines > 0) {
    while (at < text.size() && !isLineBreak(text[at])) ++at;
    if (at == text.size()) return std::nullopt;
    if (text[at] == '\r' && at + 1 < text.size() && text[at + 1] == '\n') ++at;
    ++at;
    --lines;
  }
  return at;
}

size_t offsetInLine(std::string_view text, size_t lineStart, uint32_t character,
                    PositionEncoding encoding) {
  size_t at = lineStart;
  uint64_t units = 0;
  while (at < text.size() && units < character && !isLineBreak(text[at])) {
    const size_t length = sequenceLength(text, at);
    const uint32_t cost = codeUnits(length, encoding);
    if (units + cost > character) break;  // inside this code point: stay at its start
    units += cost;
    at += length;
  }
  return at;
}

struct ResolvedPosition {
  size_t offset = 0;
  // Where position.line starts (the end of the text for a line past the last), for a later
  // position on the same or a later line to scan on from.
  size_t lineStart = 0;
};

// `position` resolved by scanning on from `from`, the start of line `fromLine`.
ResolvedPosition resolveFrom(std::string_view text, size_t from, uint32_t fromLine,
                             LspPosition position, PositionEncoding encoding) {
  std::optional<size_t> lineStart = skipLines(text, from, position.line - fromLine);
  if (!lineStart) return {.offset = text.size(), .lineStart = text.size()};
  return {.offset = offsetInLine(text, *lineStart, position.character, encoding),
          .lineStart = *lineStart};
}

std::string describePosition(LspPosition position) {
  return "line " + std::to_string(position.line) + ", character " +
         std::to_string(position.character);
}

// Applies one change to `text`, touching it only once the change is known to be good.
Result<void> applyTextChange(std::string& text, const TextChange& change, size_t index,
                             PositionEncoding encoding) {
  if (!change.range) {
    text = change.text;
    return {};
  }
  const LspRange& range = *change.range;
  const ResolvedPosition start = resolveFrom(text, 0, 0, range.start, encoding);
  // The end is nearly always at or after the start's line: scan on from there, not from the top.
  const ResolvedPosition end =
      range.end.line >= range.start.line
          ? resolveFrom(text, start.lineStart, range.start.line, range.end, encoding)
          : resolveFrom(text, 0, 0, range.end, encoding);
  if (start.offset > end.offset) {
    return parseError("contentChanges[" + std::to_string(index) + "].range",
                      "start (" + describePosition(range.start) + ", byte " +
                          std::to_string(start.offset) + ") is after end (" +
                          describePosition(range.end) + ", byte " + std::to_string(end.offset) +
                          ")");
  }
  text.replace(start.offset, end.offset - start.offset, change.text);
  return {};
}

// A JSON value named in an error: numbers as written, anything else by its type, so a huge or
// hostile value is never copied into a message.
std::string describeJson(const nlohmann::json& value) {
  if (value.is_number() || value.is_boolean() || value.is_null()) return value.dump();
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  return std::string("a ") + value.type_name();
}

Result<uint32_t> parseUinteger(const nlohmann::json& parent, const char* key,
                               const std::string& path) {
  const std::string field = path + "." + key;
  auto found = parent.find(key);
  if (found == parent.end()) return parseError(field, "missing: expected a non-negative integer");
  if (found->is_number_unsigned()) {
    return static_cast<uint32_t>(
        std::min<uint64_t>(found->get<uint64_t>(), std::numeric_limits<uint32_t>::max()));
  }
  if (found->is_number_integer() && found->get<int64_t>() >= 0) {
    return static_cast<uint32_t>(
        std::min<int64_t>(found->get<int64_t>(), std::numeric_limits<uint32_t>::max()));
  }
  return parseError(field, "expected a non-negative integer, got " + describeJson(*found));
}

Result<LspPosition> parsePosition(const nlohmann::json& parent, const char* key,
                                  const std::string& path) {
  const std::string field = path + "." + key;
  auto found = parent.find(key);
  if (found == parent.end()) return parseError(field, "missing: expected a position object");
  if (!found->is_object()) {
    return parseError(field, "expected a position object, got " + describeJson(*found));
  }
  auto line = parseUinteger(*found, "line", field);
  if (!line) return line.error();
  auto character = parseUinteger(*found, "character", field);
  if (!character) return character.error();
  return LspPosition{.line = *line, .character = *character};
}

Result<TextChange> parseContentChange(const nlohmann::json& element, size_t index) {
  const std::string path = "contentChanges[" + std::to_string(index) + "]";
  if (!element.is_object()) {
    return parseError(path, "expected an object, got " + describeJson(element));
  }
  TextChange change;
  auto text = element.find("text");
  if (text == element.end()) return parseError(path + ".text", "missing: expected a string");
  if (!text->is_string()) {
    return parseError(path + ".text", "expected a string, got " + describeJson(*text));
  }
  change.text = text->get<std::string>();
  auto range = element.find("range");
  if (range == element.end() || range->is_null()) return change;
  const std::string rangePath = path + ".range";
  if (!range->is_object()) {
    return parseError(rangePath, "expected a range object, got " + describeJson(*range));
  }
  auto start = parsePosition(*range, "start", rangePath);
  if (!start) return start.error();
  auto end = parsePosition(*range, "end", rangePath);
  if (!end) return end.error();
  change.range = LspRange{.start = *start, .end = *end};
  return change;
}

}  // namespace

std::optional<PositionEncoding> parsePositionEncoding(std::string_view name) {
  if (name == "utf-8") return PositionEncoding::Utf8;
  if (name == "utf-16") return PositionEncoding::Utf16;
  if (name == "utf-32") return PositionEncoding::Utf32;
  return std::nullopt;
}

std::string_view positionEncodingName(PositionEncoding encoding) {
  switch (encoding) {
    case PositionEncoding::Utf8:
      return "utf-8";
    case PositionEncoding::Utf16:
      return "utf-16";
    case PositionEncoding::Utf32:
      return "utf-32";
  }
  return "utf-16";
}

size_t byteOffsetOf(std::string_view text, LspPosition position, PositionEncoding encoding) {
  return resolveFrom(text, 0, 0, position, encoding).offset;
}

Result<std::vector<TextChange>> parseContentChanges(const nlohmann::json& contentChanges) {
  if (!contentChanges.is_array()) {
    return parseError("contentChanges", "expected an array, got " + describeJson(contentChanges));
  }
  std::vector<TextChange> changes;
  changes.reserve(contentChanges.size());
  for (size_t i = 0; i < contentChanges.size(); ++i) {
    auto change = parseContentChange(contentChanges[i], i);
    if (!change) return change.error();
    changes.push_back(std::move(change).value());
  }
  return changes;
}

Result<void> applyTextChanges(std::string& text, const std::vector<TextChange>& changes,
                              PositionEncoding encoding) {
  // A single change (one keystroke) is checked before it touches anything, so it can be applied
  // in place; a longer array can fail halfway and works on a copy.
  if (changes.size() == 1) return applyTextChange(text, changes.front(), 0, encoding);
  std::string edited = text;
  for (size_t i = 0; i < changes.size(); ++i) {
    auto applied = applyTextChange(edited, changes[i], i, encoding);
    if (!applied) return applied;
  }
  text.swap(edited);
  return {};
}

}  // namespace wslgo
