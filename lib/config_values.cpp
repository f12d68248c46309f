#include "lib/config_values.h"

#include <cstdio>
#include <limits>

namespace wslgo {
namespace {

// Six decimals keep fraction * multiplier inside uint64 for every unit we accept (2^40 * 10^6).
constexpr unsigned kMaxDecimals = 6;
constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};

constexpr std::string_view kSizeHint = R"((use bytes, "800M" or "3G"))";
constexpr std::string_view kSizeOrPercentHint =
    R"((use bytes, "800M", "3G" or a percentage of MemTotal like "40%"))";
constexpr std::string_view kDurationHint = R"((use a duration like "30s", "500ms" or "1h30m"))";

// "1.25" as 1 and 25/100: exact, unlike a double, so overflow checks stay exact too.
struct Decimal {
  uint64_t whole = 0;
  uint64_t fraction = 0;
  unsigned decimals = 0;
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

enum class DecimalStatus { Ok, Missing, Overflow, TooPrecise };

// Consumes a decimal number at the front of `text`. Fails on no digits, a dangling '.', too many
// decimals or a whole part beyond uint64.
DecimalStatus takeDecimal(std::string_view& text, Decimal& out) {
  out = Decimal{};
  size_t i = 0;
  if (i == text.size() || !isDigit(text[i])) return DecimalStatus::Missing;
  for (; i < text.size() && isDigit(text[i]); ++i) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (__builtin_mul_overflow(out.whole, uint64_t{10}, &out.whole) ||
        __builtin_add_overflow(out.whole, digit, &out.whole)) {
      return DecimalStatus::Overflow;
    }
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (i == text.size() || !isDigit(text[i])) return DecimalStatus::Missing;
    for (; i < text.size() && isDigit(text[i]); ++i) {
      if (out.decimals == kMaxDecimals) return DecimalStatus::TooPrecise;
      out.fraction = out.fraction * 10 + static_cast<uint64_t>(text[i] - '0');
      ++out.decimals;
    }
  }
  text.remove_prefix(i);
  return DecimalStatus::Ok;
}

// value * multiplier, rounded down; false on overflow.
bool scale(const Decimal& value, uint64_t multiplier, uint64_t& out) {
  uint64_t whole = 0;
  if (__builtin_mul_overflow(value.whole, multiplier, &whole)) return false;
  uint64_t part = value.fraction * multiplier / kPow10[value.decimals];
  return !__builtin_add_overflow(whole, part, &out);
}

uint64_t sizeMultiplier(std::string_view unit, bool& ambiguous) {
  ambiguous = false;
  if (unit.empty() || unit == "B") return 1;
  uint64_t multiplier = 0;
  switch (unit.front()) {
    case 'K':
    case 'k':
      multiplier = uint64_t{1} << 10;
      break;
    case 'M':
    case 'm':
      multiplier = uint64_t{1} << 20;
      break;
    case 'G':
    case 'g':
      multiplier = uint64_t{1} << 30;
      break;
    case 'T':
    case 't':
      multiplier = uint64_t{1} << 40;
      break;
    default:
      return 0;
  }
  std::string_view rest = unit.substr(1);
  if (rest.empty() || rest == "iB") return multiplier;
  if (rest == "B" || rest == "b") ambiguous = true;
  return 0;
}

Result<uint64_t> parseBytesWithHint(std::string_view text, std::string_view hint) {
  auto notASize = [&](std::string_view why) {
    std::string message = quoted(text) + " is not a size";
    if (!why.empty()) {
      message += ": ";
      message += why;
    }
    message += ' ';
    message += hint;
    return parseError({}, std::move(message));
  };
  if (text.empty()) return notASize("it is empty");
  if (text.front() == '-') return notASize("sizes cannot be negative");
  std::string_view rest = text;
  Decimal number;
  switch (takeDecimal(rest, number)) {
    case DecimalStatus::Ok:
      break;
    case DecimalStatus::Missing:
      return notASize({});
    case DecimalStatus::Overflow:
      return notASize("it is larger than 2^64 bytes");
    case DecimalStatus::TooPrecise:
      return notASize("use at most six decimals");
  }
  bool ambiguous = false;
  uint64_t multiplier = sizeMultiplier(rest, ambiguous);
  if (ambiguous) {
    return notASize(R"(say "M" or "MiB" (both mean 1024-based units); "MB" is ambiguous)");
  }
  if (multiplier == 0) return notASize({});
  if (multiplier == 1 && number.decimals > 0) {
    return notASize("a fraction of a byte makes no sense; add a unit like \"1.5G\"");
  }
  uint64_t bytes = 0;
  if (!scale(number, multiplier, bytes)) return notASize("it is larger than 2^64 bytes");
  return bytes;
}

}  // namespace

Result<uint64_t> parseBytes(std::string_view text) { return parseBytesWithHint(text, kSizeHint); }

Result<double> parsePercentage(std::string_view text) {
  auto notAPercentage = [&](std::string_view why) {
    return parseError({}, quoted(text) + " is not a percentage: " + std::string(why));
  };
  if (text.empty() || text.back() != '%') return notAPercentage("it must end in \"%\"");
  std::string_view rest = text.substr(0, text.size() - 1);
  if (!rest.empty() && rest.front() == '-') return notAPercentage("it cannot be negative");
  Decimal number;
  if (takeDecimal(rest, number) != DecimalStatus::Ok || !rest.empty()) {
    return notAPercentage("write a number from 0 to 100 followed by \"%\", like \"40%\"");
  }
  if (number.whole > 100) return notAPercentage("it is above 100%");
  double value =
      static_cast<double>(number.whole) +
      static_cast<double>(number.fraction) / static_cast<double>(kPow10[number.decimals]);
  if (value > 100) return notAPercentage("it is above 100%");
  if (value <= 0) return notAPercentage("it must be above 0%");
  return value;
}

Result<uint64_t> parseSize(std::string_view text, uint64_t memTotal) {
  if (text.empty() || text.back() != '%') return parseBytesWithHint(text, kSizeOrPercentHint);
  auto percentage = parsePercentage(text);
  if (!percentage) return percentage.error();
  if (memTotal == 0) {
    return parseError({}, quoted(text) + " is a percentage of MemTotal, but MemTotal is unknown");
  }
  // long double holds every uint64 exactly on x86-64, so little rounding happens; what does
  // happen may push 100% past memTotal (and past 2^64), which the clamp keeps in range.
  long double bytes = static_cast<long double>(memTotal) * *percentage / 100.0L;
  if (bytes >= static_cast<long double>(memTotal)) return memTotal;
  return static_cast<uint64_t>(bytes);
}

Result<Usec> parseDuration(std::string_view text) {
  auto notADuration = [&](std::string_view why) {
    std::string message = quoted(text) + " is not a duration";
    if (!why.empty()) {
      message += ": ";
      message += why;
    }
    message += ' ';
    message += kDurationHint;
    return parseError({}, std::move(message));
  };
  if (text.empty()) return notADuration("it is empty");
  if (text.front() == '-') return notADuration("durations cannot be negative");
  std::string_view rest = text;
  uint64_t total = 0;
  while (!rest.empty()) {
    Decimal number;
    switch (takeDecimal(rest, number)) {
      case DecimalStatus::Ok:
        break;
      case DecimalStatus::Missing:
        return notADuration({});
      case DecimalStatus::Overflow:
        return notADuration("it is too long");
      case DecimalStatus::TooPrecise:
        return notADuration("use at most six decimals");
    }
    size_t unitLength = 0;
    while (unitLength < rest.size() && !isDigit(rest[unitLength])) ++unitLength;
    std::string_view unit = rest.substr(0, unitLength);
    rest.remove_prefix(unitLength);
    uint64_t multiplier = 0;
    if (unit == "us")
      multiplier = 1;
    else if (unit == "ms")
      multiplier = 1000;
    else if (unit == "s")
      multiplier = 1000 * 1000;
    else if (unit == "m")
      multiplier = 60ull * 1000 * 1000;
    else if (unit == "h")
      multiplier = 3600ull * 1000 * 1000;
    else if (unit.empty()) {
      return notADuration("a bare number could be seconds or milliseconds; add a unit");
    } else {
      return notADuration("unknown unit " + quoted(unit));
    }
    uint64_t part = 0;
    if (!scale(number, multiplier, part) || __builtin_add_overflow(total, part, &total) ||
        total > static_cast<uint64_t>(std::numeric_limits<Usec::rep>::max())) {
      return notADuration("it is too long");
    }
  }
  return Usec(static_cast<Usec::rep>(total));
}

std::string formatBytes(uint64_t bytes) {
  static constexpr struct {
    char letter;
    unsigned shift;
  } kUnits[] = {{'T', 40}, {'G', 30}, {'M', 20}, {'K', 10}};
  char text[32];
  for (const auto& unit : kUnits) {
    uint64_t size = uint64_t{1} << unit.shift;
    if (bytes < size) continue;
    if (bytes % size == 0) {
      std::snprintf(text, sizeof text, "%llu%c", static_cast<unsigned long long>(bytes / size),
                    unit.letter);
    } else {
      std::snprintf(text, sizeof text, "%.1f%c",
                    static_cast<double>(bytes) / static_cast<double>(size), unit.letter);
    }
    return text;
  }
  std::snprintf(text, sizeof text, "%lluB", static_cast<unsigned long long>(bytes));
  return text;
}

std::string formatDuration(Usec duration) {
  if (duration.count() <= 0) return duration.count() == 0 ? "0s" : "-" + formatDuration(-duration);
  static constexpr struct {
    const char* unit;
    int64_t size;
  } kUnits[] = {{"h", 3600LL * 1000 * 1000},
                {"m", 60LL * 1000 * 1000},
                {"s", 1000 * 1000},
                {"ms", 1000},
                {"us", 1}};
  std::string out;
  int64_t left = duration.count();
  for (const auto& unit : kUnits) {
    if (left < unit.size) continue;
    out += std::to_string(left / unit.size);
    out += unit.unit;
    left %= unit.size;
  }
  return out;
}

}  // namespace wslgo
