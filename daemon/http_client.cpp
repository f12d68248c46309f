#include "daemon/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

#include "lib/http_response.h"

namespace wslgo {

namespace {

constexpr size_t kReadBytes = size_t{64} << 10;
// Per wakeup, so one large body does not keep the loop from its other sources.
constexpr size_t kReadPerWakeup = size_t{1} << 20;

// Where a request goes: the address to connect to and what the request line and Host: say.
struct Target {
  sockaddr_in address{};
  std::string authority;  // "127.0.0.1:6060"
  std::string path;       // "/memory", with any query; never empty
};

Error unsupportedUrl(std::string_view url, std::string_view problem) {
  return errnoError(EINVAL, std::string(url),
                    "is not a URL of gopls' debug server: " + std::string(problem) +
                        " (only http://127.x.y.z:PORT/... is fetched: no DNS, proxy or TLS)");
}

Result<std::string> checkPath(std::string_view url, std::string_view path) {
  if (const size_t hash = path.find('#'); hash != std::string_view::npos)
    path = path.substr(0, hash);
  std::string out =
      path.empty() || path.front() == '?' ? "/" + std::string(path) : std::string(path);
  for (char c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u == 127) return unsupportedUrl(url, "the path holds a space or control byte");
  }
  return out;
}

// "http://127.0.0.1:PORT/path?query": a numeric loopback IPv4 host and an explicit port.
Result<Target> parseTarget(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return unsupportedUrl(url, "not http://");
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return unsupportedUrl(url, "no port");
  const std::string host(authority.substr(0, colon));
  std::string_view portText = authority.substr(colon + 1);
  in_addr ip{};
  if (::inet_pton(AF_INET, host.c_str(), &ip) != 1) {
    return unsupportedUrl(url, "the host is not a numeric IPv4 address");
  }
  if ((ntohl(ip.s_addr) >> 24) != 127) return unsupportedUrl(url, "the host is not on loopback");
  unsigned port = 0;
  for (char c : portText) {
    if (c < '0' || c > '9' || port > 65535) return unsupportedUrl(url, "the port is not a number");
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (portText.empty() || port == 0 || port > 65535) {
    return unsupportedUrl(url, "the port is not in 1-65535");
  }
  Result<std::string> path =
      checkPath(url, slash == std::string_view::npos ? std::string_view() : rest.substr(slash));
  if (!path) return path.error();
  Target target;
  target.address.sin_family = AF_INET;
  target.address.sin_addr = ip;
  target.address.sin_port = htons(static_cast<uint16_t>(port));
  target.authority = std::string(authority);
  target.path = std::move(*path);
  return target;
}

std::string milliseconds(Usec usec) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(usec).count()) +
         " ms";
}

// The deadline must count from the call, not from the loop's cached time of its last wakeup,
// which may be long past when get() is called outside a dispatch.
uint64_t monotonicUsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

Error connectError(int code, const std::string& url) {
  return errnoError(code, url, "cannot connect to the gopls debug server; is it running?");
}

bool isRedirect(int status) { return status >= 300 && status <= 399; }

Error statusError(int status, const std::string& url) {
  return errnoError(EPROTO, url,
                    "HTTP status " + std::to_string(status) + " where 2xx was expected");
}

}  // namespace

struct HttpClient::Transfer {
  HttpClient* client = nullptr;
  std::string url;  // as given: every error names it
  HttpRequestOptions options;
  HttpCallback done;
  Target target;
  uint64_t startedUsec = 0;
  sd_event_source* timer = nullptr;

  int socket = -1;
  sd_event_source* io = nullptr;
  bool connecting = false;
  std::string request;
  size_t written = 0;
  HttpResponseParser parser;
  std::string pendingBody;  // decoded, not yet written to the file or kept

  HttpResponse response;
  int file = -1;  // the saveToFile target while it is written

  void disconnect() {
    io = sd_event_source_disable_unref(io);
    if (socket >= 0) ::close(std::exchange(socket, -1));
  }

  ~Transfer() {
    disconnect();
    sd_event_source_disable_unref(timer);
    if (file >= 0) {
      ::close(file);
      // Still open here means the transfer never completed: drop the partial file.
      ::unlink(options.saveToFile->c_str());
    }
  }
};

HttpClient::HttpClient(sd_event* event) : event_(sd_event_ref(event)) {}

Result<std::unique_ptr<HttpClient>> HttpClient::create(sd_event* event) {
  std::unique_ptr<HttpClient> client(new HttpClient(event));
  int r = sd_event_add_defer(event, &client->failureSource_, &HttpClient::onFailures, client.get());
  if (r >= 0) r = sd_event_source_set_enabled(client->failureSource_, SD_EVENT_OFF);
  if (r < 0) return errnoError(-r, {}, "cannot add the HTTP client's source to the event loop");
  (void)sd_event_source_set_description(client->failureSource_, "http-failures");
  return client;
}

HttpClient::~HttpClient() {
  alive_.reset();
  transfers_.clear();
  sd_event_source_disable_unref(failureSource_);
  sd_event_unref(event_);
}

void HttpClient::get(std::string url, HttpRequestOptions options, HttpCallback done) {
  if (options.timeout <= Usec::zero()) {
    failLater(std::move(done), errnoError(EINVAL, url, "the request timeout must be positive"));
    return;
  }
  Result<Target> target = parseTarget(url);
  if (!target) {
    failLater(std::move(done), target.error());
    return;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->client = this;
  transfer->url = std::move(url);
  transfer->options = std::move(options);
  transfer->done = std::move(done);
  transfer->target = std::move(*target);
  transfer->startedUsec = monotonicUsec();

  const uint64_t deadline =
      transfer->startedUsec + static_cast<uint64_t>(transfer->options.timeout.count());
  int r = sd_event_add_time(event_, &transfer->timer, CLOCK_MONOTONIC, deadline, 1000,
                            &HttpClient::onTimeout, transfer.get());
  if (r < 0) {
    failLater(std::move(transfer->done),
              errnoError(-r, transfer->url, "cannot add the request's timer to the event loop"));
    return;
  }
  (void)sd_event_source_set_description(transfer->timer, "http-timeout");

  if (transfer->options.saveToFile) {
    const std::string& path = *transfer->options.saveToFile;
    transfer->file =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (transfer->file < 0) {
      failLater(std::move(transfer->done),
                errnoError(errno, path, "cannot create the file for " + transfer->url));
      return;
    }
  }

  Result<void> connected =
      transfer->options.beforeConnect ? transfer->options.beforeConnect() : Result<void>();
  if (connected) connected = connect(*transfer);
  if (!connected) {
    failLater(std::move(transfer->done), connected.error());
    return;
  }
  Transfer* key = transfer.get();
  transfers_.emplace(key, std::move(transfer));
}

Result<void> HttpClient::connect(Transfer& transfer) {
  transfer.parser =
      HttpResponseParser(HttpResponseLimits{.maxBodyBytes = transfer.options.maxBodyBytes});
  transfer.request = "GET " + transfer.target.path +
                     " HTTP/1.1\r\nHost: " + transfer.target.authority +
                     "\r\nUser-Agent: wslgo-guard\r\nConnection: close\r\n"
                     "Accept-Encoding: identity\r\n\r\n";

  transfer.socket = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (transfer.socket < 0) return errnoError(errno, transfer.url, "cannot create a socket");
  const sockaddr_in& address = transfer.target.address;
  if (::connect(transfer.socket, reinterpret_cast<const sockaddr*>(&address), sizeof address) ==
      0) {
    transfer.connecting = false;
  } else if (errno == EINPROGRESS) {
    transfer.connecting = true;
  } else {
    const int error = errno;
    transfer.disconnect();
    return connectError(error, transfer.url);
  }
  int r = sd_event_add_io(event_, &transfer.io, transfer.socket, EPOLLOUT, &HttpClient::onIo,
                          &transfer);
  if (r < 0) {
    transfer.disconnect();
    return errnoError(-r, transfer.url, "cannot add the request's socket to the event loop");
  }
  (void)sd_event_source_set_description(transfer.io, "http-socket");
  return {};
}

void HttpClient::failLater(HttpCallback done, Error error) {
  failures_.push_back(Failure{std::move(done), std::move(error)});
  (void)sd_event_source_set_enabled(failureSource_, SD_EVENT_ONESHOT);
}

int HttpClient::onFailures(sd_event_source*, void* userdata) {
  auto* client = static_cast<HttpClient*>(userdata);
  std::weak_ptr<char> alive = client->alive_;
  std::deque<Failure> failures;
  failures.swap(client->failures_);
  for (Failure& failure : failures) {
    try {
      failure.done(std::move(failure.error));
    } catch (...) {  // NOLINT(bugprone-empty-catch)
      // A caller's bug must not take the loop down; the request is over either way.
    }
    if (alive.expired()) return 0;
  }
  return 0;
}

int HttpClient::onTimeout(sd_event_source*, uint64_t, void* userdata) {
  auto* transfer = static_cast<Transfer*>(userdata);
  transfer->client->complete(*transfer, errnoError(ETIMEDOUT, transfer->url,
                                                   "no complete answer within the timeout of " +
                                                       milliseconds(transfer->options.timeout)));
  return 0;
}

int HttpClient::onIo(sd_event_source*, int, uint32_t revents, void* userdata) {
  auto* transfer = static_cast<Transfer*>(userdata);
  HttpClient* client = transfer->client;
  std::optional<Result<HttpResponse>> outcome = client->advance(*transfer, revents);
  if (outcome) client->complete(*transfer, std::move(*outcome));
  return 0;
}

std::optional<Result<HttpResponse>> HttpClient::advance(Transfer& transfer, uint32_t) {
  if (transfer.connecting) {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(transfer.socket, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) return connectError(error, transfer.url);
    transfer.connecting = false;
  }
  if (transfer.written < transfer.request.size()) {
    while (transfer.written < transfer.request.size()) {
      ssize_t n = ::send(transfer.socket, transfer.request.data() + transfer.written,
                         transfer.request.size() - transfer.written, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::nullopt;
      if (n < 0) return errnoError(errno, transfer.url, "cannot send the request");
      transfer.written += static_cast<size_t>(n);
    }
    int r = sd_event_source_set_io_events(transfer.io, EPOLLIN);
    if (r < 0) return errnoError(-r, transfer.url, "cannot wait for the response");
    return std::nullopt;
  }
  return readResponse(transfer);
}

std::optional<Result<HttpResponse>> HttpClient::readResponse(Transfer& transfer) {
  std::array<char, kReadBytes> buffer{};
  for (size_t read = 0; read < kReadPerWakeup;) {
    ssize_t n = ::recv(transfer.socket, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::nullopt;
    if (n < 0) return errnoError(errno, transfer.url, "cannot read the response");
    read += static_cast<size_t>(n);

    HttpResponseParser& parser = transfer.parser;
    const bool hadHead = parser.headComplete();
    Result<void> fed = n == 0
                           ? parser.close()
                           : parser.feed(std::string_view(buffer.data(), n), transfer.pendingBody);
    if (!fed) {
      // A 404 that announces a large body is still a 404.
      const int status = parser.head().status;
      if (fed.error().code == EFBIG && (status < 200 || status > 299)) {
        return statusError(status, transfer.url);
      }
      return fed.error().withPath(transfer.url);
    }
    if (!hadHead && parser.headComplete()) {
      if (std::optional<Result<HttpResponse>> outcome = onHead(transfer)) return outcome;
    }
    if (std::optional<Result<HttpResponse>> failed = consumeBody(transfer)) return failed;
    if (parser.complete()) return succeed(transfer);
    if (n == 0) return errnoError(EBADMSG, transfer.url, "the response ended early");
  }
  return std::nullopt;
}

std::optional<Result<HttpResponse>> HttpClient::consumeBody(Transfer& transfer) {
  std::string& body = transfer.pendingBody;
  if (body.empty()) return std::nullopt;
  if (transfer.file >= 0) {
    for (size_t written = 0; written < body.size();) {
      ssize_t w = ::write(transfer.file, body.data() + written, body.size() - written);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        return errnoError(errno, *transfer.options.saveToFile,
                          "cannot write the body of " + transfer.url);
      }
      written += static_cast<size_t>(w);
    }
  } else if (transfer.options.bodyUse == HttpBodyUse::Keep) {
    transfer.response.body += body;
  } else if (transfer.options.bodyUse == HttpBodyUse::KeepTail) {
    std::string& kept = transfer.response.body;
    const size_t limit = transfer.options.tailBytes;
    if (body.size() >= limit) {
      kept.assign(body, body.size() - limit, limit);
    } else {
      kept += body;
      if (kept.size() > limit) kept.erase(0, kept.size() - limit);
    }
  }
  body.clear();
  return std::nullopt;
}

std::optional<Result<HttpResponse>> HttpClient::onHead(Transfer& transfer) {
  const HttpResponseHead& head = transfer.parser.head();
  transfer.response.status = head.status;
  transfer.response.contentType = head.contentType;
  const bool answered = (head.status >= 200 && head.status <= 299) ||
                        (transfer.options.redirectAnswers && isRedirect(head.status));
  if (!answered) return statusError(head.status, transfer.url);
  // Whatever follows is neither kept nor waited for.
  if (transfer.options.bodyUse == HttpBodyUse::None && transfer.file < 0) return succeed(transfer);
  if (isRedirect(head.status)) return succeed(transfer);
  return std::nullopt;
}

Result<HttpResponse> HttpClient::succeed(Transfer& transfer) {
  HttpResponse& response = transfer.response;
  response.bodyBytes = transfer.parser.bodyBytes();
  response.elapsed = Usec(static_cast<Usec::rep>(monotonicUsec() - transfer.startedUsec));
  if (transfer.file >= 0) {
    int fd = std::exchange(transfer.file, -1);
    int error = ::fsync(fd) == 0 ? 0 : errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) {
      ::unlink(transfer.options.saveToFile->c_str());
      return errnoError(error, *transfer.options.saveToFile,
                        "cannot write the body of " + transfer.url);
    }
  }
  return std::move(response);
}

void HttpClient::complete(Transfer& transfer, Result<HttpResponse> result) {
  auto it = transfers_.find(&transfer);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> owned = std::move(it->second);
  transfers_.erase(it);
  HttpCallback done = std::move(owned->done);
  owned.reset();  // before the callback: inFlight() is exact and the file is closed
  try {
    done(std::move(result));
  } catch (...) {  // NOLINT(bugprone-empty-catch)
    // A caller's bug must not stop the other transfers.
  }
}

}  // namespace wslgo
