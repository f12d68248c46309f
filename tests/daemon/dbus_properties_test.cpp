// readProperties: the wanted properties of an a{sv} read in place, everything else skipped,
// on messages sdbus-c++ itself serialized (the same code that writes GetAll's replies' types).
#include "daemon/dbus_properties.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Types.h>
#include <catch2/catch.hpp>

namespace sdbus {
// Exported by libsdbus-c++ 1.2 (Variant builds its messages with it) but not declared.
PlainMessage createPlainMessage();
}  // namespace sdbus

namespace wslgo::test {
namespace {

using ExecCommand = sdbus::Struct<std::string, std::vector<std::string>, bool, uint64_t, uint64_t,
                                  uint64_t, uint64_t, uint32_t, int32_t, int32_t>;

// A Service-like dictionary: the basic values unitInfo wants among arrays of structs, nested
// variants and types it does not read, followed by one more argument.
sdbus::PlainMessage serviceProperties() {
  std::map<std::string, sdbus::Variant> properties{
      {"ActiveState", sdbus::Variant(std::string("active"))},
      {"MainPID", sdbus::Variant(uint32_t{4242})},
      {"MemoryMax", sdbus::Variant(uint64_t{1} << 30)},
      {"CPUWeight", sdbus::Variant(std::string("not a number"))},  // a type it does not expect
      {"ExecStart",
       sdbus::Variant(std::vector<ExecCommand>{ExecCommand{
           "/usr/bin/gopls", {"gopls", "-listen=unix;/x"}, false, 1, 2, 3, 4, 5, 6, 7}})},
      {"Environment", sdbus::Variant(std::vector<std::string>{"A=1", "B=2"})},
      {"Nested", sdbus::Variant(sdbus::Variant(std::string("inside")))},
      {"Delegate", sdbus::Variant(true)},
      {"OOMScoreAdjust", sdbus::Variant(int32_t{-100})},
      {"ControlGroup", sdbus::Variant(std::string("/user.slice/x.service"))},
      {"Unit", sdbus::Variant(sdbus::ObjectPath("/org/freedesktop/systemd1/unit/x_2eservice"))},
  };
  auto message = sdbus::createPlainMessage();
  message << properties << std::string("after the dictionary");
  message.seal();
  message.rewind(true);
  return message;
}

TEST_CASE("readProperties keeps the wanted basic values and skips the rest in place",
          "[dbus_properties]") {
  auto message = serviceProperties();
  constexpr std::array<std::string_view, 9> kWanted{"ActiveState",  "MainPID",  "MemoryMax",
                                                    "CPUWeight",    "Delegate", "OOMScoreAdjust",
                                                    "ControlGroup", "Unit",     "NRestarts"};
  const PropertyValues values = readProperties(message, kWanted);

  CHECK(propertyOr<std::string>(values, "ActiveState", "") == "active");
  CHECK(propertyOr<uint32_t>(values, "MainPID", 0) == 4242u);
  CHECK(propertyOr<uint64_t>(values, "MemoryMax", 0) == uint64_t{1} << 30);
  CHECK(propertyOr<bool>(values, "Delegate", false));
  CHECK(propertyOr<int32_t>(values, "OOMScoreAdjust", 0) == -100);
  CHECK(propertyOr<std::string>(values, "ControlGroup", "") == "/user.slice/x.service");
  CHECK(propertyOr<std::string>(values, "Unit", "") ==
        "/org/freedesktop/systemd1/unit/x_2eservice");
  // Of another type than asked for, or absent: the fallback.
  CHECK(propertyOr<uint64_t>(values, "CPUWeight", 77) == 77u);
  CHECK(propertyOr<uint32_t>(values, "NRestarts", 9) == 9u);
  // Nothing that was not asked for is kept.
  CHECK(values.size() == 8);
  CHECK(values.count("ExecStart") == 0);
  // The message reads on right after the dictionary.
  std::string next;
  message >> next;
  CHECK(next == "after the dictionary");
}

TEST_CASE("readProperties keeps nothing but reads past a dictionary when nothing is wanted",
          "[dbus_properties]") {
  auto message = serviceProperties();
  CHECK(readProperties(message, {}).empty());
  std::string next;
  message >> next;
  CHECK(next == "after the dictionary");
}

TEST_CASE("readProperties refuses a message that holds no a{sv} with an sdbus::Error",
          "[dbus_properties]") {
  auto message = sdbus::createPlainMessage();
  message << std::string("not a dictionary");
  message.seal();
  message.rewind(true);
  constexpr std::array<std::string_view, 1> kWanted{"ActiveState"};
  CHECK_THROWS_AS(readProperties(message, kWanted), sdbus::Error);
}

}  // namespace
}  // namespace wslgo::test
