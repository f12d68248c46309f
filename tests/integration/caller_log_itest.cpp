// Every call that changes the guard's state leaves a log line naming the caller's bus name and
// pid, so the journal answers "who removed my workspace?".
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {

TEST_CASE("state-changing calls are logged with the caller's bus name and pid", "[guard]") {
  WSLGO_START_SCENARIO(s);
  const std::string module = s.home.makeModule("app");
  addWorkspace(s, module);
  s.manager->setProperty("DryRun").onInterface(kManager).toValue(true);
  s.manager->callMethod("Reload").onInterface(kManager);
  s.manager->callMethod("RemoveWorkspace").onInterface(kManager).withArguments(module);

  const std::string me = "pid " + std::to_string(::getpid());
  for (const std::string& line : {"AddWorkspace added " + module, std::string("DryRun set to true"),
                                  std::string("Reload re-reads the configuration"),
                                  "RemoveWorkspace removed the workspace holding " + module}) {
    INFO(line);
    CHECK(waitUntil([&] {
      const std::string log = s.guard->log();
      const size_t at = log.find(line + ", asked by bus name :");
      return at != std::string::npos && log.find(me, at) < log.find('\n', at);
    }));
  }
}

TEST_CASE("the workspace actions asked for over the bus are logged with the caller's name and pid",
          "[guard]") {
  WSLGO_START_SCENARIO(s);
  const std::string module = s.home.makeModule("app");
  auto workspace = s.workspaceProxy(addWorkspace(s, module));
  // Whether each action succeeds does not matter here: the request itself is logged, before
  // the guard acts, so a failed or refused action still says who asked.
  for (const char* method : {"CollectGarbage", "TrimCache", "CaptureHeapProfile"}) {
    errorOf([&] {
      workspace->callMethod(method).onInterface(kWorkspace).withTimeout(std::chrono::seconds(30));
    });
  }
  errorOf([&] {
    workspace->callMethod("Restart")
        .onInterface(kWorkspace)
        .withArguments(std::string("who asked"))
        .withTimeout(std::chrono::seconds(60));
  });

  const std::string me = "pid " + std::to_string(::getpid());
  for (const char* method : {"CollectGarbage", "TrimCache", "CaptureHeapProfile", "Restart"}) {
    const std::string line = std::string(method) + " for " + module;
    INFO(line);
    // Each call has been answered, so its line is written: wait only for the log to be read.
    CHECK(waitUntil(
        [&] {
          const std::string log = s.guard->log();
          const size_t at = log.find(line + ", asked by bus name :");
          return at != std::string::npos && log.find(me, at) < log.find('\n', at);
        },
        std::chrono::seconds(5)));
  }
}

}  // namespace wslgo::test
