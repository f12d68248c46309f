// Child processes for tests that need a process other than themselves: one that sleeps until
// killed, and a pid that names no process any more.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace wslgo::test {

// A child that sleeps until killed; reaped by the caller with killAndReap. It inherits the
// caller's descriptors at the fork: fork it before opening what it must not hold.
inline pid_t sleepingChild() {
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  REQUIRE(child > 0);
  return child;
}

inline void killAndReap(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

// A pid that certainly names no process: a child that has exited and been reaped.
inline pid_t reapedChildPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return child;
}

}  // namespace wslgo::test
