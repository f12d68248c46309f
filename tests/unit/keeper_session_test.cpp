// The session keeper's relay logic on synthetic time, against a scripted fake gopls: what the
// editor sees across gopls restarts, and what a new gopls is told.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lib/jsonrpc_message.h"
#include "lib/keeper_session.h"

namespace wslgo {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Everything the session asked for, in order.
struct RecordingOutput final : KeeperOutput {
  std::vector<json> editor;
  std::vector<json> gopls;
  std::vector<std::string> attaches;
  int connects = 0;
  int disconnects = 0;
  std::optional<std::string> closed;
  std::vector<std::string> notes;
  // Set by a test: connectGopls() answers at once, as a listening unix socket does.
  KeeperSession* session = nullptr;
  bool goplsListening = true;
  Usec now{0};

  void toEditor(std::string body) override { editor.push_back(json::parse(body)); }
  void toGopls(std::string body) override { gopls.push_back(json::parse(body)); }
  void attach(const std::string& folder) override { attaches.push_back(folder); }
  void connectGopls() override {
    ++connects;
    if (session == nullptr) return;
    if (goplsListening) {
      session->goplsConnected(now);
    } else {
      session->goplsUnavailable("connection refused", now);
    }
  }
  void disconnectGopls() override { ++disconnects; }
  void closeEditor(const std::string& why) override { closed = why; }
  void note(const std::string& what) override { notes.push_back(what); }
};

json request(json id, const std::string& method, json params) {
  return rpcRequest(id, method, std::move(params));
}

std::string text(const json& message) { return message.dump(); }

// An editor, the keeper's session and a scripted gopls that answers initialize and keeps the
// documents it is told about.
struct KeeperWorld {
  RecordingOutput out;
  KeeperLimits limits;
  std::unique_ptr<KeeperSession> session;
  Usec now{1'000'000};
  size_t goplsSeen = 0;  // messages of out.gopls the fake gopls has read
  std::map<std::string, std::string> goplsDocuments;
  int goplsInitializes = 0;

  explicit KeeperWorld(KeeperLimits l = {}) : limits(l) {
    session = std::make_unique<KeeperSession>(out, limits, "test-1");
    out.session = session.get();
  }

  void advance(Usec by) {
    now += by;
    out.now = now;
    while (auto due = session->nextDeadline()) {
      if (*due > now) break;
      session->tick(now);
      if (session->nextDeadline() == due) break;
    }
  }

  void fromEditor(const json& message) {
    out.now = now;
    session->fromEditor(text(message), now);
  }
  void fromGopls(const json& message) {
    out.now = now;
    session->fromGopls(text(message), now);
  }

  // Reads what gopls was sent since the last look; answers initialize like gopls does.
  std::vector<json> goplsReads() {
    std::vector<json> fresh(out.gopls.begin() + static_cast<long>(goplsSeen), out.gopls.end());
    goplsSeen = out.gopls.size();
    for (const json& m : fresh) {
      std::string method = m.value("method", "");
      if (method == "textDocument/didOpen") {
        goplsDocuments[m["params"]["textDocument"]["uri"]] = m["params"]["textDocument"]["text"];
      }
      if (method == "initialize") ++goplsInitializes;
    }
    return fresh;
  }

  void answerInitialize() {
    for (const json& m : goplsReads()) {
      if (m.value("method", "") == "initialize") {
        fromGopls(rpcResult(m["id"], {{"capabilities", {{"positionEncoding", "utf-16"}}},
                                      {"serverInfo", {{"name", "gopls"}}}}));
      }
    }
  }

  // The editor's usual start: handshake, initialize with a folder, the guard's answer, gopls'
  // answer, initialized.
  void start(bool progress = true) {
    fromEditor(request(1, "gopls/handshake", {{"goplsPath", "/usr/bin/gopls"}}));
    json capabilities = {{"window", {{"workDoneProgress", progress}}}};
    fromEditor(request(2, "initialize",
                       {{"rootUri", "file:///home/me/src/app"}, {"capabilities", capabilities}}));
    REQUIRE(out.attaches == std::vector<std::string>{"/home/me/src/app"});
    session->attached("/home/me/src/app", "/run/user/1000/wslgo-guard/gopls-x.sock", now);
    answerInitialize();
    fromEditor(rpcNotification("initialized", json::object()));
    REQUIRE(session->phase() == KeeperSession::Phase::Live);
  }

  void open(const std::string& uri, const std::string& body) {
    fromEditor(rpcNotification(
        "textDocument/didOpen",
        {{"textDocument", {{"uri", uri}, {"languageId", "go"}, {"version", 1}, {"text", body}}}}));
  }

  void restart(const std::string& why = "EOF") {
    session->goplsLost(why, now);
    goplsDocuments.clear();
  }

  std::vector<json> editorMessages(const std::string& method) const {
    std::vector<json> found;
    for (const json& m : out.editor) {
      if (m.value("method", "") == method) found.push_back(m);
    }
    return found;
  }

  const json* editorAnswer(const json& id) const {
    for (const json& m : out.editor) {
      if (!m.contains("method") && m.contains("id") && m["id"] == id) return &m;
    }
    return nullptr;
  }
};

}  // namespace

TEST_CASE("the keeper answers gopls -remote's handshake itself, echoing the forwarder's path",
          "[keeper]") {
  KeeperWorld w;
  w.fromEditor(request(1, "gopls/handshake", {{"goplsPath", "/usr/bin/gopls"}, {"serverID", "1"}}));
  const json* answer = w.editorAnswer(1);
  REQUIRE(answer != nullptr);
  CHECK((*answer)["result"]["goplsPath"] == "/usr/bin/gopls");
  CHECK((*answer)["result"]["sessionID"] == "test-1");
  CHECK(w.out.gopls.empty());
}

TEST_CASE("initialize is routed by its folder and gopls' answer reaches the editor under its id",
          "[keeper]") {
  KeeperWorld w;
  w.start();
  CHECK(w.out.connects == 1);
  CHECK(w.goplsInitializes == 1);
  const json* answer = w.editorAnswer(2);
  REQUIRE(answer != nullptr);
  CHECK((*answer)["result"]["serverInfo"]["name"] == "gopls");
  // initialized went through to gopls.
  auto reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["method"] == "initialized");
}

TEST_CASE("a workspace folder is used when rootUri is null, with %-escapes decoded", "[keeper]") {
  KeeperWorld w;
  w.fromEditor(
      request(1, "initialize",
              {{"rootUri", nullptr},
               {"workspaceFolders", {{{"uri", "file:///home/me/my%20app"}, {"name", "a"}}}}}));
  CHECK(w.out.attaches == std::vector<std::string>{"/home/me/my app"});
}

TEST_CASE(
    "an editor that opens no folder gets an initialize error saying what to do, and is let go",
    "[keeper]") {
  KeeperWorld w;
  w.fromEditor(request(7, "initialize", {{"rootUri", nullptr}, {"capabilities", json::object()}}));
  const json* answer = w.editorAnswer(7);
  REQUIRE(answer != nullptr);
  CHECK((*answer)["error"]["code"] == kLspRequestFailed);
  CHECK_THAT((*answer)["error"]["message"].get<std::string>(),
             Catch::Contains("Open the module's folder"));
  CHECK((*answer)["error"]["data"]["retry"] == false);
  CHECK(w.out.closed.has_value());
  CHECK(w.out.attaches.empty());
}

TEST_CASE("the guard's refusal reaches the editor as the initialize error", "[keeper]") {
  KeeperWorld w;
  w.fromEditor(request(3, "initialize", {{"rootUri", "file:///home/me/notes"}}));
  w.session->attachFailed("/home/me/notes holds no go.mod", w.now);
  const json* answer = w.editorAnswer(3);
  REQUIRE(answer != nullptr);
  CHECK((*answer)["error"]["message"] == "/home/me/notes holds no go.mod");
  CHECK(w.out.closed.has_value());
}

TEST_CASE("requests before initialize are refused as the protocol says", "[keeper]") {
  KeeperWorld w;
  w.fromEditor(request(1, "textDocument/hover", json::object()));
  const json* answer = w.editorAnswer(1);
  REQUIRE(answer != nullptr);
  CHECK((*answer)["error"]["code"] == kLspServerNotInitialized);
}

TEST_CASE("requests and answers are relayed both ways, gopls' requests under ids of the keeper's",
          "[keeper]") {
  KeeperWorld w;
  w.start();
  w.goplsReads();
  w.fromEditor(request(10, "textDocument/hover", {{"position", {{"line", 1}}}}));
  auto reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["id"] == 10);
  w.fromGopls(rpcResult(10, {{"contents", "func F()"}}));
  REQUIRE(w.editorAnswer(10) != nullptr);
  CHECK((*w.editorAnswer(10))["result"]["contents"] == "func F()");

  // gopls asks the editor something, with an id of its own.
  w.fromGopls(request(1, "window/showMessageRequest", {{"message", "?"}}));
  auto asked = w.editorMessages("window/showMessageRequest");
  REQUIRE(asked.size() == 1);
  json editorId = asked[0]["id"];
  w.fromEditor(rpcResult(editorId, {{"title", "OK"}}));
  reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["id"] == 1);
  CHECK(reads[0]["result"]["title"] == "OK");
}

TEST_CASE("requests in flight when gopls goes away get ContentModified and the editor stays",
          "[keeper]") {
  KeeperWorld w;
  w.start();
  w.fromEditor(request(11, "textDocument/definition", json::object()));
  w.fromEditor(request(12, "textDocument/references", json::object()));
  w.out.goplsListening = false;
  w.restart();
  for (int id : {11, 12}) {
    const json* answer = w.editorAnswer(id);
    REQUIRE(answer != nullptr);
    CHECK((*answer)["error"]["code"] == kLspContentModified);
  }
  CHECK_FALSE(w.out.closed.has_value());
  CHECK(w.session->phase() == KeeperSession::Phase::Connecting);
}

TEST_CASE(
    "a new gopls gets the session replayed: initialize, initialized, settings and the "
    "unsaved text of every open document",
    "[keeper]") {
  KeeperWorld w;
  w.start();
  w.fromEditor(rpcNotification("workspace/didChangeConfiguration", {{"settings", {{"x", 1}}}}));
  w.open("file:///home/me/src/app/main.go", "package main\n\nfunc main() {}\n");
  w.open("file:///home/me/src/app/b.go", "package main\n");
  w.fromEditor(rpcNotification(
      "textDocument/didChange",
      {{"textDocument", {{"uri", "file:///home/me/src/app/main.go"}, {"version", 2}}},
       {"contentChanges",
        {{{"range",
           {{"start", {{"line", 2}, {"character", 13}}},
            {"end", {{"line", 2}, {"character", 13}}}}},
          {"text", " hello() "}}}}}));
  w.fromEditor(rpcNotification("textDocument/didClose",
                               {{"textDocument", {{"uri", "file:///home/me/src/app/b.go"}}}}));
  w.goplsReads();
  size_t editorBefore = w.out.editor.size();

  w.restart();
  w.advance(100ms);  // the first reconnection attempt
  CHECK(w.out.connects == 2);
  auto reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["method"] == "initialize");
  CHECK(reads[0]["id"].is_string());
  CHECK(reads[0]["params"]["rootUri"] == "file:///home/me/src/app");
  w.fromGopls(rpcResult(reads[0]["id"], {{"capabilities", json::object()}}));
  reads = w.goplsReads();
  std::vector<std::string> methods;
  for (const json& m : reads) methods.push_back(m["method"]);
  CHECK(methods == std::vector<std::string>{"initialized", "workspace/didChangeConfiguration",
                                            "textDocument/didOpen"});
  CHECK(reads[1]["params"]["settings"]["x"] == 1);
  CHECK(reads[2]["params"]["textDocument"]["text"] == "package main\n\nfunc main() { hello() }\n");
  CHECK(reads[2]["params"]["textDocument"]["version"] == 2);
  // The duplicate initialize answer never reached the editor.
  for (size_t i = editorBefore; i < w.out.editor.size(); ++i) {
    CHECK_FALSE(w.out.editor[i].contains("result"));
  }
  CHECK(w.session->phase() == KeeperSession::Phase::Live);
  CHECK(w.session->replays() == 1);
}

TEST_CASE("requests that arrive while gopls is away wait for the new one", "[keeper]") {
  KeeperWorld w;
  w.start();
  w.out.goplsListening = false;
  w.restart();
  w.fromEditor(request(20, "textDocument/hover", json::object()));
  w.advance(300ms);
  CHECK(w.editorAnswer(20) == nullptr);
  w.out.goplsListening = true;
  w.advance(1s);
  w.answerInitialize();
  // The replayed initialize was answered; the held hover followed it.
  auto reads = w.goplsReads();
  REQUIRE_FALSE(reads.empty());
  CHECK(reads.back()["id"] == 20);
  w.fromGopls(rpcResult(20, {{"contents", "ok"}}));
  REQUIRE(w.editorAnswer(20) != nullptr);
  CHECK((*w.editorAnswer(20))["result"]["contents"] == "ok");
}

TEST_CASE("a request that waits longer than the bound gets ContentModified", "[keeper]") {
  KeeperLimits limits;
  limits.requestWait = 5s;
  KeeperWorld w(limits);
  w.start();
  w.out.goplsListening = false;
  w.restart();
  w.fromEditor(request(21, "textDocument/hover", json::object()));
  w.advance(4s);
  CHECK(w.editorAnswer(21) == nullptr);
  w.advance(2s);
  REQUIRE(w.editorAnswer(21) != nullptr);
  CHECK((*w.editorAnswer(21))["error"]["code"] == kLspContentModified);
  CHECK_FALSE(w.out.closed.has_value());
}

TEST_CASE("a gopls that does not come back within the window lets the editor go", "[keeper]") {
  KeeperLimits limits;
  limits.reconnectWindow = 10s;
  KeeperWorld w(limits);
  w.start();
  w.out.goplsListening = false;
  w.restart();
  for (int step = 0; step < 900; ++step) w.advance(10ms);  // real time passes in small steps
  CHECK_FALSE(w.out.closed.has_value());
  w.advance(2s);
  REQUIRE(w.out.closed.has_value());
  CHECK_THAT(*w.out.closed, Catch::Contains("not listening"));
  // Attempts backed off to one per 250 ms: far fewer than one per 50 ms.
  CHECK(w.out.connects < 60);
  CHECK(w.out.connects > 30);
}

TEST_CASE("notifications while gopls is away are queued; document changes are replayed as text",
          "[keeper]") {
  KeeperWorld w;
  w.start();
  w.open("file:///a.go", "package a\n");
  w.out.goplsListening = false;
  w.restart();
  w.fromEditor(rpcNotification("textDocument/didChange",
                               {{"textDocument", {{"uri", "file:///a.go"}, {"version", 5}}},
                                {"contentChanges", {{{"text", "package b\n"}}}}}));
  w.fromEditor(
      rpcNotification("textDocument/didSave", {{"textDocument", {{"uri", "file:///a.go"}}}}));
  w.goplsReads();
  w.out.goplsListening = true;
  w.advance(1s);
  w.answerInitialize();
  std::vector<std::string> methods;
  for (const json& m : w.goplsReads()) methods.push_back(m["method"]);
  CHECK(methods ==
        std::vector<std::string>{"initialized", "textDocument/didOpen", "textDocument/didSave"});
  CHECK(w.goplsDocuments["file:///a.go"] == "package b\n");
}

TEST_CASE("a restart announced by the guard holds new requests for the new gopls", "[keeper]") {
  KeeperWorld w;
  w.start();
  w.open("file:///a.go", "package a\n");
  w.goplsReads();
  w.session->restartAnnounced("memory critical: 3.1 GiB", w.now);
  w.fromEditor(request(30, "textDocument/hover", json::object()));
  w.fromEditor(rpcNotification("textDocument/didChange",
                               {{"textDocument", {{"uri", "file:///a.go"}, {"version", 2}}},
                                {"contentChanges", {{{"text", "package c\n"}}}}}));
  auto reads = w.goplsReads();
  // The old gopls still sees the edit (the restart may not come), not the request.
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["method"] == "textDocument/didChange");
  w.restart();
  CHECK(w.editorAnswer(30) == nullptr);  // held, not failed
  w.advance(100ms);
  w.answerInitialize();
  bool hoverSent = false;
  for (const json& m : w.goplsReads()) hoverSent |= m.value("id", json()) == 30;
  CHECK(hoverSent);
  // The progress notice was asked for; its text is the progress test's business.
  CHECK(w.editorMessages("window/workDoneProgress/create").size() == 1);
}

TEST_CASE("a restart that never comes releases the held requests to the old gopls", "[keeper]") {
  KeeperLimits limits;
  limits.drainWindow = 3s;
  KeeperWorld w(limits);
  w.start();
  w.goplsReads();
  w.session->restartAnnounced("manual", w.now);
  w.fromEditor(request(31, "textDocument/hover", json::object()));
  CHECK(w.goplsReads().empty());
  w.advance(3s);
  auto reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["id"] == 31);
}

TEST_CASE("the editor sees a progress notice with the reason while gopls is away", "[keeper]") {
  KeeperWorld w;
  w.start();
  w.session->restartAnnounced("workspace over its critical line", w.now);
  w.out.goplsListening = false;
  w.restart();
  auto creates = w.editorMessages("window/workDoneProgress/create");
  REQUIRE(creates.size() == 1);
  w.fromEditor(rpcResult(creates[0]["id"], nullptr));
  auto progress = w.editorMessages("$/progress");
  REQUIRE(progress.size() == 1);
  CHECK(progress[0]["params"]["token"] == creates[0]["params"]["token"]);
  CHECK(progress[0]["params"]["value"]["kind"] == "begin");
  CHECK(progress[0]["params"]["value"]["title"] == "gopls restarting");
  CHECK(progress[0]["params"]["value"]["message"] == "workspace over its critical line");
  w.out.goplsListening = true;
  w.advance(1s);
  w.answerInitialize();
  progress = w.editorMessages("$/progress");
  REQUIRE(progress.size() == 2);
  CHECK(progress[1]["params"]["value"]["kind"] == "end");
  // The create's answer never went to gopls.
  for (const json& m : w.goplsReads()) CHECK(m.value("id", json()) != creates[0]["id"]);
}

TEST_CASE("an editor without progress support gets a log message instead", "[keeper]") {
  KeeperWorld w;
  w.start(/*progress=*/false);
  w.restart("connection reset");
  CHECK(w.editorMessages("window/workDoneProgress/create").empty());
  auto logs = w.editorMessages("window/logMessage");
  REQUIRE(logs.size() == 1);
  CHECK_THAT(logs[0]["params"]["message"].get<std::string>(),
             Catch::Contains("gopls restarting: gopls exited (connection reset)"));
}

TEST_CASE("a registration the editor already holds is not registered twice", "[keeper]") {
  KeeperWorld w;
  w.start();
  json watch = {{"id", "workspace/didChangeWatchedFiles-0"},
                {"method", "workspace/didChangeWatchedFiles"},
                {"registerOptions", {{"watchers", {{{"globPattern", "**/*.go"}}}}}}};
  w.fromGopls(request(1, "client/registerCapability", {{"registrations", {watch}}}));
  auto asked = w.editorMessages("client/registerCapability");
  REQUIRE(asked.size() == 1);
  w.fromEditor(rpcResult(asked[0]["id"], nullptr));
  w.goplsReads();

  w.restart();
  w.advance(100ms);
  w.answerInitialize();
  w.goplsReads();
  // The new gopls registers the same thing under the same id: answered by the keeper.
  w.fromGopls(request(1, "client/registerCapability", {{"registrations", {watch}}}));
  CHECK(w.editorMessages("client/registerCapability").size() == 1);
  auto reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["id"] == 1);
  CHECK(reads[0].contains("result"));

  // The same id with other options: the old one is unregistered first.
  json changed = watch;
  changed["registerOptions"]["watchers"][0]["globPattern"] = "**/*.{go,mod}";
  w.fromGopls(request(2, "client/registerCapability", {{"registrations", {changed}}}));
  auto unregisters = w.editorMessages("client/unregisterCapability");
  REQUIRE(unregisters.size() == 1);
  CHECK(unregisters[0]["params"]["unregisterations"][0]["id"] == watch["id"]);
  auto registers = w.editorMessages("client/registerCapability");
  REQUIRE(registers.size() == 2);
  CHECK(registers[1]["params"]["registrations"][0] == changed);
}

TEST_CASE(
    "a new gopls' configuration requests are answered from the record until the settings "
    "change",
    "[keeper]") {
  KeeperWorld w;
  w.start();
  json items = {{"items", {{{"section", "gopls"}}}}};
  w.fromGopls(request(5, "workspace/configuration", items));
  auto asked = w.editorMessages("workspace/configuration");
  REQUIRE(asked.size() == 1);
  w.fromEditor(rpcResult(asked[0]["id"], {{{"staticcheck", true}}}));
  w.goplsReads();

  w.restart();
  w.advance(100ms);
  w.answerInitialize();
  w.goplsReads();
  w.fromGopls(request(1, "workspace/configuration", items));
  CHECK(w.editorMessages("workspace/configuration").size() == 1);
  auto reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["result"][0]["staticcheck"] == true);

  w.fromEditor(rpcNotification("workspace/didChangeConfiguration", {{"settings", nullptr}}));
  w.fromGopls(request(2, "workspace/configuration", items));
  CHECK(w.editorMessages("workspace/configuration").size() == 2);
}

TEST_CASE("an answer meant for a gopls that has gone never reaches the new one", "[keeper]") {
  KeeperWorld w;
  w.start();
  w.fromGopls(request(9, "window/workDoneProgress/create", {{"token", "t"}}));
  auto asked = w.editorMessages("window/workDoneProgress/create");
  REQUIRE(asked.size() == 1);
  w.restart();
  w.advance(100ms);
  w.answerInitialize();
  w.goplsReads();
  w.fromEditor(rpcResult(asked[0]["id"], nullptr));
  CHECK(w.goplsReads().empty());
}

TEST_CASE("a cancelled request that is still queued is answered RequestCancelled", "[keeper]") {
  KeeperWorld w;
  w.start();
  w.out.goplsListening = false;
  w.restart();
  w.fromEditor(request(40, "textDocument/completion", json::object()));
  w.fromEditor(rpcNotification("$/cancelRequest", {{"id", 40}}));
  REQUIRE(w.editorAnswer(40) != nullptr);
  CHECK((*w.editorAnswer(40))["error"]["code"] == kLspRequestCancelled);
  w.out.goplsListening = true;
  w.advance(1s);
  w.answerInitialize();
  for (const json& m : w.goplsReads()) CHECK(m.value("id", json()) != 40);
}

TEST_CASE("a full queue answers new requests at once rather than growing", "[keeper]") {
  KeeperLimits limits;
  limits.maxQueuedMessages = 2;
  KeeperWorld w(limits);
  w.start();
  w.out.goplsListening = false;
  w.restart();
  for (int id = 50; id < 53; ++id) w.fromEditor(request(id, "textDocument/hover", json::object()));
  CHECK(w.editorAnswer(50) == nullptr);
  CHECK(w.editorAnswer(51) == nullptr);
  REQUIRE(w.editorAnswer(52) != nullptr);
  CHECK((*w.editorAnswer(52))["error"]["code"] == kLspContentModified);
}

TEST_CASE("garbage from the editor closes that editor alone; garbage from gopls reconnects",
          "[keeper]") {
  KeeperWorld w;
  w.start();
  w.session->fromGopls("{not json", w.now);
  CHECK(w.out.disconnects == 1);
  CHECK_FALSE(w.out.closed.has_value());
  CHECK(w.session->phase() == KeeperSession::Phase::Connecting);
  w.session->fromEditor("[1, 2]", w.now);
  REQUIRE(w.out.closed.has_value());
  CHECK_THAT(*w.out.closed, Catch::Contains("not LSP"));
}

TEST_CASE("deeply nested JSON from the editor is refused before it is parsed", "[keeper]") {
  KeeperWorld w;
  w.session->fromEditor(std::string(100000, '[') + std::string(100000, ']'), w.now);
  REQUIRE(w.out.closed.has_value());
}

TEST_CASE("shutdown while gopls is away is answered by the keeper, and exit closes", "[keeper]") {
  KeeperWorld w;
  w.start();
  w.out.goplsListening = false;
  w.restart();
  w.fromEditor(request(60, "shutdown", nullptr));
  REQUIRE(w.editorAnswer(60) != nullptr);
  CHECK((*w.editorAnswer(60))["result"].is_null());
  w.fromEditor(rpcNotification("exit", nullptr));
  CHECK(w.out.closed.has_value());
}

TEST_CASE("a gopls lost during the first initialize gets the editor's initialize again",
          "[keeper]") {
  KeeperWorld w;
  w.fromEditor(request(2, "initialize", {{"rootUri", "file:///w"}}));
  w.session->attached("/w", "/s", w.now);
  CHECK(w.goplsReads().size() == 1);
  w.session->goplsLost("EOF", w.now);
  CHECK(w.editorAnswer(2) == nullptr);
  w.advance(100ms);
  auto reads = w.goplsReads();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0]["id"] == 2);
  CHECK(reads[0]["method"] == "initialize");
}

TEST_CASE("a gopls that never listens fails the editor's initialize with where to look",
          "[keeper]") {
  KeeperLimits limits;
  limits.reconnectWindow = 5s;
  KeeperWorld w(limits);
  w.out.goplsListening = false;
  w.fromEditor(request(2, "initialize", {{"rootUri", "file:///w"}}));
  w.session->attached("/w", "/run/x.sock", w.now);
  w.advance(6s);
  REQUIRE(w.editorAnswer(2) != nullptr);
  CHECK_THAT((*w.editorAnswer(2))["error"]["message"].get<std::string>(),
             Catch::Contains("journalctl --user"));
  CHECK(w.out.closed.has_value());
}

}  // namespace wslgo
