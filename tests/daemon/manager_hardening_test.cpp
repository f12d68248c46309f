// What the hostile review of #12 broke in the Manager, each as it should now hold: the limit on
// workspaces (added, auto-added, loaded), running out of memory while loading the state file,
// another user's directory as a workspace, and settings that must reach gopls (reload, Restart).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "daemon/bus_errors.h"
#include "daemon/logging.h"
#include "lib/unit_environment.h"
#include "lib/unit_name.h"
#include "lib/workspace_registry.h"
#include "tests/daemon/guard_world.h"

namespace wslgo::test {
namespace {

using std::chrono::seconds;

// What the manager logs while it lives, as "level: message" lines.
class ManagerLog {
 public:
  ManagerLog() : logger_(componentLogger("manager")), sink_(makeSink(out_)) {
    logger_->sinks().push_back(sink_);
  }
  ~ManagerLog() {
    auto& sinks = logger_->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  ManagerLog(const ManagerLog&) = delete;
  ManagerLog& operator=(const ManagerLog&) = delete;

  std::string text() const { return out_.str(); }
  size_t count(const std::string& needle) const {
    const std::string all = text();
    size_t n = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

 private:
  static spdlog::sink_ptr makeSink(std::ostringstream& out) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    sink->set_pattern("%l: %v");
    return sink;
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::ostringstream out_;
  spdlog::sink_ptr sink_;
};

// A manager over the world's fakes, made with other paths or another debug client factory.
Result<std::unique_ptr<Manager>> createManager(GuardWorld& world, ManagerPaths paths,
                                               GoplsDebugFactory factory) {
  return Manager::create(ManagerServices{.scheduler = world.scheduler,
                                         .systemd = world.systemd,
                                         .wakeups = world.wakeups,
                                         .debugClientFor = std::move(factory)},
                         SysRoots{.proc = world.path() / "proc", .sys = world.path() / "sys"},
                         std::move(paths));
}

std::string environmentFileOf(const GuardWorld& world, const std::string& root) {
  auto file = unitEnvironmentFile(world.paths().stateDir, root);
  REQUIRE(file);
  return *file;
}

// The variables of the workspace's unit environment file; empty when there is none.
std::map<std::string, std::string> environmentOf(const GuardWorld& world, const std::string& root) {
  std::ifstream in(environmentFileOf(world, root));
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  auto variables = parseUnitEnvironment(text.str());
  REQUIRE(variables);
  return *variables;
}

void writeConfig(const GuardWorld& world, const std::string& json) {
  std::ofstream(world.path() / "config/config.json", std::ios::trunc) << json;
}

}  // namespace

TEST_CASE("a workspace beyond the limit of 256 is refused, added or auto-added, until one goes",
          "[manager][bounds]") {
  GuardWorld world;
  world.start();
  std::vector<std::string> roots;
  for (size_t i = 0; i < kMaxWorkspaces; ++i) {
    auto root = world.add(world.module("m" + std::to_string(i)));
    REQUIRE(root);
    roots.push_back(*root);
  }
  const size_t callsBefore = world.systemd.calls().size();

  const std::string extra = world.module("extra");
  auto refused = world.add(extra);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == EUSERS);
  CHECK_THAT(refused.error().message, Catch::Contains("already guards 256 workspaces, its limit") &&
                                          Catch::Contains("RemoveWorkspace"));
  // On the bus: Failed with that message, not strerror's "No space left on device".
  const sdbus::Error onBus = busErrorFor(refused.error());
  CHECK(onBus.getName() == kErrorFailed);
  CHECK_THAT(onBus.getMessage(),
             Catch::StartsWith(extra + ": cannot be added") && !Catch::Contains("No space left"));

  // An editor's folder in an unguarded module is refused the same way, adding nothing.
  std::filesystem::create_directories(extra + "/cmd");
  auto attached = world.attach(extra + "/cmd");
  REQUIRE_FALSE(attached);
  CHECK_THAT(attached.error().message, Catch::Contains("its limit"));
  CHECK(world.manager().workspaceRoots().size() == kMaxWorkspaces);
  CHECK(world.systemd.calls().size() == callsBefore);

  REQUIRE(world.manager().removeWorkspace(roots.front()));
  CHECK(world.add(extra));
}

TEST_CASE("a state file with more than 256 workspaces loads 256 and names each one left out",
          "[manager][bounds]") {
  GuardWorld world;
  Registry registry;
  for (size_t i = 0; i < kMaxWorkspaces + 44; ++i) {
    const std::string path = world.path() / ("home/src/w" + std::to_string(1000 + i));
    auto unit = workspaceUnitName(path);
    REQUIRE(unit);
    registry.workspaces.push_back(WorkspaceRecord{
        .path = path, .unit = *unit, .socket = path + ".sock", .addedUsec = 1, .options = {}});
  }
  std::filesystem::create_directories(world.paths().stateDir);
  std::ofstream(world.paths().stateDir + "/state.json") << serializeRegistry(registry);

  ManagerLog log;
  world.create();
  const std::vector<std::string> roots = world.manager().workspaceRoots();
  REQUIRE(roots.size() == kMaxWorkspaces);
  CHECK(roots.back() == registry.workspaces[kMaxWorkspaces - 1].path);
  CHECK(log.count("more than the guard's limit of 256") == 44);
  CHECK_THAT(log.text(), Catch::Contains(registry.workspaces[kMaxWorkspaces].path) &&
                             Catch::Contains(registry.workspaces.back().path) &&
                             Catch::Contains("add it again"));
}

TEST_CASE(
    "running out of memory while loading the state file is logged, and the guard starts "
    "with the workspaces it loaded",
    "[manager][bounds]") {
  // A 1000000h history once made every start abort here, in a restart loop.
  GuardWorld world;
  world.start();
  const std::string app = world.addWorkspace("app");
  const std::string big = world.addWorkspace("big");
  const std::string bigSocket = world.manager().workspaceView(big)->socket;
  world.destroyManager();

  ManagerLog log;
  GoplsDebugFactory fleet = world.fleet.factory();
  auto made = createManager(world, world.paths(), [&](const GoplsEndpoints& endpoints) {
    if (endpoints.socket == bigSocket) throw std::bad_alloc();
    return fleet(endpoints);
  });
  REQUIRE(made);
  CHECK((*made)->workspaceRoots() == std::vector<std::string>{app});
  CHECK_THAT(log.text(), Catch::Contains("workspace not loaded (out of memory (std::bad_alloc))") &&
                             Catch::Contains(big));
  CHECK((*made)->start());
}

TEST_CASE(
    "after a corrupt state file is set aside, the wslgo-gopls@ units still running are guarded "
    "again, and each one left unguarded is named with why",
    "[manager][registry]") {
  GuardWorld world;
  world.start();
  const std::string app = world.addWorkspace("app");
  const std::string gone = world.addWorkspace("gone");
  const std::string stopped = world.addWorkspace("stopped");
  const std::string appUnit = world.unitOf(app);
  const std::string goneUnit = world.unitOf(gone);
  const std::string stoppedUnit = world.unitOf(stopped);
  world.destroyManager();
  // While the guard is away: a workspace's directory is deleted, a unit is stopped, someone
  // starts a unit for "/" by hand, another service runs, and the state file is damaged.
  std::filesystem::remove_all(gone);
  REQUIRE(world.systemd.stopNow(stoppedUnit));
  REQUIRE(world.systemd.startNow("wslgo-gopls@-.service"));
  REQUIRE(world.systemd.startNow("unrelated.service"));
  std::ofstream(world.paths().stateDir + "/state.json", std::ios::trunc) << R"({"workspaces": [)";

  ManagerLog log;
  world.start();
  REQUIRE(world.manager().workspaceRoots() == std::vector<std::string>{app});
  CHECK(world.systemd.watched(appUnit));
  CHECK(world.manager().workspaceView(app)->unit == appUnit);
  CHECK(log.count("adopted " + appUnit + ", still active after the state file was set aside") == 1);
  CHECK_THAT(log.text(), Catch::Contains(goneUnit + " still runs but is not guarded: ") &&
                             Catch::Contains("wslgo-gopls@-.service still runs but is not "
                                             "guarded: "));
  CHECK(log.count(stoppedUnit) == 0);
  CHECK(log.count("unrelated.service") == 0);
  CHECK(world.systemd.count("start", stoppedUnit) == 1);

  // Saved as it was adopted: the next start finds it in the state file and lists nothing.
  world.destroyManager();
  world.systemd.failNext(FakeSystemdClient::Call::ListUnits,
                         errnoError(EIO, "org.freedesktop.systemd1", "must not be asked"));
  world.start();
  CHECK(world.manager().workspaceRoots() == std::vector<std::string>{app});
  CHECK(log.count("cannot ask systemd") == 0);
}

TEST_CASE("when systemd cannot list its units after a corrupt state file, the guard says so",
          "[manager][registry]") {
  GuardWorld world;
  std::filesystem::create_directories(world.paths().stateDir);
  std::ofstream(world.paths().stateDir + "/state.json") << "not json";
  world.systemd.failNext(
      FakeSystemdClient::Call::ListUnits,
      errnoError(ETIMEDOUT, "org.freedesktop.systemd1", "ListUnitsByPatterns failed: timed out"));
  ManagerLog log;
  world.start();
  CHECK(world.manager().workspaceRoots().empty());
  CHECK_THAT(log.text(), Catch::Contains("cannot ask systemd which wslgo-gopls@*.service units "
                                         "still run") &&
                             Catch::Contains("add each workspace again with AddWorkspace"));
}

TEST_CASE("a workspace directory owned by another user is refused, naming its owner and why",
          "[manager][paths]") {
  GuardWorld world;
  ManagerPaths paths = world.paths();
  paths.user = ::geteuid() + 1;  // as if the guard ran as someone else
  auto made = createManager(world, paths, world.fleet.factory());
  REQUIRE(made);
  REQUIRE((*made)->start());
  const std::string module = world.module("theirs");

  auto refused = world.add(**made, module);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == EPERM);
  CHECK_THAT(refused.error().describe(),
             Catch::StartsWith(module + ": is owned by uid " + std::to_string(::geteuid()) +
                               ", not by the guard's user (uid " + std::to_string(::geteuid() + 1) +
                               ")") &&
                 Catch::Contains("another user's files could run code"));
  CHECK(busErrorFor(refused.error()).getName() == kErrorInvalidArgument);
  CHECK((*made)->workspaceRoots().empty());
  CHECK(world.systemd.calls().empty());
}

TEST_CASE("a module chowned to another user is refused by the guard as it runs",
          "[manager][paths]") {
  if (::geteuid() != 0) {
    WARN("chown needs root; the uid-parameter test above covers the refusal");
    return;
  }
  GuardWorld world;
  world.start();
  const std::string module = world.module("chowned");
  REQUIRE(::chown(module.c_str(), 4242, 4242) == 0);
  auto refused = world.add(module);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::StartsWith("is owned by uid 4242"));
  CHECK(world.manager().workspaceRoots().empty());
}

TEST_CASE("a reload rewrites every workspace's environment file at once, restarting nothing",
          "[manager][reload]") {
  GuardWorld world(R"({"workspaces": {"default": {"gomemlimit": "1G",
                                                  "env": {"GOFLAGS": "-mod=mod"}}}})");
  world.start();
  const std::string app = world.addWorkspace("app");
  const std::string lib = world.addWorkspace("lib");
  CHECK(environmentOf(world, app)["GOMEMLIMIT"] == "1073741824");

  writeConfig(world, R"({"gopls": {"args": ["-rpc.trace"]},
                         "workspaces": {"default": {"gomemlimit": "2G",
                                                    "env": {"GOFLAGS": "-mod=readonly"}}}})");
  REQUIRE(world.manager().reload());
  for (const std::string& root : {app, lib}) {
    auto environment = environmentOf(world, root);
    CHECK(environment["GOMEMLIMIT"] == "2147483648");
    CHECK(environment["GOFLAGS"] == "-mod=readonly");
    CHECK(environment["WSLGO_GOPLS_ARGS"] == R"(["-rpc.trace"])");
    CHECK(world.systemd.count("restart", world.unitOf(root)) == 0);
  }
}

TEST_CASE("a Restart rewrites the unit's environment file before its restart job",
          "[manager][reload]") {
  // Whatever happened to the file since the start (lost, stale), the restarted gopls gets what
  // the configuration says now.
  GuardWorld world(R"({"workspaces": {"default": {"gomemlimit": "1G"}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string file = environmentFileOf(world, root);
  REQUIRE(std::filesystem::remove(file));

  std::string gomemlimitThen = "not announced";
  world.observer.whenRestarting = [&](const std::string&) {
    gomemlimitThen = environmentOf(world, root)["GOMEMLIMIT"];
  };
  std::optional<Result<void>> done;
  world.manager().restart(root, "requested over D-Bus",
                          [&](Result<void> result) { done = std::move(result); });
  world.scheduler.advance(seconds(5));
  REQUIRE(done);
  REQUIRE(*done);
  CHECK(gomemlimitThen == "1073741824");
  CHECK(world.systemd.count("restart", world.unitOf(root)) == 1);
}

TEST_CASE("an adopted running unit gets its environment file rewritten for its next start",
          "[manager][reload]") {
  GuardWorld world(R"({"workspaces": {"default": {"gomemlimit": "1G"}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  world.destroyManager();
  // Changed while the guard was away; the unit keeps running.
  writeConfig(world, R"({"workspaces": {"default": {"gomemlimit": "3G"}}})");
  world.start();
  CHECK(world.systemd.count("start", world.unitOf(root)) == 1);
  CHECK(environmentOf(world, root)["GOMEMLIMIT"] == "3221225472");
}

}  // namespace wslgo::test

namespace wslgo::test {
namespace {

template <class T>
struct Answer {
  std::optional<Result<T>> got;
  std::function<void(Result<T>)> done() {
    return [this](Result<T> result) { got.emplace(std::move(result)); };
  }
};

}  // namespace

TEST_CASE(
    "a systemd manager that does not answer holds up nothing: the guard samples and answers "
    "meanwhile, and AddWorkspace and AttachEditor answer once systemd does",
    "[manager][systemd]") {
  GuardWorld world;
  world.start();
  const std::string app = world.addWorkspace("app");
  const std::string slow = world.module("slow");
  world.systemd.holdAnswers();

  Answer<std::string> added;
  world.manager().addWorkspace(slow, {}, added.done());
  Answer<EditorAttachment> attached;  // an editor opens the same module meanwhile
  world.manager().attachEditor(slow, attached.done());
  Answer<std::string> twice;
  world.manager().addWorkspace(slow, {}, twice.done());
  REQUIRE(twice.got);
  REQUIRE_FALSE(*twice.got);
  CHECK(twice.got->error().code == EEXIST);
  CHECK_THAT(twice.got->error().describe(), Catch::Contains("is being added already"));

  const auto before = world.manager().history(app, 0);
  REQUIRE(before);
  world.scheduler.advance(seconds(10));
  CHECK_FALSE(added.got);
  CHECK_FALSE(attached.got);
  const auto after = world.manager().history(app, 0);
  REQUIRE(after);
  CHECK(after->size() >= before->size() + 4);  // still sampled every 2 s
  auto status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"].size() == 1);
  CHECK(world.systemd.answersHeld() == 1);  // the question whether slow's unit already runs

  world.systemd.releaseAnswers();
  world.settle();
  REQUIRE(added.got);
  REQUIRE(*added.got);
  CHECK(**added.got == slow);
  REQUIRE(attached.got);
  REQUIRE(*attached.got);
  CHECK((*attached.got)->root == slow);
  CHECK(world.systemd.count("start", world.unitOf(slow)) == 1);
  CHECK(world.observer.added == std::vector<std::string>{app, slow});
}

TEST_CASE("a workspace whose start systemd has not answered yet cannot be removed meanwhile",
          "[manager][systemd]") {
  GuardWorld world;
  world.start();
  const std::string slow = world.module("slow");
  world.systemd.holdAnswers();
  Answer<std::string> added;
  world.manager().addWorkspace(slow, {}, added.done());
  // Only the first question is answered: the unit does not run yet, and StartUnit is asked.
  world.systemd.releaseAnswers();
  world.systemd.holdAnswers();
  world.scheduler.runDue();
  REQUIRE(world.manager().workspaceView(slow) != nullptr);
  REQUIRE_FALSE(added.got);

  auto removed = world.manager().removeWorkspace(slow);
  REQUIRE_FALSE(removed);
  CHECK(removed.error().code == EBUSY);
  CHECK_THAT(removed.error().describe(), Catch::Contains("once AddWorkspace has answered"));

  world.systemd.releaseAnswers();
  world.settle();
  REQUIRE(added.got);
  REQUIRE(*added.got);
  CHECK(world.manager().removeWorkspace(slow));
}

TEST_CASE(
    "a StartUnit that times out fails AddWorkspace, and a stop queued behind it keeps the unit "
    "from starting late, unguarded",
    "[manager][systemd]") {
  GuardWorld world;
  world.start();
  const std::string slow = world.module("slow");
  const std::string unit = *workspaceUnitName(slow);
  world.systemd.failNext(FakeSystemdClient::Call::Start,
                         errnoError(ETIMEDOUT, unit, "StartUnit refused by systemd: timed out"));
  auto added = world.add(slow);
  REQUIRE_FALSE(added);
  CHECK(added.error().code == ETIMEDOUT);
  CHECK(world.manager().workspaceView(slow) == nullptr);
  world.settle();
  CHECK(world.systemd.count("stop", unit) == 1);

  // A refusal that is not a timeout leaves nothing to stop.
  world.systemd.failNext(FakeSystemdClient::Call::Start,
                         errnoError(EPERM, unit, "StartUnit refused by systemd: masked"));
  REQUIRE_FALSE(world.add(slow));
  world.settle();
  CHECK(world.systemd.count("stop", unit) == 1);
}

TEST_CASE(
    "an operator action that outlasts what a D-Bus caller waits is answered as still running, "
    "and goes on to its ActionTaken",
    "[manager][bus]") {
  GuardWorld world(R"({"actions": {"gc": {"timeout": "60s"}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  world.goplsOf(root).gcTakes = seconds(25);

  Answer<std::pair<uint64_t, uint64_t>> gc;
  world.manager().collectGarbage(root, gc.done());
  world.scheduler.advance(Manager::kAnswerWithin - seconds(1));
  CHECK_FALSE(gc.got);
  world.scheduler.advance(seconds(1));
  REQUIRE(gc.got);
  REQUIRE_FALSE(*gc.got);
  CHECK(gc.got->error().code == EINPROGRESS);
  CHECK_THAT(gc.got->error().describe(),
             Catch::Contains("the GC is still running after 20 s and goes on") &&
                 Catch::Contains("ActionTaken"));
  CHECK(busErrorFor(gc.got->error()).getName() == kErrorStillRunning);
  CHECK(world.observer.actions.empty());

  world.scheduler.advance(seconds(40));
  REQUIRE(world.observer.actions.size() == 1);
  CHECK(world.observer.actions.front().result == "done");

  // One that answers in time is answered with its result, and only once.
  world.goplsOf(root).gcTakes = seconds(1);
  Answer<std::pair<uint64_t, uint64_t>> quick;
  size_t answers = 0;
  world.manager().collectGarbage(root, [&](Result<std::pair<uint64_t, uint64_t>> r) {
    ++answers;
    quick.got.emplace(std::move(r));
  });
  world.scheduler.advance(seconds(60));
  REQUIRE(quick.got);
  CHECK(*quick.got);
  CHECK(answers == 1);
}

}  // namespace wslgo::test

namespace wslgo::test {

TEST_CASE(
    "a memory limit the unit's cgroup cannot enforce is named in the log at the workspace's "
    "first start, once",
    "[manager][resources]") {
  // A cgroup without memory.max or memory.high: a normal user's unit on a hybrid host.
  GuardWorld world(R"({"workspaces": {"default": {"memory_high": "2G", "memory_max": "3G"}}})");
  world.controllerFiles = {};
  ManagerLog log;
  world.start();
  const std::string root = world.addWorkspace("app");
  world.scheduler.advance(seconds(4));
  CHECK(log.count("the guard's ladder is what limits it") == 2);  // memory_high and memory_max
  CHECK(log.count("WORKSPACE=" + root) >= 2);
  world.scheduler.advance(seconds(20));
  CHECK(log.count("the guard's ladder is what limits it") == 2);  // not at every tick
}

}  // namespace wslgo::test

namespace wslgo::test {

TEST_CASE(
    "a unit without a memory cgroup of its own is said plainly to be measured by summed RSS, "
    "once",
    "[manager][resources]") {
  GuardWorld world;
  world.unitsHaveMemoryFiles = false;  // cgroup.procs only
  ManagerLog log;
  world.start();
  const std::string root = world.addWorkspace("app");
  world.scheduler.advance(seconds(10));
  auto status = nlohmann::json::parse(world.manager().statusJson());
  REQUIRE(status["workspaces"][0]["memory_source"] == "process-rss");
  CHECK(log.count("the workspace's memory figure is the summed RSS of the unit's processes") == 1);
}

}  // namespace wslgo::test

namespace wslgo::test {

TEST_CASE(
    "after a corrupt state file is set aside, a running unit of a directory added with "
    "allow_non_module is guarded again",
    "[manager][registry]") {
  GuardWorld world;
  world.start();
  const std::string notes = world.path() / "home/notes";
  std::filesystem::create_directories(notes);
  REQUIRE(world.add(notes, AddOptions{.allowNonModule = true}));
  world.destroyManager();
  std::ofstream(world.paths().stateDir + "/state.json", std::ios::trunc) << "{";

  ManagerLog log;
  world.start();
  CHECK(world.manager().workspaceRoots() == std::vector<std::string>{notes});
  CHECK(log.count("the wslgo-gopls@ units still running are adopted again") == 1);
}

}  // namespace wslgo::test
