// Raw SCTP INIT, ICMP echo and a held TCP connection, each from inside a pod namespace.
#include "raw_probes.hpp"

#include "support/netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tartan::conformance {
namespace tt = tartan::test;

namespace {

void enterNetns(const std::string& name) {
  const int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("no namespace " + name);
  const int rc = ::setns(fd, CLONE_NEWNET);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("setns " + name + ": " + std::strerror(errno));
}

// A socket made inside `netns`; it stays there whichever thread uses it later.
int socketIn(const std::string& netns, int domain, int type, int protocol) {
  int fd = -1;
  std::string error;
  std::thread maker([&] {
    try {
      enterNetns(netns);
      fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
      if (fd < 0) error = std::string("socket: ") + std::strerror(errno);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  maker.join();
  if (fd < 0) throw std::runtime_error(error);
  return fd;
}

sockaddr_in address(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + ip);
  return a;
}

// An IPv4 or IPv6 socket address, by the text's form.
struct AnyAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

AnyAddress anyAddress(const std::string& ip, uint16_t port) {
  AnyAddress a;
  if (ip.find(':') == std::string::npos) {
    const sockaddr_in v4 = address(ip, port);
    std::memcpy(&a.storage, &v4, sizeof v4);
    a.length = sizeof v4;
    return a;
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  if (::inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr) != 1) throw std::runtime_error("bad address " + ip);
  std::memcpy(&a.storage, &v6, sizeof v6);
  a.length = sizeof v6;
  return a;
}

// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: a few packets per test.
uint32_t crc32c(const uint8_t* data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Common header (12 bytes) + INIT chunk (20 bytes), RFC 9260 §3.1 and §3.3.2. The verification
// tag of a packet carrying INIT is 0 (§8.5.1), which conntrack's SCTP tracker checks too.
std::array<uint8_t, 32> sctpInit(uint16_t srcPort, uint16_t dstPort, uint32_t initiateTag) {
  std::array<uint8_t, 32> p{};
  put16(&p[0], srcPort);
  put16(&p[2], dstPort);
  // p[4..7]: verification tag 0; p[8..11]: checksum, zero while it is computed.
  p[12] = 1;  // chunk type INIT
  p[13] = 0;  // flags
  put16(&p[14], 20);
  put32(&p[16], initiateTag);
  put32(&p[20], 65535);                      // a_rwnd
  put16(&p[24], 1);                          // outbound streams
  put16(&p[26], 1);                          // inbound streams
  put32(&p[28], initiateTag ^ 0x5a5a5a5au);  // initial TSN
  // The CRC32c goes on the wire least significant byte first (RFC 9260 Appendix A; Linux keeps
  // it as __le32).
  const uint32_t crc = crc32c(p.data(), p.size());
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<uint8_t>(crc >> (8 * i));
  return p;
}

uint16_t icmpChecksum(const uint8_t* data, size_t size) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < size; i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (size % 2) sum += uint32_t{data[size - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint32_t nonce() {
  static std::mt19937 rng(std::random_device{}());
  return rng() | 1u;
}

}  // namespace

bool sctpInitArrives(const std::string& fromNetns, const std::string& fromIp, const std::string& toNetns,
                     const std::string& toIp, uint16_t dstPort, int timeoutMs) {
  const int listener = socketIn(toNetns, AF_INET, SOCK_RAW, IPPROTO_SCTP);
  const int sender = socketIn(fromNetns, AF_INET, SOCK_RAW, IPPROTO_SCTP);
  const uint32_t tag = nonce();
  const uint16_t srcPort = static_cast<uint16_t>(40000 + tag % 20000);
  const auto packet = sctpInit(srcPort, dstPort, tag);
  const sockaddr_in to = address(toIp, 0);
  in_addr from{};
  ::inet_pton(AF_INET, fromIp.c_str(), &from);

  bool arrived = false;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::milliseconds(timeoutMs);
  constexpr int kSends = 3;  // one lost to a neighbour miss must not read as a verdict
  for (int sent = 0; !arrived && std::chrono::steady_clock::now() < deadline;) {
    if (sent < kSends) {
      if (::sendto(sender, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof to) < 0) {
        const std::string error = std::strerror(errno);
        ::close(listener);
        ::close(sender);
        throw std::runtime_error("sendto SCTP INIT: " + error);
      }
      ++sent;
    }
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs / kSends) != 1) continue;
    uint8_t buf[2048];
    const ssize_t n = ::recv(listener, buf, sizeof buf, 0);
    if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
    const auto* ip = reinterpret_cast<const iphdr*>(buf);
    const size_t ihl = ip->ihl * 4u;
    if (ip->protocol != IPPROTO_SCTP || ip->saddr != from.s_addr || static_cast<size_t>(n) < ihl + 32)
      continue;
    const uint8_t* sctp = buf + ihl;
    const uint16_t gotDst = static_cast<uint16_t>((sctp[2] << 8) | sctp[3]);
    if (gotDst == dstPort && sctp[12] == 1 && get32(sctp + 16) == tag) arrived = true;
  }
  ::close(listener);
  ::close(sender);
  return arrived;
}

// ICMPv6 echo (RFC 4443 §4.1): on a raw IPPROTO_ICMPV6 socket the kernel fills in the checksum
// (RFC 3542 §3.1) and hands up the ICMPv6 message without the IPv6 header.
bool ping6Replies(const std::string& fromNetns, const std::string& toIp, int timeoutMs) {
  const int fd = socketIn(fromNetns, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  const AnyAddress to = anyAddress(toIp, 0);
  const uint16_t id = static_cast<uint16_t>(nonce());
  bool replied = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  for (uint16_t seq = 1; !replied && std::chrono::steady_clock::now() < deadline && seq <= 3; ++seq) {
    uint8_t req[16] = {128, 0};  // echo request
    put16(&req[4], id);
    put16(&req[6], seq);
    std::memcpy(&req[8], "tartan!!", 8);
    if (::sendto(fd, req, sizeof req, 0, to.get(), to.length) < 0) break;
    const auto waitUntil =
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs / 3));
    while (!replied && std::chrono::steady_clock::now() < waitUntil) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(waitUntil - std::chrono::steady_clock::now())
              .count();
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 1))) != 1) continue;
      uint8_t buf[1500];
      sockaddr_in6 from{};
      socklen_t fromLength = sizeof from;
      const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromLength);
      const auto* want = reinterpret_cast<const sockaddr_in6*>(to.get());
      if (n < 8 || std::memcmp(&from.sin6_addr, &want->sin6_addr, sizeof from.sin6_addr) != 0) continue;
      if (buf[0] == 129 && ((buf[4] << 8) | buf[5]) == id) replied = true;  // echo reply
    }
  }
  ::close(fd);
  return replied;
}

bool pingReplies(const std::string& fromNetns, const std::string& toIp, int timeoutMs) {
  if (toIp.find(':') != std::string::npos) return ping6Replies(fromNetns, toIp, timeoutMs);
  const int fd = socketIn(fromNetns, AF_INET, SOCK_RAW, IPPROTO_ICMP);
  const sockaddr_in to = address(toIp, 0);
  const uint16_t id = static_cast<uint16_t>(nonce());
  bool replied = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  for (uint16_t seq = 1; !replied && std::chrono::steady_clock::now() < deadline && seq <= 3; ++seq) {
    uint8_t req[16] = {ICMP_ECHO, 0};
    put16(&req[4], id);
    put16(&req[6], seq);
    std::memcpy(&req[8], "tartan!!", 8);
    put16(&req[2], icmpChecksum(req, sizeof req));
    if (::sendto(fd, req, sizeof req, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) break;
    const auto waitUntil =
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs / 3));
    while (!replied && std::chrono::steady_clock::now() < waitUntil) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(waitUntil - std::chrono::steady_clock::now())
              .count();
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 1))) != 1) continue;
      uint8_t buf[1500];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
      const auto* ip = reinterpret_cast<const iphdr*>(buf);
      const size_t ihl = ip->ihl * 4u;
      if (static_cast<size_t>(n) < ihl + 8 || ip->saddr != to.sin_addr.s_addr) continue;
      const uint8_t* icmp = buf + ihl;
      if (icmp[0] == ICMP_ECHOREPLY && ((icmp[4] << 8) | icmp[5]) == id) replied = true;
    }
  }
  ::close(fd);
  return replied;
}

bool tcpConnects(const std::string& fromNetns, const std::string& toIp, uint16_t port, int timeoutMs) {
  const AnyAddress to = anyAddress(toIp, port);
  const int fd = socketIn(fromNetns, to.family(), SOCK_STREAM | SOCK_NONBLOCK, 0);
  bool connected = false;
  if (::connect(fd, to.get(), to.length) == 0) {
    connected = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    connected =
        ::poll(&p, 1, timeoutMs) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  ::close(fd);
  return connected;
}

void spoofedSyn(const std::string& fromNetns, const std::string& spoofedIp, uint16_t srcPort,
                const std::string& toIp, uint16_t port) {
  const bool v6 = spoofedIp.find(':') != std::string::npos;
  const std::string address = spoofedIp + (v6 ? "/128" : "/32");
  const auto added = tt::shell("ip -n " + fromNetns + (v6 ? " -6" : "") + " addr add " + address +
                               " dev eth0" + (v6 ? " nodad" : "") + " 2>&1");
  if (added.exitCode != 0) throw std::runtime_error("ip addr add " + address + ": " + added.output);
  const AnyAddress from = anyAddress(spoofedIp, srcPort);
  const AnyAddress to = anyAddress(toIp, port);
  const int fd = socketIn(fromNetns, to.family(), SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool bound = ::bind(fd, from.get(), from.length) == 0;
  const std::string bindError = bound ? "" : std::strerror(errno);
  if (bound && ::connect(fd, to.get(), to.length) != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, 500);  // the SYN-ACK, if any, goes to the address's real owner
  }
  ::close(fd);
  tt::shell("ip -n " + fromNetns + (v6 ? " -6" : "") + " addr del " + address + " dev eth0 2>&1");
  if (!bound) throw std::runtime_error("bind " + spoofedIp + ": " + bindError);
}

HeldConnection::HeldConnection(const std::string& fromNetns, const std::string& toIp, uint16_t port) {
  const AnyAddress to = anyAddress(toIp, port);
  fd_ = socketIn(fromNetns, to.family(), SOCK_STREAM, 0);
  timeval timeout{2, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd_, to.get(), to.length) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("connect to " + toIp + ":" + std::to_string(port) + ": " + error);
  }
}

HeldConnection::~HeldConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HeldConnection::roundTrip(int timeoutMs) {
  const std::string line = "held " + std::to_string(++counter_) + "\n";
  if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) return false;
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (got.size() < line.size()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) != 1) return false;
    char buf[256];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return got == line;
}

}  // namespace tartan::conformance
