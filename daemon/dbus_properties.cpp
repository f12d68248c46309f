#include "daemon/dbus_properties.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include <sdbus-c++/Error.h>
#include <systemd/sd-bus.h>

namespace wslgo {
namespace {

// sdbus-c++ 1.2 has no way to skip a value and keeps its sd_bus_message protected. A pointer to
// the inherited member, formed inside a derived class, reaches it; the read position lives in
// the sd_bus_message, so sdbus-c++'s own readers go on from where this one stops.
sd_bus_message* rawMessage(sdbus::Message& message) {
  struct Access : sdbus::Message {
    static void* sdbus::Message::*member() { return &Access::msg_; }
  };
  return static_cast<sd_bus_message*>(message.*Access::member());
}

int checked(int result, const char* what) {
  if (result < 0) throw sdbus::createError(-result, std::string("reading properties: ") + what);
  return result;
}

template <class Raw>
Raw readBasic(sd_bus_message* m, char type) {
  Raw value{};
  checked(sd_bus_message_read_basic(m, type, &value), "a value");
  return value;
}

// The variant's value if its type is basic and one PropertyValue holds; nullopt after skipping
// it otherwise.
std::optional<PropertyValue> readVariant(sd_bus_message* m) {
  char type = 0;
  const char* contents = nullptr;
  checked(sd_bus_message_peek_type(m, &type, &contents), "a value's type");
  const bool single =
      type == SD_BUS_TYPE_VARIANT && contents != nullptr && std::strlen(contents) == 1;
  if (!single || std::strchr("sogbiuxt", contents[0]) == nullptr) {
    checked(sd_bus_message_skip(m, "v"), "past a value");
    return std::nullopt;
  }
  checked(sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents), "a variant");
  PropertyValue value;
  switch (contents[0]) {
    case SD_BUS_TYPE_BOOLEAN:
      value = readBasic<int>(m, contents[0]) != 0;
      break;
    case SD_BUS_TYPE_INT32:
      value = readBasic<int32_t>(m, contents[0]);
      break;
    case SD_BUS_TYPE_UINT32:
      value = readBasic<uint32_t>(m, contents[0]);
      break;
    case SD_BUS_TYPE_INT64:
      value = readBasic<int64_t>(m, contents[0]);
      break;
    case SD_BUS_TYPE_UINT64:
      value = readBasic<uint64_t>(m, contents[0]);
      break;
    default:
      value = std::string(readBasic<const char*>(m, contents[0]));
      break;
  }
  checked(sd_bus_message_exit_container(m), "a variant's end");
  return value;
}

}  // namespace

PropertyValues readProperties(sdbus::Message& message, std::span<const std::string_view> wanted) {
  sd_bus_message* m = rawMessage(message);
  PropertyValues out;
  checked(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}"), "an a{sv}");
  while (checked(sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv"), "an entry") > 0) {
    const char* name = readBasic<const char*>(m, SD_BUS_TYPE_STRING);
    if (std::find(wanted.begin(), wanted.end(), std::string_view(name)) != wanted.end()) {
      if (auto value = readVariant(m)) out.insert_or_assign(name, std::move(*value));
    } else {
      checked(sd_bus_message_skip(m, "v"), "past a value");
    }
    checked(sd_bus_message_exit_container(m), "an entry's end");
  }
  checked(sd_bus_message_exit_container(m), "the a{sv}'s end");
  return out;
}

}  // namespace wslgo
