// wslgo-bench-daemon: prints issue #5's daemon figures against their targets; non-zero if over.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/daemon_bench.h"
#include "daemon/logging.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo::bench {

bool reportFigure(const std::string& name, const std::string& value, const std::string& target,
                  bool ok) {
  std::printf("%-52s %-34s (target %s)  %s\n", name.c_str(), value.c_str(), target.c_str(),
              ok ? "ok" : "OVER");
  std::fflush(stdout);
  return ok;
}

void reportNote(const std::string& name, const std::string& value) {
  std::printf("%-52s %s\n", name.c_str(), value.c_str());
  std::fflush(stdout);
}

Result<BusAndUnits> startBusAndUnits(const test::GuardHome& home, const std::string& unitCommand) {
  auto bus = test::PrivateBus::start();
  if (!bus) return errnoError(bus.error().code, "private bus", bus.error().describe());
  test::FakeSystemd::Options options;
  options.envDir = home.unitEnvDir();
  options.realCgroups = true;
  options.execCommand = unitCommand;
  auto fake = test::FakeSystemd::start(*bus, options);
  if (!fake) return errnoError(fake.error().code, "fake systemd", fake.error().describe());
  return BusAndUnits{std::move(*bus), std::move(*fake)};
}

double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(q * static_cast<double>(values.size()));
  const size_t index = std::clamp<size_t>(static_cast<size_t>(rank), 1, values.size()) - 1;
  return values[index];
}

}  // namespace wslgo::bench

int main(int argc, char** argv) {
  wslgo::bench::DaemonBenchOptions options;
  std::string only;
  CLI::App app{
      "wslgo-bench-daemon: measures the wslgo-guard daemon against issue #5's targets on a\n"
      "private dbus-daemon, with the fake systemd running each unit in a real cgroup (needs the\n"
      "right to make cgroups: root here). See docs/benchmarks.md."};
  app.add_option("--workspaces", options.tickWorkspaces,
                 "workspace counts for the sampling tick figure (target 62.5 us CPU per "
                 "workspace: 0.5 ms for 8, 4 ms for 64)")
      ->capture_default_str();
  app.add_option("--gopls", options.guardWorkspaces,
                 "workspaces, each a real gopls, under the wslgo-guard binary")
      ->capture_default_str();
  app.add_option("--cpu-seconds", options.cpuSeconds,
                 "window over which the guard's CPU is measured (the issue's figure: 600)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--calls", options.calls, "GetStatus round trips to time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--rounds", options.latencyRounds, "memory line crossings to time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--only", only, "run only one group of figures")
      ->check(CLI::IsMember({"tick", "guard", "latency"}));
  std::string hogStamp;
  app.add_option("--hog", hogStamp, "(internal) be the latency figure's memory hog")->group("");
  CLI11_PARSE(app, argc, argv);
  if (!hogStamp.empty()) return wslgo::bench::runHog(hogStamp);
  if (!only.empty()) {
    options.tick = only == "tick";
    options.guard = only == "guard";
    options.latency = only == "latency";
  }

  if (!wslgo::test::PrivateBus::toolFound()) {
    std::fprintf(stderr, "wslgo-bench-daemon: dbus-daemon is not on PATH (apt install dbus)\n");
    return 2;
  }
  // The in-process Manager logs like the daemon; only what would need a look is printed.
  wslgo::setupLogging(wslgo::LogTarget::Stderr, spdlog::level::warn);

  bool ok = true;
  if (options.tick) ok &= wslgo::bench::runTickFigures(options);
  if (options.guard) ok &= wslgo::bench::runGuardFigures(options);
  if (options.latency) ok &= wslgo::bench::runLatencyFigure(options);
  std::printf("%s\n", ok ? "all figures within target" : "some figures over target");
  return ok ? 0 : 1;
}
