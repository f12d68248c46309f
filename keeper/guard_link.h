// GuardLink: the keeper's side of the user bus — asking wslgo-guard for an editor's workspace,
// telling it how many editors each workspace has, and hearing of the restarts it is about to do.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

#include "daemon/bus_attachment.h"
#include "daemon/event_loop.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

struct Attachment {
  std::string object;  // the workspace's object path: its Restarting signals come from there
  std::string root;
  std::string socket;  // the workspace's gopls
};

class GuardLink {
 public:
  using AttachDone = std::function<void(Result<Attachment>)>;
  using RestartingHook = std::function<void(const std::string& object, const std::string& reason)>;
  using AppearedHook = std::function<void()>;

  // AddWorkspace behind AttachEditor starts a unit; a first start of the guard by bus
  // activation comes before that.
  static constexpr Usec kAttachTimeout = std::chrono::seconds(90);

  // On the session bus of $DBUS_SESSION_BUS_ADDRESS, driven by `loop`.
  static Result<std::unique_ptr<GuardLink>> connect(EventLoop& loop, RestartingHook onRestarting,
                                                    AppearedHook onGuardAppeared);
  ~GuardLink();
  GuardLink(const GuardLink&) = delete;
  GuardLink& operator=(const GuardLink&) = delete;

  // AttachEditor(folder), without blocking the loop: `done` runs on the loop with the answer
  // or the guard's refusal (its message is for the person at the editor).
  void attach(const std::string& folder, AttachDone done);
  // ReportEditors: the whole picture, root -> editors; no answer awaited.
  void reportEditors(const std::map<std::string, uint32_t>& editors);

 private:
  GuardLink() = default;

  std::unique_ptr<sdbus::IConnection> connection_;
  std::unique_ptr<sdbus::IProxy> manager_;
  std::unique_ptr<BusAttachment> attachment_;
  sdbus::Slot restartingMatch_;
  sdbus::Slot ownerMatch_;
};

}  // namespace wslgo
