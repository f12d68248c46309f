// wslgo-inspect: prints what the guard sees on this machine: system memory and pressure, the
// cgroup layout, and every gopls process with its role and memory. Read-only.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "lib/cgroup_hierarchy.h"
#include "lib/cgroup_memory_reader.h"
#include "lib/gopls_process.h"
#include "lib/meminfo.h"
#include "lib/policy_format.h"
#include "lib/process.h"
#include "lib/psi.h"

namespace wslgo {
namespace {

std::string describeAddress(const GoplsAddress& address) {
  switch (address.network) {
    case GoplsNetwork::None:
      return "";
    case GoplsNetwork::Unix:
      return "unix;" + address.address;
    case GoplsNetwork::Tcp:
      return "tcp;" + address.address;
    case GoplsNetwork::Auto:
      return "auto" + (address.address.empty() ? "" : ";" + address.address);
    case GoplsNetwork::Other:
      return address.address;
  }
  return "";
}

std::string describeLayout(const CgroupLayout& layout, const SysRoots& roots) {
  std::string out(toString(layout.kind));
  if (const CgroupMount* memory = layout.v1Controller("memory")) {
    out += ", v1 memory at " + roots.rebase(memory->mountPoint);
  }
  if (layout.unified) out += ", cgroup2 at " + roots.rebase(layout.unified->mountPoint);
  return out;
}

// The memory of the cgroup a process runs in, with the source it came from.
struct ProcessMemory {
  std::string controlGroup;
  Result<MemorySample> sample = Error{};
  std::optional<uint64_t> rss;
};

ProcessMemory readProcessMemory(const SysRoots& roots, const CgroupLayout& layout, pid_t pid) {
  ProcessMemory out;
  if (auto entries = readProcCgroup(roots, pid)) {
    out.controlGroup = controlGroupOf(*entries).value_or("/");
    CgroupMemoryReader reader(roots, cgroupDirsFor(layout, out.controlGroup, roots));
    out.sample = reader.read();
  } else {
    out.sample = entries.error();
  }
  if (auto status = readProcessStatus(roots, pid)) out.rss = status->vmRss;
  return out;
}

nlohmann::json pressureJson(const std::optional<Pressure>& pressure) {
  if (!pressure) return nullptr;
  auto line = [](const PressureLine& l) {
    return nlohmann::json{
        {"avg10", l.avg10}, {"avg60", l.avg60}, {"avg300", l.avg300}, {"total_usec", l.totalUsec}};
  };
  nlohmann::json out{{"some", line(pressure->some)}};
  if (pressure->full) out["full"] = line(*pressure->full);
  return out;
}

std::string describePressure(const std::optional<Pressure>& pressure) {
  if (!pressure) return "not reported by this kernel";
  char text[160];
  std::snprintf(text, sizeof text, "some avg10 %.2f%% avg60 %.2f%% avg300 %.2f%%",
                pressure->some.avg10, pressure->some.avg60, pressure->some.avg300);
  std::string out = text;
  if (pressure->full) {
    std::snprintf(text, sizeof text, "; full avg10 %.2f%%", pressure->full->avg10);
    out += text;
  }
  return out;
}

int run(const SysRoots& roots, bool json) {
  auto meminfo = readMeminfo(roots);
  if (!meminfo) {
    std::fprintf(stderr, "wslgo-inspect: %s\n", meminfo.error().describe().c_str());
    return 1;
  }
  auto pressure = readSystemPressure(roots, PressureResource::Memory);
  auto layout = readCgroupLayout(roots);
  auto goplses = findGoplsProcesses(roots);
  if (!goplses) {
    std::fprintf(stderr, "wslgo-inspect: %s\n", goplses.error().describe().c_str());
    return 1;
  }

  nlohmann::json out;
  out["memory"] = {{"mem_total", meminfo->memTotal},
                   {"mem_available", meminfo->memAvailable},
                   {"mem_available_estimated", !meminfo->memAvailableReported},
                   {"swap_total", meminfo->swapTotal},
                   {"swap_free", meminfo->swapFree}};
  out["memory_pressure"] = pressure ? pressureJson(*pressure) : nlohmann::json(nullptr);
  out["cgroup_layout"] = layout ? std::string(toString(layout->kind)) : "unreadable";
  out["gopls"] = nlohmann::json::array();

  std::printf("%s", json ? "" : "wslgo-inspect: what wslgo-guard sees on this machine\n\n");
  if (!json) {
    double availablePercent = meminfo->memTotal == 0
                                  ? 0.0
                                  : 100.0 * static_cast<double>(meminfo->memAvailable) /
                                        static_cast<double>(meminfo->memTotal);
    std::printf("System memory    %s total, %s available (%s%s), swap %s used of %s\n",
                describeBytes(static_cast<double>(meminfo->memTotal)).c_str(),
                describeBytes(static_cast<double>(meminfo->memAvailable)).c_str(),
                describePercent(availablePercent).c_str(),
                meminfo->memAvailableReported ? "" : ", estimated",
                describeBytes(static_cast<double>(meminfo->swapUsed())).c_str(),
                describeBytes(static_cast<double>(meminfo->swapTotal)).c_str());
    std::printf("Memory pressure  %s\n", pressure ? describePressure(*pressure).c_str()
                                                  : pressure.error().describe().c_str());
    std::printf("cgroups          %s\n\n", layout ? describeLayout(*layout, roots).c_str()
                                                  : layout.error().describe().c_str());
    std::printf("gopls processes  %zu\n", goplses->size());
  }
  for (const GoplsProcess& gopls : *goplses) {
    ProcessMemory memory = layout ? readProcessMemory(roots, *layout, gopls.pid) : ProcessMemory{};
    nlohmann::json entry{{"pid", gopls.pid},
                         {"role", std::string(toString(gopls.invocation.role))},
                         {"listen", describeAddress(gopls.invocation.listen)},
                         {"remote", describeAddress(gopls.invocation.remote)},
                         {"debug", gopls.invocation.debugAddress},
                         {"directory", gopls.workingDirectory},
                         {"cgroup", memory.controlGroup}};
    if (memory.rss) entry["rss"] = *memory.rss;
    if (memory.sample && memory.sample->current) {
      entry["cgroup_memory"] = *memory.sample->current;
      entry["cgroup_memory_source"] = std::string(toString(memory.sample->currentSource));
    }
    if (json) {
      out["gopls"].push_back(entry);
      continue;
    }
    std::printf("  pid %-7d %-9s rss %-10s in %s", gopls.pid,
                std::string(toString(gopls.invocation.role)).c_str(),
                memory.rss ? describeBytes(static_cast<double>(*memory.rss)).c_str() : "?",
                gopls.workingDirectory.empty() ? "?" : gopls.workingDirectory.c_str());
    if (gopls.invocation.listen.isSet()) {
      std::printf(", listening on %s", describeAddress(gopls.invocation.listen).c_str());
    }
    if (gopls.invocation.remote.isSet()) {
      std::printf(", forwarding to %s", describeAddress(gopls.invocation.remote).c_str());
    }
    if (memory.sample && memory.sample->current) {
      std::printf("\n             cgroup %s holds %s (%s)", memory.controlGroup.c_str(),
                  describeBytes(static_cast<double>(*memory.sample->current)).c_str(),
                  std::string(toString(memory.sample->currentSource)).c_str());
    }
    std::printf("\n");
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace
}  // namespace wslgo

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
  return wslgo::run(roots, json);
}
