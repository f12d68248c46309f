#include "cli/inspect_report.h"

#include <cstdarg>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>

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

// printf's formatting onto a stream: the report's columns are printf widths.
__attribute__((format(printf, 2, 3))) void writef(std::ostream& out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int length = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (length > 0) {
    std::string text(static_cast<size_t>(length) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), format, args);
    text.resize(static_cast<size_t>(length));
    out << text;
  }
  va_end(args);
}

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

}  // namespace

int writeInspectReport(const SysRoots& roots, bool json, std::string_view program,
                       std::ostream& out, std::ostream& err) {
  auto meminfo = readMeminfo(roots);
  if (!meminfo) {
    err << program << ": " << meminfo.error().describe() << '\n';
    return 1;
  }
  auto pressure = readSystemPressure(roots, PressureResource::Memory);
  auto layout = readCgroupLayout(roots);
  auto goplses = findGoplsProcesses(roots);
  if (!goplses) {
    err << program << ": " << goplses.error().describe() << '\n';
    return 1;
  }

  nlohmann::json document;
  document["memory"] = {{"mem_total", meminfo->memTotal},
                        {"mem_available", meminfo->memAvailable},
                        {"mem_available_estimated", !meminfo->memAvailableReported},
                        {"swap_total", meminfo->swapTotal},
                        {"swap_free", meminfo->swapFree}};
  document["memory_pressure"] = pressure ? pressureJson(*pressure) : nlohmann::json(nullptr);
  document["cgroup_layout"] = layout ? std::string(toString(layout->kind)) : "unreadable";
  document["gopls"] = nlohmann::json::array();

  // The heading names wslgo-inspect under either program: the two print the same report.
  if (!json) {
    out << "wslgo-inspect: what wslgo-guard sees on this machine\n\n";
    double availablePercent = meminfo->memTotal == 0
                                  ? 0.0
                                  : 100.0 * static_cast<double>(meminfo->memAvailable) /
                                        static_cast<double>(meminfo->memTotal);
    writef(out, "System memory    %s total, %s available (%s%s), swap %s used of %s\n",
           describeBytes(static_cast<double>(meminfo->memTotal)).c_str(),
           describeBytes(static_cast<double>(meminfo->memAvailable)).c_str(),
           describePercent(availablePercent).c_str(),
           meminfo->memAvailableReported ? "" : ", estimated",
           describeBytes(static_cast<double>(meminfo->swapUsed())).c_str(),
           describeBytes(static_cast<double>(meminfo->swapTotal)).c_str());
    writef(out, "Memory pressure  %s\n",
           pressure ? describePressure(*pressure).c_str() : pressure.error().describe().c_str());
    writef(out, "cgroups          %s\n\n",
           layout ? describeLayout(*layout, roots).c_str() : layout.error().describe().c_str());
    writef(out, "gopls processes  %zu\n", goplses->size());
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
      document["gopls"].push_back(entry);
      continue;
    }
    writef(out, "  pid %-7d %-9s rss %-10s in %s", gopls.pid,
           std::string(toString(gopls.invocation.role)).c_str(),
           memory.rss ? describeBytes(static_cast<double>(*memory.rss)).c_str() : "?",
           gopls.workingDirectory.empty() ? "?" : gopls.workingDirectory.c_str());
    if (gopls.invocation.listen.isSet()) {
      out << ", listening on " << describeAddress(gopls.invocation.listen);
    }
    if (gopls.invocation.remote.isSet()) {
      out << ", forwarding to " << describeAddress(gopls.invocation.remote);
    }
    if (memory.sample && memory.sample->current) {
      writef(out, "\n             cgroup %s holds %s (%s)", memory.controlGroup.c_str(),
             describeBytes(static_cast<double>(*memory.sample->current)).c_str(),
             std::string(toString(memory.sample->currentSource)).c_str());
    }
    out << '\n';
  }
  if (json) out << document.dump(2) << '\n';
  out.flush();
  return 0;
}

}  // namespace wslgo
