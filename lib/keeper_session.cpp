#include "lib/keeper_session.h"

#include <algorithm>

#include "lib/file_uri.h"

namespace wslgo {
namespace {

using nlohmann::json;

// The keeper's own requests to gopls carry string ids in a namespace no editor uses: the
// gopls -remote forwarder numbers its requests.
constexpr std::string_view kOwnIdPrefix = "wslgo-lsp:";

const json* field(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto found = object.find(name);
  return found == object.end() ? nullptr : &*found;
}

// The folder an initialize opens: rootUri, else the first workspace folder, else rootPath.
std::optional<std::string> initializeFolder(const json& params) {
  if (const json* uri = field(params, "rootUri"); uri != nullptr && uri->is_string()) {
    if (auto path = fileUriToPath(uri->get<std::string>())) return *path;
  }
  if (const json* folders = field(params, "workspaceFolders");
      folders != nullptr && folders->is_array()) {
    for (const json& folder : *folders) {
      const json* uri = field(folder, "uri");
      if (uri == nullptr || !uri->is_string()) continue;
      if (auto path = fileUriToPath(uri->get<std::string>())) return *path;
    }
  }
  if (const json* path = field(params, "rootPath"); path != nullptr && path->is_string()) {
    std::string value = path->get<std::string>();
    if (!value.empty() && value.front() == '/') return value;
  }
  return std::nullopt;
}

// The position encoding an initialize answer settled on: capabilities.positionEncoding, or
// UTF-16 when the server names none (LSP before 3.17).
PositionEncoding negotiatedEncoding(const json& answer) {
  const json* result = field(answer, "result");
  const json* capabilities = result != nullptr ? field(*result, "capabilities") : nullptr;
  const json* encoding =
      capabilities != nullptr ? field(*capabilities, "positionEncoding") : nullptr;
  if (encoding == nullptr || !encoding->is_string()) return kDefaultPositionEncoding;
  return parsePositionEncoding(encoding->get<std::string>()).value_or(kDefaultPositionEncoding);
}

size_t messageBytes(const json& message) {
  // The text is what gets queued on the wire; its size is what a bound must count.
  return rpcText(message).size();
}

bool isDocumentSync(std::string_view method) {
  return method == "textDocument/didOpen" || method == "textDocument/didChange" ||
         method == "textDocument/didClose";
}

}  // namespace

std::string_view keeperPhaseName(KeeperSession::Phase phase) {
  switch (phase) {
    case KeeperSession::Phase::AwaitingInitialize:
      return "awaiting-initialize";
    case KeeperSession::Phase::Attaching:
      return "attaching";
    case KeeperSession::Phase::Connecting:
      return "connecting";
    case KeeperSession::Phase::Initializing:
      return "initializing";
    case KeeperSession::Phase::Live:
      return "live";
    case KeeperSession::Phase::Closed:
      return "closed";
  }
  return "unknown";
}

KeeperSession::KeeperSession(KeeperOutput& output, KeeperLimits limits, std::string sessionId)
    : out_(output),
      limits_(limits),
      sessionId_(std::move(sessionId)),
      record_(limits.maxDocumentBytes) {}

// ---- From the editor ----

void KeeperSession::fromEditor(std::string_view body, Usec now) {
  if (phase_ == Phase::Closed) return;
  auto message = parseRpcMessage(body);
  if (!message) {
    // The stream cannot be trusted after this; only this editor is let go.
    return close("the editor sent something that is not LSP: " + message.error().message);
  }
  switch (message->kind) {
    case RpcKind::Request:
      return editorRequest(std::move(*message), now);
    case RpcKind::Notification:
      return editorNotification(std::move(*message), body, now);
    case RpcKind::Response:
      return editorResponse(*message);
  }
}

void KeeperSession::editorRequest(RpcMessage message, Usec now) {
  const json& id = message.id();
  if (message.method == "gopls/handshake") {
    // gopls -remote's forwarder introduces itself before anything else, and checks that the
    // daemon runs the same gopls binary: echo its path so it has nothing to complain about.
    json path =
        message.params().is_object() ? message.params().value("goplsPath", json("")) : json("");
    return sendEditor(rpcResult(
        id, {{"sessionID", sessionId_}, {"logfile", ""}, {"debugAddr", ""}, {"goplsPath", path}}));
  }
  if (message.method == "initialize") {
    if (phase_ != Phase::AwaitingInitialize) {
      return sendEditor(rpcError(id, kLspInvalidRequest, "initialize was already sent"));
    }
    return startInitialize(std::move(message));
  }
  if (phase_ == Phase::AwaitingInitialize || phase_ == Phase::Attaching) {
    return sendEditor(rpcError(id, kLspServerNotInitialized,
                               "the server is not initialized yet: send initialize first"));
  }
  std::string key = rpcIdKey(id);
  if (message.method == "shutdown") {
    shutdownRequested_ = true;
    if (!relaying()) return sendEditor(rpcResult(id, nullptr));
  }
  if (relaying() && !drainUntil_) return forwardRequest(message.body, key, message.method);
  enqueue(std::move(message.body), /*request=*/true, now);
}

void KeeperSession::editorNotification(RpcMessage message, std::string_view body, Usec now) {
  const std::string& method = message.method;
  if (method == "exit") {
    if (connected_) out_.toGopls(std::string(body));
    return close("the editor exited");
  }
  if (phase_ == Phase::AwaitingInitialize) return;  // LSP: dropped before initialize
  // What a replay rebuilds is recorded and not queued: the new gopls gets the state as it is
  // then, not the history of how it came about.
  bool rebuiltByReplay = true;
  if (method == "initialized") {
    record_.noteInitialized();
  } else if (isDocumentSync(method)) {
    recordDocumentChange(message);
  } else if (method == "workspace/didChangeConfiguration") {
    record_.setSettings(message.params());
  } else if (method == "workspace/didChangeWorkspaceFolders") {
    if (auto changed = record_.changeFolders(message.params()); !changed) {
      out_.note(changed.error().describe());
    }
  } else if (method == "$/setTrace") {
    if (message.params().is_object() && message.params().value("value", json()).is_string()) {
      record_.setTrace(message.params()["value"].get<std::string>());
    }
  } else if (method == "$/cancelRequest") {
    rebuiltByReplay = false;
    cancelQueued(message.params());
    if (!relaying()) return;
  } else {
    rebuiltByReplay = false;
  }
  // A restart announced but not yet happened still has a gopls that must see every change.
  if (relaying()) return out_.toGopls(std::string(body));
  if (!rebuiltByReplay) enqueue(std::move(message.body), /*request=*/false, now);
}

void KeeperSession::recordDocumentChange(const RpcMessage& message) {
  Result<void> recorded;
  if (message.method == "textDocument/didOpen") {
    recorded = record_.openDocument(message.params());
  } else if (message.method == "textDocument/didChange") {
    recorded = record_.changeDocument(message.params());
  } else {
    record_.closeDocument(message.params());
  }
  if (!recorded) out_.note(recorded.error().describe());
}

void KeeperSession::editorResponse(const RpcMessage& message) {
  const json& id = message.id();
  if (!id.is_number_unsigned()) return;  // not an id the keeper handed out
  auto found = toEditor_.find(id.get<uint64_t>());
  if (found == toEditor_.end()) return;
  ToEditor pending = std::move(found->second);
  toEditor_.erase(found);
  bool ok = message.body.contains("result") && !message.body.contains("error");
  if (pending.own) {
    if (pending.method == "window/workDoneProgress/create" && ok) progressCreated(pending.params);
    return;
  }
  if (ok && pending.method == "workspace/configuration") {
    record_.rememberConfiguration(pending.params, message.body["result"]);
  } else if (ok && pending.method == "client/registerCapability") {
    rememberRegistrations(pending.params);
  }
  // An answer to a gopls that has gone since would reach a process that never asked.
  if (pending.generation != generation_ || !connected_) return;
  json answer = message.body;
  answer["id"] = pending.goplsId;
  sendGopls(answer);
}

void KeeperSession::startInitialize(RpcMessage message) {
  initializeId_ = message.id();
  record_.setInitializeParams(message.params());
  auto folder = initializeFolder(message.params());
  if (!folder) {
    json error = rpcError(initializeId_, kLspRequestFailed,
                          "wslgo-lsp serves each editor the gopls of the Go workspace it opens, "
                          "and this editor opened no folder (no rootUri or workspaceFolders). "
                          "Open the module's folder, or run gopls without -remote for single "
                          "files.");
    error["error"]["data"] = {{"retry", false}};
    sendEditor(error);
    return close("the editor opened no folder");
  }
  initializeRequest_ = std::move(message.body);
  phase_ = Phase::Attaching;
  out_.attach(*folder);
}

// ---- From the guard and the connection ----

void KeeperSession::attached(const std::string& root, const std::string& socket, Usec now) {
  if (phase_ != Phase::Attaching) return;
  root_ = root;
  socket_ = socket;
  phase_ = Phase::Connecting;
  awaySince_ = now;
  retryDelay_ = limits_.firstRetry;
  connectAt_ = now;
  tick(now);
}

void KeeperSession::attachFailed(const std::string& why, Usec /*now*/) {
  if (phase_ != Phase::Attaching) return;
  json error = rpcError(initializeId_, kLspRequestFailed, why);
  error["error"]["data"] = {{"retry", false}};
  sendEditor(error);
  close("the guard gave no workspace: " + why);
}

void KeeperSession::goplsConnected(Usec now) {
  if (phase_ != Phase::Connecting) return out_.disconnectGopls();
  connected_ = true;
  connectAt_.reset();
  ++generation_;
  phase_ = Phase::Initializing;
  if (!everInitialized_) {
    // The editor's own initialize, with its own id: gopls' answer goes back as it is.
    sendGopls(initializeRequest_);
  } else {
    ++replays_;
    sendGopls(rpcRequest(std::string(kOwnIdPrefix) + "initialize:" + std::to_string(generation_),
                         "initialize", record_.replayInitializeParams()));
  }
  (void)now;
}

void KeeperSession::goplsUnavailable(const std::string& why, Usec now) {
  if (phase_ != Phase::Connecting) return;
  if (now - awaySince_ >= limits_.reconnectWindow) {
    std::string message = "gopls for " + root_ + " is not listening on " + socket_ + " after " +
                          std::to_string(limits_.reconnectWindow.count() / 1000000) + " s (" + why +
                          "); journalctl --user -u 'wslgo-gopls@*' says why";
    if (!everInitialized_) {
      sendEditor(rpcError(initializeId_, kLspRequestFailed, message));
    }
    return close(message);
  }
  awayReason_ = awayReason_.empty() ? why : awayReason_;
  scheduleConnect(now);
}

void KeeperSession::scheduleConnect(Usec now) {
  connectAt_ = now + retryDelay_;
  retryDelay_ = std::min(limits_.maxRetry, retryDelay_ * 3 / 2);
}

void KeeperSession::goplsLost(const std::string& why, Usec now) {
  if (!connected_ || phase_ == Phase::Closed) return;
  connected_ = false;
  if (shutdownRequested_) return close("gopls closed the connection after shutdown");
  std::string reason = drainUntil_ ? announcedReason_ : "gopls exited (" + why + ")";
  lose(reason, now);
}

// gopls went away, or was dropped: answer what it will never answer, and wait for a new one.
void KeeperSession::lose(const std::string& reason, Usec now) {
  connected_ = false;
  drainUntil_.reset();
  bool wasLive = phase_ == Phase::Live || everInitialized_;
  std::string answer = "gopls went away before answering (" + reason +
                       "); wslgo-lsp is reconnecting the session to a new gopls";
  for (const auto& [key, method] : inFlight_) {
    sendEditor(rpcError(json::parse(key), kLspContentModified, answer));
  }
  inFlight_.clear();
  phase_ = Phase::Connecting;
  awaySince_ = now;
  awayReason_ = reason;
  retryDelay_ = limits_.firstRetry;
  scheduleConnect(now);
  if (wasLive) beginProgress(now);
}

void KeeperSession::restartAnnounced(const std::string& reason, Usec now) {
  announcedReason_ = reason;
  if (relaying()) {
    drainUntil_ = now + limits_.drainWindow;
  } else if (phase_ == Phase::Connecting || phase_ == Phase::Initializing) {
    // The signal came after the connection dropped: the notice learns the real reason.
    awayReason_ = reason;
    reportProgress("gopls restarting: " + reason);
  }
}

// ---- From gopls ----

void KeeperSession::fromGopls(std::string_view body, Usec now) {
  if (phase_ == Phase::Closed || !connected_) return;
  auto message = parseRpcMessage(body);
  if (!message) {
    out_.note("gopls sent something that is not LSP (" + message.error().message +
              "); reconnecting");
    out_.disconnectGopls();
    return lose("gopls sent a malformed message", now);
  }
  switch (message->kind) {
    case RpcKind::Request:
      return goplsRequest(std::move(*message));
    case RpcKind::Notification:
      if (message->method == "$/cancelRequest") {
        // Its id is gopls' own; the editor knows the request under the one the keeper gave.
        const json& params = message->params();
        json goplsId = params.is_object() ? params.value("id", json()) : json();
        for (const auto& [editorId, pending] : toEditor_) {
          if (!pending.own && pending.generation == generation_ && pending.goplsId == goplsId) {
            return sendEditor(rpcNotification("$/cancelRequest", {{"id", editorId}}));
          }
        }
        return;
      }
      return out_.toEditor(std::string(body));
    case RpcKind::Response:
      if (phase_ == Phase::Initializing) {
        if (!everInitialized_ && message->id() == initializeId_) {
          return firstInitializeAnswered(*message, body, now);
        }
        if (message->id().is_string() &&
            message->id().get<std::string>().rfind(kOwnIdPrefix, 0) == 0) {
          return replayAnswered(*message, now);
        }
      }
      return goplsResponse(*message, body);
  }
}

void KeeperSession::goplsResponse(const RpcMessage& message, std::string_view body) {
  auto found = inFlight_.find(rpcIdKey(message.id()));
  if (found == inFlight_.end()) return;  // cancelled, or from a gopls before
  inFlight_.erase(found);
  out_.toEditor(std::string(body));
}

void KeeperSession::goplsRequest(RpcMessage message) {
  const json& params = message.params();
  if (message.method == "workspace/configuration") {
    // A replayed gopls asks what the editor already answered: answer from the record, so the
    // editor is not asked again for every restart.
    if (auto answer = record_.configurationAnswer(params)) {
      return sendGopls(rpcResult(message.id(), *answer));
    }
  }
  if (message.method == "client/registerCapability") {
    filterRegistrations(message);
    const json& left = message.body["params"]["registrations"];
    if (left.empty()) return sendGopls(rpcResult(message.id(), nullptr));
  }
  if (message.method == "client/unregisterCapability") forgetRegistrations(message.params());
  ToEditor pending{.generation = generation_,
                   .goplsId = message.id(),
                   .method = message.method,
                   .params = message.params(),
                   .own = false};
  requestToEditor(message.method, message.params(), std::move(pending));
}

void KeeperSession::firstInitializeAnswered(const RpcMessage& message, std::string_view body,
                                            Usec now) {
  record_.setPositionEncoding(negotiatedEncoding(message.body));
  everInitialized_ = true;
  out_.toEditor(std::string(body));
  goLive(now);
}

void KeeperSession::replayAnswered(const RpcMessage& message, Usec now) {
  if (message.body.contains("error")) {
    out_.note("the new gopls refused the replayed initialize: " + rpcText(message.body["error"]));
    out_.disconnectGopls();
    return lose("the new gopls refused the session", now);
  }
  PositionEncoding negotiated = negotiatedEncoding(message.body);
  if (negotiated != record_.positionEncoding()) {
    out_.note("the new gopls chose position encoding " +
              std::string(positionEncodingName(negotiated)) + ", the editor works in " +
              std::string(positionEncodingName(record_.positionEncoding())) +
              "; positions may be off until the editor reconnects");
  }
  for (const json& notification : record_.replayNotifications()) sendGopls(notification);
  goLive(now);
}

void KeeperSession::goLive(Usec now) {
  phase_ = Phase::Live;
  awayReason_.clear();
  endProgress();
  flushQueue(now);
}

// ---- Requests both ways ----

void KeeperSession::forwardRequest(const json& message, const std::string& idKey,
                                   const std::string& method) {
  inFlight_[idKey] = method;
  sendGopls(message);
}

void KeeperSession::enqueue(json message, bool request, Usec now) {
  size_t bytes = messageBytes(message);
  if (queue_.size() >= limits_.maxQueuedMessages || queuedBytes_ + bytes > limits_.maxQueuedBytes) {
    if (request) {
      sendEditor(rpcError(message["id"], kLspContentModified,
                          "gopls is away and wslgo-lsp's queue is full; ask again shortly"));
    } else {
      out_.note("dropped a " + message.value("method", std::string("?")) +
                " notification: gopls is away and the queue is full");
    }
    return;
  }
  Queued queued{.message = std::move(message),
                .request = request,
                .idKey = {},
                .deadline = now + limits_.requestWait};
  if (request) queued.idKey = rpcIdKey(queued.message["id"]);
  queuedBytes_ += bytes;
  queue_.push_back(std::move(queued));
}

void KeeperSession::flushQueue(Usec now) {
  expireQueue(now);
  while (!queue_.empty() && relaying()) {
    Queued queued = std::move(queue_.front());
    queue_.pop_front();
    queuedBytes_ -= messageBytes(queued.message);
    if (queued.request) {
      forwardRequest(queued.message, queued.idKey, queued.message.value("method", std::string()));
    } else {
      sendGopls(queued.message);
    }
  }
}

void KeeperSession::expireQueue(Usec now) {
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (!it->request || it->deadline > now) {
      ++it;
      continue;
    }
    std::string why = awayReason_.empty() ? "" : " (" + awayReason_ + ")";
    sendEditor(rpcError(it->message["id"], kLspContentModified,
                        "gopls did not come back in time" + why + "; ask again shortly"));
    queuedBytes_ -= messageBytes(it->message);
    it = queue_.erase(it);
  }
}

void KeeperSession::cancelQueued(const json& params) {
  if (!params.is_object() || !params.contains("id")) return;
  std::string key = rpcIdKey(params["id"]);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->request && it->idKey == key) {
      sendEditor(rpcError(it->message["id"], kLspRequestCancelled, "cancelled"));
      queuedBytes_ -= messageBytes(it->message);
      queue_.erase(it);
      return;
    }
  }
}

void KeeperSession::requestToEditor(std::string_view method, json params, ToEditor pending) {
  uint64_t id = nextEditorId_++;
  toEditor_[id] = std::move(pending);
  sendEditor(rpcRequest(id, method, std::move(params)));
}

// A restarted gopls registers what the editor already holds from the one before, under the
// same ids: an editor may refuse a duplicate id, so only what is new reaches it, and an id
// whose options changed is unregistered first.
void KeeperSession::filterRegistrations(RpcMessage& message) {
  json& params = message.body["params"];
  if (!params.is_object() || !params.contains("registrations") ||
      !params["registrations"].is_array()) {
    params = {{"registrations", json::array()}};
    return;
  }
  json kept = json::array();
  json stale = json::array();
  for (const json& registration : params["registrations"]) {
    if (!registration.is_object() || !registration.value("id", json()).is_string()) continue;
    auto held = registrations_.find(registration["id"].get<std::string>());
    if (held == registrations_.end()) {
      kept.push_back(registration);
    } else if (held->second != registration) {
      stale.push_back({{"id", held->first}, {"method", registration.value("method", "")}});
      registrations_.erase(held);
      kept.push_back(registration);
    }
  }
  if (!stale.empty()) {
    requestToEditor("client/unregisterCapability", {{"unregisterations", stale}},
                    ToEditor{.generation = generation_,
                             .goplsId = nullptr,
                             .method = "client/unregisterCapability",
                             .params = nullptr,
                             .own = true});
  }
  params["registrations"] = std::move(kept);
  message.body["params"] = params;
}

void KeeperSession::rememberRegistrations(const json& params) {
  if (!params.is_object() || !params.contains("registrations")) return;
  for (const json& registration : params["registrations"]) {
    if (registration.is_object() && registration.value("id", json()).is_string()) {
      registrations_[registration["id"].get<std::string>()] = registration;
    }
  }
}

void KeeperSession::forgetRegistrations(const json& params) {
  // LSP spells the field "unregisterations" (a typo kept for compatibility).
  if (!params.is_object() || !params.contains("unregisterations")) return;
  for (const json& gone : params["unregisterations"]) {
    if (gone.is_object() && gone.value("id", json()).is_string()) {
      registrations_.erase(gone["id"].get<std::string>());
    }
  }
}

// ---- The "gopls restarting" notice ----

void KeeperSession::beginProgress(Usec /*now*/) {
  progressWanted_ = true;
  std::string message = "gopls restarting: " + awayReason_;
  if (!record_.editorHasWorkDoneProgress()) {
    return sendEditor(rpcNotification("window/logMessage", {{"type", 3}, {"message", message}}));
  }
  if (progressToken_) return reportProgress(message);
  json token = "wslgo-lsp/restart/" + std::to_string(++progressSerial_);
  requestToEditor("window/workDoneProgress/create", {{"token", token}},
                  ToEditor{.generation = generation_,
                           .goplsId = nullptr,
                           .method = "window/workDoneProgress/create",
                           .params = token,
                           .own = true});
}

void KeeperSession::progressCreated(const json& token) {
  // Created after gopls came back: nothing to show any more.
  if (!progressWanted_ || progressToken_) return;
  progressToken_ = token;
  sendEditor(rpcNotification("$/progress", {{"token", token},
                                            {"value",
                                             {{"kind", "begin"},
                                              {"title", "gopls restarting"},
                                              {"message", awayReason_},
                                              {"cancellable", false}}}}));
}

void KeeperSession::reportProgress(const std::string& message) {
  if (!progressToken_) return;
  sendEditor(rpcNotification(
      "$/progress",
      {{"token", *progressToken_}, {"value", {{"kind", "report"}, {"message", message}}}}));
}

void KeeperSession::endProgress() {
  progressWanted_ = false;
  if (!progressToken_) return;
  sendEditor(rpcNotification(
      "$/progress",
      {{"token", *progressToken_},
       {"value", {{"kind", "end"}, {"message", "gopls is back; the session was restored"}}}}));
  progressToken_.reset();
}

// ---- Time ----

void KeeperSession::tick(Usec now) {
  if (phase_ == Phase::Closed) return;
  if (drainUntil_ && now >= *drainUntil_) {
    drainUntil_.reset();
    out_.note("gopls did not restart within the drain window; the held requests go to it");
    flushQueue(now);
  }
  expireQueue(now);
  if (phase_ == Phase::Connecting && connectAt_ && now >= *connectAt_) {
    connectAt_.reset();
    out_.connectGopls();
  }
}

std::optional<Usec> KeeperSession::nextDeadline() const {
  std::optional<Usec> next;
  auto consider = [&](std::optional<Usec> at) {
    if (at && (!next || *at < *next)) next = at;
  };
  if (phase_ == Phase::Closed) return next;
  consider(drainUntil_);
  if (phase_ == Phase::Connecting) consider(connectAt_);
  for (const Queued& queued : queue_) {
    if (queued.request) consider(queued.deadline);
  }
  return next;
}

// ---- Output ----

void KeeperSession::sendEditor(const json& message) { out_.toEditor(rpcText(message)); }

void KeeperSession::sendGopls(const json& message) { out_.toGopls(rpcText(message)); }

void KeeperSession::close(const std::string& why) {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  connected_ = false;
  out_.closeEditor(why);
}

}  // namespace wslgo
