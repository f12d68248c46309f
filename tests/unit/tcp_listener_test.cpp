#include "lib/tcp_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/child_process.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/live.h"
#include "tests/unit/temp_dir.h"

namespace wslgo {
namespace {

namespace fs = std::filesystem;

// The pids, ports and inodes of the capture in tests/fixtures/net (see its README).
constexpr pid_t kGoplsPid = 9408;
constexpr pid_t kOtherUserPid = 9409;
constexpr uint16_t kGoplsDebugPort = 41077;
constexpr uint64_t kGoplsDebugInode = 702076;

constexpr std::string_view kTcpHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n";
constexpr std::string_view kTcp6Header =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

IpAddress ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return IpAddress{IpFamily::kIpv4, {a, b, c, d}};
}

IpAddress ipv6(std::string_view text) {
  IpAddress address{IpFamily::kIpv6, {}};
  REQUIRE(::inet_pton(AF_INET6, std::string(text).c_str(), address.bytes.data()) == 1);
  return address;
}

TcpListener listener(IpAddress address, uint16_t port, uint64_t inode) {
  return TcpListener{.address = address, .port = port, .uid = 1000, .inode = inode};
}

std::vector<TcpListener> parseFixture(const std::string& name) {
  auto listeners = parseTcpListeners(test::readFixture("net/" + name));
  REQUIRE(listeners.ok());
  return *listeners;
}

// A fake proc root: the captured tables and the captured fd links of gopls and of the other
// user's listener, as symlinks whose targets are the link texts ("socket:[702076]").
class FakeProc {
 public:
  FakeProc() : dir_("tcp-listener-test") {
    fs::create_directories(dir_ / "net");
    fs::copy_file(test::fixturePath("net/tcp-6.18.txt"), dir_ / "net/tcp");
    fs::copy_file(test::fixturePath("net/tcp6-6.18.txt"), dir_ / "net/tcp6");
    addFdLinks(kGoplsPid, "net/fd-gopls.txt");
    addFdLinks(kOtherUserPid, "net/fd-other-user.txt");
  }

  SysRoots roots() const { return SysRoots{.proc = dir_.path().string(), .sys = "/sys"}; }
  std::string path(const std::string& relative) const { return dir_ / relative; }

  void write(const std::string& relative, std::string_view text) const {
    std::ofstream out(path(relative));
    out << text;
  }

  void addFdLinks(pid_t pid, const std::string& fixture) const {
    const fs::path fdDir = dir_.path() / std::to_string(pid) / "fd";
    fs::create_directories(fdDir);
    std::istringstream lines(test::readFixture(fixture));
    std::string fd;
    std::string target;
    while (lines >> fd && std::getline(lines >> std::ws, target)) {
      fs::create_symlink(target, fdDir / fd);
    }
  }

 private:
  test::TempDir dir_;
};

// A socket listening on `address` with a port the kernel picks; closed on destruction.
class LiveListener {
 public:
  LiveListener(int family, std::string_view address) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&storage);
      in->sin_family = AF_INET;
      ::inet_pton(AF_INET, std::string(address).c_str(), &in->sin_addr);
      length = sizeof *in;
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
      in6->sin6_family = AF_INET6;
      ::inet_pton(AF_INET6, std::string(address).c_str(), &in6->sin6_addr);
      length = sizeof *in6;
    }
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&storage)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  }
  ~LiveListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  LiveListener(const LiveListener&) = delete;
  LiveListener& operator=(const LiveListener&) = delete;

  bool bound() const { return fd_ >= 0; }
  bool listen() const { return ::listen(fd_, 4) == 0; }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

using test::killAndReap;
using test::reapedChildPid;
using test::sleepingChild;

TEST_CASE("a captured /proc/net/tcp gives its LISTEN lines with address, port, uid and inode",
          "[tcp_listener]") {
  std::vector<TcpListener> listeners = parseFixture("tcp-6.18.txt");
  // Two established lines of the connection to the debug server are not listeners.
  REQUIRE(listeners.size() == 5);
  CHECK(listeners[0].endpoint() == "0.0.0.0:2024");
  CHECK(listeners[0].inode == 104);
  CHECK(listeners[1].endpoint() == "127.0.0.1:41083");
  CHECK(listeners[1].uid == 65534);
  CHECK(listeners[1].inode == 701225);
  CHECK(listeners[2].address == ipv4(127, 0, 0, 1));
  CHECK(listeners[2].port == kGoplsDebugPort);
  CHECK(listeners[2].uid == 0);
  CHECK(listeners[2].inode == kGoplsDebugInode);
  CHECK(listeners[3].endpoint() == "0.0.0.0:41081");
  CHECK(listeners[4].endpoint() == "127.0.0.53:41082");
  CHECK(listeners[4].inode == 702061);
}

TEST_CASE("a captured /proc/net/tcp6 decodes ::1, v4-mapped and wildcard listeners",
          "[tcp_listener]") {
  std::vector<TcpListener> listeners = parseFixture("tcp6-6.18.txt");
  // A TIME_WAIT line (inode 0, fewer fields) and two established ones are left out.
  REQUIRE(listeners.size() == 3);
  CHECK(listeners[0].address == ipv6("::1"));
  CHECK(listeners[0].endpoint() == "[::1]:41078");
  CHECK(listeners[0].inode == 702057);
  CHECK(listeners[1].address == ipv6("::ffff:127.0.0.1"));
  CHECK(listeners[1].endpoint() == "[::ffff:127.0.0.1]:41080");
  CHECK(listeners[1].inode == 702059);
  CHECK(listeners[2].address == ipv6("::"));
  CHECK(listeners[2].endpoint() == "[::]:41079");
  CHECK(listeners[2].address.family == IpFamily::kIpv6);
}

TEST_CASE("hand-made lines decode each 32-bit word of an address in host byte order",
          "[tcp_listener]") {
  std::string table(kTcp6Header);
  // fe80::1234:5678:9abc:def0 port 8080, lowercase hex, then 192.168.1.10:22 in a tcp table line.
  table +=
      "   0: 000080FE0000000078563412F0DEBC9A:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 "
      "0\n";
  table +=
      "   1: 0a01a8c0:0016 00000000:0000 0a 00000000:00000000 00:00000000 00000000  1001        0 "
      "4343 1 0000000000000000 100 0 0 10 0\n";
  auto listeners = parseTcpListeners(table);
  REQUIRE(listeners.ok());
  REQUIRE(listeners->size() == 2);
  CHECK((*listeners)[0].address == ipv6("fe80::1234:5678:9abc:def0"));
  CHECK((*listeners)[0].endpoint() == "[fe80::1234:5678:9abc:def0]:8080");
  CHECK((*listeners)[0].uid == 1000);
  CHECK((*listeners)[0].inode == 4242);
  CHECK((*listeners)[1].endpoint() == "192.168.1.10:22");
  CHECK((*listeners)[1].uid == 1001);
}

TEST_CASE("malformed lines of a tcp table are skipped and the good ones kept", "[tcp_listener]") {
  const std::string good =
      "   9: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
      "555 1 0000000000000000 100 0 0 10 0\n";
  const std::vector<std::string> bad = {
      "\n",
      "garbage\n",
      std::string("\x01\x02\xff\0\n", 5),
      // Cut after the uid: no inode.
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000\n",
      // 7 and 9 hex digits of address, a 5-digit port, a port without digits.
      "   0: 100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      "   0: 0100007F0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      "   0: 0100007F:1F900 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      "   0: 0100007F: 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      // Not hex, a sign, "0x".
      "   0: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      "   0: -100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      "   0: 0x00007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      // A remote address of the other family, or none.
      "   0: 0100007F:1F90 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 1 1\n",
      "   0: 0100007F:1F90 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      // A one-digit state, a three-digit one, a state that is not a number.
      "   0: 0100007F:1F90 00000000:0000 A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      "   0: 0100007F:1F90 00000000:0000 00A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      "   0: 0100007F:1F90 00000000:0000 LI 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      // A uid or an inode that is not a whole decimal number, or does not fit.
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 -1 0 1 1\n",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1e3 0 1 1\n",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 "
      "4294967296 0 1 1\n",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12x 1\n",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
      "18446744073709551616 1\n",
      // No "N:" slot.
      "   0 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
      ": 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n",
  };
  for (const std::string& line : bad) {
    INFO("line: " << line);
    auto alone = parseTcpListeners(std::string(kTcpHeader) + line);
    REQUIRE(alone.ok());
    CHECK(alone->empty());
    auto between = parseTcpListeners(std::string(kTcpHeader) + good + line + good);
    REQUIRE(between.ok());
    CHECK(between->size() == 2);
  }
}

TEST_CASE("a last line cut short is kept only when the inode is followed by more fields",
          "[tcp_listener]") {
  const std::string line =
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
      "699147 2 0000000000000000 100 0 0 10 0";
  auto whole = parseTcpListeners(std::string(kTcpHeader) + line);
  REQUIRE(whole.ok());
  REQUIRE(whole->size() == 1);
  CHECK((*whole)[0].inode == 699147);
  // "699147" cut to "6991" would name another socket.
  for (size_t cut : {size_t{10}, line.find(" 699147") + 5, line.find(" 699147") + 7}) {
    INFO("cut at " << cut);
    auto truncated = parseTcpListeners(std::string(kTcpHeader) + line.substr(0, cut));
    REQUIRE(truncated.ok());
    CHECK(truncated->empty());
  }
}

TEST_CASE("text that is not a tcp table is an error, not an empty list", "[tcp_listener]") {
  CHECK_FALSE(parseTcpListeners("").ok());
  auto meminfo = parseTcpListeners("MemTotal:       16318412 kB\nMemFree:         1 kB\n");
  REQUIRE_FALSE(meminfo.ok());
  CHECK(meminfo.error().code == EINVAL);
  CHECK_THAT(meminfo.error().message, Catch::Contains("/proc/net/tcp"));
  auto headerOnly = parseTcpListeners(kTcp6Header);
  REQUIRE(headerOnly.ok());
  CHECK(headerOnly->empty());
}

TEST_CASE("the parser reads no further than its line bound", "[tcp_listener]") {
  std::string table(kTcpHeader);
  for (int i = 0; i < 100; ++i) {
    table += "   " + std::to_string(i) +
             ": 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 " +
             std::to_string(1000 + i) + " 1 0 100 0 0 10 0\n";
  }
  CHECK(parseTcpListeners(table)->size() == 100);
  auto bounded = parseTcpListeners(table, 11);  // the header and ten lines
  REQUIRE(bounded.ok());
  REQUIRE(bounded->size() == 10);
  CHECK(bounded->back().inode == 1009);
}

TEST_CASE("an fd link names a socket inode only in the exact form socket:[N]", "[tcp_listener]") {
  CHECK(socketInodeFromFdLink("socket:[12345]") == 12345u);
  CHECK(socketInodeFromFdLink("socket:[0]") == 0u);
  CHECK(socketInodeFromFdLink("socket:[18446744073709551615]") == 18446744073709551615u);
  for (std::string_view link :
       {"", "socket:[]", "socket:[12345", "socket:12345]", "socket:[12x]", "socket:[-1]",
        "socket:[+1]", "socket:[ 1]", "socket:[1] ", "socket:[18446744073709551616]",
        "pipe:[12345]", "anon_inode:[eventpoll]", "/dev/null", "/tmp/socket:[1]"}) {
    INFO("link: " << link);
    CHECK_FALSE(socketInodeFromFdLink(link).has_value());
  }
}

TEST_CASE("the loopback listener is the one a connection to 127.0.0.1 reaches", "[tcp_listener]") {
  const TcpListener exact = listener(ipv4(127, 0, 0, 1), 80, 1);
  const TcpListener mapped = listener(ipv6("::ffff:127.0.0.1"), 80, 2);
  const TcpListener any4 = listener(ipv4(0, 0, 0, 0), 80, 3);
  const TcpListener any6 = listener(ipv6("::"), 80, 4);
  const TcpListener loopback6 = listener(ipv6("::1"), 80, 5);
  const TcpListener resolver = listener(ipv4(127, 0, 0, 53), 80, 6);
  const TcpListener lan = listener(ipv4(192, 168, 1, 10), 80, 7);
  const TcpListener otherPort = listener(ipv4(127, 0, 0, 1), 81, 8);

  auto inode = [](std::vector<TcpListener> listeners) -> uint64_t {
    auto picked = pickLoopbackListener(listeners, 80);
    return picked ? picked->inode : 0;
  };
  CHECK(inode({loopback6, any6, any4, exact}) == 1);
  CHECK(inode({loopback6, any6, mapped, any4}) == 2);
  CHECK(inode({loopback6, any6, any4}) == 3);
  CHECK(inode({loopback6, any6}) == 4);
  CHECK(inode({resolver, lan, otherPort, loopback6}) == 5);
  CHECK(inode({resolver, lan, otherPort}) == 0);
  CHECK(inode({}) == 0);
}

TEST_CASE("in a fake proc tree, gopls holding its debug listener passes the check",
          "[tcp_listener]") {
  FakeProc proc;
  auto found = findLoopbackListener(proc.roots(), kGoplsDebugPort);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->inode == kGoplsDebugInode);
  CHECK(processHoldsSocket(proc.roots(), kGoplsPid, kGoplsDebugInode).valueOr(false));
  CHECK_FALSE(processHoldsSocket(proc.roots(), kOtherUserPid, kGoplsDebugInode).valueOr(true));

  auto check = checkDebugListenerOwner(proc.roots(), kGoplsDebugPort, kGoplsPid);
  INFO((check.ok() ? std::string() : check.error().describe()));
  REQUIRE(check.ok());
  CHECK(*check == kGoplsDebugInode);  // the socket it verified, for the caller to re-check
}

TEST_CASE("in a fake proc tree, another user's listener is refused naming port, uid, inode and PID",
          "[tcp_listener]") {
  FakeProc proc;
  proc.write(std::to_string(kOtherUserPid) + "/status", "Name:\tpython3\nPid:\t9409\n");
  CHECK(findSocketHolder(proc.roots(), 701225) == kOtherUserPid);
  CHECK_FALSE(findSocketHolder(proc.roots(), 701225, 0).has_value());

  auto check = checkDebugListenerOwner(proc.roots(), 41083, kGoplsPid);
  REQUIRE_FALSE(check.ok());
  CHECK(check.error().code == EPERM);
  CHECK(check.error().message ==
        "127.0.0.1:41083 is listened on by PID 9409 (python3, uid 65534, socket inode 701225), "
        "not by gopls (MainPID 9408); the guard does not talk to it");
}

TEST_CASE("in a fake proc tree, a listener nobody visible holds is refused all the same",
          "[tcp_listener]") {
  FakeProc proc;
  // The :: and ::1 listeners of the capture belonged to the capture script, not captured here.
  auto wildcard = checkDebugListenerOwner(proc.roots(), 41079, kGoplsPid);
  REQUIRE_FALSE(wildcard.ok());
  CHECK(wildcard.error().code == EPERM);
  CHECK(wildcard.error().message ==
        "[::]:41079, which answers 127.0.0.1:41079, is listened on by a process the guard cannot "
        "see (uid 0, socket inode 702058), not by gopls (MainPID 9408); the guard does not talk "
        "to it");
  auto loopback6 = checkDebugListenerOwner(proc.roots(), 41078, kGoplsPid);
  REQUIRE_FALSE(loopback6.ok());
  CHECK(loopback6.error().code == EPERM);
  CHECK_THAT(loopback6.error().message, Catch::StartsWith("[::1]:41078 is listened on by"));
}

TEST_CASE("in a fake proc tree, a port nobody listens on on loopback is ECONNREFUSED",
          "[tcp_listener]") {
  FakeProc proc;
  // 41082 is listened on at 127.0.0.53 only, which a connection to 127.0.0.1 does not reach.
  for (uint16_t port : {uint16_t{41082}, uint16_t{1}}) {
    auto check = checkDebugListenerOwner(proc.roots(), port, kGoplsPid);
    REQUIRE_FALSE(check.ok());
    CHECK(check.error().code == ECONNREFUSED);
    CHECK_THAT(check.error().message, Catch::Contains("127.0.0.1:" + std::to_string(port)));
    CHECK_THAT(check.error().message, Catch::Contains("MainPID 9408"));
  }
}

TEST_CASE("in a fake proc tree, a vanished MainPID or a missing table is an error naming the path",
          "[tcp_listener]") {
  FakeProc proc;
  auto vanished = checkDebugListenerOwner(proc.roots(), kGoplsDebugPort, 31337);
  REQUIRE_FALSE(vanished.ok());
  CHECK(vanished.error().code == ENOENT);
  CHECK(vanished.error().path == proc.path("31337/fd"));
  CHECK_THAT(vanished.error().message, Catch::Contains("exited"));

  // No tcp6 (IPv6 disabled) is no IPv6 listener; no tcp is an error.
  fs::remove(proc.path("net/tcp6"));
  CHECK(checkDebugListenerOwner(proc.roots(), kGoplsDebugPort, kGoplsPid).ok());
  fs::remove(proc.path("net/tcp"));
  auto noTable = checkDebugListenerOwner(proc.roots(), kGoplsDebugPort, kGoplsPid);
  REQUIRE_FALSE(noTable.ok());
  CHECK(noTable.error().code == ENOENT);
  CHECK(noTable.error().path == proc.path("net/tcp"));

  proc.write("net/tcp", "MemTotal: 1 kB\n");
  auto notTable = checkDebugListenerOwner(proc.roots(), kGoplsDebugPort, kGoplsPid);
  REQUIRE_FALSE(notTable.ok());
  CHECK(notTable.error().code == EINVAL);
  CHECK(notTable.error().path == proc.path("net/tcp"));
}

TEST_CASE("tcp6 is not read when tcp has a listener on 127.0.0.1 itself", "[tcp_listener]") {
  FakeProc proc;
  proc.write("net/tcp6", "not a table\n");
  // Nothing in tcp6 could answer 127.0.0.1:41077 before gopls' own 127.0.0.1 listener.
  CHECK(checkDebugListenerOwner(proc.roots(), kGoplsDebugPort, kGoplsPid).ok());
  // 41079 has no 127.0.0.1 listener in tcp, so tcp6 is read, and refused.
  auto wildcard = checkDebugListenerOwner(proc.roots(), 41079, kGoplsPid);
  REQUIRE_FALSE(wildcard.ok());
  CHECK(wildcard.error().code == EINVAL);
  CHECK(wildcard.error().path == proc.path("net/tcp6"));
}

TEST_CASE("the reader reads no more than its byte bound of a huge table", "[tcp_listener]") {
  FakeProc proc;
  // A listener past kMaxTcpTableBytes of established lines reads as absent: refused, not trusted.
  std::string table(kTcpHeader);
  const std::string established =
      "   0: 0100007F:B022 0100007F:A075 01 00000000:00000000 00:00000000 00000000     0        0 "
      "1 1 0000000000000000 20 4 14 11 -1\n";
  while (table.size() <= kMaxTcpTableBytes) table += established;
  table +=
      "   1: 0100007F:A075 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "702076 2 0000000051d1c793 100 0 0 10 0\n";
  proc.write("net/tcp", table);
  auto check = checkDebugListenerOwner(proc.roots(), kGoplsDebugPort, kGoplsPid);
  REQUIRE_FALSE(check.ok());
  CHECK(check.error().code == ECONNREFUSED);
}

TEST_CASE("live: the test process holding a listener on 127.0.0.1 passes the check",
          "[tcp_listener][live]") {
  pid_t child = sleepingChild();  // forked first, so it does not inherit the socket
  LiveListener socket(AF_INET, "127.0.0.1");
  REQUIRE(socket.bound());
  REQUIRE(socket.listen());
  const SysRoots roots;

  auto mine = checkDebugListenerOwner(roots, socket.port(), ::getpid());
  INFO((mine.ok() ? std::string() : mine.error().describe()));
  CHECK(mine.ok());

  auto other = checkDebugListenerOwner(roots, socket.port(), child);
  killAndReap(child);
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == EPERM);
  const std::string& message = other.error().message;
  CHECK_THAT(message, Catch::StartsWith("127.0.0.1:" + std::to_string(socket.port()) +
                                        " is listened on by PID " + std::to_string(::getpid())));
  CHECK_THAT(message, Catch::Contains("uid " + std::to_string(::geteuid())));
  CHECK_THAT(message, Catch::Contains("not by gopls (MainPID " + std::to_string(child) + ")"));

  pid_t gone = reapedChildPid();
  auto vanished = checkDebugListenerOwner(roots, socket.port(), gone);
  REQUIRE_FALSE(vanished.ok());
  CHECK(vanished.error().code == ENOENT);
  CHECK(vanished.error().path == "/proc/" + std::to_string(gone) + "/fd");
}

TEST_CASE("live: a port bound but not listened on is ECONNREFUSED", "[tcp_listener][live]") {
  // Holding the binding keeps anyone else off 127.0.0.1 and the wildcards for that port.
  LiveListener socket(AF_INET, "127.0.0.1");
  REQUIRE(socket.bound());
  auto check = checkDebugListenerOwner(SysRoots{}, socket.port(), ::getpid());
  REQUIRE_FALSE(check.ok());
  CHECK(check.error().code == ECONNREFUSED);
  CHECK_THAT(check.error().message, Catch::Contains("127.0.0.1:" + std::to_string(socket.port())));
}

TEST_CASE("live: a listener on ::1 is found in tcp6 and its holder checked",
          "[tcp_listener][live]") {
  LiveListener socket(AF_INET6, "::1");
  if (!socket.bound()) WSLGO_SKIP_LIVE_TEST("no IPv6 loopback (::1) on this machine");
  REQUIRE(socket.listen());
  auto found = findLoopbackListener(SysRoots{}, socket.port());
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->address.text() == "::1");
  CHECK(processHoldsSocket(SysRoots{}, ::getpid(), (*found)->inode).valueOr(false));
  CHECK(checkDebugListenerOwner(SysRoots{}, socket.port(), ::getpid()).ok());
}

}  // namespace
}  // namespace wslgo
