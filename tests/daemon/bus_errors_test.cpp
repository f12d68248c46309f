// The bus boundary: sdbus-c++ 1.2 aborts the process when a handler throws anything but
// sdbus::Error, so every method and property of org.wslgo.Guard1 runs inside guardBusHandler,
// which turns std::bad_alloc and any other exception into a Failed reply saying what happened.
#include "daemon/bus_errors.h"

#include <fstream>
#include <map>
#include <new>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace wslgo::test {
namespace {

std::string readSource(const std::string& relative) {
  std::ifstream in(std::string(WSLGO_SOURCE_DIR) + "/" + relative);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The names of the methods and properties of `interface` in the contract XML.
std::vector<std::string> membersOf(const std::string& xml, const std::string& interface) {
  const size_t start = xml.find("<interface name=\"" + interface + "\"");
  REQUIRE(start != std::string::npos);
  const std::string block = xml.substr(start, xml.find("</interface>", start) - start);
  std::vector<std::string> names;
  const std::regex member(R"re(<(method|property) name="([^"]+)")re");
  for (auto it = std::sregex_iterator(block.begin(), block.end(), member);
       it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[2].str());
  }
  return names;
}

// The bodies of every definition of `type::name(...)` in `source` (a getter and a setter are
// two), from the opening brace to its match.
std::vector<std::string> definitionsOf(const std::string& source, const std::string& type,
                                       const std::string& name) {
  std::vector<std::string> bodies;
  const std::string head = type + "::" + name + "(";
  for (size_t at = source.find(head); at != std::string::npos;
       at = source.find(head, at + head.size())) {
    const size_t open = source.find('{', at);
    const size_t semicolon = source.find(';', at);
    if (open == std::string::npos || semicolon < open) continue;  // a call, not a definition
    int depth = 0;
    size_t end = open;
    for (; end < source.size(); ++end) {
      if (source[end] == '{') ++depth;
      if (source[end] == '}' && --depth == 0) break;
    }
    bodies.push_back(source.substr(open, end - open + 1));
  }
  return bodies;
}

// Stands for sdbus::Result<...>: records the error an async call was answered with.
struct RecordedReply {
  std::optional<sdbus::Error> error;
  bool answered = false;
  void returnError(const sdbus::Error& e) { error = e; }
  void returnResults() { answered = true; }
};

}  // namespace

TEST_CASE("every method and property of org.wslgo.Guard1 is served through guardBusHandler",
          "[bus]") {
  const std::string xml = readSource("daemon/org.wslgo.Guard1.xml");
  struct Served {
    std::string interface;
    std::string type;
    std::string file;
  };
  for (const Served& served :
       {Served{"org.wslgo.Guard1.Manager", "ManagerObject", "daemon/manager_object.cpp"},
        Served{"org.wslgo.Guard1.Workspace", "WorkspaceObject", "daemon/workspace_object.cpp"}}) {
    const std::string source = readSource(served.file);
    const std::vector<std::string> members = membersOf(xml, served.interface);
    REQUIRE(members.size() >= 10);
    for (const std::string& name : members) {
      INFO(served.type + "::" + name + " in " + served.file);
      const auto bodies = definitionsOf(source, served.type, name);
      CHECK_FALSE(bodies.empty());
      for (const std::string& body : bodies) {
        CHECK_THAT(body, Catch::Contains("guardBusHandler(\"" + name + "\""));
      }
    }
  }
}

TEST_CASE("std::bad_alloc in a handler becomes Failed saying the guard ran out of memory",
          "[bus]") {
  std::optional<sdbus::Error> caught;
  try {
    guardBusHandler("AddWorkspace", []() -> std::string { throw std::bad_alloc(); });
  } catch (const sdbus::Error& e) {
    caught = e;
  }
  REQUIRE(caught);
  CHECK(caught->getName() == kErrorFailed);
  CHECK_THAT(
      caught->getMessage(),
      Catch::StartsWith("AddWorkspace failed: the guard ran out of memory (std::bad_alloc)") &&
          Catch::Contains("it keeps running"));
}

TEST_CASE(
    "any other exception in a handler becomes Failed with its message, and sdbus::Error "
    "passes through",
    "[bus]") {
  CHECK_THROWS_MATCHES(
      guardBusHandler("GetStatus", []() -> int { throw std::runtime_error("json: bad byte"); }),
      sdbus::Error, Catch::Predicate<sdbus::Error>([](const sdbus::Error& e) {
        return e.getName() == kErrorFailed && e.getMessage() == "GetStatus failed: json: bad byte";
      }));
  CHECK_THROWS_MATCHES(
      guardBusHandler("Restart", []() -> int { throw sdbus::Error(kErrorBusy, "busy"); }),
      sdbus::Error, Catch::Predicate<sdbus::Error>([](const sdbus::Error& e) {
        return e.getName() == kErrorBusy && e.getMessage() == "busy";
      }));
}

TEST_CASE("an async reply that fails while being sent answers the call with the error instead",
          "[bus]") {
  // From a manager callback on the loop, after the handler returned: a throw there would reach
  // the loop, and the caller would wait out its timeout.
  RecordedReply reply;
  completeBusReply("CollectGarbage", reply, [] { throw std::bad_alloc(); });
  REQUIRE(reply.error);
  CHECK(reply.error->getName() == kErrorFailed);
  CHECK_THAT(reply.error->getMessage(),
             Catch::StartsWith("CollectGarbage failed: the guard ran out of memory"));

  RecordedReply refused;
  completeBusReply("Restart", refused, [] { throw sdbus::Error(kErrorNotFound, "gone"); });
  REQUIRE(refused.error);
  CHECK(refused.error->getName() == kErrorNotFound);

  RecordedReply fine;
  completeBusReply("Restart", fine, [&] { fine.returnResults(); });
  CHECK(fine.answered);
  CHECK_FALSE(fine.error);
}

}  // namespace wslgo::test
