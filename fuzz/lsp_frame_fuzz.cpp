// Fuzzes splitLspFrame: the LSP base-protocol framing of what editors and gopls send the session
// keeper. Frames are split off the input as the keeper splits its read buffer.
#include "fuzz/fuzz_check.h"
#include "lib/lsp_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view buffer = fuzz::asText(data, size);
  for (;;) {
    auto frame = splitLspFrame(buffer, 4096);
    if (!frame || !*frame) return 0;
    const LspFrame& split = **frame;
    // The body lies inside what is consumed, and every frame moves the stream on.
    FUZZ_CHECK(split.consumed > 0 && split.consumed <= buffer.size());
    FUZZ_CHECK(split.body.size() <= 4096);
    FUZZ_CHECK(split.body.data() >= buffer.data());
    FUZZ_CHECK(split.body.data() + split.body.size() == buffer.data() + split.consumed);
    // The keeper writes frames as frameLspMessage does; those split back to the same body.
    std::string framed = frameLspMessage(split.body);
    auto again = splitLspFrame(framed, 4096);
    FUZZ_CHECK(again.ok() && *again && (*again)->body == split.body);
    FUZZ_CHECK((*again)->consumed == framed.size());
    buffer.remove_prefix(split.consumed);
  }
}
