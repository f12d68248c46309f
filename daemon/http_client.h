// HttpClient: GET requests to gopls' loopback debug server, driven by an sd-event loop.
#pragma once

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

// What the caller keeps of a response body; memory is bounded by what it keeps, never by what
// the server sends.
enum class HttpBodyUse {
  Keep,      // all of it in HttpResponse::body (up to maxBodyBytes)
  KeepTail,  // only its last tailBytes: a page whose figures sit at its end
  None,      // nothing: the request is answered once the status line and headers are in
};

struct HttpRequestOptions {
  // The whole transfer, connect included. Must be positive.
  Usec timeout{std::chrono::seconds(10)};
  HttpBodyUse bodyUse = HttpBodyUse::Keep;
  size_t tailBytes = size_t{64} << 10;
  // Stream the body into this file (created 0600, truncated) instead of HttpResponse::body.
  // On any failure the file is removed, so no partial body is ever left behind.
  std::optional<std::string> saveToFile;
  // A body beyond this aborts the transfer with EFBIG, whatever is kept of it.
  size_t maxBodyBytes = size_t{64} << 20;
  // A 3xx status is the answer, not an error (gopls' /gc collects, then redirects to /memory).
  // Redirects are never followed.
  bool redirectAnswers = false;
  // Runs just before connecting; an error fails the request with it and no connection is made
  // (the guard checks there that the port is still gopls').
  std::function<Result<void>()> beforeConnect;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // empty when saved to a file
  std::string contentType;
  Usec elapsed{0};  // from get() to the last byte
  uint64_t bodyBytes = 0;
};

using HttpCallback = std::function<void(Result<HttpResponse>)>;

// HTTP/1.1 GETs on the caller's sd_event: one non-blocking socket ("Connection: close") and one
// CLOCK_MONOTONIC timer per request, the response decoded by HttpResponseParser. Everything,
// callbacks included, runs on the loop's thread. Only http:// URLs with a numeric loopback IPv4
// host and a port are accepted ("http://127.0.0.1:6060/memory"): the only server is gopls' debug
// server on loopback, so there is no DNS, no proxy and no TLS, and a URL naming anything else is
// refused with EINVAL.
class HttpClient {
 public:
  // Fails only when the loop refuses a source.
  static Result<std::unique_ptr<HttpClient>> create(sd_event* event);

  // Cancels the transfers in flight: their callbacks are never called.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a GET; `done` is called exactly once from the loop, never from inside get(). It gets
  // the response for a 2xx status, else an Error whose path is the URL: ETIMEDOUT naming the
  // timeout, ECONNREFUSED (or the connect errno) when nothing listens, EPROTO naming a non-2xx
  // status (a 3xx too, unless redirectAnswers), beforeConnect's error, EFBIG for a body over the
  // limit, EBADMSG for an answer that is not HTTP, EINVAL for a URL this client does not serve. A
  // callback that throws is caught and ignored; it may start new requests or destroy the client.
  void get(std::string url, HttpRequestOptions options, HttpCallback done);

  // Calls `done` with `error` from the loop, the way get() reports a request it refused: for
  // callers that refuse a request before it reaches get().
  void failLater(HttpCallback done, Error error);

  size_t inFlight() const { return transfers_.size(); }

 private:
  struct Transfer;
  struct Failure {
    HttpCallback done;
    Error error;
  };

  explicit HttpClient(sd_event* event);

  static int onIo(sd_event_source* source, int fd, uint32_t revents, void* transfer);
  static int onTimeout(sd_event_source* source, uint64_t usec, void* transfer);
  static int onFailures(sd_event_source* source, void* client);

  // Connects `transfer` to its current target; an error leaves it without a socket.
  Result<void> connect(Transfer& transfer);
  // Moves the transfer on after its socket became ready: connected, request written, response
  // read. Returns the outcome once there is one.
  std::optional<Result<HttpResponse>> advance(Transfer& transfer, uint32_t revents);
  std::optional<Result<HttpResponse>> readResponse(Transfer& transfer);
  std::optional<Result<HttpResponse>> onHead(Transfer& transfer);
  std::optional<Result<HttpResponse>> consumeBody(Transfer& transfer);
  Result<HttpResponse> succeed(Transfer& transfer);
  // Ends the transfer and hands `result` to its callback.
  void complete(Transfer& transfer, Result<HttpResponse> result);

  sd_event* event_ = nullptr;
  sd_event_source* failureSource_ = nullptr;
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> transfers_;
  std::deque<Failure> failures_;
  // Expires with the client, so a callback that destroys it stops the delivery loop.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace wslgo
