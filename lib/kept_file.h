// KeptFile: a /proc, /sys or cgroup file kept open and re-read with pread into a reused buffer.
#pragma once

#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// Reads a whole file into `buffer` (reusing its capacity) and returns a view of the contents.
// The one-shot path for files read once or rarely.
Result<std::string_view> readFileInto(const std::string& path, std::string& buffer);

// The hot path: the descriptor stays open between samples and each read is a pread from offset
// 0, so a sample costs one syscall and no allocation once the buffer has grown. Kernel seq_files
// regenerate their contents on a read at offset 0, which is what makes this safe.
//
// When the file vanishes (the process exited, the cgroup was removed) the read fails with the
// errno the kernel gave (ESRCH, ENODEV, ENOENT) and the next read reopens by path.
class KeptFile {
 public:
  KeptFile() = default;
  explicit KeptFile(std::string path);
  ~KeptFile();
  KeptFile(KeptFile&& other) noexcept;
  KeptFile& operator=(KeptFile&& other) noexcept;
  KeptFile(const KeptFile&) = delete;
  KeptFile& operator=(const KeptFile&) = delete;

  const std::string& path() const { return path_; }

  // The current contents. The view stays valid until the next read or destruction.
  Result<std::string_view> read();

  // Whether the file exists; opens it if needed. Absent files are a normal state (no PSI on
  // this kernel, no memory.reclaim in v1), so callers ask before treating absence as failure.
  bool exists();

  void close();

 private:
  Result<void> open();

  std::string path_;
  std::string buffer_;
  int fd_ = -1;
};

}  // namespace wslgo
