// Logging: spdlog set up for the journal or stderr, one logger per component, journal fields.
#pragma once

#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>

#include <spdlog/logger.h>

#include "lib/result.h"

namespace wslgo {

enum class LogTarget { Journal, Stderr };

// Journal when JOURNAL_STREAM names the device and inode of our stderr (what systemd sets when
// it connected stderr to the journal), else Stderr: a stderr redirected by hand keeps text.
LogTarget detectLogTarget();

// Points every component logger, present and future, at `target` with `level`, and names the
// program in the journal (SYSLOG_IDENTIFIER=). Call again to change the level (on reload).
void setupLogging(LogTarget target, spdlog::level::level_enum level,
                  std::string_view program = "wslgo-guard");

// The logger for "manager", "bus", "systemd", "gopls", "actions": created on first use with the
// sinks and level of the last setupLogging().
std::shared_ptr<spdlog::logger> componentLogger(std::string_view name);

// trace, debug, info, warning, error, critical, off.
Result<spdlog::level::level_enum> parseLogLevel(std::string_view text);

using LogField = std::pair<std::string_view, std::string_view>;

// A message with structured fields (WORKSPACE=, UNIT=, ACTION=): in the journal they are real
// fields one can filter on (journalctl WORKSPACE=/src/app); on stderr they follow the message
// as " WORKSPACE=/src/app UNIT=...".
void logEvent(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
              std::initializer_list<LogField> fields);

}  // namespace wslgo
