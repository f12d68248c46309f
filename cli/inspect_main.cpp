// wslgo-inspect: prints what the guard sees on this machine: system memory and pressure, the
// cgroup layout, and every gopls process with its role and memory. Read-only. The report itself
// is cli/inspect_report.cpp, shared with `wslgo-guardctl inspect`.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/inspect_report.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Prints what wslgo-guard sees on this machine: system memory and pressure, the cgroup\n"
      "layout, and every gopls process with its role (daemon, forwarder, editor, tool) and\n"
      "memory. Read-only; needs no service."};
  wslgo::SysRoots roots;
  bool json = false;
  app.add_option("--proc", roots.proc, "Where procfs is (a fixture tree for tests)")
      ->capture_default_str();
  app.add_option("--sys", roots.sys, "Where sysfs is (a fixture tree for tests)")
      ->capture_default_str();
  app.add_flag("--json", json, "Print one JSON document instead of text");
  CLI11_PARSE(app, argc, argv);
  return wslgo::writeInspectReport(roots, json, "wslgo-inspect", std::cout, std::cerr);
}
