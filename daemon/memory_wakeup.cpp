#include "daemon/memory_wakeup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "lib/config_values.h"
#include "lib/policy_format.h"

namespace wslgo {

namespace {

// Opens a kernel interface file. Anything else is refused: writing a trigger into a regular file
// (a fixture tree passed as the roots, say) would overwrite it.
Result<UniqueFd> openKernelFile(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.valid()) return errnoError(errno, path, "cannot open");
  struct statfs fs {};
  if (::fstatfs(fd.get(), &fs) != 0) return errnoError(errno, path, "cannot stat the file system");
  if (fs.f_type != PROC_SUPER_MAGIC && fs.f_type != CGROUP_SUPER_MAGIC &&
      fs.f_type != CGROUP2_SUPER_MAGIC) {
    return errnoError(ENOTSUP, path,
                      "is not on procfs or a cgroup file system; no kernel "
                      "notification to arm");
  }
  return fd;
}

Result<void> writeAll(int fd, std::string_view text, const std::string& path) {
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return errnoError(errno, path, "the kernel refused \"" + std::string(text) + "\"");
  }
  return {};
}

}  // namespace

Result<MemoryWakeup> MemoryWakeup::pressure(EventLoop& loop, const std::string& path,
                                            std::string_view kind, Usec stall, Usec window,
                                            Callback callback) {
  if (kind != "some" && kind != "full") {
    return errnoError(EINVAL, path,
                      "a PSI trigger is \"some\" or \"full\", not " + std::string(kind));
  }
  // Round the window up to the step every caller may use; the stall keeps its share of it.
  const auto step = kPressureWindowStep.count();
  const auto windowUsec = std::max<Usec::rep>(step, (window.count() + step - 1) / step * step);
  const auto stallUsec = std::clamp<Usec::rep>(
      stall.count() * windowUsec / std::max<Usec::rep>(window.count(), 1), 1, windowUsec);

  auto fd = openKernelFile(path, O_RDWR | O_NONBLOCK);
  if (!fd) return fd.error();
  std::string trigger =
      std::string(kind) + " " + std::to_string(stallUsec) + " " + std::to_string(windowUsec);
  // The kernel parses the trigger as a C string; the terminating NUL is part of the write.
  if (auto written =
          writeAll(fd->get(), std::string_view(trigger.c_str(), trigger.size() + 1), path);
      !written) {
    return written.error();
  }
  auto state = std::make_unique<State>(State{Kind::Pressure,
                                             std::move(*fd),
                                             "PSI " + std::string(kind) + " " +
                                                 formatDuration(Usec(stallUsec)) + "/" +
                                                 formatDuration(Usec(windowUsec)) + " on " + path,
                                             std::move(callback),
                                             {}});
  return watch(loop, std::move(state), EPOLLPRI);
}

Result<MemoryWakeup> MemoryWakeup::usageThreshold(EventLoop& loop, const std::string& memoryV1Dir,
                                                  uint64_t bytes, Callback callback) {
  UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) return errnoError(errno, "eventfd", "cannot create an eventfd");
  const std::string usagePath = memoryV1Dir + "/memory.usage_in_bytes";
  auto usage = openKernelFile(usagePath, O_RDONLY);
  if (!usage) return usage.error();
  const std::string controlPath = memoryV1Dir + "/cgroup.event_control";
  auto control = openKernelFile(controlPath, O_WRONLY);
  if (!control) return control.error();
  // The registration holds its own references: both fds may close once it is written.
  std::string registration = std::to_string(event.get()) + " " + std::to_string(usage->get()) +
                             " " + std::to_string(bytes);
  if (auto written = writeAll(control->get(), registration, controlPath); !written) {
    return written.error();
  }
  auto state = std::make_unique<State>(State{Kind::UsageThreshold,
                                             std::move(event),
                                             "memory.usage_in_bytes crossing " +
                                                 describeBytes(static_cast<double>(bytes)) +
                                                 " in " + memoryV1Dir,
                                             std::move(callback),
                                             {}});
  return watch(loop, std::move(state), EPOLLIN);
}

Result<MemoryWakeup> MemoryWakeup::memoryEvents(EventLoop& loop, const std::string& unifiedDir,
                                                Callback callback) {
  const std::string path = unifiedDir + "/memory.events";
  auto fd = openKernelFile(path, O_RDONLY | O_NONBLOCK);
  if (!fd) return fd.error();
  // kernfs reports a change as POLLPRI until the file is read again; read once to start clean.
  char buffer[512];
  if (::pread(fd->get(), buffer, sizeof buffer, 0) < 0) {
    return errnoError(errno, path, "cannot read");
  }
  auto state = std::make_unique<State>(State{Kind::MemoryEvents,
                                             std::move(*fd),
                                             "memory.events of " + unifiedDir,
                                             std::move(callback),
                                             {}});
  return watch(loop, std::move(state), EPOLLPRI);
}

Result<MemoryWakeup> MemoryWakeup::watch(EventLoop& loop, std::unique_ptr<State> state,
                                         uint32_t events) {
  State* raw = state.get();
  auto watched =
      loop.addIo(raw->fd.get(), events, [raw](uint32_t revents) { onEvent(*raw, revents); });
  if (!watched) return watched.error();
  raw->watch = std::move(*watched);
  MemoryWakeup wakeup;
  wakeup.state_ = std::move(state);
  return wakeup;
}

void MemoryWakeup::onEvent(State& state, uint32_t revents) {
  bool gone = false;
  switch (state.kind) {
    case Kind::Pressure:
      // The trigger reports EPOLLERR once its cgroup is removed; it will never fire again.
      gone = (revents & (EPOLLERR | EPOLLHUP)) != 0;
      break;
    case Kind::UsageThreshold: {
      uint64_t count = 0;
      // Reading resets the eventfd; the kernel also signals it when the cgroup goes away,
      // which the next tick notices as a changed unit.
      if (::read(state.fd.get(), &count, sizeof count) < 0 && errno != EAGAIN) gone = true;
      break;
    }
    case Kind::MemoryEvents: {
      // kernfs sets EPOLLERR|EPOLLPRI on every change; re-reading re-arms it, and fails once
      // the cgroup is gone.
      char buffer[512];
      if (::pread(state.fd.get(), buffer, sizeof buffer, 0) < 0) gone = true;
      break;
    }
  }
  if (gone) (void)state.watch.disable();
  if (state.callback) state.callback(state.description);
}

}  // namespace wslgo
