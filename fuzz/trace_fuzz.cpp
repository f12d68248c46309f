// Fuzzes parseTraceLine: one line of the JSONL traces the simulator replays. A line that parses
// serializes to one that parses back to the same line.
#include "fuzz/fuzz_check.h"
#include "lib/trace.h"

namespace {

std::string serialize(const wslgo::TraceLine& line) {
  using Kind = wslgo::TraceLine::Kind;
  switch (line.kind) {
    case Kind::Snapshot:
      return wslgo::serializeSnapshot(line.snapshot);
    case Kind::Outcome:
      return wslgo::serializeOutcome(line.outcome);
    case Kind::Model:
      return wslgo::serializeModel(line.model);
    case Kind::Blank:
      break;
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  auto line = parseTraceLine(fuzz::asText(data, size));
  if (!line) return 0;
  std::string written = serialize(*line);
  auto reread = parseTraceLine(written);
  FUZZ_CHECK(reread.ok());
  FUZZ_CHECK(reread->kind == line->kind);
  FUZZ_CHECK(serialize(*reread) == written);
  return 0;
}
