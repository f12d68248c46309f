#include "keeper/editor_connection.h"

#include "daemon/logging.h"
#include "daemon/unix_socket.h"

namespace wslgo {
namespace {

std::shared_ptr<spdlog::logger> log() { return componentLogger("keeper"); }

}  // namespace

Result<std::shared_ptr<EditorConnection>> EditorConnection::open(EventLoop& loop, GuardLink& guard,
                                                                 ConnectionOwner& owner,
                                                                 UniqueFd editor, uint64_t serial,
                                                                 KeeperLimits limits) {
  std::shared_ptr<EditorConnection> connection(
      new EditorConnection(loop, guard, owner, serial, limits));
  std::weak_ptr<EditorConnection> weak = connection;
  auto stream = LspStream::open(
      loop, std::move(editor), LspStream::Limits{},
      [weak](std::string_view body) {
        if (auto self = weak.lock()) {
          self->drive([&] { self->session_.fromEditor(body, self->loop_.now()); });
        }
      },
      [weak](const std::string& why) {
        if (auto self = weak.lock())
          self->closeEditor("the editor closed its connection (" + why + ")");
      });
  if (!stream) return stream.error();
  connection->editor_ = std::move(*stream);
  return connection;
}

EditorConnection::EditorConnection(EventLoop& loop, GuardLink& guard, ConnectionOwner& owner,
                                   uint64_t serial, KeeperLimits limits)
    : loop_(loop),
      guard_(guard),
      owner_(owner),
      serial_(serial),
      session_(*this, limits, "wslgo-lsp-" + std::to_string(serial)) {}

EditorConnection::~EditorConnection() = default;

template <class Step>
void EditorConnection::drive(Step&& step) {
  if (closed_) return;
  auto keep = shared_from_this();
  runGuarded(loop_, "keeper session", std::forward<Step>(step));
  rearm();
}

void EditorConnection::rearm() {
  if (closed_) return;
  auto next = session_.nextDeadline();
  if (!next) {
    deadline_.reset();
    return;
  }
  Usec delay = *next > loop_.now() ? *next - loop_.now() : Usec(0);
  std::weak_ptr<EditorConnection> weak = weak_from_this();
  auto timer = loop_.addOneShotTimer(delay, [weak](Usec now) {
    if (auto self = weak.lock()) self->drive([&] { self->session_.tick(now); });
  });
  if (!timer) {
    log()->error("cannot arm the session's timer: {}", timer.error().describe());
    return;
  }
  deadline_ = std::move(*timer);
}

std::string EditorConnection::attachedRoot() const {
  return closed_ || object_.empty() ? std::string() : session_.root();
}

void EditorConnection::restartAnnounced(const std::string& object, const std::string& reason) {
  if (object != object_) return;
  drive([&] { session_.restartAnnounced(reason, loop_.now()); });
}

void EditorConnection::shutdown(const std::string& why) { closeEditor(why); }

void EditorConnection::toEditor(std::string body) {
  if (editor_) editor_->send(body);
}

void EditorConnection::toGopls(std::string body) {
  if (gopls_) gopls_->send(body);
}

void EditorConnection::attach(const std::string& folder) {
  log()->info("editor {}: opened {}", serial_, folder);
  std::weak_ptr<EditorConnection> weak = weak_from_this();
  guard_.attach(folder, [weak, folder](Result<Attachment> attachment) {
    auto self = weak.lock();
    if (!self) return;
    if (!attachment) {
      log()->warn("editor {}: no workspace for {}: {}", self->serial_, folder,
                  attachment.error().message);
      return self->drive(
          [&] { self->session_.attachFailed(attachment.error().message, self->loop_.now()); });
    }
    self->object_ = attachment->object;
    logEvent(*log(), spdlog::level::info, "editor attached",
             {{"WORKSPACE", attachment->root}, {"SOCKET", attachment->socket}});
    self->drive(
        [&] { self->session_.attached(attachment->root, attachment->socket, self->loop_.now()); });
    self->owner_.connectionChanged();
  });
}

void EditorConnection::connectGopls() {
  retireGopls();
  Usec now = loop_.now();
  auto fd = connectUnixSocket(session_.socket());
  if (!fd) return session_.goplsUnavailable(fd.error().describe(), now);
  std::weak_ptr<EditorConnection> weak = weak_from_this();
  auto stream = LspStream::open(
      loop_, std::move(*fd), LspStream::Limits{},
      [weak](std::string_view body) {
        if (auto self = weak.lock()) {
          self->drive([&] { self->session_.fromGopls(body, self->loop_.now()); });
        }
      },
      [weak](const std::string& why) {
        auto self = weak.lock();
        if (!self) return;
        self->retireGopls();
        logEvent(*log(), spdlog::level::info, "gopls went away; keeping the editor",
                 {{"WORKSPACE", self->session_.root()}, {"REASON", why}});
        self->drive([&] { self->session_.goplsLost(why, self->loop_.now()); });
      });
  if (!stream) return session_.goplsUnavailable(stream.error().describe(), now);
  gopls_ = std::move(*stream);
  session_.goplsConnected(now);
}

void EditorConnection::disconnectGopls() { retireGopls(); }

void EditorConnection::retireGopls() {
  if (!gopls_) return;
  gopls_->close();
  retired_.push_back(std::move(gopls_));
  if (retiredTimer_.pending()) return;
  std::weak_ptr<EditorConnection> weak = weak_from_this();
  auto timer = loop_.addOneShotTimer(Usec(0), [weak](Usec) {
    if (auto self = weak.lock()) self->retired_.clear();
  });
  if (timer) retiredTimer_ = std::move(*timer);
}

void EditorConnection::closeEditor(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  logEvent(*log(), spdlog::level::info, "editor connection closed",
           {{"WORKSPACE", session_.root()}, {"REASON", why}});
  if (editor_) editor_->close();
  if (gopls_) gopls_->close();
  deadline_.reset();
  owner_.connectionClosed(serial_);
  owner_.connectionChanged();
}

void EditorConnection::note(const std::string& what) {
  logEvent(*log(), spdlog::level::warn, what, {{"WORKSPACE", session_.root()}});
}

}  // namespace wslgo
