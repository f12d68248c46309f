#include "lib/config.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "lib/config_layers.h"
#include "lib/config_problems.h"
#include "lib/config_values.h"
#include "lib/growth.h"
#include "lib/sample_history.h"
#include "lib/unit_environment.h"

namespace wslgo {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Where a problem at a schema pointer is reported: the pointer in the files and the layer.
struct Where {
  std::string pointer;
  size_t layer = 0;
};

struct Context {
  const MergedConfig& merged;
  ConfigProblems& problems;
  uint64_t memTotal = 0;
  std::string home;
  // Maps the pointer of a value being compiled to where it came from. The identity for most
  // sections; for a workspace override, values it did not set come from /workspaces/default.
  std::function<Where(const std::string&)> locate;

  void report(const std::string& pointer, std::string message) {
    Where where = locate(pointer);
    problems.add(merged.files[where.layer], where.pointer, std::move(message));
  }
};

std::string describe(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  if (value.is_number()) return text + " (a number)";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  return text;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

struct SizeRule {
  bool allowPercent = true;  // a percentage of MemTotal; meaningless for disk space
  bool positive = true;      // zero is not allowed
};

// One JSON object being compiled. Accessors read a member, convert it and report what is wrong
// at the member's pointer; finish() then reports the members nobody asked for.
class Scope {
 public:
  Scope(Context& context, const json* object, std::string pointer)
      : context_(&context), object_(object), pointer_(std::move(pointer)) {}

  const std::string& pointer() const { return pointer_; }
  std::string pointerOf(std::string_view key) const { return pointer_ + "/" + pointerToken(key); }
  Context& context() { return *context_; }

  // The member, or nullptr when it is absent (or null).
  const json* optional(std::string_view key) {
    known_.emplace_back(key);
    if (object_ == nullptr) return nullptr;
    auto it = object_->find(key);
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  const json* required(std::string_view key) {
    const json* value = optional(key);
    if (value == nullptr && object_ != nullptr) {
      context_->report(pointerOf(key), "\"" + std::string(key) +
                                           "\" is missing or null; it needs a value (only "
                                           "threshold levels, gomemlimit, memory_high, "
                                           "memory_max and growth/bytes_per_minute can be "
                                           "null)");
    }
    return value;
  }

  Scope object(std::string_view key) {
    const json* value = required(key);
    if (value != nullptr && !value->is_object()) {
      context_->report(pointerOf(key), "expected an object ({ ... }), got " + describe(*value));
      value = nullptr;
    }
    return Scope(*context_, value, pointerOf(key));
  }

  void boolean(std::string_view key, bool& out) {
    const json* value = required(key);
    if (value == nullptr) return;
    if (!value->is_boolean()) {
      wrongType(key, "true or false", *value);
      return;
    }
    out = value->get<bool>();
  }

  // `maximum` and `why` bound what the duration sizes (samples kept in memory, say).
  void duration(std::string_view key, Usec& out, Usec minimum,
                std::optional<Usec> maximum = std::nullopt, std::string_view why = {}) {
    const json* value = required(key);
    if (value == nullptr) return;
    if (!value->is_string()) {
      std::string hint = value->is_number() ? " (add a unit: seconds or milliseconds?)" : "";
      wrongType(key, "a duration like \"30s\" or \"500ms\"", *value, hint);
      return;
    }
    auto parsed = parseDuration(value->get_ref<const std::string&>());
    if (!parsed) {
      context_->report(pointerOf(key), parsed.error().message);
      return;
    }
    if (*parsed < minimum) {
      context_->report(pointerOf(key),
                       "\"" + value->get<std::string>() + "\" is too short; use " +
                           (minimum.count() == 1 ? std::string("more than 0s")
                                                 : "at least " + formatDuration(minimum)));
      return;
    }
    if (maximum && *parsed > *maximum) {
      context_->report(pointerOf(key), "\"" + value->get<std::string>() +
                                           "\" is too long: at most " + formatDuration(*maximum) +
                                           " (" + std::string(why) + "); use a shorter one");
      return;
    }
    out = *parsed;
  }

  std::optional<uint64_t> sizeOf(const json& value, const std::string& pointer, SizeRule rule) {
    std::optional<uint64_t> bytes;
    if (value.is_number_unsigned()) {
      bytes = value.get<uint64_t>();
    } else if (value.is_number_integer()) {
      context_->report(pointer, describe(value) + " is not a size: sizes cannot be negative");
      return std::nullopt;
    } else if (value.is_number_float()) {
      context_->report(pointer, describe(value) +
                                    " is not a size: bytes are whole numbers below 2^64; for "
                                    "fractions write a string like \"1.5G\"");
      return std::nullopt;
    } else if (value.is_string()) {
      const std::string& text = value.get_ref<const std::string&>();
      Result<uint64_t> parsed = parseBytes(text);
      if (!rule.allowPercent && !text.empty() && text.back() == '%') {
        context_->report(pointer, "\"" + text +
                                      "\" is not a size here: a percentage of MemTotal makes no "
                                      "sense for disk space (use bytes, \"800M\" or \"3G\")");
        return std::nullopt;
      }
      if (rule.allowPercent) parsed = parseSize(text, context_->memTotal);
      if (!parsed) {
        context_->report(pointer, parsed.error().message);
        return std::nullopt;
      }
      bytes = *parsed;
    } else {
      context_->report(pointer,
                       std::string("expected a size like \"800M\" or \"3G\"") +
                           (rule.allowPercent ? " or a percentage of MemTotal like \"40%\"" : "") +
                           ", got " + describe(value));
      return std::nullopt;
    }
    if (rule.positive && *bytes == 0) {
      context_->report(pointer,
                       "must be above 0 (use null to switch it off where that is allowed)");
      return std::nullopt;
    }
    return bytes;
  }

  void size(std::string_view key, uint64_t& out, SizeRule rule) {
    const json* value = required(key);
    if (value == nullptr) return;
    if (auto bytes = sizeOf(*value, pointerOf(key), rule)) out = *bytes;
  }

  void optionalSize(std::string_view key, std::optional<uint64_t>& out, SizeRule rule) {
    out.reset();
    const json* value = optional(key);
    if (value == nullptr) return;
    if (auto bytes = sizeOf(*value, pointerOf(key), rule)) out = *bytes;
  }

  // A JSON number in [minimum, maximum] (or [minimum, maximum) when the maximum is excluded).
  void number(std::string_view key, double& out, double minimum, double maximum,
              bool maximumIncluded, std::string_view meaning) {
    const json* value = required(key);
    if (value == nullptr) return;
    if (!value->is_number()) {
      wrongType(key, std::string(meaning), *value);
      return;
    }
    double number = value->get<double>();
    bool inRange = number >= minimum && (maximumIncluded ? number <= maximum : number < maximum);
    if (!inRange) {
      context_->report(pointerOf(key),
                       describe(*value) + " is out of range: expected " + std::string(meaning));
      return;
    }
    out = number;
  }

  void count(std::string_view key, unsigned& out, unsigned minimum) {
    const json* value = required(key);
    if (value == nullptr) return;
    std::string meaning = "a whole number of at least " + std::to_string(minimum);
    if (!value->is_number_integer()) {
      wrongType(key, meaning, *value);
      return;
    }
    if (!value->is_number_unsigned() || value->get<uint64_t>() < minimum ||
        value->get<uint64_t>() > std::numeric_limits<unsigned>::max()) {
      context_->report(pointerOf(key), describe(*value) + " is out of range: expected " + meaning);
      return;
    }
    out = value->get<unsigned>();
  }

  // A whole JSON number in [minimum, maximum], negative ones allowed.
  void integer(std::string_view key, int& out, int minimum, int maximum) {
    const json* value = required(key);
    if (value == nullptr) return;
    std::string meaning =
        "a whole number from " + std::to_string(minimum) + " to " + std::to_string(maximum);
    if (!value->is_number_integer()) {
      wrongType(key, meaning, *value);
      return;
    }
    // Unsigned first: a value above INT64_MAX must not wrap into range.
    const bool inRange = value->is_number_unsigned()
                             ? value->get<uint64_t>() <= static_cast<uint64_t>(maximum) &&
                                   value->get<int64_t>() >= minimum
                             : value->get<int64_t>() >= minimum && value->get<int64_t>() <= maximum;
    if (!inRange) {
      context_->report(pointerOf(key), describe(*value) + " is out of range: expected " + meaning);
      return;
    }
    out = static_cast<int>(value->get<int64_t>());
  }

  void string(std::string_view key, std::string& out) {
    const json* value = optional(key);
    if (value == nullptr) {
      out.clear();
      return;
    }
    if (!value->is_string()) {
      wrongType(key, "a string", *value);
      return;
    }
    out = value->get<std::string>();
  }

  void strings(std::string_view key, std::vector<std::string>& out) {
    out.clear();
    const json* value = required(key);
    if (value == nullptr) return;
    if (!value->is_array()) {
      wrongType(key, "an array of strings", *value);
      return;
    }
    for (size_t i = 0; i < value->size(); ++i) {
      const json& item = (*value)[i];
      if (!item.is_string()) {
        context_->report(pointerOf(key) + "/" + std::to_string(i),
                         "expected a string, got " + describe(item));
        continue;
      }
      out.push_back(item.get<std::string>());
    }
  }

  void wrongType(std::string_view key, const std::string& expected, const json& value,
                 const std::string& hint = {}) {
    context_->report(pointerOf(key), "expected " + expected + ", got " + describe(value) + hint);
  }

  void finish() {
    if (object_ == nullptr) return;
    for (const auto& [key, value] : object_->items()) {
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string message = "unknown key \"" + key + "\"";
      std::string_view best;
      size_t bestDistance = std::numeric_limits<size_t>::max();
      for (const std::string& known : known_) {
        size_t distance = editDistance(key, known);
        if (distance < bestDistance) {
          bestDistance = distance;
          best = known;
        }
      }
      if (!best.empty() && bestDistance <= std::max<size_t>(2, key.size() / 4)) {
        message += " (did you mean \"" + std::string(best) + "\"?)";
      } else if (!known_.empty()) {
        message += "; known keys here:";
        for (size_t i = 0; i < known_.size(); ++i) message += (i ? ", " : " ") + known_[i];
      }
      context_->report(pointerOf(key), message);
    }
  }

 private:
  Context* context_;
  const json* object_;
  std::string pointer_;
  std::vector<std::string> known_;
};

enum class LevelUnit { Bytes, Percent };

// Reads warning/high/critical/sustain/hysteresis, checks the levels rise (or fall when lower is
// worse) and blames an inverted pair on whichever value a higher layer set.
void compileThresholds(Scope& scope, Thresholds& out, LevelUnit unit, bool higherIsWorse) {
  out.higherIsWorse = higherIsWorse;
  struct Set {
    std::string_view name;
    std::optional<double>* slot;
    const json* raw = nullptr;
  };
  Set levels[] = {{"warning", &out.warning}, {"high", &out.high}, {"critical", &out.critical}};
  for (Set& level : levels) {
    level.slot->reset();
    const json* value = scope.optional(level.name);
    if (value == nullptr) continue;
    std::string pointer = scope.pointerOf(level.name);
    if (unit == LevelUnit::Bytes) {
      if (auto bytes = scope.sizeOf(*value, pointer, SizeRule{})) {
        *level.slot = static_cast<double>(*bytes);
        level.raw = value;
      }
    } else if (!value->is_number()) {
      scope.context().report(pointer,
                             "expected a percentage of time stalled from 0 to 100 as a "
                             "number like 40, got " +
                                 describe(*value));
    } else if (double percent = value->get<double>(); !(percent > 0 && percent <= 100)) {
      scope.context().report(pointer, describe(*value) +
                                          " is out of range: expected a "
                                          "percentage above 0 and at most 100");
    } else {
      *level.slot = percent;
      level.raw = value;
    }
  }
  scope.duration("sustain", out.sustain, Usec(0));
  scope.number("hysteresis", out.hysteresis, 0, 1, false, "a fraction from 0 up to (not incl.) 1");

  auto shown = [&](const Set& level) {
    std::string text = level.raw->dump();
    // "30%" means little without what it resolved to; "2G" needs no gloss.
    if (unit == LevelUnit::Bytes && level.raw->is_string()) {
      std::string bytes = formatBytes(static_cast<uint64_t>(**level.slot));
      if (bytes != level.raw->get_ref<const std::string&>()) text += " (" + bytes + ")";
    }
    return text;
  };
  const Set* previous = nullptr;
  for (const Set& level : levels) {
    if (level.raw == nullptr) continue;
    if (previous != nullptr) {
      bool rises =
          higherIsWorse ? **previous->slot < **level.slot : **previous->slot > **level.slot;
      if (!rises) {
        Context& context = scope.context();
        Where lower = context.locate(scope.pointerOf(previous->name));
        Where upper = context.locate(scope.pointerOf(level.name));
        bool blameLower = lower.layer > upper.layer;
        const Set& blamed = blameLower ? *previous : level;
        const Set& other = blameLower ? level : *previous;
        const Where& otherWhere = blameLower ? upper : lower;
        std::string relation = (blameLower == higherIsWorse) ? "below" : "above";
        std::string message = std::string(blamed.name) + " " + shown(blamed) + " must be " +
                              relation + " " + std::string(other.name) + " " + shown(other) +
                              " (set in " + context.merged.files[otherWhere.layer] + " at " +
                              otherWhere.pointer + "); ";
        message += higherIsWorse ? "levels must rise: warning < high < critical"
                                 : "lower is worse here, so levels must fall: warning > high > "
                                   "critical";
        context.report(scope.pointerOf(blamed.name), message);
      }
    }
    previous = &level;
  }
}

void compileThresholdsAt(Scope& parent, std::string_view key, Thresholds& out, LevelUnit unit,
                         bool higherIsWorse) {
  Scope scope = parent.object(key);
  compileThresholds(scope, out, unit, higherIsWorse);
  scope.finish();
}

// How many samples `span` holds at one per `interval`, rounded up.
uint64_t samplesIn(Usec span, Usec interval) {
  if (interval.count() <= 0) return 0;
  return static_cast<uint64_t>(span.count() / interval.count() +
                               (span.count() % interval.count() != 0));
}

// `guard` is the compiled guard section: the growth window is checked against its fast
// sampling interval, at which the readings of a window are kept.
void compileWorkspace(Scope& scope, WorkspaceSettings& out, const GuardSettings& guard) {
  {
    Scope memory = scope.object("memory");
    compileThresholds(memory, out.memory, LevelUnit::Bytes, true);
    memory.boolean("exclude_inactive_file", out.excludeInactiveFile);
    memory.finish();
  }
  compileThresholdsAt(scope, "rss", out.rss, LevelUnit::Bytes, true);
  compileThresholdsAt(scope, "heap", out.heap, LevelUnit::Bytes, true);
  {
    Scope growth = scope.object("growth");
    growth.optionalSize("bytes_per_minute", out.growthBytesPerMinute, SizeRule{});
    growth.duration("window", out.growthWindow, seconds(1), kMaxGrowthWindow,
                    "every reading of the window is kept in memory");
    const uint64_t readings = samplesIn(out.growthWindow, guard.fastSampleInterval);
    if (readings > GrowthTracker::kMaxReadings) {
      growth.context().report(
          growth.pointerOf("window"),
          formatDuration(out.growthWindow) + " at /guard/fast_sample_interval " +
              formatDuration(guard.fastSampleInterval) + " is " + std::to_string(readings) +
              " readings per workspace, more than the " +
              std::to_string(GrowthTracker::kMaxReadings) +
              " kept; shorten the window or lengthen fast_sample_interval");
    }
    growth.finish();
  }
  scope.boolean("important", out.important);
  scope.optionalSize("gomemlimit", out.gomemlimit, SizeRule{});
  scope.optionalSize("memory_high", out.memoryHigh, SizeRule{});
  scope.optionalSize("memory_max", out.memoryMax, SizeRule{});
  // The kernel's and systemd's own ranges (oom_score_adj, CPUWeight=, IOWeight=).
  scope.integer("oom_score_adjust", out.oomScoreAdjust, -1000, 1000);
  {
    int weight = static_cast<int>(out.cpuWeight);
    scope.integer("cpu_weight", weight, 1, 10000);
    out.cpuWeight = static_cast<unsigned>(weight);
    weight = static_cast<int>(out.ioWeight);
    scope.integer("io_weight", weight, 1, 10000);
    out.ioWeight = static_cast<unsigned>(weight);
  }
  out.env.clear();
  if (const json* env = scope.required("env")) {
    if (!env->is_object()) {
      scope.wrongType("env", "an object of strings ({\"GOFLAGS\": \"-mod=mod\"})", *env);
    } else {
      for (const auto& [name, value] : env->items()) {
        std::string pointer = scope.pointerOf("env") + "/" + pointerToken(name);
        // The unit environment file's own rules (renderUnitEnvironment), checked here so a bad
        // name or value is refused at load, not when a unit is started.
        if (!isShellName(name)) {
          scope.context().report(pointer, "\"" + name +
                                              "\" is not an environment variable name: use "
                                              "letters, digits and _ only, not starting with a "
                                              "digit");
        } else if (name.starts_with(kGuardVariablePrefix)) {
          scope.context().report(pointer, "\"" + name +
                                              "\" is the guard's own (WSLGO_* steer the unit's "
                                              "launcher): remove it; set gopls.path or "
                                              "gopls.args instead");
        } else if (!value.is_string()) {
          scope.context().report(pointer, "expected a string, got " + describe(value));
        } else if (!isSingleLineValue(value.get_ref<const std::string&>())) {
          scope.context().report(pointer,
                                 "the value has a newline or NUL, which a unit's environment file "
                                 "cannot carry: put it on one line");
        } else {
          out.env[name] = value.get<std::string>();
        }
      }
    }
  }
  scope.finish();
}

void compileGuard(Scope scope, GuardSettings& out) {
  scope.duration("sample_interval", out.sampleInterval, milliseconds(100));
  scope.duration("fast_sample_interval", out.fastSampleInterval, milliseconds(10));
  scope.duration("heap_interval", out.heapInterval, seconds(1));
  scope.duration("history", out.history, seconds(1), kMaxHistory,
                 "each workspace keeps its samples in memory");
  scope.boolean("dry_run", out.dryRun);
  scope.finish();
  if (out.fastSampleInterval > out.sampleInterval) {
    scope.context().report(scope.pointerOf("fast_sample_interval"),
                           formatDuration(out.fastSampleInterval) +
                               " must not be longer than "
                               "sample_interval (" +
                               formatDuration(out.sampleInterval) + ")");
  }
  if (out.history < out.sampleInterval) {
    scope.context().report(scope.pointerOf("history"),
                           formatDuration(out.history) + " must be at least sample_interval (" +
                               formatDuration(out.sampleInterval) + ")");
  }
  // The ring is allocated whole for every workspace: its size, not the duration, is the cost.
  if (const uint64_t samples = samplesIn(out.history, out.sampleInterval);
      samples > kMaxHistorySamples) {
    scope.context().report(scope.pointerOf("history"),
                           formatDuration(out.history) + " at sample_interval " +
                               formatDuration(out.sampleInterval) + " is " +
                               std::to_string(samples) + " samples per workspace, more than the " +
                               std::to_string(kMaxHistorySamples) +
                               " kept; shorten history or lengthen sample_interval");
  }
}

void compileGopls(Scope scope, GoplsSettings& out) {
  scope.string("path", out.path);
  const std::string& home = scope.context().home;
  if (out.path == "~" || out.path.rfind("~/", 0) == 0) {
    if (home.empty()) {
      scope.context().report(scope.pointerOf("path"), "\"~\" cannot be expanded: $HOME is not set");
    } else {
      out.path = home + out.path.substr(1);
    }
  } else if (!out.path.empty() && out.path.front() != '/') {
    scope.context().report(scope.pointerOf("path"),
                           "\"" + out.path +
                               "\" must be an absolute path or start with \"~/\"; "
                               "leave it empty to use $GOPLS, ~/go/bin/gopls or PATH");
  }
  scope.strings("args", out.args);
  for (size_t i = 0; i < out.args.size(); ++i) {
    // The guard owns where gopls listens and its debug server: it finds gopls by them.
    const std::string& arg = out.args[i];
    for (const char* owned : {"-listen", "-remote", "-debug", "-port", "--listen", "--remote",
                              "--debug", "--port"}) {
      const std::string flag(owned);
      if (arg == flag || arg.rfind(flag + "=", 0) == 0) {
        scope.context().report(scope.pointerOf("args") + "/" + std::to_string(i),
                               "\"" + arg + "\" is set by the guard itself (the socket and "
                               "the debug server); remove it, and use gopls.debug_server to turn "
                               "the debug server off");
      }
    }
  }
  scope.boolean("allow_non_module", out.allowNonModule);
  scope.boolean("debug_server", out.debugServer);
  scope.finish();
}

void compileKeeper(Scope scope, KeeperSettings& out) {
  scope.boolean("auto_add", out.autoAdd);
  scope.finish();
}

void compileSystem(Scope scope, SystemSettings& out) {
  compileThresholdsAt(scope, "mem_available", out.memAvailable, LevelUnit::Bytes, false);
  compileThresholdsAt(scope, "pressure_some_avg10", out.pressureSomeAvg10, LevelUnit::Percent,
                      true);
  compileThresholdsAt(scope, "pressure_full_avg10", out.pressureFullAvg10, LevelUnit::Percent,
                      true);
  if (const json* pick = scope.required("relief_pick")) {
    if (*pick == "largest") {
      out.reliefPick = ReliefPick::Largest;
    } else if (*pick == "fastest_growing") {
      out.reliefPick = ReliefPick::FastestGrowing;
    } else {
      scope.wrongType("relief_pick", "\"largest\" or \"fastest_growing\"", *pick);
    }
  }
  scope.finish();
}

void compileTiming(Scope& scope, ActionTiming& out) {
  scope.duration("cooldown", out.cooldown, Usec(0));
  scope.duration("timeout", out.timeout, milliseconds(100));
}

void compileLadder(Scope& actions, std::vector<LadderRung>& out) {
  out.clear();
  const json* ladder = actions.required("ladder");
  if (ladder == nullptr) return;
  Context& context = actions.context();
  std::string pointer = actions.pointerOf("ladder");
  if (!ladder->is_array() || ladder->empty()) {
    context.report(pointer,
                   "expected a non-empty array of {\"action\": ..., \"level\": ...}, got " +
                       describe(*ladder));
    return;
  }
  std::optional<Level> previous;
  for (size_t i = 0; i < ladder->size(); ++i) {
    Scope rung(context, nullptr, pointer + "/" + std::to_string(i));
    const json& item = (*ladder)[i];
    if (!item.is_object()) {
      context.report(rung.pointer(),
                     "expected {\"action\": ..., \"level\": ...}, got " + describe(item));
      continue;
    }
    rung = Scope(context, &item, rung.pointer());
    LadderRung compiled;
    bool valid = true;
    if (const json* action = rung.required("action")) {
      auto kind = action->is_string() ? parseActionKind(action->get<std::string>()) : std::nullopt;
      if (kind) {
        compiled.action = *kind;
      } else {
        rung.wrongType("action", "\"gc\", \"trim\" or \"restart\"", *action);
        valid = false;
      }
    } else {
      valid = false;
    }
    if (const json* level = rung.required("level")) {
      auto parsed = level->is_string() ? parseLevel(level->get<std::string>()) : std::nullopt;
      if (parsed && *parsed != Level::Ok) {
        compiled.level = *parsed;
        if (previous && compiled.level < *previous) {
          context.report(rung.pointerOf("level"),
                         "\"" + std::string(toString(compiled.level)) +
                             "\" comes after a rung at \"" + std::string(toString(*previous)) +
                             "\"; levels must not decrease along the ladder");
          valid = false;
        }
        previous = compiled.level;
      } else {
        rung.wrongType("level", "\"warning\", \"high\" or \"critical\"", *level);
        valid = false;
      }
    } else {
      valid = false;
    }
    rung.finish();
    if (valid) out.push_back(compiled);
  }
}

void compileActions(Scope scope, ActionSettings& out) {
  compileLadder(scope, out.ladder);
  scope.duration("settle", out.settle, milliseconds(100));
  {
    Scope gc = scope.object("gc");
    compileTiming(gc, out.gc);
    gc.number("min_freed", out.gc.minFreed, 0, 1, false, "a fraction from 0 up to (not incl.) 1");
    gc.finish();
  }
  {
    Scope trim = scope.object("trim");
    compileTiming(trim, out.trim);
    trim.optionalSize("cache_budget", out.trim.cacheBudget, SizeRule{false, false});
    trim.finish();
  }
  {
    Scope restart = scope.object("restart");
    compileTiming(restart, out.restart);
    restart.count("max_restarts", out.restart.maxRestarts, 1);
    restart.duration("window", out.restart.window, seconds(1));
    restart.boolean("save_profile", out.restart.saveProfile);
    restart.duration("reload_window", out.restart.reloadWindow, seconds(1));
    restart.finish();
  }
  scope.finish();
}

void compileProfiles(Scope scope, ProfileSettings& out) {
  scope.count("keep", out.keep, 1);
  scope.size("max_total", out.maxTotalBytes, SizeRule{false, true});
  scope.finish();
}

// Splits "/a/b~1c" into its unescaped tokens.
std::vector<std::string> pointerTokens(std::string_view pointer) {
  std::vector<std::string> tokens;
  while (!pointer.empty() && pointer.front() == '/') {
    pointer.remove_prefix(1);
    size_t end = std::min(pointer.find('/'), pointer.size());
    std::string token;
    for (size_t i = 0; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end) {
        token += pointer[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += pointer[i];
      }
    }
    tokens.push_back(std::move(token));
    pointer.remove_prefix(end);
  }
  return tokens;
}

// Whether the override (a patch that kept its nulls) says anything at `suffix` or above it.
bool overrideSets(const json& patch, std::string_view suffix) {
  const json* node = &patch;
  for (const std::string& token : pointerTokens(suffix)) {
    if (!node->is_object()) return true;
    auto it = node->find(token);
    if (it == node->end()) return false;
    node = &*it;
  }
  return true;
}

void compileWorkspaces(Context& context, Config& config) {
  const GuardSettings& guard = config.guard;
  Scope workspaces(context, nullptr, "/workspaces");
  const json& document = context.merged.document;
  if (auto it = document.find("workspaces"); it != document.end() && !it->is_null()) {
    if (it->is_object()) {
      workspaces = Scope(context, &*it, "/workspaces");
    } else {
      context.report("/workspaces", "expected an object ({ ... }), got " + describe(*it));
      return;
    }
  } else {
    context.report("/workspaces", "\"workspaces\" is missing or null; it needs a \"default\"");
    return;
  }
  {
    Scope defaults = workspaces.object("default");
    compileWorkspace(defaults, config.defaults, guard);
  }
  const json& all = document["workspaces"];
  auto defaults = all.find("default");
  if (defaults == all.end() || !defaults->is_object()) return;
  const std::string defaultPointer = "/workspaces/default";
  for (const auto& [root, patch] : all.items()) {
    if (root == "default") continue;
    std::string base = workspaces.pointerOf(root);
    if (!patch.is_object()) {
      context.report(base, "expected an object of workspace settings, got " + describe(patch));
      continue;
    }
    json merged = *defaults;
    merged.merge_patch(patch);
    Context workspaceContext = context;
    // Named by an init-capture: clang before 16 cannot capture a structured binding.
    workspaceContext.locate = [&, base, &workspacePatch = patch](const std::string& pointer) {
      std::string suffix = pointer.substr(base.size());
      std::string where = overrideSets(workspacePatch, suffix) ? pointer : defaultPointer + suffix;
      return Where{where, context.merged.layerOf(where)};
    };
    Scope scope(workspaceContext, &merged, base);
    WorkspaceSettings settings;
    compileWorkspace(scope, settings, guard);
    config.workspaces[root] = std::move(settings);
  }
}

}  // namespace

std::optional<double> Thresholds::at(Level level) const {
  switch (level) {
    case Level::Ok:
      return std::nullopt;
    case Level::Warning:
      return warning;
    case Level::High:
      return high;
    case Level::Critical:
      return critical;
  }
  return std::nullopt;
}

const WorkspaceSettings& Config::forWorkspace(const std::string& root) const {
  auto it = workspaces.find(root);
  return it == workspaces.end() ? defaults : it->second;
}

std::vector<ConfigLayer> standardConfigLayers(const std::string& defaultFile,
                                              const std::string& xdgConfigHome,
                                              const std::string& home) {
  std::vector<ConfigLayer> layers = {{defaultFile, true}, {"/etc/wslgo-guard/config.json", false}};
  std::string userDir;
  if (!xdgConfigHome.empty() && xdgConfigHome.front() == '/') {
    userDir = xdgConfigHome;
  } else if (!home.empty()) {
    userDir = home + "/.config";
  }
  if (!userDir.empty()) layers.push_back({userDir + "/wslgo-guard/config.json", false});
  return layers;
}

std::vector<ConfigLayer> standardConfigLayers(const std::string& defaultFile) {
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  return standardConfigLayers(defaultFile, env("XDG_CONFIG_HOME"), env("HOME"));
}

Result<Config> loadConfig(const std::vector<ConfigLayer>& layers, uint64_t memTotal,
                          const std::string& home) {
  try {
    ConfigProblems problems;
    auto merged = readConfigLayers(layers, home, problems);
    if (!merged) return merged.error();
    if (!problems.empty()) return problems.toError();

    Context context{*merged, problems, memTotal, home, {}};
    context.locate = [&](const std::string& pointer) {
      return Where{pointer, merged->layerOf(pointer)};
    };
    Config config;
    Scope top(context, &merged->document, "");
    compileGuard(top.object("guard"), config.guard);
    compileGopls(top.object("gopls"), config.gopls);
    compileKeeper(top.object("keeper"), config.keeper);
    compileSystem(top.object("system"), config.system);
    top.optional("workspaces");  // compiled below, with its own locator for overrides
    compileWorkspaces(context, config);
    compileActions(top.object("actions"), config.actions);
    compileProfiles(top.object("profiles"), config.profiles);
    top.finish();
    if (!problems.empty()) return problems.toError();
    config.files = merged->paths;
    return config;
  } catch (const std::exception& error) {
    // Only allocation failure can get here; it still must not cross the library boundary.
    return errnoError(ENOMEM, {}, std::string("cannot load the configuration: ") + error.what());
  }
}

}  // namespace wslgo
