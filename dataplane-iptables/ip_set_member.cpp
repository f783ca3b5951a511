// Canonical IP set members, so that what we want compares equal to what the kernel lists.
#include "tartan/dataplane/iptables/kernel.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tartan::dataplane::iptables {

std::string_view ipSetTypeName(IpSetType type) {
  return type == IpSetType::kNet ? "hash:net" : "hash:ip,port";
}

IpFamily memberFamily(std::string_view member) {
  return member.substr(0, member.find(',')).find(':') == std::string_view::npos ? IpFamily::kV4
                                                                                : IpFamily::kV6;
}

namespace {
// "addr" or "addr/len" -> canonical text ("" if invalid). The kernel stores the network address.
std::string canonicalNet(std::string_view text, bool allowPrefix) {
  auto slash = text.find('/');
  std::string addr(text.substr(0, slash));
  const bool v6 = addr.find(':') != std::string::npos;
  const int bits = v6 ? 128 : 32;
  int len = bits;
  if (slash != std::string_view::npos) {
    if (!allowPrefix) return {};
    auto lenText = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), len);
    if (ec != std::errc() || end != lenText.data() + lenText.size() || len < 0 || len > bits) return {};
  }
  unsigned char bytes[16] = {};
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), bytes) != 1) return {};
  for (int i = len; i < bits; ++i) bytes[i / 8] &= static_cast<unsigned char>(~(0x80u >> (i % 8)));
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, out, sizeof out);
  std::string result = out;
  if (len != bits) result += "/" + std::to_string(len);
  return result;
}
}  // namespace

std::string canonicalMember(std::string_view member, IpSetType type) {
  if (type == IpSetType::kNet) return canonicalNet(member, true);
  auto comma = member.find(',');
  if (comma == std::string_view::npos) return {};
  std::string ip = canonicalNet(member.substr(0, comma), false);
  std::string_view rest = member.substr(comma + 1);
  auto colon = rest.find(':');
  if (ip.empty() || colon == std::string_view::npos) return {};
  std::string proto(rest.substr(0, colon));
  std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return std::tolower(c); });
  if (proto != "tcp" && proto != "udp" && proto != "sctp" && proto != "udplite") return {};
  auto portText = rest.substr(colon + 1);
  int port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port < 0 || port > 65535) return {};
  return ip + "," + proto + ":" + std::to_string(port);
}

}  // namespace tartan::dataplane::iptables

namespace tartan::dataplane::iptables {

InterfaceAddresses listInterfaceAddresses() {
  InterfaceAddresses out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    const int family = a->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr =
        family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr);
    if (inet_ntop(family, addr, text, sizeof text) != nullptr) out[a->ifa_name].insert(text);
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace tartan::dataplane::iptables
