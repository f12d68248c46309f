#include "lib/meminfo.h"
#include "lib/text_lines.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <utility>

namespace wslgo {
namespace {

constexpr uint64_t kKib = 1024;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

struct Field {
  std::string_view name;
  uint64_t Meminfo::*member;
};

// Every line we keep is in kB; counts such as HugePages_Total are not among them.
constexpr std::array kFields = {
    Field{"MemTotal", &Meminfo::memTotal},
    Field{"MemFree", &Meminfo::memFree},
    Field{"MemAvailable", &Meminfo::memAvailable},
    Field{"Buffers", &Meminfo::buffers},
    Field{"Cached", &Meminfo::cached},
    Field{"SwapCached", &Meminfo::swapCached},
    Field{"Active", &Meminfo::active},
    Field{"Inactive", &Meminfo::inactive},
    Field{"Active(file)", &Meminfo::activeFile},
    Field{"Inactive(file)", &Meminfo::inactiveFile},
    Field{"SwapTotal", &Meminfo::swapTotal},
    Field{"SwapFree", &Meminfo::swapFree},
    Field{"Dirty", &Meminfo::dirty},
    Field{"AnonPages", &Meminfo::anonPages},
    Field{"Shmem", &Meminfo::shmem},
    Field{"SReclaimable", &Meminfo::sReclaimable},
};

// "  24683620 kB" -> bytes.
Result<uint64_t> parseKib(std::string_view name, std::string_view rest) {
  std::string_view value = trimWhitespace(rest);
  uint64_t kib = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), kib);
  if (ec == std::errc::result_out_of_range) {
    return fieldError("line", name, value, "the number does not fit in 64 bits");
  }
  if (ec != std::errc()) return fieldError("line", name, value, "expected a number of kB");
  std::string_view unit = trimWhitespace(value.substr(static_cast<size_t>(end - value.data())));
  if (unit != "kB") {
    // The kernel always prints the unit; a line without it was cut short or is not meminfo.
    return fieldError("line", name, value, "expected a number followed by \"kB\"");
  }
  if (kib > kMax / kKib) {
    return fieldError("line", name, value, "the size in bytes overflows 64 bits");
  }
  return kib * kKib;
}

uint64_t saturatingAdd(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? kMax : sum;
}

// The share of a reclaimable pool the kernel counts as available: it keeps up to half of it,
// at most the low watermark, in reserve.
uint64_t reclaimable(uint64_t pool, uint64_t low) { return pool - std::min(pool / 2, low); }

std::string minFreeKbytesPath(const SysRoots& roots) {
  return roots.procPath("sys/vm/min_free_kbytes");
}

// Kernels without MemAvailable: redo the estimate with the real low watermark. If the sysctl
// cannot be read the watermark-free estimate stands; it errs high by about min_free_kbytes,
// which is a better figure to act on than no figure at all.
void refineEstimate(Meminfo& meminfo, const Result<std::string_view>& minFreeText) {
  if (meminfo.memAvailableReported || !minFreeText) return;
  auto minFree = parseMinFreeKbytes(*minFreeText);
  if (minFree) meminfo.memAvailable = estimateMemAvailable(meminfo, *minFree);
}

}  // namespace

Result<Meminfo> parseMeminfo(std::string_view text) {
  Meminfo meminfo;
  bool haveTotal = false;
  bool haveFree = false;
  bool haveAvailable = false;

  for (const TextLine& numbered : TextLines(text)) {
    std::string_view line = numbered.text;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    for (const Field& field : kFields) {
      if (field.name != name) continue;
      auto bytes = parseKib(name, line.substr(colon + 1));
      if (!bytes) return bytes.error();
      meminfo.*field.member = *bytes;
      haveTotal |= name == "MemTotal";
      haveFree |= name == "MemFree";
      haveAvailable |= name == "MemAvailable";
      break;
    }
  }

  if (!haveTotal || !haveFree) {
    return parseError({}, std::string("no ") + (haveTotal ? "MemFree" : "MemTotal") +
                              " line; is this /proc/meminfo, and was it read completely?");
  }
  if (!haveAvailable) {
    meminfo.memAvailableReported = false;
    meminfo.memAvailable = estimateMemAvailable(meminfo, 0);
  }
  return meminfo;
}

uint64_t estimateMemAvailable(const Meminfo& meminfo, uint64_t minFreeBytes) {
  uint64_t quarter = minFreeBytes / 4;
  uint64_t low = quarter > kMax / 5 ? kMax : quarter * 5 + minFreeBytes % 4 * 5 / 4;
  uint64_t pageCache = saturatingAdd(meminfo.activeFile, meminfo.inactiveFile);
  // Sum the non-negative parts first and subtract the watermark last, so the unsigned
  // arithmetic clamps at 0 exactly where the kernel's signed arithmetic does.
  uint64_t gross = saturatingAdd(
      meminfo.memFree,
      saturatingAdd(reclaimable(pageCache, low), reclaimable(meminfo.sReclaimable, low)));
  uint64_t available = gross > low ? gross - low : 0;
  return available > meminfo.memTotal ? meminfo.memFree : available;
}

Result<uint64_t> parseMinFreeKbytes(std::string_view text) {
  std::string_view value = trimWhitespace(text.substr(0, text.find('\n')));
  uint64_t kib = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), kib);
  if (ec != std::errc() || end != value.data() + value.size() || kib > kMax / kKib) {
    return parseError({}, "expected a number of kB, got \"" + std::string(value) + "\"");
  }
  return kib * kKib;
}

Result<Meminfo> readMeminfo(const SysRoots& roots) {
  std::string path = roots.procPath("meminfo");
  std::string buffer;
  auto text = readFileInto(path, buffer);
  if (!text) return text.error();
  auto meminfo = parseMeminfo(*text);
  if (!meminfo) return meminfo.error().withPath(path);
  if (!meminfo->memAvailableReported) {
    refineEstimate(*meminfo, readFileInto(minFreeKbytesPath(roots), buffer));
  }
  return meminfo;
}

MeminfoReader::MeminfoReader(const SysRoots& roots)
    : file_(roots.procPath("meminfo")), minFreeKbytes_(minFreeKbytesPath(roots)) {}

Result<Meminfo> MeminfoReader::read() {
  auto text = file_.read();
  if (!text) return text.error();
  auto meminfo = parseMeminfo(*text);
  if (!meminfo) return meminfo.error().withPath(file_.path());
  if (!meminfo->memAvailableReported) refineEstimate(*meminfo, minFreeKbytes_.read());
  return meminfo;
}

}  // namespace wslgo
