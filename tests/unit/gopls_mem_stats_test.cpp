#include <catch2/catch.hpp>

#include "lib/gopls_mem_stats.h"

namespace wslgo {

TEST_CASE("the gopls.mem_stats request is a workspace/executeCommand with no arguments",
          "[mem_stats]") {
  const std::string request = lspMemStatsRequest(2);
  CHECK_THAT(request, Catch::Contains(R"("method":"workspace/executeCommand")"));
  CHECK_THAT(request, Catch::Contains(R"("command":"gopls.mem_stats")"));
  CHECK_THAT(request, Catch::Contains(R"("arguments":[])"));
  CHECK_THAT(request, Catch::Contains(R"("id":2)"));
}

TEST_CASE("gopls' mem_stats answer gives its figures; other messages are read past",
          "[mem_stats]") {
  // As gopls v0.23.0 answers (its command.MemStatsResult).
  auto stats = parseMemStatsAnswer(
      R"({"jsonrpc":"2.0","id":2,"result":{"HeapAlloc":51234816,"HeapInUse":60383232,"TotalAlloc":1234567890}})",
      2);
  REQUIRE(stats.ok());
  REQUIRE(stats->has_value());
  CHECK((*stats)->heapAlloc == 51234816);
  CHECK((*stats)->heapInUse == 60383232);
  CHECK((*stats)->totalAlloc == 1234567890);

  auto notification = parseMemStatsAnswer(
      R"({"jsonrpc":"2.0","method":"window/logMessage","params":{"type":3,"message":"x"}})", 2);
  REQUIRE(notification.ok());
  CHECK_FALSE(notification->has_value());
  auto initializeAnswer = parseMemStatsAnswer(R"({"jsonrpc":"2.0","id":1,"result":{}})", 2);
  REQUIRE(initializeAnswer.ok());
  CHECK_FALSE(initializeAnswer->has_value());
}

TEST_CASE("a refused or malformed mem_stats answer is an error quoting what came back",
          "[mem_stats]") {
  // What a gopls without the command says (0.5.0 answers so).
  auto refused = parseMemStatsAnswer(
      R"({"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"unsupported command \"gopls.mem_stats\""}})",
      2);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().describe(), Catch::Contains("gopls.mem_stats") &&
                                             Catch::Contains("unsupported command"));
  auto negative =
      parseMemStatsAnswer(R"({"id":2,"result":{"HeapAlloc":-1,"HeapInUse":1,"TotalAlloc":1}})", 2);
  REQUIRE_FALSE(negative.ok());
  CHECK_THAT(negative.error().describe(), Catch::Contains("HeapAlloc"));
  auto missing = parseMemStatsAnswer(R"({"id":2,"result":{"HeapAlloc":1}})", 2);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().describe(), Catch::Contains("HeapInUse"));
  CHECK_FALSE(parseMemStatsAnswer("not json", 2).ok());
}

}  // namespace wslgo
