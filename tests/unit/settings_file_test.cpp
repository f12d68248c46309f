#include "lib/settings_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/temp_dir.h"

namespace wslgo {

TEST_CASE("a settings file is read whole, also through a symlink") {
  test::TempDir dir("settings-file");
  std::ofstream(dir / "config.json") << R"({"guard": {"sample_interval": "1s"}})";
  std::filesystem::create_symlink(dir / "config.json", dir / "linked.json");
  std::string buffer;
  for (const char* name : {"config.json", "linked.json"}) {
    auto text = readSettingsFile(dir / name, buffer);
    REQUIRE(text);
    CHECK(*text == R"({"guard": {"sample_interval": "1s"}})");
  }
}

TEST_CASE("a FIFO in place of a settings file is refused at once, not waited on") {
  test::TempDir dir("settings-file");
  std::string fifo = dir / "config.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string buffer;
  auto started = std::chrono::steady_clock::now();
  auto text = readSettingsFile(fifo, buffer);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
  REQUIRE_FALSE(text);
  CHECK(text.error().message.find("not a regular file") != std::string::npos);
}

TEST_CASE("a directory or a device in place of a settings file is refused") {
  test::TempDir dir("settings-file");
  std::string buffer;
  CHECK_FALSE(readSettingsFile(dir.path().string(), buffer));
  auto device = readSettingsFile("/dev/zero", buffer);
  REQUIRE_FALSE(device);
  CHECK(device.error().message.find("not a regular file") != std::string::npos);
}

TEST_CASE("a settings file over the size bound is refused before it is read") {
  test::TempDir dir("settings-file");
  std::ofstream(dir / "big.json") << std::string(kMaxSettingsBytes + 1, ' ');
  std::string buffer;
  auto text = readSettingsFile(dir / "big.json", buffer);
  REQUIRE_FALSE(text);
  CHECK(text.error().code == EFBIG);
}

TEST_CASE("a settings file nested 300,000 levels deep is refused before any parser sees it") {
  test::TempDir dir("settings-file");
  std::ofstream(dir / "deep.json") << std::string(300000, '[') << std::string(300000, ']');
  std::string buffer;
  auto text = readSettingsFile(dir / "deep.json", buffer);
  REQUIRE_FALSE(text);
  CHECK(text.error().message.find("nests deeper than 64") != std::string::npos);
}

}  // namespace wslgo
