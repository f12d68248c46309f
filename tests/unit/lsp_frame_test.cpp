#include <algorithm>

#include <catch2/catch.hpp>

#include "lib/lsp_frame.h"
#include "lib/lsp_initialize.h"
#include "tests/unit/fixtures.h"

namespace wslgo {
namespace {

constexpr size_t kLimit = size_t{1} << 20;

// The commands of a captured initialize answer, fed one byte at a time as a slow socket would.
std::vector<std::string> commandsFrom(const std::string& capture) {
  std::string buffer;
  for (char c : capture) {
    buffer.push_back(c);
    auto frame = splitLspFrame(buffer, kLimit);
    REQUIRE(frame);
    if (!*frame) continue;
    CHECK((*frame)->consumed == capture.size());
    auto commands = parseInitializeCommands((*frame)->body, 1);
    REQUIRE(commands);
    REQUIRE(*commands);
    return **commands;
  }
  FAIL("the capture holds no complete message");
  return {};
}

bool offers(const std::vector<std::string>& commands, const std::string& command) {
  return std::find(commands.begin(), commands.end(), command) != commands.end();
}

}  // namespace

TEST_CASE("gopls v0.23.0 answers initialize with gopls.mem_stats among 47 commands", "[lsp]") {
  auto commands = commandsFrom(test::readFixture("gopls-debug/initialize-response-v0.23.0.lsp"));
  CHECK(commands.size() == 47);
  CHECK(offers(commands, "gopls.mem_stats"));
}

TEST_CASE("Debian's gopls answers initialize without gopls.mem_stats", "[lsp]") {
  auto commands = commandsFrom(test::readFixture("gopls-debug/initialize-response-0.5.0.lsp"));
  CHECK(commands.size() == 24);
  CHECK_FALSE(offers(commands, "gopls.mem_stats"));
}

TEST_CASE("a framed message splits back into its body, and two in a row one at a time", "[lsp]") {
  const std::string two = frameLspMessage("{\"a\":1}") + frameLspMessage("{}");
  auto first = splitLspFrame(two, kLimit);
  REQUIRE(first);
  REQUIRE(*first);
  CHECK((*first)->body == "{\"a\":1}");
  auto second = splitLspFrame(std::string_view(two).substr((*first)->consumed), kLimit);
  REQUIRE(second);
  REQUIRE(*second);
  CHECK((*second)->body == "{}");
}

TEST_CASE("headers are matched without regard to case and may carry other fields", "[lsp]") {
  auto frame = splitLspFrame(
      "content-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:  2\r\n\r\n{}",
      kLimit);
  REQUIRE(frame);
  REQUIRE(*frame);
  CHECK((*frame)->body == "{}");
}

TEST_CASE("a header without a usable length, or over the limit, is an error", "[lsp]") {
  for (const char* bad : {"Content-Type: x\r\n\r\n{}", "Content-Length: two\r\n\r\n{}",
                          "Content-Length: -1\r\n\r\n{}", "Content-Length: \r\n\r\n"}) {
    INFO(bad);
    CHECK_FALSE(splitLspFrame(bad, kLimit));
  }
  auto big = splitLspFrame("Content-Length: 2000000\r\n\r\n", kLimit);
  REQUIRE_FALSE(big);
  CHECK_THAT(big.error().describe(), Catch::Contains("over the limit"));
  CHECK_FALSE(splitLspFrame(std::string(5000, 'x'), kLimit));
  auto partial = splitLspFrame("Content-Length: 10\r\n\r\n{}", kLimit);
  REQUIRE(partial);
  CHECK_FALSE(*partial);
}

TEST_CASE("notifications and other ids are passed over; an error answer is reported", "[lsp]") {
  auto notification = parseInitializeCommands(
      R"({"jsonrpc":"2.0","method":"window/logMessage","params":{"type":3,"message":"hi"}})", 1);
  REQUIRE(notification);
  CHECK_FALSE(*notification);
  auto other = parseInitializeCommands(R"({"jsonrpc":"2.0","id":7,"result":{}})", 1);
  REQUIRE(other);
  CHECK_FALSE(*other);
  auto refused = parseInitializeCommands(
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"server not initialized"}})", 1);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().describe(), Catch::Contains("server not initialized"));
  auto none =
      parseInitializeCommands(R"({"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}})", 1);
  REQUIRE(none);
  REQUIRE(*none);
  CHECK((*none)->empty());
  CHECK_FALSE(parseInitializeCommands("[1,2", 1));
}

TEST_CASE("the initialize request asks for nothing to be loaded", "[lsp]") {
  auto framed = frameLspMessage(lspInitializeRequest(1));
  auto frame = splitLspFrame(framed, kLimit);
  REQUIRE(frame);
  REQUIRE(*frame);
  CHECK_THAT(std::string((*frame)->body), Catch::Contains("\"rootUri\":null"));
  CHECK_THAT(std::string((*frame)->body), Catch::Contains("\"method\":\"initialize\""));
}

}  // namespace wslgo
