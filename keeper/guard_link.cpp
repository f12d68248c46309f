#include "keeper/guard_link.h"

#include "daemon/logging.h"

namespace wslgo {
namespace {

constexpr const char* kGuardName = "org.wslgo.Guard1";
constexpr const char* kManagerPath = "/org/wslgo/Guard1";
constexpr const char* kManagerInterface = "org.wslgo.Guard1.Manager";
constexpr const char* kWorkspaceInterface = "org.wslgo.Guard1.Workspace";

std::shared_ptr<spdlog::logger> log() { return componentLogger("bus"); }

}  // namespace

// Plain IProxy calls rather than the generated proxy: its methods block until the reply, and
// the keeper's loop relays editors' keystrokes; a guard that is restarting must not stall them.
Result<std::unique_ptr<GuardLink>> GuardLink::connect(EventLoop& loop, RestartingHook onRestarting,
                                                      AppearedHook onGuardAppeared) {
  std::unique_ptr<GuardLink> link(new GuardLink());
  try {
    link->connection_ = sdbus::createSessionBusConnection();
    link->manager_ = sdbus::createProxy(*link->connection_, kGuardName, kManagerPath);
    link->restartingMatch_ = link->connection_->addMatch(
        std::string("type='signal',sender='") + kGuardName + "',interface='" + kWorkspaceInterface +
            "',member='Restarting'",
        [hook = std::move(onRestarting)](sdbus::Message& message) {
          std::string reason;
          try {
            message >> reason;
          } catch (const sdbus::Error& e) {
            log()->warn("a Restarting signal without its reason: {}", e.what());
            return;
          }
          if (hook) hook(message.getPath(), reason);
        });
    link->ownerMatch_ = link->connection_->addMatch(
        std::string("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                    "member='NameOwnerChanged',arg0='") +
            kGuardName + "'",
        [hook = std::move(onGuardAppeared)](sdbus::Message& message) {
          std::string name, oldOwner, newOwner;
          try {
            message >> name >> oldOwner >> newOwner;
          } catch (const sdbus::Error&) {
            return;
          }
          if (!newOwner.empty() && hook) hook();
        });
  } catch (const sdbus::Error& e) {
    return errnoError(EIO, "D-Bus", std::string("cannot reach the user bus: ") + e.what());
  }
  auto attachment = BusAttachment::attach(loop, *link->connection_, [](const std::string& why) {
    log()->error("{}; the keeper goes on relaying, but cannot attach new editors", why);
  });
  if (!attachment) return attachment.error();
  link->attachment_ = std::move(*attachment);
  return link;
}

GuardLink::~GuardLink() {
  // Slots and the proxy go before the attachment and the connection they live on.
  restartingMatch_.reset();
  ownerMatch_.reset();
  manager_.reset();
  attachment_.reset();
}

void GuardLink::attach(const std::string& folder, AttachDone done) {
  try {
    manager_->callMethodAsync("AttachEditor")
        .onInterface(kManagerInterface)
        .withTimeout(kAttachTimeout)
        .withArguments(folder)
        .uponReplyInvoke([done](const sdbus::Error* error, sdbus::ObjectPath object,
                                std::string root, std::string socket) {
          if (error != nullptr) {
            // The guard's messages are written for people; a bus failure is not.
            std::string why = error->getName().rfind("org.wslgo.", 0) == 0
                                  ? error->getMessage()
                                  : "wslgo-guard did not answer (" + error->getName() + ": " +
                                        error->getMessage() +
                                        "); systemctl --user status wslgo-guard says why";
            return done(errnoError(EIO, "", why));
          }
          done(Attachment{
              .object = std::move(object), .root = std::move(root), .socket = std::move(socket)});
        });
  } catch (const sdbus::Error& e) {
    done(errnoError(EIO, "", std::string("cannot ask wslgo-guard: ") + e.what()));
  }
}

void GuardLink::reportEditors(const std::map<std::string, uint32_t>& editors) {
  try {
    manager_->callMethod("ReportEditors")
        .onInterface(kManagerInterface)
        .withArguments(editors)
        .dontExpectReply();
  } catch (const sdbus::Error& e) {
    log()->warn("cannot tell wslgo-guard the editors: {}", e.what());
  }
}

}  // namespace wslgo
