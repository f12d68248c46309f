// EditorConnection: one editor's socket, its KeeperSession, and the session's connection to the
// workspace's gopls, on the EventLoop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/event_loop.h"
#include "daemon/unique_fd.h"
#include "keeper/guard_link.h"
#include "keeper/lsp_stream.h"
#include "lib/keeper_session.h"

namespace wslgo {

// What a connection tells the keeper that owns it.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The workspace it relays to changed (attached, or closed): the editor counts changed.
  virtual void connectionChanged() = 0;
  // It is over; destroy it from the loop, not from inside this call.
  virtual void connectionClosed(uint64_t serial) = 0;
};

class EditorConnection final : public std::enable_shared_from_this<EditorConnection>,
                               private KeeperOutput {
 public:
  static Result<std::shared_ptr<EditorConnection>> open(EventLoop& loop, GuardLink& guard,
                                                        ConnectionOwner& owner, UniqueFd editor,
                                                        uint64_t serial, KeeperLimits limits);
  ~EditorConnection() override;
  EditorConnection(const EditorConnection&) = delete;
  EditorConnection& operator=(const EditorConnection&) = delete;

  // The guard's Restarting signal for the workspace object `object`.
  void restartAnnounced(const std::string& object, const std::string& reason);
  // Ends the session (the keeper is stopping): the editor sees its connection close.
  void shutdown(const std::string& why);

  uint64_t serial() const { return serial_; }
  // The workspace root once attached and until closed; "" otherwise.
  std::string attachedRoot() const;

 private:
  EditorConnection(EventLoop& loop, GuardLink& guard, ConnectionOwner& owner, uint64_t serial,
                   KeeperLimits limits);

  // Every entry into the session goes through here: the session's next deadline is re-armed
  // after it, whatever it did.
  template <class Step>
  void drive(Step&& step);
  void rearm();

  // KeeperOutput
  void toEditor(std::string body) override;
  void toGopls(std::string body) override;
  void attach(const std::string& folder) override;
  void connectGopls() override;
  void disconnectGopls() override;
  void closeEditor(const std::string& why) override;
  void note(const std::string& what) override;

  void retireGopls();

  EventLoop& loop_;
  GuardLink& guard_;
  ConnectionOwner& owner_;
  uint64_t serial_;
  KeeperSession session_;
  std::unique_ptr<LspStream> editor_;
  std::unique_ptr<LspStream> gopls_;
  // Streams closed from inside their own callbacks live until the loop's next turn.
  std::vector<std::unique_ptr<LspStream>> retired_;
  Timer retiredTimer_;
  Timer deadline_;
  std::string object_;
  bool closed_ = false;
};

}  // namespace wslgo
