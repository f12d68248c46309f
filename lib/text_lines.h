// TextLines: the lines of a kernel or JSONL text as string_views, numbered, without copying.
#pragma once

#include <cstddef>
#include <string_view>

namespace wslgo {

struct TextLine {
  std::string_view text;  // without its newline
  size_t number = 0;      // 1-based, for error messages
  // False for a last line with no newline: kernel files end every line with one, so a missing
  // newline means the read was cut short and the last number may be cut too.
  bool terminated = true;
};

// for (TextLine line : TextLines(text)) { ... }. Empty lines are yielded like any other.
class TextLines {
 public:
  explicit TextLines(std::string_view text) : text_(text) {}

  class Iterator {
   public:
    Iterator() = default;
    explicit Iterator(std::string_view rest) : rest_(rest) { advance(); }

    const TextLine& operator*() const { return line_; }
    const TextLine* operator->() const { return &line_; }
    Iterator& operator++() {
      advance();
      return *this;
    }
    bool operator==(const Iterator& other) const { return done_ == other.done_; }

   private:
    void advance() {
      if (rest_.empty()) {
        done_ = true;
        return;
      }
      size_t newline = rest_.find('\n');
      line_.number += 1;
      line_.text = rest_.substr(0, newline);
      line_.terminated = newline != std::string_view::npos;
      rest_.remove_prefix(line_.terminated ? newline + 1 : rest_.size());
    }

    std::string_view rest_;
    TextLine line_;
    bool done_ = false;
  };

  Iterator begin() const { return Iterator(text_); }
  Iterator end() const { return Iterator(std::string_view()); }

 private:
  std::string_view text_;
};

// Calls onLine(std::string_view) for each line, for parsers that read line by line to the end.
template <class OnLine>
void forEachLine(std::string_view text, OnLine&& onLine) {
  for (const TextLine& line : TextLines(text)) onLine(line.text);
}

// Without leading and trailing spaces, tabs and newlines.
inline std::string_view trimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

}  // namespace wslgo
