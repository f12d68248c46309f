// Who called: the bus name and pid behind the method call being handled, for the log line every
// state-changing call leaves.
#pragma once

#include <string>
#include <string_view>

#include <sdbus-c++/IObject.h>

namespace wslgo {

// "bus name :1.42, pid 1234" for the call `object` is handling now; what cannot be found out is
// left out ("bus name :1.42"), and outside a call it is "an unknown caller". Never throws.
std::string describeCaller(sdbus::IObject& object);

// Logs that `method` changed something (`what`), with the caller, at info: when a workspace
// vanishes or a setting flips, the journal says who asked.
void logStateChange(sdbus::IObject& object, std::string_view method, std::string_view what);
// The same for a call answered later, its `caller` described while it was being handled.
void logStateChange(const std::string& caller, std::string_view method, std::string_view what);

}  // namespace wslgo
