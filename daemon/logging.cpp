#include "daemon/logging.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

namespace wslgo {

namespace {

constexpr const char* kDefaultLogger = "wslgo-guard";

// SYSLOG_IDENTIFIER= of every line: the program's name, set once by setupLogging.
std::string& identifier() {
  static std::string name = "wslgo-guard";
  return name;
}

// The journal adds its own timestamp and identifier; the component name keeps messages apart.
constexpr const char* kJournalPattern = "%n: %v";
constexpr const char* kStderrPattern = "%Y-%m-%d %H:%M:%S.%e %^%l%$ %n: %v";

struct LevelName {
  std::string_view name;
  spdlog::level::level_enum level;
};

constexpr std::array<LevelName, 7> kLevels = {{{"trace", spdlog::level::trace},
                                               {"debug", spdlog::level::debug},
                                               {"info", spdlog::level::info},
                                               {"warning", spdlog::level::warn},
                                               {"error", spdlog::level::err},
                                               {"critical", spdlog::level::critical},
                                               {"off", spdlog::level::off}}};

int syslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;  // LOG_DEBUG
    case spdlog::level::warn:
      return 4;  // LOG_WARNING
    case spdlog::level::err:
      return 3;  // LOG_ERR
    case spdlog::level::critical:
      return 2;  // LOG_CRIT
    default:
      return 6;  // LOG_INFO
  }
}

bool writesToJournal(const spdlog::logger& logger) {
  for (const auto& sink : logger.sinks()) {
    if (std::dynamic_pointer_cast<spdlog::sinks::systemd_sink_st>(sink) != nullptr) return true;
  }
  return false;
}

bool needsQuotes(std::string_view value) {
  return value.empty() || value.find_first_of(" \t\"") != std::string_view::npos;
}

}  // namespace

LogTarget detectLogTarget() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return LogTarget::Stderr;
  const std::string_view text(stream);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return LogTarget::Stderr;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  const auto devEnd = text.data() + colon;
  const auto devParsed = std::from_chars(text.data(), devEnd, dev);
  const auto inoParsed = std::from_chars(devEnd + 1, text.data() + text.size(), ino);
  if (devParsed.ec != std::errc{} || devParsed.ptr != devEnd || inoParsed.ec != std::errc{} ||
      inoParsed.ptr != text.data() + text.size()) {
    return LogTarget::Stderr;
  }
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return LogTarget::Stderr;
  const bool same = static_cast<unsigned long long>(st.st_dev) == dev &&
                    static_cast<unsigned long long>(st.st_ino) == ino;
  return same ? LogTarget::Journal : LogTarget::Stderr;
}

void setupLogging(LogTarget target, spdlog::level::level_enum level, std::string_view program) {
  identifier() = std::string(program);
  spdlog::sink_ptr sink;
  if (target == LogTarget::Journal) {
    sink = std::make_shared<spdlog::sinks::systemd_sink_st>(identifier(), true);
    sink->set_pattern(kJournalPattern);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_st>();
    sink->set_pattern(kStderrPattern);
  }
  if (spdlog::get(kDefaultLogger) == nullptr) {
    auto logger = std::make_shared<spdlog::logger>(kDefaultLogger, sink);
    spdlog::register_logger(logger);
    spdlog::set_default_logger(logger);
  }
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    logger->sinks() = {sink};
    logger->set_level(level);
    logger->flush_on(spdlog::level::warn);
  });
}

std::shared_ptr<spdlog::logger> componentLogger(std::string_view name) {
  const std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  // Without setupLogging() spdlog's default logger writes to stdout, which is not for logs.
  if (spdlog::get(kDefaultLogger) == nullptr) setupLogging(LogTarget::Stderr, spdlog::level::info);
  auto base = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(key, base->sinks().begin(), base->sinks().end());
  logger->set_level(base->level());
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

Result<spdlog::level::level_enum> parseLogLevel(std::string_view text) {
  for (const auto& known : kLevels) {
    if (known.name == text) return known.level;
  }
  std::string names;
  for (const auto& known : kLevels) {
    if (!names.empty()) names += ", ";
    names += known.name;
  }
  return parseError("log level",
                    "unknown log level \"" + std::string(text) + "\"; use one of " + names);
}

void logEvent(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
              std::initializer_list<LogField> fields) {
  if (!logger.should_log(level)) return;
  if (writesToJournal(logger)) {
    std::vector<std::string> lines;
    lines.reserve(fields.size() + 3);
    lines.push_back("MESSAGE=" + logger.name() + ": " + std::string(message));
    lines.push_back("PRIORITY=" + std::to_string(syslogPriority(level)));
    lines.push_back("SYSLOG_IDENTIFIER=" + identifier());
    for (const auto& [key, value] : fields) {
      lines.push_back(std::string(key) + "=" + std::string(value));
    }
    std::vector<iovec> iov;
    iov.reserve(lines.size());
    for (auto& line : lines) iov.push_back({line.data(), line.size()});
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    return;
  }
  std::string text(message);
  for (const auto& [key, value] : fields) {
    text += ' ';
    text += key;
    text += '=';
    if (needsQuotes(value)) {
      text += '"';
      text += value;
      text += '"';
    } else {
      text += value;
    }
  }
  logger.log(level, "{}", text);
}

}  // namespace wslgo
