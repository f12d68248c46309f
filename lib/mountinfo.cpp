#include "lib/mountinfo.h"

#include <charconv>

#include "lib/kept_file.h"
#include "lib/text_lines.h"

namespace wslgo {
namespace {

bool parseU32(std::string_view text, uint32_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool isOctal(char c) { return c >= '0' && c <= '7'; }

// Splits `line` at single spaces; the kernel separates fields with exactly one and escapes any
// space inside a field.
std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start <= line.size()) {
    size_t space = line.find(' ', start);
    if (space == std::string_view::npos) space = line.size();
    fields.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  return fields;
}

Result<MountEntry> parseLine(std::string_view line, size_t lineNumber) {
  auto fail = [lineNumber](const std::string& what) {
    return parseError({}, "line " + std::to_string(lineNumber) + ": " + what);
  };
  std::vector<std::string_view> fields = splitFields(line);
  // Six fixed fields, the "-" separator, then three more.
  if (fields.size() < 10)
    return fail("expected at least 10 fields, found " + std::to_string(fields.size()));
  MountEntry entry;
  if (!parseU32(fields[0], entry.id) || !parseU32(fields[1], entry.parentId)) {
    return fail("mount and parent ids must be numbers");
  }
  std::string_view device = fields[2];
  size_t colon = device.find(':');
  if (colon == std::string_view::npos || !parseU32(device.substr(0, colon), entry.major) ||
      !parseU32(device.substr(colon + 1), entry.minor)) {
    return fail("device must be MAJOR:MINOR, found '" + std::string(device) + "'");
  }
  // Two spaces in a row leave a field empty (found by fuzz/mountinfo_fuzz.cpp). The kernel never
  // writes an empty root, mount point or type, and an empty mount point would send the cgroup
  // readers to the filesystem's root.
  if (fields[3].empty() || fields[4].empty()) return fail("the root or mount point is empty");
  entry.root = unescapeMountPath(fields[3]);
  entry.mountPoint = unescapeMountPath(fields[4]);
  entry.mountOptions = std::string(fields[5]);
  size_t i = 6;
  for (; i < fields.size() && fields[i] != "-"; ++i) {
    entry.optionalFields.emplace_back(fields[i]);
  }
  if (i == fields.size()) return fail("no '-' separator before the filesystem type");
  if (fields.size() - i - 1 < 3) return fail("expected FSTYPE SOURCE SUPEROPTIONS after '-'");
  if (fields[i + 1].empty()) return fail("the filesystem type is empty");
  entry.fsType = std::string(fields[i + 1]);
  entry.source = unescapeMountPath(fields[i + 2]);
  entry.superOptions = std::string(fields[i + 3]);
  return entry;
}

}  // namespace

std::string unescapeMountPath(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && isOctal(text[i + 1]) && isOctal(text[i + 2]) &&
        isOctal(text[i + 3])) {
      int value = (text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0');
      if (value <= 0xff) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

Result<std::vector<MountEntry>> parseMountinfo(std::string_view text) {
  std::vector<MountEntry> entries;
  for (const TextLine& line : TextLines(text)) {
    if (line.text.empty()) continue;
    auto entry = parseLine(line.text, line.number);
    if (!entry) return entry.error();
    entries.push_back(std::move(entry).value());
  }
  return entries;
}

Result<std::vector<MountEntry>> readMountinfo(const SysRoots& roots) {
  std::string path = roots.procPath("self/mountinfo");
  std::string buffer;
  auto text = readFileInto(path, buffer);
  if (!text) return text.error();
  auto entries = parseMountinfo(*text);
  if (!entries) return entries.error().withPath(path);
  return entries;
}

}  // namespace wslgo
