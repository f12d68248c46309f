// HttpResponseParser: an HTTP/1.1 response decoded as its bytes arrive. Pure: the socket is the
// caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// What the status line and the headers say, as far as a GET client needs it.
struct HttpResponseHead {
  int status = 0;
  std::string contentType;
  std::string location;
  std::optional<uint64_t> contentLength;
  bool chunked = false;
};

struct HttpResponseLimits {
  // Status line and headers together, and again the trailers of a chunked body.
  size_t maxHeaderBytes = size_t{64} << 10;
  size_t maxBodyBytes = size_t{64} << 20;
};

// Feed it what the socket gives, in pieces of any size. The body comes out decoded (chunked
// framing removed) into the string the caller passes, to be consumed or kept as it likes. The
// body ends at Content-Length, at the last chunk, or, with neither, when the peer closes.
// Interim 1xx answers are skipped. Errors: EBADMSG for a response that does not parse (the
// message quotes what was found), EFBIG for a body over the limit. After an error the parser
// must not be fed again.
class HttpResponseParser {
 public:
  explicit HttpResponseParser(HttpResponseLimits limits = {}) : limits_(limits) {}

  // Consumes all of `data`; decoded body bytes are appended to `body`. Bytes after the end of
  // the response are ignored.
  Result<void> feed(std::string_view data, std::string& body);
  // The peer closed the connection: ends a body read until close, and is an error while the
  // response is incomplete.
  Result<void> close();

  bool headComplete() const { return state_ > State::Head; }
  const HttpResponseHead& head() const { return head_; }
  bool complete() const { return state_ == State::Done; }
  uint64_t bodyBytes() const { return bodyBytes_; }

 private:
  enum class State { Head, Identity, UntilClose, ChunkSize, ChunkData, ChunkEnd, Trailers, Done };

  Result<void> parseHead(std::string_view text);
  Result<void> takeBody(std::string_view data, std::string& body);
  // Takes one line ending in LF from `data` into line_; true when it is complete.
  Result<bool> takeLine(std::string_view& data, size_t limit, std::string_view what);
  Result<void> parseChunkSize();

  HttpResponseLimits limits_;
  State state_ = State::Head;
  HttpResponseHead head_;
  std::string pending_;  // the head, or the current chunk-size or trailer line, so far
  size_t trailerBytes_ = 0;
  uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
  uint64_t bodyBytes_ = 0;
};

}  // namespace wslgo
