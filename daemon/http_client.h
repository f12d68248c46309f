// HttpClient: GET requests to gopls' loopback debug server, driven by an sd-event loop.
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// libcurl's process-wide state. main() holds one for the daemon's lifetime, before any
// HttpClient exists and before any thread is started (curl_global_init is not thread-safe on
// every build); tests hold one per process the same way.
class CurlGlobal {
 public:
  static Result<std::unique_ptr<CurlGlobal>> init();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;

 private:
  CurlGlobal() = default;
};

struct HttpRequestOptions {
  // The whole transfer, connect included; enforced by curl. Must be positive.
  Usec timeout{std::chrono::seconds(10)};
  // Stream the body into this file (created 0600, truncated) instead of HttpResponse::body.
  // On any failure the file is removed, so no partial body is ever left behind.
  std::optional<std::string> saveToFile;
  // A body beyond this aborts the transfer with EFBIG; a debug page that large is not one.
  size_t maxBodyBytes = size_t{64} << 20;
  // gopls' /gc answers with a redirect to /memory; everything else is answered in place.
  bool followRedirects = false;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // empty when saved to a file
  std::string contentType;
  Usec elapsed{0};  // as curl measured it: name lookup to last byte
  uint64_t bodyBytes = 0;
};

using HttpCallback = std::function<void(Result<HttpResponse>)>;

// One curl multi handle on the caller's sd_event: curl's sockets become I/O sources and its
// timer one CLOCK_MONOTONIC time source (the pattern of systemd's src/import/curl-util.c).
// Everything, callbacks included, runs on the loop's thread. No proxy is ever used and only
// http:// URLs are accepted, because the only server is gopls' debug server on loopback.
class HttpClient {
 public:
  // Fails only when curl cannot allocate its multi handle or the loop refuses a source.
  static Result<std::unique_ptr<HttpClient>> create(sd_event* event);

  // Cancels the transfers in flight: their callbacks are never called.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a GET; `done` is called exactly once from the loop, never from inside get(). It gets
  // the response for a 2xx status, else an Error whose path is the URL: ETIMEDOUT naming the
  // timeout, ECONNREFUSED (or the connect errno) when nothing listens, EPROTO naming a non-2xx
  // status, EFBIG for a body over the limit. A callback that throws is caught and ignored; it
  // may start new requests or destroy the client.
  void get(std::string url, HttpRequestOptions options, HttpCallback done);

  size_t inFlight() const { return transfers_.size(); }

 private:
  struct Transfer;
  struct Failure {
    HttpCallback done;
    Error error;
  };

  explicit HttpClient(sd_event* event);

  static size_t onBody(char* data, size_t size, size_t count, void* transfer);
  static int onCurlSocket(CURL* easy, curl_socket_t fd, int what, void* client, void* socketp);
  static int onCurlTimer(CURLM* multi, long timeoutMs, void* client);
  static int onIo(sd_event_source* source, int fd, uint32_t revents, void* client);
  static int onTimer(sd_event_source* source, uint64_t usec, void* client);
  static int onFailures(sd_event_source* source, void* client);

  int watchSocket(curl_socket_t fd, int what);
  int armTimer(long timeoutMs);
  void failLater(HttpCallback done, Error error);
  // Hands every finished transfer to its callback. Returns false when a callback destroyed
  // the client, which must then not be touched.
  bool deliverFinished();
  Result<HttpResponse> finish(Transfer& transfer, CURLcode code);

  sd_event* event_ = nullptr;
  CURLM* multi_ = nullptr;
  sd_event_source* timer_ = nullptr;
  sd_event_source* failureSource_ = nullptr;
  std::unordered_map<curl_socket_t, sd_event_source*> sockets_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::deque<Failure> failures_;
  // Expires with the client, so a callback that destroys it stops the delivery loop.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace wslgo
