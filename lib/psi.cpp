#include "lib/psi.h"
#include "lib/text_lines.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <utility>

namespace wslgo {
namespace {

Error lineError(std::string_view kind, std::string_view problem, std::string_view token) {
  std::string message = "\"";
  message += kind;
  message += "\" line: ";
  message += problem;
  if (!token.empty()) {
    message += " \"";
    message += token;
    message += "\"";
  }
  return parseError({}, std::move(message));
}

template <class T>
bool parseWhole(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "avg10=1.07 avg60=7.82 avg300=3.65 total=17270773", after the "some"/"full" word.
Result<PressureLine> parseLine(std::string_view kind, std::string_view fields) {
  PressureLine line;
  bool have10 = false, have60 = false, have300 = false, haveTotal = false;
  while (!fields.empty()) {
    size_t space = fields.find(' ');
    std::string_view token = fields.substr(0, space);
    fields.remove_prefix(space == std::string_view::npos ? fields.size() : space + 1);
    if (token.empty()) continue;

    size_t equals = token.find('=');
    if (equals == std::string_view::npos) return lineError(kind, "expected key=value, got", token);
    std::string_view key = token.substr(0, equals);
    std::string_view value = token.substr(equals + 1);

    if (key == "total") {
      if (!parseWhole(value, line.totalUsec)) {
        return lineError(kind, "total is not a count of microseconds:", value);
      }
      haveTotal = true;
      continue;
    }
    double* avg = key == "avg10"    ? &line.avg10
                  : key == "avg60"  ? &line.avg60
                  : key == "avg300" ? &line.avg300
                                    : nullptr;
    if (avg == nullptr) continue;
    if (!parseWhole(value, *avg) || !std::isfinite(*avg) || *avg < 0) {
      return lineError(kind, "expected a percentage for " + std::string(key) + ", got", value);
    }
    have10 |= avg == &line.avg10;
    have60 |= avg == &line.avg60;
    have300 |= avg == &line.avg300;
  }
  if (!have10 || !have60 || !have300 || !haveTotal) {
    return lineError(kind, "expected avg10, avg60, avg300 and total, got", {});
  }
  return line;
}

bool isAbsent(int code) { return code == ENOENT || code == EOPNOTSUPP; }

Result<std::optional<Pressure>> toOptional(Result<Pressure> parsed, const std::string& path) {
  if (!parsed) return parsed.error().withPath(path);
  return std::optional<Pressure>(*parsed);
}

}  // namespace

Result<Pressure> parsePressure(std::string_view text) {
  Pressure pressure;
  bool haveSome = false;
  for (const TextLine& numbered : TextLines(text)) {
    std::string_view line = numbered.text;
    size_t space = line.find(' ');
    std::string_view kind = line.substr(0, space);
    std::string_view fields = space == std::string_view::npos ? "" : line.substr(space + 1);
    // The kernel ends every line with a newline; without it the last number may be cut short
    // and still parse.
    if ((kind == "some" || kind == "full") && !numbered.terminated) {
      return lineError(kind, "cut short (no newline at its end); got", line);
    }
    if (kind == "some") {
      auto some = parseLine(kind, fields);
      if (!some) return some.error();
      pressure.some = *some;
      haveSome = true;
    } else if (kind == "full") {
      auto full = parseLine(kind, fields);
      if (!full) return full.error();
      pressure.full = *full;
    }
  }
  if (!haveSome) {
    return parseError({}, "no \"some avg10=… avg60=… avg300=… total=…\" line; not a PSI file");
  }
  return pressure;
}

std::string systemPressurePath(const SysRoots& roots, PressureResource resource) {
  switch (resource) {
    case PressureResource::Memory:
      return roots.procPath("pressure/memory");
    case PressureResource::Cpu:
      return roots.procPath("pressure/cpu");
    case PressureResource::Io:
      return roots.procPath("pressure/io");
  }
  return roots.procPath("pressure/memory");
}

Result<std::optional<Pressure>> readSystemPressure(const SysRoots& roots,
                                                   PressureResource resource) {
  std::string path = systemPressurePath(roots, resource);
  std::string buffer;
  auto text = readFileInto(path, buffer);
  if (!text) {
    if (isAbsent(text.error().code)) return std::optional<Pressure>();
    return text.error();
  }
  return toOptional(parsePressure(*text), path);
}

PressureReader::PressureReader(std::string path) : file_(std::move(path)) {}

Result<std::optional<Pressure>> PressureReader::read() {
  auto text = file_.read();
  if (!text) {
    if (isAbsent(text.error().code)) return std::optional<Pressure>();
    return text.error();
  }
  return toOptional(parsePressure(*text), file_.path());
}

}  // namespace wslgo
