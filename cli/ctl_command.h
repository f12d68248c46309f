// What every wslgo-guardctl command shares: its exit codes, where it writes, and how a command
// group hooks into the one CLI11 app.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace wslgo::ctl {

// Documented in wslgo-guardctl(1) and --help; scripts rely on them.
enum class ExitCode : int {
  Ok = 0,
  Failure = 1,           // the command ran and something failed (the message says what)
  Usage = 2,             // bad arguments (CLI11's own errors too)
  GuardUnreachable = 3,  // nobody owns org.wslgo.Guard1 on the user bus (and it cannot be started)
  NoSuchWorkspace = 4,   // the path is not inside a guarded workspace
};

// Where a command writes and how. `colour`: stdout is a terminal and NO_COLOR is unset (or
// empty), unless --no-color; decided once in main.
struct Output {
  std::ostream& out;
  std::ostream& err;
  bool colour = false;
};

// What the program reads of the world: read in main and nowhere else, so that every command
// (and a test) gets it as an argument, as the core's readers get their root.
struct Host {
  std::map<std::string, std::string> environment;
  std::function<uint64_t()> realtimeUsec;  // CLOCK_REALTIME; watch asks at every frame

  // The variable's value; empty when it is unset (the commands treat both the same).
  std::string variable(std::string_view name) const {
    auto found = environment.find(std::string(name));
    return found == environment.end() ? std::string() : found->second;
  }
};

// The one run of the program: a command group's subcommand callbacks do their work and set
// `exitCode`. Callbacks never throw for expected failures: they write one line to `output.err`
// saying what went wrong and how to fix it, and set the code.
struct Run {
  Output output;
  Host host;
  ExitCode exitCode = ExitCode::Ok;
};

// Each command group registers its subcommands (with their options and callbacks) on `app`:
//   void addDoctorCommand(CLI::App& app, Run& run);
// `run` outlives app.parse().
using CommandGroup = std::function<void(CLI::App& app, Run& run)>;

}  // namespace wslgo::ctl
