// Selected properties out of a D-Bus a{sv} dictionary, read in place.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <sdbus-c++/Message.h>

namespace wslgo {

// A property of a basic type: s, o and g as strings, b, i, u, x, t.
using PropertyValue = std::variant<bool, int32_t, uint32_t, int64_t, uint64_t, std::string>;
using PropertyValues = std::map<std::string, PropertyValue, std::less<>>;

// Reads the a{sv} at `message`'s read position and returns the properties named in `wanted`
// that hold a basic type; every other value is skipped inside the message, which is left just
// after the dictionary. Throws sdbus::Error on a message that is not an a{sv} there.
//
// Why not `message >> std::map<std::string, sdbus::Variant>`: sdbus-c++ 1.2 copies every value
// into a message of its own. systemd 252's Unit and Service interfaces have about 400 properties
// between them, so reading one unit made some 4,000 allocations, 320 KiB at once. In the soak
// (bench/soak) that was the guard's largest transient peak, and the holes such peaks left
// between longer-lived blocks kept its heap growing while the bytes in use stayed flat.
PropertyValues readProperties(sdbus::Message& message, std::span<const std::string_view> wanted);

// The property `name` if it is there and of type T, else `fallback` (a value of another type
// is not an error: systemd's types are stable, and a reader must not fail on a surprise).
template <class T>
T propertyOr(const PropertyValues& values, std::string_view name, T fallback) {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  const T* value = std::get_if<T>(&it->second);
  return value != nullptr ? *value : fallback;
}

}  // namespace wslgo
