// Keeper: the session keeper's listening socket and its editors — accepts each editor, hands it
// an EditorConnection, passes the guard's restart announcements on, and reports the editors
// per workspace to the guard.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/event_loop.h"
#include "daemon/unique_fd.h"
#include "keeper/editor_connection.h"
#include "keeper/guard_link.h"

namespace wslgo {

class Keeper final : private ConnectionOwner {
 public:
  // Editor counts reach the guard at most this often: an editor that reconnects in a loop
  // must not turn into a bus storm.
  static constexpr Usec kReportDelay = std::chrono::milliseconds(200);

  Keeper(EventLoop& loop, KeeperLimits limits) : loop_(loop), limits_(limits) {}
  ~Keeper() override;
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;

  // The guard link comes after the keeper: its hooks call into the keeper.
  void setGuard(GuardLink* guard) { guard_ = guard; }
  // Accepts editors on `listening` (a socket systemd passed, or one bound by hand).
  Result<void> listen(UniqueFd listening);

  void restartAnnounced(const std::string& object, const std::string& reason);
  // The guard (re)appeared on the bus: it knows nothing of the editors yet.
  void guardAppeared() { connectionChanged(); }
  // Closes every editor: the keeper is stopping.
  void closeAll(const std::string& why);
  size_t connections() const { return connections_.size(); }

 private:
  void accept();
  void connectionChanged() override;
  void connectionClosed(uint64_t serial) override;
  void report();

  EventLoop& loop_;
  KeeperLimits limits_;
  GuardLink* guard_ = nullptr;
  UniqueFd listening_;
  IoWatch listenWatch_;
  uint64_t nextSerial_ = 1;
  std::map<uint64_t, std::shared_ptr<EditorConnection>> connections_;
  std::vector<uint64_t> closed_;
  Timer reapTimer_;
  Timer reportTimer_;
};

}  // namespace wslgo
