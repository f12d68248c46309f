// Fuzzes HttpResponseParser, the loopback HTTP client's decoder of gopls' debug server answers.
// The first input byte chooses how the rest is cut into the pieces a socket would deliver, and
// whether the limits are small; the outcome must not depend on the cut.
#include <string>

#include "fuzz/fuzz_check.h"
#include "lib/http_response.h"

namespace {

struct Outcome {
  bool ok = true;
  int code = 0;
  bool complete = false;
  int status = 0;
  std::string body;
};

// Feeds `response` in pieces of `piece` bytes (all at once for 0), then closes as the peer would.
Outcome decode(std::string_view response, size_t piece, wslgo::HttpResponseLimits limits) {
  wslgo::HttpResponseParser parser(limits);
  Outcome outcome;
  auto fail = [&](const wslgo::Error& error) {
    outcome.ok = false;
    outcome.code = error.code;
    return outcome;
  };
  while (!response.empty()) {
    size_t take = piece == 0 ? response.size() : std::min(piece, response.size());
    if (auto fed = parser.feed(response.substr(0, take), outcome.body); !fed) {
      return fail(fed.error());
    }
    FUZZ_CHECK(parser.bodyBytes() <= limits.maxBodyBytes);
    response.remove_prefix(take);
  }
  if (!parser.complete()) {
    if (auto closed = parser.close(); !closed) return fail(closed.error());
  }
  outcome.complete = parser.complete();
  outcome.status = parser.head().status;
  FUZZ_CHECK(parser.bodyBytes() == outcome.body.size());
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string_view response = wslgo::fuzz::asText(data + 1, size - 1);
  wslgo::HttpResponseLimits limits;
  if (control & 0x80) limits = {.maxHeaderBytes = 128, .maxBodyBytes = 256};
  const size_t piece = (control & 0x7f) % 17;

  Outcome whole = decode(response, 0, limits);
  Outcome pieces = decode(response, piece, limits);
  FUZZ_CHECK(whole.ok == pieces.ok);
  FUZZ_CHECK(whole.code == pieces.code);
  if (!whole.ok) return 0;
  FUZZ_CHECK(whole.complete);
  FUZZ_CHECK(whole.status >= 200 && whole.status <= 999);
  FUZZ_CHECK(whole.status == pieces.status);
  FUZZ_CHECK(whole.body == pieces.body);
  FUZZ_CHECK(whole.body.size() <= limits.maxBodyBytes);
  return 0;
}
