#include "daemon/bus_caller.h"

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Message.h>

#include "daemon/logging.h"

namespace wslgo {

std::string describeCaller(sdbus::IObject& object) {
  const sdbus::Message* message = object.getCurrentlyProcessedMessage();
  if (message == nullptr) return "an unknown caller";
  std::string out = "bus name " + message->getSender();
  try {
    // Asks the bus daemon when the message carries no credentials: fine for the rare calls
    // that change state, which are the only ones logged.
    out += ", pid " + std::to_string(message->getCredsPid());
  } catch (const sdbus::Error&) {  // NOLINT(bugprone-empty-catch): the name alone still helps
  }
  return out;
}

void logStateChange(sdbus::IObject& object, std::string_view method, std::string_view what) {
  logStateChange(describeCaller(object), method, what);
}

void logStateChange(const std::string& caller, std::string_view method, std::string_view what) {
  logEvent(*componentLogger("bus"), spdlog::level::info,
           std::string(method) + " " + std::string(what) + ", asked by " + caller,
           {{"METHOD", method}, {"CALLER", caller}});
}

}  // namespace wslgo
