// EventLoop plus an HttpClient on it, as the daemon's main() sets them up, with helpers that
// dispatch until an answer arrives: for the tests of the debug channel.
#pragma once

#include <systemd/sd-event.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "daemon/event_loop.h"
#include "daemon/http_client.h"

namespace wslgo::test {

struct HttpLoop {
  HttpLoop() {
    auto created = EventLoop::create();
    REQUIRE(created.ok());
    eventLoop = std::move(*created);
    event = eventLoop->raw();
    auto client = HttpClient::create(event);
    REQUIRE(client.ok());
    http = std::move(*client);
  }
  ~HttpLoop() { http.reset(); }

  // Dispatches events until `done` holds or `timeout` passes; false on the timeout.
  bool runUntil(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      REQUIRE(sd_event_run(event, static_cast<uint64_t>(left.count())) >= 0);
    }
    return true;
  }

  template <class T>
  T await(std::optional<T>& slot, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    REQUIRE(runUntil([&] { return slot.has_value(); }, timeout));
    return std::move(*slot);
  }

  std::unique_ptr<EventLoop> eventLoop;
  sd_event* event = nullptr;
  std::unique_ptr<HttpClient> http;
};

}  // namespace wslgo::test
