#include "daemon/http_client.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace wslgo {

struct HttpClient::Transfer {
  CURL* easy = nullptr;
  std::string url;
  HttpRequestOptions options;
  HttpCallback done;
  HttpResponse response;
  char curlError[CURL_ERROR_SIZE] = {};
  int fd = -1;  // the saveToFile target while it is written
  bool tooLarge = false;
  int writeErrno = 0;

  ~Transfer() {
    if (fd >= 0) {
      ::close(fd);
      // Still open here means the transfer never completed: drop the partial file.
      ::unlink(options.saveToFile->c_str());
    }
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

namespace {

std::string milliseconds(Usec usec) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(usec).count()) +
         " ms";
}

}  // namespace

size_t HttpClient::onBody(char* data, size_t size, size_t count, void* userdata) {
  auto* transfer = static_cast<Transfer*>(userdata);
  size_t bytes = size * count;
  HttpResponse& response = transfer->response;
  if (response.bodyBytes + bytes > transfer->options.maxBodyBytes) {
    transfer->tooLarge = true;
    return CURL_WRITEFUNC_ERROR;
  }
  if (transfer->fd >= 0) {
    size_t written = 0;
    while (written < bytes) {
      ssize_t n = ::write(transfer->fd, data + written, bytes - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        transfer->writeErrno = errno;
        return CURL_WRITEFUNC_ERROR;
      }
      written += static_cast<size_t>(n);
    }
  } else {
    response.body.append(data, bytes);
  }
  response.bodyBytes += bytes;
  return bytes;
}

Result<std::unique_ptr<CurlGlobal>> CurlGlobal::init() {
  CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) {
    return errnoError(ENOMEM, {},
                      std::string("cannot initialise libcurl: ") + curl_easy_strerror(code));
  }
  return std::unique_ptr<CurlGlobal>(new CurlGlobal());
}

CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

HttpClient::HttpClient(sd_event* event) : event_(sd_event_ref(event)) {}

Result<std::unique_ptr<HttpClient>> HttpClient::create(sd_event* event) {
  std::unique_ptr<HttpClient> client(new HttpClient(event));
  client->multi_ = curl_multi_init();
  if (client->multi_ == nullptr) {
    return errnoError(ENOMEM, {}, "cannot create a curl multi handle");
  }
  curl_multi_setopt(client->multi_, CURLMOPT_SOCKETFUNCTION, &HttpClient::onCurlSocket);
  curl_multi_setopt(client->multi_, CURLMOPT_SOCKETDATA, client.get());
  curl_multi_setopt(client->multi_, CURLMOPT_TIMERFUNCTION, &HttpClient::onCurlTimer);
  curl_multi_setopt(client->multi_, CURLMOPT_TIMERDATA, client.get());

  int r = sd_event_add_time(event, &client->timer_, CLOCK_MONOTONIC, UINT64_MAX, 0,
                            &HttpClient::onTimer, client.get());
  if (r >= 0) r = sd_event_source_set_enabled(client->timer_, SD_EVENT_OFF);
  if (r >= 0) {
    r = sd_event_add_defer(event, &client->failureSource_, &HttpClient::onFailures, client.get());
  }
  if (r >= 0) r = sd_event_source_set_enabled(client->failureSource_, SD_EVENT_OFF);
  if (r < 0) return errnoError(-r, {}, "cannot add the HTTP client's sources to the event loop");
  (void)sd_event_source_set_description(client->timer_, "http-timer");
  (void)sd_event_source_set_description(client->failureSource_, "http-failures");
  return client;
}

HttpClient::~HttpClient() {
  alive_.reset();
  // Removing a handle may call back into onCurlSocket/onCurlTimer, which still find their maps.
  for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  for (auto& [fd, source] : sockets_) sd_event_source_disable_unref(source);
  sd_event_source_disable_unref(timer_);
  sd_event_source_disable_unref(failureSource_);
  sd_event_unref(event_);
}

void HttpClient::get(std::string url, HttpRequestOptions options, HttpCallback done) {
  if (options.timeout <= Usec::zero()) {
    failLater(std::move(done), errnoError(EINVAL, url, "the request timeout must be positive"));
    return;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->url = std::move(url);
  transfer->options = std::move(options);
  transfer->done = std::move(done);
  transfer->easy = curl_easy_init();
  if (transfer->easy == nullptr) {
    failLater(std::move(transfer->done),
              errnoError(ENOMEM, transfer->url, "cannot create a curl handle"));
    return;
  }

  CURL* easy = transfer->easy;
  auto timeoutMs = std::chrono::duration_cast<std::chrono::milliseconds>(transfer->options.timeout);
  CURLcode code = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (code == CURLE_OK) code = curl_easy_setopt(easy, option, value);
  };
  set(CURLOPT_URL, transfer->url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http");
  set(CURLOPT_NOPROXY, "*");
  set(CURLOPT_PROXY, "");
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_USERAGENT, "wslgo-guard");
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, timeoutMs.count())));
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(transfer->options.maxBodyBytes));
  set(CURLOPT_FOLLOWLOCATION, transfer->options.followRedirects ? 1L : 0L);
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http");
  set(CURLOPT_MAXREDIRS, 3L);
  set(CURLOPT_WRITEFUNCTION, &HttpClient::onBody);
  set(CURLOPT_WRITEDATA, transfer.get());
  set(CURLOPT_ERRORBUFFER, transfer->curlError);
  set(CURLOPT_PRIVATE, transfer.get());
  if (code != CURLE_OK) {
    failLater(std::move(transfer->done),
              errnoError(EINVAL, transfer->url,
                         std::string("curl rejects the request: ") + curl_easy_strerror(code)));
    return;
  }

  if (transfer->options.saveToFile) {
    const std::string& path = *transfer->options.saveToFile;
    transfer->fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (transfer->fd < 0) {
      failLater(std::move(transfer->done),
                errnoError(errno, path, "cannot create the file for " + transfer->url));
      return;
    }
  }

  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
    failLater(std::move(transfer->done),
              errnoError(ENOMEM, transfer->url, "curl cannot start the transfer"));
    return;
  }
  transfers_.emplace(easy, std::move(transfer));
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
    } catch (...) {
      // A caller's bug must not take the loop down; the request is over either way.
    }
    if (alive.expired()) return 0;
  }
  return 0;
}

int HttpClient::onCurlSocket(CURL*, curl_socket_t fd, int what, void* userdata, void*) {
  return static_cast<HttpClient*>(userdata)->watchSocket(fd, what);
}

int HttpClient::watchSocket(curl_socket_t fd, int what) {
  auto it = sockets_.find(fd);
  if (what == CURL_POLL_REMOVE) {
    if (it != sockets_.end()) {
      sd_event_source_disable_unref(it->second);
      sockets_.erase(it);
    }
    return 0;
  }
  uint32_t events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EPOLLOUT;
  if (it != sockets_.end()) {
    if (sd_event_source_set_io_events(it->second, events) < 0) return -1;
    return sd_event_source_set_enabled(it->second, SD_EVENT_ON) < 0 ? -1 : 0;
  }
  sd_event_source* source = nullptr;
  if (sd_event_add_io(event_, &source, fd, events, &HttpClient::onIo, this) < 0) return -1;
  (void)sd_event_source_set_description(source, "http-socket");
  sockets_.emplace(fd, source);
  return 0;
}

int HttpClient::onCurlTimer(CURLM*, long timeoutMs, void* userdata) {
  return static_cast<HttpClient*>(userdata)->armTimer(timeoutMs);
}

int HttpClient::armTimer(long timeoutMs) {
  if (timeoutMs < 0) return sd_event_source_set_enabled(timer_, SD_EVENT_OFF) < 0 ? -1 : 0;
  uint64_t now = 0;
  if (sd_event_now(event_, CLOCK_MONOTONIC, &now) < 0) return -1;
  // Rounded up so curl never finds its deadline not yet reached and asks again.
  uint64_t at = now + static_cast<uint64_t>(timeoutMs) * 1000 + 999;
  if (sd_event_source_set_time(timer_, at) < 0) return -1;
  return sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

int HttpClient::onIo(sd_event_source*, int fd, uint32_t revents, void* userdata) {
  auto* client = static_cast<HttpClient*>(userdata);
  int action = 0;
  if (revents & EPOLLIN) action |= CURL_CSELECT_IN;
  if (revents & EPOLLOUT) action |= CURL_CSELECT_OUT;
  if (revents & (EPOLLERR | EPOLLHUP)) action |= CURL_CSELECT_ERR;
  int running = 0;
  curl_multi_socket_action(client->multi_, fd, action, &running);
  client->deliverFinished();
  return 0;
}

int HttpClient::onTimer(sd_event_source*, uint64_t, void* userdata) {
  auto* client = static_cast<HttpClient*>(userdata);
  int running = 0;
  curl_multi_socket_action(client->multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  client->deliverFinished();
  return 0;
}

bool HttpClient::deliverFinished() {
  std::weak_ptr<char> alive = alive_;
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    CURLcode code = message->data.result;
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, easy);

    Result<HttpResponse> result = finish(*transfer, code);
    HttpCallback done = std::move(transfer->done);
    transfer.reset();  // before the callback: inFlight() is exact and the file is closed
    try {
      done(std::move(result));
    } catch (...) {
      // A caller's bug must not stop the other transfers.
    }
    if (alive.expired()) return false;
  }
  return true;
}

Result<HttpResponse> HttpClient::finish(Transfer& transfer, CURLcode code) {
  const std::string& url = transfer.url;
  HttpResponse& response = transfer.response;
  long status = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
  response.status = status;
  const char* contentType = nullptr;
  if (curl_easy_getinfo(transfer.easy, CURLINFO_CONTENT_TYPE, &contentType) == CURLE_OK &&
      contentType != nullptr) {
    response.contentType = contentType;
  }
  curl_off_t totalUsec = 0;
  if (curl_easy_getinfo(transfer.easy, CURLINFO_TOTAL_TIME_T, &totalUsec) == CURLE_OK) {
    response.elapsed = Usec(totalUsec);
  }
  long osErrno = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_OS_ERRNO, &osErrno);
  std::string detail =
      transfer.curlError[0] != '\0' ? transfer.curlError : curl_easy_strerror(code);

  switch (code) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT:
      return errnoError(ETIMEDOUT, url,
                        "no complete answer within the timeout of " +
                            milliseconds(transfer.options.timeout) + " (" + detail + ")");
    case CURLE_COULDNT_CONNECT:
      return errnoError(osErrno != 0 ? static_cast<int>(osErrno) : ECONNREFUSED, url,
                        "cannot connect: " + detail + "; is the gopls debug server running?");
    case CURLE_FILESIZE_EXCEEDED:
      return errnoError(EFBIG, url,
                        "the body exceeds the limit of " +
                            std::to_string(transfer.options.maxBodyBytes) + " bytes");
    case CURLE_WRITE_ERROR:
      if (transfer.tooLarge) {
        return errnoError(EFBIG, url,
                          "the body exceeds the limit of " +
                              std::to_string(transfer.options.maxBodyBytes) + " bytes");
      }
      if (transfer.writeErrno != 0) {
        return errnoError(transfer.writeErrno, *transfer.options.saveToFile,
                          "cannot write the body of " + url);
      }
      [[fallthrough]];
    default:
      return errnoError(EIO, url, "the request failed: " + detail);
  }

  if (status < 200 || status > 299) {
    return errnoError(EPROTO, url,
                      "HTTP status " + std::to_string(status) + " where 2xx was expected");
  }
  if (transfer.fd >= 0) {
    int fd = std::exchange(transfer.fd, -1);
    int error = ::fsync(fd) == 0 ? 0 : errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) {
      ::unlink(transfer.options.saveToFile->c_str());
      return errnoError(error, *transfer.options.saveToFile, "cannot write the body of " + url);
    }
  }
  return std::move(response);
}

}  // namespace wslgo
