#include "lib/cgroup_memory_reader.h"

#include <unistd.h>

#include <cerrno>
#include <limits>
#include <utility>
#include <vector>

#include "lib/process.h"

namespace wslgo {
namespace {

// What a read returns when the file (or the cgroup holding it) does not exist: ENOENT at open,
// ENODEV on a kept descriptor whose cgroup was removed.
bool isGone(int code) { return code == ENOENT || code == ENODEV; }

// Process readers report a process that exited as ENOENT (no /proc/PID) or ESRCH (mid-read).
bool isVanishedProcess(int code) { return code == ENOENT || code == ESRCH; }

// Reads a file that may be missing; `absent` remembers a missing one so later samples skip it.
template <class Parse, class Apply>
Result<void> readOptionalInto(KeptFile& file, bool& absent, Parse&& parse, Apply&& apply) {
  if (absent) return {};
  auto text = file.read();
  if (!text) {
    if (!isGone(text.error().code)) return text.error();
    absent = true;
    return {};
  }
  auto parsed = parse(*text);
  if (!parsed) return parsed.error().withPath(file.path());
  apply(*parsed);
  return {};
}

Error cgroupGone(const std::string& dir) {
  return errnoError(ENOENT, dir,
                    "the cgroup directory is gone: the unit has stopped or has not started yet");
}

}  // namespace

CgroupMemoryReader::CgroupMemoryReader(SysRoots roots, CgroupDirs dirs)
    : roots_(std::move(roots)), dirs_(std::move(dirs)) {
  if (dirs_.unified) {
    const std::string& dir = *dirs_.unified;
    v2Current_ = KeptFile(dir + "/memory.current");
    v2Stat_.file = KeptFile(dir + "/memory.stat");
    v2Events_.file = KeptFile(dir + "/memory.events");
    v2High_.file = KeptFile(dir + "/memory.high");
    v2Max_.file = KeptFile(dir + "/memory.max");
    v2SwapCurrent_.file = KeptFile(dir + "/memory.swap.current");
    v2ReclaimPath_ = dir + "/memory.reclaim";
  }
  if (dirs_.memoryV1) {
    const std::string& dir = *dirs_.memoryV1;
    v1Usage_ = KeptFile(dir + "/memory.usage_in_bytes");
    v1Stat_.file = KeptFile(dir + "/memory.stat");
    v1Limit_.file = KeptFile(dir + "/memory.limit_in_bytes");
    v1Failcnt_.file = KeptFile(dir + "/memory.failcnt");
  }
  // The hierarchy systemd manages the unit in holds its processes; the v1 memory controller
  // lists them too, which covers a v1 host without a name=systemd hierarchy.
  if (dirs_.unified) {
    procsDir_ = *dirs_.unified;
  } else if (dirs_.systemdV1) {
    procsDir_ = *dirs_.systemdV1;
  } else if (dirs_.memoryV1) {
    procsDir_ = *dirs_.memoryV1;
  }
  if (!procsDir_.empty()) procs_ = KeptFile(procsDir_ + "/cgroup.procs");
}

void CgroupMemoryReader::reset() {
  // A unit that restarted lives in a new cgroup under the same path; descriptors kept from the
  // old one would only report ENODEV, so every file is reopened by path.
  for (KeptFile* file : {&v2Current_, &v1Usage_, &procs_}) file->close();
  for (OptionalFile* file : {&v2Stat_, &v2Events_, &v2High_, &v2Max_, &v2SwapCurrent_, &v1Stat_,
                             &v1Limit_, &v1Failcnt_}) {
    file->file.close();
    file->absent = false;
  }
  if (dirs_.unified) pressure_.emplace(*dirs_.unified + "/memory.pressure");
  reclaimAvailable_.reset();
}

Result<MemorySample> CgroupMemoryReader::read() {
  MemorySample sample;
  bool filled = false;
  if (source_ == MemorySource::CgroupV2) {
    auto read = readV2(sample);
    if (!read) return read.error();
    filled = *read;
  } else if (source_ == MemorySource::CgroupV1) {
    auto read = readV1(sample);
    if (!read) return read.error();
    filled = *read;
  } else if (source_ == MemorySource::ProcessRss) {
    auto read = readProcessRss(sample);
    if (!read) {
      // Probe afresh next time: the unit may come back with a memory controller of its own.
      source_ = MemorySource::None;
      return read.error();
    }
    filled = true;
  }

  if (!filled) {
    sample = MemorySample{};
    source_ = MemorySource::None;
    reset();
    if (dirs_.unified) {
      auto read = readV2(sample);
      if (!read) return read.error();
      if (*read) source_ = MemorySource::CgroupV2;
    }
    if (source_ == MemorySource::None && dirs_.memoryV1) {
      auto read = readV1(sample);
      if (!read) return read.error();
      if (*read) source_ = MemorySource::CgroupV1;
    }
    if (source_ == MemorySource::None) {
      if (auto read = readProcessRss(sample); !read) return read.error();
      source_ = MemorySource::ProcessRss;
    }
  }

  if (auto pressure = readPressure(sample); !pressure) return pressure.error();
  return sample;
}

Result<bool> CgroupMemoryReader::readV2(MemorySample& sample) {
  auto text = v2Current_.read();
  if (!text) {
    // Absent while the directory exists: the memory controller is not enabled in this cgroup2
    // subtree (always so on a hybrid host). Absent with the directory gone is found out by the
    // process-RSS fallback, which then reports the directory.
    if (isGone(text.error().code)) return false;
    return text.error();
  }
  auto current = parseCgroupValue(*text);
  if (!current) return current.error().withPath(v2Current_.path());
  sample.current = *current;
  sample.currentSource = MemorySource::CgroupV2;

  if (auto read = readOptionalInto(v2Stat_.file, v2Stat_.absent, parseCgroupV2MemoryStat,
                                   [&sample](const CgroupMemoryStat& stat) {
                                     sample.stat = stat;
                                     sample.statSource = MemorySource::CgroupV2;
                                   });
      !read) {
    return read.error();
  }
  if (auto read =
          readOptionalInto(v2Events_.file, v2Events_.absent, parseMemoryEvents,
                           [&sample](const MemoryEvents& events) { sample.events = events; });
      !read) {
    return read.error();
  }
  if (auto read = readOptionalInto(v2High_.file, v2High_.absent, parseMemoryLimit,
                                   [&sample](const MemoryLimit& high) { sample.high = high; });
      !read) {
    return read.error();
  }
  if (auto read = readOptionalInto(v2Max_.file, v2Max_.absent, parseMemoryLimit,
                                   [&sample](const MemoryLimit& max) {
                                     sample.max = max;
                                     sample.limitSource = MemorySource::CgroupV2;
                                   });
      !read) {
    return read.error();
  }
  if (auto read = readOptionalInto(v2SwapCurrent_.file, v2SwapCurrent_.absent, parseCgroupValue,
                                   [&sample](uint64_t swap) {
                                     sample.swapCurrent = swap;
                                     sample.swapSource = MemorySource::CgroupV2;
                                   });
      !read) {
    return read.error();
  }
  // memory.reclaim is write-only, so there is nothing to keep open; whether the kernel has it
  // does not change, so ask once per probe.
  if (!reclaimAvailable_) reclaimAvailable_ = ::access(v2ReclaimPath_.c_str(), F_OK) == 0;
  sample.reclaimAvailable = *reclaimAvailable_;
  return true;
}

Result<bool> CgroupMemoryReader::readV1(MemorySample& sample) {
  auto text = v1Usage_.read();
  if (!text) {
    // No v1 memory cgroup for this unit (nobody created one) or it was removed.
    if (isGone(text.error().code)) return false;
    return text.error();
  }
  auto usage = parseCgroupValue(*text);
  if (!usage) return usage.error().withPath(v1Usage_.path());
  sample.current = *usage;
  sample.currentSource = MemorySource::CgroupV1;

  if (auto read = readOptionalInto(v1Stat_.file, v1Stat_.absent, parseCgroupV1MemoryStat,
                                   [&sample](const CgroupMemoryStat& stat) {
                                     sample.stat = stat;
                                     sample.statSource = MemorySource::CgroupV1;
                                     // total_swap exists only with swap accounting on.
                                     if (stat.swap) {
                                       sample.swapCurrent = stat.swap;
                                       sample.swapSource = MemorySource::CgroupV1;
                                     }
                                   });
      !read) {
    return read.error();
  }
  if (auto read = readOptionalInto(v1Limit_.file, v1Limit_.absent, parseMemoryLimit,
                                   [&sample](const MemoryLimit& max) {
                                     sample.max = max;
                                     sample.limitSource = MemorySource::CgroupV1;
                                   });
      !read) {
    return read.error();
  }
  if (auto read = readOptionalInto(v1Failcnt_.file, v1Failcnt_.absent, parseCgroupValue,
                                   [&sample](uint64_t failcnt) { sample.failcnt = failcnt; });
      !read) {
    return read.error();
  }
  return true;
}

Result<void> CgroupMemoryReader::readProcessRss(MemorySample& sample) {
  if (procsDir_.empty()) {
    return errnoError(ENOENT, {},
                      "no cgroup hierarchy on this host can see the unit's cgroup, so there is "
                      "nothing to read its memory from");
  }
  auto text = procs_.read();
  if (!text) {
    if (isGone(text.error().code)) return cgroupGone(procsDir_);
    return text.error();
  }
  auto pids = parsePidList(*text);
  if (!pids) return pids.error().withPath(procs_.path());

  uint64_t total = 0;
  for (pid_t pid : *pids) {
    auto status = readProcessStatus(roots_, pid);
    if (!status) {
      // Exited between the listing and now; its memory is gone with it.
      if (isVanishedProcess(status.error().code)) continue;
      return status.error();
    }
    uint64_t rss = status->vmRss.value_or(0);  // zombies have no VmRSS line
    if (rss > std::numeric_limits<uint64_t>::max() - total) {
      return parseError(procs_.path(), "the sum of VmRSS over the cgroup's processes overflows");
    }
    total += rss;
    sample.pids.push_back(pid);
  }
  sample.current = total;
  sample.currentSource = MemorySource::ProcessRss;
  return {};
}

Result<void> CgroupMemoryReader::readPressure(MemorySample& sample) {
  if (!pressure_) return {};
  auto pressure = pressure_->read();
  if (!pressure) {
    if (isGone(pressure.error().code)) return {};
    return pressure.error();
  }
  sample.pressure = *pressure;
  return {};
}

}  // namespace wslgo
