// Who listens on a loopback TCP port: LISTEN entries of /proc/net/tcp{,6} and the process
// holding the socket, so the guard talks to gopls' debug server and not to a squatter (#17).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

enum class IpFamily { kIpv4, kIpv6 };

struct IpAddress {
  IpFamily family = IpFamily::kIpv4;
  // Network byte order; an IPv4 address uses the first 4 bytes, the rest stay 0.
  std::array<uint8_t, 16> bytes{};

  // "127.0.0.1", "::1", "::ffff:127.0.0.1", "::" (inet_ntop's spelling).
  std::string text() const;
  bool operator==(const IpAddress&) const = default;
};

// One LISTEN line (state 0A) of /proc/net/tcp or /proc/net/tcp6.
struct TcpListener {
  IpAddress address;
  uint16_t port = 0;
  uid_t uid = 0;       // who created the socket; not necessarily who holds it now
  uint64_t inode = 0;  // what /proc/PID/fd/N links to as "socket:[INODE]"

  // "127.0.0.1:8080", "[::1]:8080".
  std::string endpoint() const;
};

// The parser looks at no more than this many lines of one table, the reader reads no more than
// kMaxTcpTableBytes of it. The kernel lists every listening socket before any connection
// (tcp_seq_start walks the listening hash first), so the bound drops listeners only on a
// machine with thousands of them, while on a server with 100 000 connections a check reads
// 2 MiB instead of 15 MB. A listener past the bound reads as absent: the guard then refuses to
// talk, it never trusts a socket it did not see.
inline constexpr size_t kMaxTcpTableLines = 8192;
// A tcp6 line is 178 bytes, a tcp line 150; 256 leaves room for wider numbers.
inline constexpr size_t kMaxTcpTableBytes = kMaxTcpTableLines * 256;

// The LISTEN entries of the text of /proc/net/tcp or /proc/net/tcp6 (both: the family comes
// from the width of each address, 8 or 32 hex digits). Addresses are printed by the kernel as
// 32-bit words in host byte order, so this decodes them right on the machine that printed
// them. Lines that do not parse are skipped, as are lines of other states, a last line without
// its newline whose inode may be cut short, and everything after the first `maxLines` lines.
// Only text that is not such a table at all (no "sl  local_address" header first) is an error.
Result<std::vector<TcpListener>> parseTcpListeners(std::string_view text,
                                                   size_t maxLines = kMaxTcpTableLines);

// The inode of a /proc/PID/fd link target "socket:[12345]"; nothing for any other target
// ("pipe:[7]", "/dev/null", "socket:[12x]").
std::optional<uint64_t> socketInodeFromFdLink(std::string_view link);

// Among `listeners`, the one a connection to 127.0.0.1:`port` reaches, the way the kernel
// chooses: one bound to 127.0.0.1 itself (or to ::ffff:127.0.0.1), else the wildcard 0.0.0.0,
// else the wildcard :: (dual-stack unless IPV6_V6ONLY, which /proc does not show; a v6-only ::
// shares its port only with a 0.0.0.0 listener, which wins). Failing those, a listener on ::1,
// which answers a client that dialed "localhost" and got ::1 first. Other addresses
// (127.0.0.53, a LAN address) answer no loopback connection. Two listeners of one rank exist
// only with SO_REUSEPORT, which the kernel grants only among sockets of one uid (who could
// ptrace gopls anyway) and gopls does not set; the first one is taken.
std::optional<TcpListener> pickLoopbackListener(const std::vector<TcpListener>& listeners,
                                                uint16_t port);

// pickLoopbackListener over proc/net/tcp and proc/net/tcp6: the guard's own network
// namespace, where its connection goes. No tcp6 (IPv6 disabled) is no IPv6 listener. Nothing
// when nothing answers on that port; an Error when proc/net/tcp cannot be read or is not a
// table. Each read of a table costs the kernel a walk of its whole connection hash (1.5 ms on
// the development VM, however few sockets there are), so tcp6 is not read when tcp has a
// listener on 127.0.0.1 itself: nothing in tcp6 could answer before it.
Result<std::optional<TcpListener>> findLoopbackListener(const SysRoots& roots, uint16_t port);

// Whether one of the descriptors in proc/PID/fd links to "socket:[INODE]". A descriptor closed
// during the scan is skipped; a process that is gone (ENOENT) or another user's (EACCES) is an
// Error naming proc/PID/fd. One readlink per descriptor, none once found.
Result<bool> processHoldsSocket(const SysRoots& roots, pid_t pid, uint64_t inode);

// The first process found holding socket INODE among the first `maxProcesses` of proc, skipping
// the ones whose fd directory cannot be read (other users', vanished). Nothing when none does.
std::optional<pid_t> findSocketHolder(const SysRoots& roots, uint64_t inode,
                                      size_t maxProcesses = 4096);

// Whether the guard may send a request to 127.0.0.1:`port`: the inode of the listening socket a
// connection there reaches when gopls (the unit's MainPID) holds it. Otherwise an Error for the
// log whose message names the endpoint, the socket's uid and inode and, when a scan of
// readable processes finds it, the PID (and name) that holds it:
//   EPERM         someone else listens there ("127.0.0.1:41077 is listened on by PID 4242
//                 (python3, uid 1001, socket inode 99), not by gopls (MainPID 1234); ...")
//   ECONNREFUSED  nothing listens there
//   other errno   proc/net/tcp or proc/MAINPID/fd could not be read (gopls has exited, ...)
// The common case costs one bounded read of proc/net/tcp and one readdir of gopls' fds; only a
// refusal scans other processes.
Result<uint64_t> checkDebugListenerOwner(const SysRoots& roots, uint16_t port, pid_t mainPid);

}  // namespace wslgo
