#include "lib/tcp_listener.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "lib/process.h"
#include "lib/text_lines.h"

namespace wslgo {
namespace {

constexpr unsigned kStateListen = 0x0A;
constexpr size_t kIpv4HexDigits = 8;
constexpr size_t kIpv6HexDigits = 32;
constexpr size_t kPortHexDigits = 4;
// "socket:[" + 20 digits + "]" is 29 bytes; a longer target is no socket link.
constexpr size_t kFdLinkMax = 64;
constexpr size_t kReadChunk = 64 * 1024;

constexpr IpAddress kIpv4Loopback{IpFamily::kIpv4, {127, 0, 0, 1}};
constexpr IpAddress kIpv4Any{IpFamily::kIpv4, {}};
constexpr IpAddress kIpv6MappedLoopback{IpFamily::kIpv6,
                                        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}};
constexpr IpAddress kIpv6Any{IpFamily::kIpv6, {}};
constexpr IpAddress kIpv6Loopback{IpFamily::kIpv6,
                                  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

// How directly a listener on `address` answers a connection to 127.0.0.1, best first; see
// pickLoopbackListener. kNone answers none.
enum class LoopbackRank { kExact, kIpv4Wildcard, kIpv6Wildcard, kIpv6Loopback, kNone };

LoopbackRank loopbackRank(const IpAddress& address) {
  if (address == kIpv4Loopback || address == kIpv6MappedLoopback) return LoopbackRank::kExact;
  if (address == kIpv4Any) return LoopbackRank::kIpv4Wildcard;
  if (address == kIpv6Any) return LoopbackRank::kIpv6Wildcard;
  if (address == kIpv6Loopback) return LoopbackRank::kIpv6Loopback;
  return LoopbackRank::kNone;
}

template <class Int>
bool parseWhole(std::string_view text, Int& out, int base) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out, base);
  return ec == std::errc() && ptr == end;
}

// The next whitespace-separated field of `rest`, removed from it; empty at the end.
std::string_view nextField(std::string_view& rest) {
  size_t start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find_first_of(" \t");
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

// "0100007F:1F90" or "00000000000000000000000001000000:1F90": each 8-digit word is a 32-bit
// value the kernel printed from the address in memory, so copying the value back into memory
// restores the address bytes in network order on the host that printed it.
bool parseEndpoint(std::string_view field, IpAddress& address, uint16_t& port) {
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view hex = field.substr(0, colon);
  std::string_view portHex = field.substr(colon + 1);
  if (hex.size() != kIpv4HexDigits && hex.size() != kIpv6HexDigits) return false;
  if (portHex.size() != kPortHexDigits || !parseWhole(portHex, port, 16)) return false;
  address = IpAddress{hex.size() == kIpv4HexDigits ? IpFamily::kIpv4 : IpFamily::kIpv6, {}};
  for (size_t word = 0; word * kIpv4HexDigits < hex.size(); ++word) {
    uint32_t value = 0;
    if (!parseWhole(hex.substr(word * kIpv4HexDigits, kIpv4HexDigits), value, 16)) return false;
    std::memcpy(address.bytes.data() + word * sizeof value, &value, sizeof value);
  }
  return true;
}

// One line of the table, as the kernel prints it (get_tcp4_sock, get_tcp6_sock):
//   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
// Nothing for a line of another state or one that does not parse.
std::optional<TcpListener> parseListenerLine(const TextLine& line) {
  std::string_view rest = line.text;
  std::string_view slot = nextField(rest);
  std::string_view local = nextField(rest);
  std::string_view remote = nextField(rest);
  std::string_view state = nextField(rest);
  std::string_view queues = nextField(rest);
  std::string_view timer = nextField(rest);
  std::string_view retransmits = nextField(rest);
  std::string_view uid = nextField(rest);
  std::string_view timeout = nextField(rest);
  std::string_view inode = nextField(rest);
  if (inode.empty()) return std::nullopt;
  // Without a newline the read was cut short, maybe inside the inode; the fields the kernel
  // prints after it show that it is whole.
  if (!line.terminated && nextField(rest).empty()) return std::nullopt;

  unsigned stateValue = 0;
  if (slot.size() < 2 || slot.back() != ':' || state.size() != 2 ||
      !parseWhole(state, stateValue, 16) || stateValue != kStateListen) {
    return std::nullopt;
  }
  TcpListener listener;
  IpAddress remoteAddress;
  uint16_t remotePort = 0;
  if (!parseEndpoint(local, listener.address, listener.port) ||
      !parseEndpoint(remote, remoteAddress, remotePort) ||
      remoteAddress.family != listener.address.family) {
    return std::nullopt;
  }
  unsigned slotValue = 0;
  if (!parseWhole(slot.substr(0, slot.size() - 1), slotValue, 10) || queues.empty() ||
      timer.empty() || retransmits.empty() || timeout.empty() ||
      !parseWhole(uid, listener.uid, 10) || !parseWhole(inode, listener.inode, 10)) {
    return std::nullopt;
  }
  return listener;
}

bool isHeader(std::string_view line) {
  std::string_view trimmed = trimWhitespace(line);
  return trimmed.substr(0, 3) == "sl " && trimmed.find("local_address") != std::string_view::npos;
}

// The first kMaxTcpTableBytes of `path`: a seq_file generates only what is read, so stopping
// early is what keeps a huge table cheap.
Result<std::string_view> readTablePrefix(const std::string& path, std::string& buffer) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoError(errno, path, "cannot open the TCP socket table");
  size_t size = 0;
  int code = 0;
  while (size < kMaxTcpTableBytes) {
    buffer.resize(std::min(size + kReadChunk, kMaxTcpTableBytes));
    ssize_t got = ::read(fd, buffer.data() + size, buffer.size() - size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) code = errno;
    if (got <= 0) break;
    size += static_cast<size_t>(got);
  }
  ::close(fd);
  if (code != 0) return errnoError(code, path, "cannot read the TCP socket table");
  buffer.resize(size);
  return std::string_view(buffer);
}

std::string fdDirPath(const SysRoots& roots, pid_t pid) {
  return roots.procPath(std::to_string(pid) + "/fd");
}

Error fdDirError(int code, std::string path) {
  std::string_view why = code == ENOENT   ? ": the process has exited"
                         : code == EACCES ? ": the process belongs to another user"
                                          : "";
  return errnoError(code, std::move(path),
                    "cannot list the process's file descriptors" + std::string(why));
}

}  // namespace

std::string IpAddress::text() const {
  char out[INET6_ADDRSTRLEN] = {};
  int af = family == IpFamily::kIpv4 ? AF_INET : AF_INET6;
  if (::inet_ntop(af, bytes.data(), out, sizeof out) == nullptr) return "?";
  return out;
}

std::string TcpListener::endpoint() const {
  std::string host = address.text();
  if (address.family == IpFamily::kIpv6) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

Result<std::vector<TcpListener>> parseTcpListeners(std::string_view text, size_t maxLines) {
  std::vector<TcpListener> listeners;
  bool sawHeader = false;
  for (const TextLine& line : TextLines(text)) {
    if (line.number > maxLines) break;
    if (!sawHeader) {
      if (!isHeader(line.text)) {
        return parseError({},
                          "the first line is not the \"sl  local_address ...\" header: "
                          "not a /proc/net/tcp or /proc/net/tcp6 table");
      }
      sawHeader = true;
      continue;
    }
    if (auto listener = parseListenerLine(line)) listeners.push_back(*listener);
  }
  if (!sawHeader) return parseError({}, "empty: not a /proc/net/tcp or /proc/net/tcp6 table");
  return listeners;
}

std::optional<uint64_t> socketInodeFromFdLink(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.substr(0, kPrefix.size()) != kPrefix || link.size() < kPrefix.size() + 2 ||
      link.back() != ']') {
    return std::nullopt;
  }
  std::string_view digits = link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  uint64_t inode = 0;
  if (!parseWhole(digits, inode, 10)) return std::nullopt;
  return inode;
}

std::optional<TcpListener> pickLoopbackListener(const std::vector<TcpListener>& listeners,
                                                uint16_t port) {
  const TcpListener* best = nullptr;
  LoopbackRank bestRank = LoopbackRank::kNone;
  for (const TcpListener& listener : listeners) {
    if (listener.port != port) continue;
    LoopbackRank rank = loopbackRank(listener.address);
    if (rank < bestRank) {
      best = &listener;
      bestRank = rank;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

Result<std::optional<TcpListener>> findLoopbackListener(const SysRoots& roots, uint16_t port) {
  std::vector<TcpListener> listeners;
  std::string buffer;
  for (std::string_view table : {"net/tcp", "net/tcp6"}) {
    std::string path = roots.procPath(table);
    auto text = readTablePrefix(path, buffer);
    if (!text) {
      if (table == "net/tcp6" && text.error().code == ENOENT) continue;
      return text.error();
    }
    auto parsed = parseTcpListeners(*text);
    if (!parsed) return parsed.error().withPath(path);
    listeners.insert(listeners.end(), parsed->begin(), parsed->end());
    auto picked = pickLoopbackListener(listeners, port);
    if (picked && loopbackRank(picked->address) == LoopbackRank::kExact) return picked;
  }
  return pickLoopbackListener(listeners, port);
}

Result<bool> processHoldsSocket(const SysRoots& roots, pid_t pid, uint64_t inode) {
  std::string path = fdDirPath(roots, pid);
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return fdDirError(errno, std::move(path));
  const int dirFd = ::dirfd(dir);
  char target[kFdLinkMax];
  bool found = false;
  int code = 0;
  while (!found) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      code = errno;
      break;
    }
    if (entry->d_name[0] == '.') continue;
    // A descriptor closed since readdir fails here and is simply not the socket.
    ssize_t got = ::readlinkat(dirFd, entry->d_name, target, sizeof target);
    if (got <= 0 || static_cast<size_t>(got) == sizeof target) continue;
    found = socketInodeFromFdLink(std::string_view(target, static_cast<size_t>(got))) == inode;
  }
  ::closedir(dir);
  if (code != 0) return fdDirError(code, std::move(path));
  return found;
}

std::optional<pid_t> findSocketHolder(const SysRoots& roots, uint64_t inode, size_t maxProcesses) {
  auto pids = listPids(roots);
  if (!pids) return std::nullopt;
  size_t scanned = 0;
  for (pid_t pid : *pids) {
    if (scanned++ == maxProcesses) break;
    auto holds = processHoldsSocket(roots, pid, inode);
    if (holds.ok() && *holds) return pid;
  }
  return std::nullopt;
}

Result<uint64_t> checkDebugListenerOwner(const SysRoots& roots, uint16_t port, pid_t mainPid) {
  const std::string dialed = "127.0.0.1:" + std::to_string(port);
  auto found = findLoopbackListener(roots, port);
  if (!found) return found.error();
  if (!found->has_value()) {
    return errnoError(
        ECONNREFUSED, {},
        "nothing listens on " + dialed + " (nor on 0.0.0.0, :: or ::1): gopls (MainPID " +
            std::to_string(mainPid) + ") has not opened its debug server yet, or has closed it");
  }
  const TcpListener& listener = **found;
  auto holds = processHoldsSocket(roots, mainPid, listener.inode);
  if (!holds) return holds.error();
  if (*holds) return listener.inode;

  std::string message = listener.endpoint();
  LoopbackRank rank = loopbackRank(listener.address);
  if (rank == LoopbackRank::kIpv4Wildcard || rank == LoopbackRank::kIpv6Wildcard) {
    message += ", which answers " + dialed + ",";
  }
  message += " is listened on by ";
  if (auto holder = findSocketHolder(roots, listener.inode)) {
    message += "PID " + std::to_string(*holder) + " (";
    if (auto status = readProcessStatus(roots, *holder)) message += status->name + ", ";
  } else {
    message += "a process the guard cannot see (";
  }
  message += "uid " + std::to_string(listener.uid) + ", socket inode " +
             std::to_string(listener.inode) + "), not by gopls (MainPID " +
             std::to_string(mainPid) + "); the guard does not talk to it";
  return errnoError(EPERM, {}, std::move(message));
}

}  // namespace wslgo
