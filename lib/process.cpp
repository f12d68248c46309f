#include "lib/process.h"
#include "lib/text_lines.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <limits>
#include <utility>

namespace wslgo {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";
constexpr uint64_t kKibibyte = 1024;

// Splits "Key:\tvalue" into key and value; the value keeps no leading blanks.
bool splitField(std::string_view line, std::string_view& key, std::string_view& value) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = line.substr(0, colon);
  value = line.substr(colon + 1);
  size_t start = value.find_first_not_of(" \t");
  value = start == std::string_view::npos ? std::string_view() : value.substr(start);
  return true;
}

// Digits only: from_chars takes a minus sign for a signed pid_t, and a status file saying
// "Pid: -2" (found by fuzz/process_status_fuzz.cpp) would name a process group to kill(2).
template <class Int>
bool parseWhole(std::string_view text, Int& out) {
  if (!text.empty() && text.front() == '-') return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// "1234 kB" -> 1263616. Refuses other units, trailing garbage and values whose byte count would
// not fit in 64 bits.
bool parseKibibytes(std::string_view value, uint64_t& bytes) {
  uint64_t kib = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, kib);
  if (ec != std::errc() || std::string_view(ptr, end - ptr) != " kB") return false;
  if (kib > std::numeric_limits<uint64_t>::max() / kKibibyte) return false;
  bytes = kib * kKibibyte;
  return true;
}

std::string pidPath(const SysRoots& roots, pid_t pid, std::string_view file) {
  std::string relative = std::to_string(pid);
  relative += '/';
  relative += file;
  return roots.procPath(relative);
}

Result<std::string> readLink(const std::string& path) {
  std::string target(256, '\0');
  for (;;) {
    ssize_t got = ::readlink(path.c_str(), target.data(), target.size());
    if (got < 0) {
      const int code = errno;
      return errnoError(code, path,
                        code == EACCES ? "cannot read the link: the process belongs to another user"
                                       : "cannot read the link: the process has exited or has "
                                         "none (kernel thread, zombie)");
    }
    // readlink truncates silently; a result that fills the buffer may be cut short.
    if (static_cast<size_t>(got) < target.size()) {
      target.resize(static_cast<size_t>(got));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

bool isGone(int code) { return code == ESRCH || code == ENOENT; }

// One read of a file under /proc/PID, saying so when the failure means the process is gone.
Result<std::string_view> readPidFile(const std::string& path, std::string& buffer) {
  auto contents = readFileInto(path, buffer);
  if (contents.ok() || !isGone(contents.error().code)) return contents;
  return errnoError(contents.error().code, path, "cannot read: the process has exited");
}

}  // namespace

Result<ProcessStatus> parseProcessStatus(std::string_view text) {
  ProcessStatus status;
  bool sawName = false;
  bool sawPid = false;
  std::optional<Error> failure;
  forEachLine(text, [&](std::string_view line) {
    std::string_view key;
    std::string_view value;
    if (failure || !splitField(line, key, value)) return;
    auto kib = [&](std::optional<uint64_t>& field) {
      uint64_t bytes = 0;
      if (!parseKibibytes(value, bytes)) {
        failure = fieldError({}, key, value, "expected a size in kB that fits in 64 bits");
      } else {
        field = bytes;
      }
    };
    auto id = [&](auto& field) {
      if (!parseWhole(value, field)) failure = fieldError({}, key, value, "expected a number");
    };
    if (key == "Name") {
      status.name = std::string(value);
      sawName = true;
    } else if (key == "Pid") {
      id(status.pid);
      sawPid = true;
    } else if (key == "PPid") {
      id(status.ppid);
    } else if (key == "Uid") {
      // Real, effective, saved, filesystem: the real uid owns the process.
      value = value.substr(0, value.find_first_of(" \t"));
      id(status.uid);
    } else if (key == "VmRSS") {
      kib(status.vmRss);
    } else if (key == "VmSwap") {
      kib(status.vmSwap);
    } else if (key == "RssAnon") {
      kib(status.rssAnon);
    } else if (key == "RssFile") {
      kib(status.rssFile);
    } else if (key == "RssShmem") {
      kib(status.rssShmem);
    }
  });
  if (failure) return *failure;
  if (!sawName || !sawPid) {
    return parseError({}, "no Name or Pid line: not a /proc/PID/status file, or cut short");
  }
  return status;
}

Result<SmapsRollup> parseSmapsRollup(std::string_view text) {
  SmapsRollup rollup;
  struct Field {
    std::string_view key;
    uint64_t* target;
    bool seen;
  };
  Field fields[] = {{"Rss", &rollup.rss, false},
                    {"Pss", &rollup.pss, false},
                    {"Swap", &rollup.swap, false},
                    {"Anonymous", &rollup.anonymous, false}};
  std::optional<Error> failure;
  // The first line is the "[rollup]" pseudo-mapping; its key matches no field.
  forEachLine(text, [&](std::string_view line) {
    std::string_view key;
    std::string_view value;
    if (failure || !splitField(line, key, value)) return;
    for (Field& field : fields) {
      if (field.key != key) continue;
      if (!parseKibibytes(value, *field.target)) {
        failure = fieldError({}, key, value, "expected a size in kB that fits in 64 bits");
      }
      field.seen = true;
    }
  });
  if (failure) return *failure;
  for (const Field& field : fields) {
    if (!field.seen) {
      std::string message = "no ";
      message += field.key;
      message += " line: not a smaps_rollup file, or cut short";
      return parseError({}, std::move(message));
    }
  }
  return rollup;
}

std::vector<std::string> parseCmdline(std::string_view text) {
  std::vector<std::string> argv;
  // Each argument ends in a NUL; a process that rewrote its arguments may drop the last one.
  // Empty arguments in between are real ("gopls -logfile ''").
  if (text.empty()) return argv;
  if (text.back() == '\0') text.remove_suffix(1);
  for (;;) {
    size_t end = text.find('\0');
    argv.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return argv;
}

Result<std::vector<pid_t>> parsePidList(std::string_view text) {
  std::vector<pid_t> pids;
  std::optional<Error> failure;
  forEachLine(text, [&](std::string_view line) {
    if (failure) return;
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) return;
    line = line.substr(first, line.find_last_not_of(" \t") + 1 - first);
    pid_t pid = 0;
    if (!parseWhole(line, pid) || pid < 0) {
      failure = fieldError({}, "pid list", line, "expected one positive pid per line");
      return;
    }
    // A process outside our pid namespace is listed as 0: it exists, but has no /proc entry
    // we could read.
    if (pid > 0) pids.push_back(pid);
  });
  if (failure) return *failure;
  return pids;
}

Result<ProcessStatus> readProcessStatus(const SysRoots& roots, pid_t pid) {
  std::string path = pidPath(roots, pid, "status");
  std::string buffer;
  auto text = readPidFile(path, buffer);
  if (!text) return text.error();
  auto status = parseProcessStatus(*text);
  if (!status) return status.error().withPath(path);
  return status;
}

Result<SmapsRollup> readSmapsRollup(const SysRoots& roots, pid_t pid) {
  std::string path = pidPath(roots, pid, "smaps_rollup");
  std::string buffer;
  auto text = readPidFile(path, buffer);
  if (!text) return text.error();
  auto rollup = parseSmapsRollup(*text);
  if (!rollup) return rollup.error().withPath(path);
  return rollup;
}

Result<std::vector<std::string>> readCmdline(const SysRoots& roots, pid_t pid) {
  std::string path = pidPath(roots, pid, "cmdline");
  std::string buffer;
  auto text = readPidFile(path, buffer);
  if (!text) return text.error();
  return parseCmdline(*text);
}

Result<std::string> readExe(const SysRoots& roots, pid_t pid) {
  auto target = readLink(pidPath(roots, pid, "exe"));
  if (!target) return target;
  std::string& path = *target;
  // The kernel marks a binary unlinked or replaced since exec (go install over a running
  // gopls) this way; the name is still the one to restart.
  if (std::string_view(path).ends_with(kDeletedSuffix)) {
    path.resize(path.size() - kDeletedSuffix.size());
  }
  return target;
}

Result<std::string> readCwd(const SysRoots& roots, pid_t pid) {
  return readLink(pidPath(roots, pid, "cwd"));
}

Result<std::vector<pid_t>> listPids(const SysRoots& roots) {
  DIR* dir = ::opendir(roots.proc.c_str());
  if (dir == nullptr) return errnoError(errno, roots.proc, "cannot list processes");
  std::vector<pid_t> pids;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    pid_t pid = 0;
    if (parseWhole(std::string_view(entry->d_name), pid) && pid > 0) pids.push_back(pid);
  }
  int code = errno;
  ::closedir(dir);
  if (code != 0) return errnoError(code, roots.proc, "cannot list processes");
  return pids;
}

ProcessMemoryReader::ProcessMemoryReader(const SysRoots& roots, pid_t pid)
    : pid_(pid),
      smapsRollup_(pidPath(roots, pid, "smaps_rollup")),
      status_(pidPath(roots, pid, "status")) {}

Result<std::string_view> ProcessMemoryReader::readKept(KeptFile& file) {
  if (gone_) return errnoError(ESRCH, file.path(), "the process has exited");
  auto text = file.read();
  if (!text && isGone(text.error().code)) {
    gone_ = true;
    smapsRollup_.close();
    status_.close();
  }
  return text;
}

Result<SmapsRollup> ProcessMemoryReader::read() {
  auto text = readKept(smapsRollup_);
  if (!text) return text.error();
  auto rollup = parseSmapsRollup(*text);
  if (!rollup) return rollup.error().withPath(smapsRollup_.path());
  return rollup;
}

Result<ProcessStatus> ProcessMemoryReader::readStatus() {
  auto text = readKept(status_);
  if (!text) return text.error();
  auto status = parseProcessStatus(*text);
  if (!status) return status.error().withPath(status_.path());
  return status;
}

}  // namespace wslgo
