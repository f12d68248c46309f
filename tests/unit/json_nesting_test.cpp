#include "lib/json_nesting.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

namespace wslgo {

TEST_CASE("flat JSON and scalars are within any depth", "[json_nesting]") {
  CHECK(jsonNestingWithin("", 0));
  CHECK(jsonNestingWithin("42", 0));
  CHECK(jsonNestingWithin(R"("text")", 0));
  CHECK(jsonNestingWithin(R"({"a":1,"b":"c"})", 1));
  CHECK_FALSE(jsonNestingWithin("[]", 0));
}

TEST_CASE("nesting exactly at the limit is within it, and one more level is not",
          "[json_nesting]") {
  CHECK(jsonNestingWithin(R"({"a":[{"b":[]}]})", 4));
  CHECK_FALSE(jsonNestingWithin(R"({"a":[{"b":[]}]})", 3));
  CHECK(jsonNestingWithin("[[[]]]", 3));
  CHECK_FALSE(jsonNestingWithin("[[[]]]", 2));
}

TEST_CASE("siblings do not add up: depth is how far one path goes down", "[json_nesting]") {
  CHECK(jsonNestingWithin(R"([[],[],{},[{"a":[]}]])", 4));
  CHECK_FALSE(jsonNestingWithin(R"([[],[],{},[{"a":[]}]])", 3));
}

TEST_CASE("brackets inside strings do not count", "[json_nesting]") {
  CHECK(jsonNestingWithin(R"(["[[[[{{{{", {"}}]]": "[{"}])", 2));
  CHECK(jsonNestingWithin(R"({"text": "func f() { return []int{} }"})", 1));
}

TEST_CASE("an escaped quote does not end a string, an escaped backslash does not escape it",
          "[json_nesting]") {
  CHECK(jsonNestingWithin(R"(["a\"[["])", 1));
  CHECK(jsonNestingWithin(R"(["\\\"[[[", 1])", 1));
  // After "a\\" the string is over, so the brackets that follow are real.
  CHECK(jsonNestingWithin(R"(["a\\",[[]]])", 3));
  CHECK_FALSE(jsonNestingWithin(R"(["a\\",[[]]])", 2));
}

TEST_CASE("malformed JSON is scanned without trouble: stray closers buy no room",
          "[json_nesting]") {
  CHECK(jsonNestingWithin("]]]}}}[[", 2));
  CHECK_FALSE(jsonNestingWithin("]]]}}}[[", 1));
  CHECK(jsonNestingWithin(R"(["unterminated [[[[)", 1));
  CHECK(jsonNestingWithin("\\", 0));
}

TEST_CASE("comments hide their brackets and quotes, but not what follows them", "[json_nesting]") {
  CHECK(jsonNestingWithin("// [[[[\n{\"a\": 1 /* {{{{ */}", 1));
  // A '"' in a comment opens no string: the brackets after it count.
  CHECK_FALSE(jsonNestingWithin("// don't \"\n[[[]]]", 2));
  CHECK_FALSE(jsonNestingWithin("/* \" */ [[[]]]", 2));
  // A line comment ends where the parser ends it: at '\r' too.
  CHECK_FALSE(jsonNestingWithin("// \"\r[[[]]]", 2));
  CHECK(jsonNestingWithin("[1] // unterminated at the end [[[", 1));
  CHECK(jsonNestingWithin("[1] /* unterminated [[[", 1));
  // Inside a string, "//" and "/*" are text.
  CHECK_FALSE(jsonNestingWithin(R"(["http://x", [[]]])", 2));
}

TEST_CASE("a 300,000-deep document is refused quickly, a 300,000-long flat one is not",
          "[json_nesting]") {
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');
  const auto begin = std::chrono::steady_clock::now();
  CHECK_FALSE(jsonNestingWithin(deep, 64));
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(1));
  CHECK(jsonNestingWithin(deep, 300000));

  std::string flat = "[";
  for (int i = 0; i < 300000; ++i) flat += "[],";
  flat += "0]";
  CHECK(jsonNestingWithin(flat, 2));
}

}  // namespace wslgo
