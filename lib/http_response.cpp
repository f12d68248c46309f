#include "lib/http_response.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

namespace wslgo {

namespace {

constexpr size_t kQuoteBytes = 80;
// A chunk-size line is a few hex digits; extensions are allowed but nobody sends long ones.
constexpr size_t kMaxChunkSizeLine = 4096;

Error badMessage(std::string_view problem, std::string_view found) {
  std::string message = "the response does not parse: ";
  message += problem;
  message += ", got \"";
  message += found.substr(0, kQuoteBytes);
  if (found.size() > kQuoteBytes) message += "...";
  message += '"';
  return errnoError(EBADMSG, {}, std::move(message));
}

Error bodyTooLarge(size_t limit) {
  return errnoError(EFBIG, {}, "the body exceeds the limit of " + std::to_string(limit) + " bytes");
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A header field name is a token: visible characters other than separators.
bool isToken(std::string_view name) {
  static constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={} \t";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && kSeparators.find(c) == std::string_view::npos;
  });
}

std::optional<uint64_t> parseDecimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!isDigit(c)) return std::nullopt;
    auto digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// The offset just past the blank line that ends a head, searching from `from`; npos if none yet.
size_t headEnd(std::string_view text, size_t from) {
  for (size_t i = text.find('\n', from); i != std::string_view::npos; i = text.find('\n', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '\n') return i + 2;
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

std::string_view chompLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

Result<void> HttpResponseParser::feed(std::string_view data, std::string& body) {
  // A loop over the heads in `data`, not a recursion: a peer may send interim 1xx answers back to
  // back, and each level of the recursion held a copy of the rest of the piece, so one 64 KiB
  // read of them took gigabytes (found while writing fuzz/http_response_fuzz.cpp). A head is
  // read from `data` in place; only one that spans pieces is gathered in pending_.
  while (state_ == State::Head) {
    const size_t held = pending_.size();
    // Only the last bytes already held can start the blank line that ends the head.
    const size_t searchFrom = held < 2 ? 0 : held - 2;
    // A head that has not ended within the limit is refused, so more than that is not kept.
    if (held > 0) pending_.append(data.substr(0, limits_.maxHeaderBytes + 1 - held));
    const std::string_view text = held > 0 ? std::string_view(pending_) : data;
    const size_t end = headEnd(text, searchFrom);
    if (std::min(end, text.size()) > limits_.maxHeaderBytes) {
      return errnoError(EBADMSG, {},
                        "the response's status line and headers exceed the limit of " +
                            std::to_string(limits_.maxHeaderBytes) + " bytes");
    }
    if (end == std::string_view::npos) {
      if (held == 0) pending_.assign(data);
      return {};
    }
    Result<void> parsed = parseHead(text.substr(0, end));
    if (!parsed) return parsed;
    // The rest is body or, after an interim 1xx answer, the next head.
    data.remove_prefix(end - held);
    pending_.clear();
  }
  return takeBody(data, body);
}

Result<void> HttpResponseParser::parseHead(std::string_view text) {
  head_ = HttpResponseHead{};
  size_t lineEnd = text.find('\n');
  std::string_view statusLine = chompLine(text.substr(0, lineEnd + 1));
  text.remove_prefix(lineEnd + 1);

  // "HTTP/1.1 200 OK", the reason phrase optional.
  constexpr std::string_view kVersion = "HTTP/1.";
  if (statusLine.size() < kVersion.size() + 5 ||
      statusLine.substr(0, kVersion.size()) != kVersion || !isDigit(statusLine[kVersion.size()]) ||
      statusLine[kVersion.size() + 1] != ' ' ||
      !std::all_of(statusLine.begin() + kVersion.size() + 2,
                   statusLine.begin() + kVersion.size() + 5, isDigit) ||
      (statusLine.size() > kVersion.size() + 5 && statusLine[kVersion.size() + 5] != ' ') ||
      statusLine[kVersion.size() + 2] == '0') {
    return badMessage("the status line is not \"HTTP/1.x NNN reason\"", statusLine);
  }
  head_.status = static_cast<int>(*parseDecimal(statusLine.substr(kVersion.size() + 2, 3)));

  while (!text.empty()) {
    lineEnd = text.find('\n');
    std::string_view line = chompLine(text.substr(0, lineEnd + 1));
    text.remove_prefix(lineEnd + 1);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      return badMessage("a header line is folded onto the previous one", line);
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
      return badMessage("a header line is not \"Name: value\"", line);
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (equalsIgnoringCase(name, "Content-Type")) {
      head_.contentType = std::string(value);
    } else if (equalsIgnoringCase(name, "Location")) {
      head_.location = std::string(value);
    } else if (equalsIgnoringCase(name, "Content-Length")) {
      std::optional<uint64_t> length = parseDecimal(value);
      if (!length) return badMessage("Content-Length is not a number of bytes", value);
      if (head_.contentLength && *head_.contentLength != *length) {
        return badMessage("two Content-Length headers disagree", value);
      }
      head_.contentLength = length;
    } else if (equalsIgnoringCase(name, "Transfer-Encoding")) {
      // Go's server only ever says "chunked"; a compressed transfer coding is never asked for.
      if (!equalsIgnoringCase(value, "chunked") || head_.chunked) {
        return badMessage("the only transfer coding understood is chunked", value);
      }
      head_.chunked = true;
    }
  }

  if (head_.status < 200) {
    // 100 Continue and 103 Early Hints precede the answer; 101 would switch protocols.
    if (head_.status == 101) return badMessage("the server switches protocols", statusLine);
    return {};
  }
  if (head_.status == 204 || head_.status == 304) {
    state_ = State::Done;
  } else if (head_.chunked) {
    state_ = State::ChunkSize;
  } else if (head_.contentLength) {
    if (*head_.contentLength > limits_.maxBodyBytes) return bodyTooLarge(limits_.maxBodyBytes);
    remaining_ = *head_.contentLength;
    state_ = remaining_ == 0 ? State::Done : State::Identity;
  } else {
    state_ = State::UntilClose;
  }
  return {};
}

Result<bool> HttpResponseParser::takeLine(std::string_view& data, size_t limit,
                                          std::string_view what) {
  const size_t newline = data.find('\n');
  const size_t taken = newline == std::string_view::npos ? data.size() : newline + 1;
  pending_.append(data.substr(0, taken));
  data.remove_prefix(taken);
  if (pending_.size() > limit) {
    return errnoError(EBADMSG, {},
                      "the response's " + std::string(what) + " exceeds the limit of " +
                          std::to_string(limit) + " bytes");
  }
  return newline != std::string_view::npos;
}

Result<void> HttpResponseParser::parseChunkSize() {
  std::string_view line = chompLine(pending_);
  uint64_t size = 0;
  size_t digits = 0;
  for (; digits < line.size() && hexValue(line[digits]) >= 0; ++digits) {
    if (size > (std::numeric_limits<uint64_t>::max() >> 4)) {
      return badMessage("a chunk size is too large", line);
    }
    size = (size << 4) | static_cast<uint64_t>(hexValue(line[digits]));
  }
  std::string_view rest = trim(line.substr(digits));
  if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
    return badMessage("a chunk size is not a hex number", line);
  }
  if (size > limits_.maxBodyBytes - bodyBytes_) return bodyTooLarge(limits_.maxBodyBytes);
  pending_.clear();
  remaining_ = size;
  state_ = size == 0 ? State::Trailers : State::ChunkData;
  return {};
}

Result<void> HttpResponseParser::takeBody(std::string_view data, std::string& body) {
  while (!data.empty() && state_ != State::Done) {
    switch (state_) {
      case State::Identity:
      case State::ChunkData:
      case State::UntilClose: {
        size_t take = data.size();
        if (state_ != State::UntilClose)
          take = static_cast<size_t>(std::min<uint64_t>(take, remaining_));
        if (take > limits_.maxBodyBytes - bodyBytes_) return bodyTooLarge(limits_.maxBodyBytes);
        body.append(data.substr(0, take));
        data.remove_prefix(take);
        bodyBytes_ += take;
        if (state_ == State::UntilClose) break;
        remaining_ -= take;
        if (remaining_ == 0) state_ = state_ == State::Identity ? State::Done : State::ChunkEnd;
        break;
      }
      case State::ChunkSize: {
        Result<bool> line = takeLine(data, kMaxChunkSizeLine, "chunk-size line");
        if (!line) return line.error();
        if (*line) {
          Result<void> parsed = parseChunkSize();
          if (!parsed) return parsed;
        }
        break;
      }
      case State::ChunkEnd: {
        Result<bool> line = takeLine(data, 2, "line after a chunk");
        if (!line) return badMessage("a chunk is longer than its size", pending_);
        if (*line) {
          if (!chompLine(pending_).empty()) {
            return badMessage("a chunk is longer than its size", pending_);
          }
          pending_.clear();
          state_ = State::ChunkSize;
        }
        break;
      }
      case State::Trailers: {
        Result<bool> line = takeLine(data, limits_.maxHeaderBytes - trailerBytes_, "trailers");
        if (!line) return line.error();
        if (*line) {
          trailerBytes_ += pending_.size();
          if (chompLine(pending_).empty()) state_ = State::Done;
          pending_.clear();
        }
        break;
      }
      case State::Head:
      case State::Done:
        break;
    }
  }
  return {};
}

Result<void> HttpResponseParser::close() {
  if (state_ == State::UntilClose) state_ = State::Done;
  if (state_ == State::Done) return {};
  if (state_ == State::Head && pending_.empty()) {
    return errnoError(EBADMSG, {}, "the server closed the connection without answering");
  }
  return errnoError(EBADMSG, {},
                    "the server closed the connection before the response was complete");
}

}  // namespace wslgo
