#include <catch2/catch.hpp>
#include <string>

#include "lib/http_response.h"

namespace wslgo {
namespace {

struct Parsed {
  HttpResponseParser parser;
  std::string body;
  Result<void> result;
};

// Feeds `wire` in pieces of `step` bytes (0: at once), then closes when `close` says so.
Parsed parse(std::string_view wire, size_t step = 0, HttpResponseLimits limits = {},
             bool close = false) {
  Parsed out{HttpResponseParser(limits), {}, {}};
  if (step == 0) step = wire.size() == 0 ? 1 : wire.size();
  for (size_t at = 0; at < wire.size() && out.result.ok(); at += step) {
    out.result = out.parser.feed(wire.substr(at, step), out.body);
  }
  if (out.result.ok() && close) out.result = out.parser.close();
  return out;
}

constexpr std::string_view kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5\r\nhello\r\n"
    "7;name=value;other\r\n, world\r\n"
    "1A \r\nabcdefghijklmnopqrstuvwxyz\r\n"
    "0\r\n"
    "X-Trailer: yes\r\n"
    "\r\n";

}  // namespace

TEST_CASE("a Content-Length answer gives its status, type and body whole", "[http]") {
  auto parsed = parse(
      "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n"
      "Date: Mon, 30 Nov 2026 08:00:00 GMT\r\n\r\nhello");
  REQUIRE(parsed.result.ok());
  CHECK(parsed.parser.complete());
  CHECK(parsed.parser.head().status == 200);
  CHECK(parsed.parser.head().contentType == "text/html; charset=utf-8");
  CHECK(parsed.parser.head().contentLength == 5u);
  CHECK(parsed.body == "hello");
  CHECK(parsed.parser.bodyBytes() == 5);
}

TEST_CASE("a response fed one byte at a time parses as when fed at once", "[http]") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\ncontent-length: 11\r\ncontent-type: text/plain\r\n\r\nhello world";
  auto parsed = parse(wire, 1);
  REQUIRE(parsed.result.ok());
  CHECK(parsed.parser.complete());
  CHECK(parsed.parser.head().contentType == "text/plain");
  CHECK(parsed.body == "hello world");
}

TEST_CASE("a chunked body with extensions and trailers decodes, fed at once or byte by byte",
          "[http]") {
  for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{7}}) {
    INFO("step " << step);
    auto parsed = parse(kChunked, step);
    REQUIRE(parsed.result.ok());
    CHECK(parsed.parser.complete());
    CHECK(parsed.parser.head().chunked);
    CHECK(parsed.parser.head().contentType == "application/octet-stream");
    CHECK(parsed.body == "hello, worldabcdefghijklmnopqrstuvwxyz");
    CHECK(parsed.parser.bodyBytes() == 38);
  }
}

TEST_CASE("a chunked body is not complete before its last chunk and blank line", "[http]") {
  auto parsed = parse(kChunked.substr(0, kChunked.size() - 2));
  REQUIRE(parsed.result.ok());
  CHECK_FALSE(parsed.parser.complete());
  CHECK(parsed.parser.close().error().code == EBADMSG);
}

TEST_CASE("a body without length or chunking ends when the server closes", "[http]") {
  auto parsed = parse("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", 3);
  REQUIRE(parsed.result.ok());
  CHECK_FALSE(parsed.parser.complete());
  REQUIRE(parsed.parser.close().ok());
  CHECK(parsed.parser.complete());
  CHECK(parsed.body == "all of it");
}

TEST_CASE("a redirect carries its Location and an empty body", "[http]") {
  auto parsed =
      parse("HTTP/1.1 307 Temporary Redirect\r\nLocation: /memory\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(parsed.result.ok());
  CHECK(parsed.parser.complete());
  CHECK(parsed.parser.head().status == 307);
  CHECK(parsed.parser.head().location == "/memory");
}

TEST_CASE("an interim 100 Continue is skipped for the answer after it", "[http]") {
  auto parsed = parse(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!", 1);
  REQUIRE(parsed.result.ok());
  CHECK(parsed.parser.head().status == 404);
  CHECK(parsed.body == "no!");
}

TEST_CASE("a 204 answer has no body even without a length", "[http]") {
  auto parsed = parse("HTTP/1.1 204 No Content\r\n\r\n");
  REQUIRE(parsed.result.ok());
  CHECK(parsed.parser.complete());
}

TEST_CASE("bytes after a complete response are ignored", "[http]") {
  auto parsed = parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
  REQUIRE(parsed.result.ok());
  CHECK(parsed.body == "ok");
}

TEST_CASE("bare LF line ends are accepted", "[http]") {
  auto parsed = parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 1);
  REQUIRE(parsed.result.ok());
  CHECK(parsed.parser.complete());
  CHECK(parsed.body == "ok");
}

TEST_CASE("status lines that are not HTTP/1.x NNN are refused quoting the line", "[http]") {
  for (std::string_view line :
       {"HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "http/1.1 200 OK", "HTTP/1.1 abc OK",
        "HTTP/1.1 099 Low", "SSH-2.0-OpenSSH_9.2", "HTTP/1.1200 OK"}) {
    INFO(line);
    auto parsed = parse(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
    REQUIRE_FALSE(parsed.result.ok());
    CHECK(parsed.result.error().code == EBADMSG);
    CHECK(parsed.result.error().message.find(std::string(line).substr(0, 8)) != std::string::npos);
  }
}

TEST_CASE("a status line without a reason phrase is accepted", "[http]") {
  auto parsed = parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(parsed.result.ok());
  CHECK(parsed.parser.head().status == 200);
}

TEST_CASE("header lines without a colon or folded are refused", "[http]") {
  CHECK(parse("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n").result.error().code == EBADMSG);
  CHECK(parse("HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n").result.error().code == EBADMSG);
  CHECK(parse("HTTP/1.1 200 OK\r\nBad Name: b\r\n\r\n").result.error().code == EBADMSG);
}

TEST_CASE("a head over the header limit is refused, even before its end arrives", "[http]") {
  HttpResponseLimits limits{.maxHeaderBytes = 64, .maxBodyBytes = 1024};
  std::string wire = "HTTP/1.1 200 OK\r\nX-Padding: " + std::string(100, 'x');
  auto parsed = parse(wire, 1, limits);
  REQUIRE_FALSE(parsed.result.ok());
  CHECK(parsed.result.error().code == EBADMSG);
  CHECK(parsed.result.error().message.find("64 bytes") != std::string::npos);

  auto whole = parse(wire + "\r\n\r\n", 0, limits);
  REQUIRE_FALSE(whole.result.ok());
  CHECK(whole.result.error().code == EBADMSG);
}

TEST_CASE("the default header limit admits 64 KiB and refuses more", "[http]") {
  auto parsed = parse("HTTP/1.1 200 OK\r\nX-Padding: " + std::string(70 << 10, 'x') + "\r\n\r\n");
  REQUIRE_FALSE(parsed.result.ok());
  CHECK(parsed.result.error().message.find("65536 bytes") != std::string::npos);
}

TEST_CASE("negative, garbage or overflowing Content-Lengths are refused", "[http]") {
  for (std::string_view length : {"-1", "12abc", "", "0x10", "1 2", "99999999999999999999999"}) {
    INFO(length);
    auto parsed =
        parse("HTTP/1.1 200 OK\r\nContent-Length: " + std::string(length) + "\r\n\r\nbody");
    REQUIRE_FALSE(parsed.result.ok());
    CHECK(parsed.result.error().code == EBADMSG);
  }
  auto twice = parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(twice.result.error().code == EBADMSG);
}

TEST_CASE("garbage chunk sizes and overlong chunks are refused", "[http]") {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::string_view chunks : {"zz\r\nab\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n", "\r\n",
                                  "3\r\nabcdef\r\n0\r\n\r\n", "fffffffffffffffffff\r\nx\r\n"}) {
    INFO(chunks);
    auto parsed = parse(head + std::string(chunks), 1);
    REQUIRE_FALSE(parsed.result.ok());
  }
}

TEST_CASE("transfer codings other than chunked are refused", "[http]") {
  auto parsed = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  REQUIRE_FALSE(parsed.result.ok());
  CHECK(parsed.result.error().message.find("chunked") != std::string::npos);
}

TEST_CASE("a body over the limit is refused with EFBIG, however it is framed", "[http]") {
  HttpResponseLimits limits{.maxHeaderBytes = 1024, .maxBodyBytes = 10};
  auto declared = parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 0, limits);
  CHECK(declared.result.error().code == EFBIG);
  CHECK(declared.result.error().message.find("10 bytes") != std::string::npos);

  auto chunked =
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n",
            1, limits);
  CHECK(chunked.result.error().code == EFBIG);
  CHECK(chunked.body.size() <= 10);

  auto untilClose = parse("HTTP/1.1 200 OK\r\n\r\n" + std::string(11, 'x'), 1, limits);
  CHECK(untilClose.result.error().code == EFBIG);

  auto exact = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 1, limits);
  CHECK(exact.result.ok());
  CHECK(exact.parser.complete());
}

TEST_CASE("a connection closed before the end of the response is an error", "[http]") {
  CHECK(parse("", 0, {}, true).result.error().message.find("without answering") !=
        std::string::npos);
  CHECK(parse("HTTP/1.1 200 OK\r\nContent-", 0, {}, true).result.error().code == EBADMSG);
  CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", 0, {}, true).result.error().code ==
        EBADMSG);
}

}  // namespace wslgo
