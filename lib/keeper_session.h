// KeeperSession: one editor's LSP connection through the session keeper — relayed to its
// workspace's gopls, and kept open across that gopls' restarts. Pure: messages, connection
// events and the clock come in, what to send and to do goes out through KeeperOutput.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lib/jsonrpc_message.h"
#include "lib/lsp_session_record.h"
#include "lib/usec.h"

namespace wslgo {

struct KeeperLimits {
  // A request that arrives while gopls is away waits this long for the new one, then gets
  // ContentModified.
  Usec requestWait = std::chrono::seconds(30);
  // gopls must be listening again within this window of going away (or, at first, of the
  // guard naming its socket), else the editor's connection is closed: it then starts afresh.
  Usec reconnectWindow = std::chrono::seconds(120);
  // Connection attempts while gopls is away: the first after firstRetry, then 1.5 times
  // longer each, up to maxRetry. A refused unix connect costs microseconds, and every
  // millisecond between gopls listening and the keeper noticing is the editor's wait.
  Usec firstRetry = std::chrono::milliseconds(50);
  Usec maxRetry = std::chrono::milliseconds(250);
  // After the guard announces a restart, new requests are held for the new gopls; if gopls
  // does not go away within this window (the restart failed), they go to the old one after all.
  Usec drainWindow = std::chrono::seconds(15);
  size_t maxQueuedMessages = 4096;
  size_t maxQueuedBytes = 64u << 20;
  size_t maxDocumentBytes = 256u << 20;
};

// What a session asks of the connection that owns it. Calls happen from inside the session's
// own entry points; only connectGopls() may call back into the session before it returns, and
// closeEditor() must not destroy the session before the entry point returns.
class KeeperOutput {
 public:
  virtual ~KeeperOutput() = default;
  virtual void toEditor(std::string body) = 0;
  virtual void toGopls(std::string body) = 0;
  // Ask the guard which workspace holds `folder`: answered by attached() or attachFailed().
  virtual void attach(const std::string& folder) = 0;
  // Connect to the socket attached() named: answered by goplsConnected() or
  // goplsUnavailable(), which may come from inside this call (a unix socket connects or fails
  // at once). Never called while connected.
  virtual void connectGopls() = 0;
  // Drop the connection to gopls (it sent garbage, or refused the replayed initialize); no
  // goplsLost() follows.
  virtual void disconnectGopls() = 0;
  // The session is over; close the editor's connection (and gopls').
  virtual void closeEditor(const std::string& why) = 0;
  // Something a person may want in the journal: a document that could not be kept, a
  // replay that differed. Not for every message.
  virtual void note(const std::string& what) = 0;
};

class KeeperSession {
 public:
  enum class Phase {
    AwaitingInitialize,  // the editor has not sent initialize yet
    Attaching,           // asking the guard for the workspace
    Connecting,          // no connection to gopls: first start, or gopls went away
    Initializing,        // initialize sent to gopls (the editor's, or the replayed one)
    Live,                // relaying
    Closed,
  };

  KeeperSession(KeeperOutput& output, KeeperLimits limits, std::string sessionId);

  // Entry points. `now` is the caller's monotonic clock.
  void fromEditor(std::string_view body, Usec now);
  void fromGopls(std::string_view body, Usec now);
  void attached(const std::string& root, const std::string& socket, Usec now);
  void attachFailed(const std::string& why, Usec now);
  void goplsConnected(Usec now);
  void goplsUnavailable(const std::string& why, Usec now);
  void goplsLost(const std::string& why, Usec now);
  // The guard is about to restart this workspace's gopls (its Restarting signal).
  void restartAnnounced(const std::string& reason, Usec now);
  // Runs whatever is due; call at nextDeadline().
  void tick(Usec now);

  std::optional<Usec> nextDeadline() const;
  Phase phase() const { return phase_; }
  const std::string& root() const { return root_; }
  const std::string& socket() const { return socket_; }
  const LspSessionRecord& record() const { return record_; }
  // How many times gopls was rebuilt under this editor.
  uint64_t replays() const { return replays_; }

 private:
  struct Queued {
    nlohmann::json message;
    bool request = false;
    std::string idKey;
    Usec deadline{0};
  };
  // A request from gopls to the editor (or the keeper's own), under the id the editor saw.
  struct ToEditor {
    uint64_t generation = 0;
    nlohmann::json goplsId;  // null for the keeper's own requests
    std::string method;
    nlohmann::json params;
    bool own = false;
  };

  void editorRequest(RpcMessage message, Usec now);
  void editorNotification(RpcMessage message, std::string_view body, Usec now);
  void editorResponse(const RpcMessage& message);
  void goplsRequest(RpcMessage message);
  void goplsResponse(const RpcMessage& message, std::string_view body);

  void startInitialize(RpcMessage message);
  void recordDocumentChange(const RpcMessage& message);
  void forwardRequest(const nlohmann::json& message, const std::string& idKey,
                      const std::string& method);
  void enqueue(nlohmann::json message, bool request, Usec now);
  void flushQueue(Usec now);
  void expireQueue(Usec now);
  void cancelQueued(const nlohmann::json& params);
  bool relaying() const { return phase_ == Phase::Live && connected_; }

  void firstInitializeAnswered(const RpcMessage& message, std::string_view body, Usec now);
  void replayAnswered(const RpcMessage& message, Usec now);
  void scheduleConnect(Usec now);
  void lose(const std::string& reason, Usec now);
  void goLive(Usec now);

  void requestToEditor(std::string_view method, nlohmann::json params, ToEditor pending);
  void filterRegistrations(RpcMessage& message);
  void rememberRegistrations(const nlohmann::json& params);
  void forgetRegistrations(const nlohmann::json& params);

  void beginProgress(Usec now);
  void progressCreated(const nlohmann::json& token);
  void reportProgress(const std::string& message);
  void endProgress();

  void sendEditor(const nlohmann::json& message);
  void sendGopls(const nlohmann::json& message);
  void close(const std::string& why);

  KeeperOutput& out_;
  KeeperLimits limits_;
  std::string sessionId_;
  LspSessionRecord record_;
  Phase phase_ = Phase::AwaitingInitialize;
  std::string root_;
  std::string socket_;

  bool connected_ = false;
  bool everInitialized_ = false;  // the editor has its initialize answer
  bool shutdownRequested_ = false;
  nlohmann::json initializeId_;  // the editor's initialize request
  nlohmann::json initializeRequest_;
  uint64_t generation_ = 0;  // bumped at every connection to a gopls
  uint64_t replays_ = 0;

  // Requests of the editor that the current gopls has and has not answered: id key -> method.
  std::map<std::string, std::string> inFlight_;
  std::deque<Queued> queue_;
  size_t queuedBytes_ = 0;

  // gopls' (and the keeper's own) requests to the editor, by the id the editor saw.
  std::map<uint64_t, ToEditor> toEditor_;
  uint64_t nextEditorId_ = 1;
  // Registrations the editor holds: id -> {method, registerOptions}.
  std::map<std::string, nlohmann::json> registrations_;

  // Reconnection.
  std::optional<Usec> connectAt_;
  Usec retryDelay_{0};
  Usec awaySince_{0};
  std::string awayReason_;

  // The guard's announcement of a restart.
  std::optional<Usec> drainUntil_;
  std::string announcedReason_;

  // The "gopls restarting" progress notice.
  uint64_t progressSerial_ = 0;
  std::optional<nlohmann::json> progressToken_;  // created at the editor, begin sent
  bool progressWanted_ = false;                  // gopls is away; a notice is due
};

std::string_view keeperPhaseName(KeeperSession::Phase phase);

}  // namespace wslgo
