// An open document's text kept in step with the editor: LSP positions to byte offsets and
// textDocument/didChange edits applied exactly as the editor applied them (LSP 3.17).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

namespace wslgo {

// What an LspPosition's `character` counts. Text itself is always held as UTF-8.
enum class PositionEncoding { Utf8, Utf16, Utf32 };

// LSP 3.17: a client and server that negotiated nothing (or a pre-3.17 peer) count UTF-16.
constexpr PositionEncoding kDefaultPositionEncoding = PositionEncoding::Utf16;

// "utf-8", "utf-16", "utf-32" (LSP 3.17 PositionEncodingKind, case as the spec spells it);
// anything else: nullopt.
std::optional<PositionEncoding> parsePositionEncoding(std::string_view name);
std::string_view positionEncodingName(PositionEncoding encoding);

struct LspPosition {
  uint32_t line = 0;       // 0-based; "\n", "\r\n" and "\r" each end a line
  uint32_t character = 0;  // code units of the encoding from the start of the line
};

struct LspRange {
  LspPosition start;
  LspPosition end;
};

// The byte offset in UTF-8 `text` of an LSP position. Never fails, never reads out of bounds:
// - a character past the end of its line is the end of the line (before its line break), and a
//   line past the last line is the end of the text;
// - a character that falls inside a code point (the middle of a UTF-16 surrogate pair, or of a
//   multi-byte sequence in UTF-8) is the start of that code point, so an edit never splits one;
// - a byte that is not part of well-formed UTF-8 counts as one code unit in every encoding.
//   Text that came through a JSON parser is always well formed, so this only decides what
//   happens to text from elsewhere.
size_t byteOffsetOf(std::string_view text, LspPosition position, PositionEncoding encoding);

// One element of DidChangeTextDocumentParams.contentChanges: a whole-text replacement (no range)
// or an incremental edit.
struct TextChange {
  std::optional<LspRange> range;
  std::string text;
};

// Parses contentChanges (a JSON array). An error names the element and field, e.g.
// "contentChanges[2].range.start.line: expected a non-negative integer, got -1".
// "range": null is a whole-text change, as gopls reads it; the deprecated rangeLength is
// ignored (the range says the same and wins); a line or character over 2^32-1 is taken as
// 2^32-1, which resolves to the same end of line or text.
Result<std::vector<TextChange>> parseContentChanges(const nlohmann::json& contentChanges);

// Applies the changes in order, each to the result of the previous one (LSP semantics).
// A range whose start resolves to a byte after its end is an error, and an error leaves `text`
// unchanged, even when earlier changes in the array were good.
Result<void> applyTextChanges(std::string& text, const std::vector<TextChange>& changes,
                              PositionEncoding encoding);

}  // namespace wslgo
