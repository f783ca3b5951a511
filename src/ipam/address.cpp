// address.cpp — parsing, printing and naming of addresses and prefixes.
#include "address.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>

namespace tartan::ipam {

namespace {

std::optional<std::pair<int, Wide>> parseBare(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  std::array<uint8_t, 16> bytes{};
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), bytes.data()) != 1) return std::nullopt;
    Wide v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | bytes[i];
    return std::pair{4, v};
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes.data()) != 1) return std::nullopt;
  Wide v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 8) | bytes[i];
  return std::pair{6, v};
}

}  // namespace

std::optional<Cidr> parseAddress(std::string_view text) {
  auto bare = parseBare(text);
  if (!bare) return std::nullopt;
  return Cidr{bare->first, bare->second, bare->first == 4 ? 32 : 128};
}

std::optional<Cidr> parseCidr(std::string_view text, bool strict) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return parseAddress(text);
  auto bare = parseBare(text.substr(0, slash));
  if (!bare) return std::nullopt;
  std::string_view digits = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  Cidr cidr{bare->first, bare->second, prefix};
  if (prefix < 0 || prefix > cidr.bits()) return std::nullopt;
  Wide mask = cidr.hostBits() >= 128 ? ~Wide{0} : (Wide{1} << cidr.hostBits()) - 1;
  if ((cidr.base & mask) != 0) {
    if (strict) return std::nullopt;
    cidr.base &= ~mask;
  }
  return cidr;
}

std::string formatAddress(int family, Wide address) {
  std::array<uint8_t, 16> bytes{};
  const int n = family == 4 ? 4 : 16;
  for (int i = n - 1; i >= 0; --i) {
    bytes[i] = static_cast<uint8_t>(address & 0xff);
    address >>= 8;
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), text.data(), text.size());
  return text.data();
}

std::string formatCidr(const Cidr& cidr) {
  return formatAddress(cidr.family, cidr.base) + "/" + std::to_string(cidr.prefix);
}

std::string blockName(const Cidr& cidr) {
  std::string name = formatCidr(cidr);
  for (char& c : name) {
    if (c == '.' || c == ':' || c == '/') c = '-';
  }
  return name;
}

std::string affinityName(std::string_view node, const Cidr& cidr) {
  return std::string(node) + "-" + blockName(cidr);
}

}  // namespace tartan::ipam
