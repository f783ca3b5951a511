#include "types.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace tartan::bgp {

Address Address::v4(std::uint32_t hostOrder) {
  Address a;
  a.family = Afi::kIpv4;
  a.bytes[0] = static_cast<std::uint8_t>(hostOrder >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(hostOrder >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(hostOrder >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(hostOrder);
  return a;
}

Address Address::v6(const std::array<std::uint8_t, 16>& bytes) {
  Address a;
  a.family = Afi::kIpv6;
  a.bytes = bytes;
  return a;
}

std::optional<Address> Address::parse(std::string_view text) {
  std::string s(text);
  Address a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = Afi::kIpv4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = Afi::kIpv6;
    return a;
  }
  return std::nullopt;
}

std::uint32_t Address::v4HostOrder() const {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
         bytes[3];
}

std::string Address::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Afi::kIpv4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

Prefix::Prefix(const Address& address, std::uint8_t length) : address_(address), length_(length) {
  const std::size_t maxBits = address_.size() * 8;
  if (length_ > maxBits) length_ = static_cast<std::uint8_t>(maxBits);
  for (std::size_t i = 0; i < 16; ++i) {
    const std::size_t bitsHere = length_ > i * 8 ? std::min<std::size_t>(8, length_ - i * 8) : 0;
    const auto mask = static_cast<std::uint8_t>(bitsHere == 0 ? 0 : 0xffu << (8 - bitsHere));
    address_.bytes[i] &= mask;
  }
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = Address::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const auto lengthText = text.substr(slash + 1);
  if (lengthText.empty() || lengthText.size() > 3) return std::nullopt;
  unsigned length = 0;
  for (char c : lengthText) {
    if (c < '0' || c > '9') return std::nullopt;
    length = length * 10 + static_cast<unsigned>(c - '0');
  }
  if (length > address->size() * 8) return std::nullopt;
  return Prefix(*address, static_cast<std::uint8_t>(length));
}

std::string Prefix::toString() const { return address_.toString() + "/" + std::to_string(length_); }

std::size_t hashBytes(const void* data, std::size_t size, std::size_t seed) {
  // FNV-1a: good enough for table keys, and stable across runs.
  std::uint64_t h = 1469598103934665603ull ^ seed;
  const auto* p = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

}  // namespace tartan::bgp
