// TCP_MD5SIG and GTSM socket options (see socket_options.hpp).
#include "socket_options.hpp"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tartan::bgp::speaker {
namespace {

Error sysError(const char* what, const Address& peer) {
  return makeError("peer " + peer.toString(), what, std::strerror(errno));
}

}  // namespace

Result<void> setTcpMd5(int fd, const Address& peer, const std::string& password) {
  struct tcp_md5sig sig {};
  if (password.size() > TCP_MD5SIG_MAXKEYLEN)
    return makeError("peer " + peer.toString(), "password", "longer than 80 bytes");
  if (peer.family == Afi::kIpv4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, peer.bytes.data(), 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, peer.bytes.data(), 16);
  }
  sig.tcpm_keylen = static_cast<std::uint16_t>(password.size());
  std::memcpy(sig.tcpm_key, password.data(), password.size());
  // A v4 peer on a dual-stack (v6) listening socket is keyed by its v4-mapped address.
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (peer.family == Afi::kIpv4 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
      local.ss_family == AF_INET6) {
    sockaddr_in6 mapped{};
    mapped.sin6_family = AF_INET6;
    mapped.sin6_addr.s6_addr[10] = 0xff;
    mapped.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&mapped.sin6_addr.s6_addr[12], peer.bytes.data(), 4);
    std::memcpy(&sig.tcpm_addr, &mapped, sizeof(mapped));
  }
  if (::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
    if (password.empty() && errno == ENOENT) return {};
    return sysError("TCP_MD5SIG", peer);
  }
  return {};
}

Result<void> setGtsm(int fd, Afi family, int hops) {
  const int ttl = 255;
  const int minTtl = std::max(1, 256 - hops);  // RFC 5082 §3: accept TTL >= 255 - (hops - 1)
  Address any;
  any.family = family;
  if (family == Afi::kIpv4) {
    if (::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) != 0) return sysError("IP_TTL", any);
    if (::setsockopt(fd, IPPROTO_IP, IP_MINTTL, &minTtl, sizeof(minTtl)) != 0)
      return sysError("IP_MINTTL", any);
  } else {
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) != 0)
      return sysError("IPV6_UNICAST_HOPS", any);
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &minTtl, sizeof(minTtl)) != 0)
      return sysError("IPV6_MINHOPCOUNT", any);
  }
  return {};
}

}  // namespace tartan::bgp::speaker
