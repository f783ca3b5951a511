// bgp/types.hpp — the small value types every part of the BGP speaker shares.
//
// Address and Prefix are compact, trivially copyable values (18 bytes) so that a table of a
// million prefixes costs little more than the prefixes themselves. They are pure values: no
// I/O, no allocation, freely copied between threads.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tartan::bgp {

// Address Family Identifiers and Subsequent AFIs we speak (RFC 4760 §3, IANA registries).
enum class Afi : std::uint16_t { kIpv4 = 1, kIpv6 = 2 };
enum class Safi : std::uint8_t { kUnicast = 1 };

struct AfiSafi {
  Afi afi = Afi::kIpv4;
  Safi safi = Safi::kUnicast;
  auto operator<=>(const AfiSafi&) const = default;
};
inline constexpr AfiSafi kIpv4Unicast{Afi::kIpv4, Safi::kUnicast};
inline constexpr AfiSafi kIpv6Unicast{Afi::kIpv6, Safi::kUnicast};

// True for the families whose NLRI this codec can parse.
constexpr bool isSupported(std::uint16_t afi, std::uint8_t safi) {
  return (afi == 1 || afi == 2) && safi == 1;
}

// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes, the rest stay zero.
struct Address {
  Afi family = Afi::kIpv4;
  std::array<std::uint8_t, 16> bytes{};

  static Address v4(std::uint32_t hostOrder);
  static Address v6(const std::array<std::uint8_t, 16>& bytes);
  // "192.0.2.1" or "2001:db8::1"; nullopt if neither.
  static std::optional<Address> parse(std::string_view text);

  std::size_t size() const { return family == Afi::kIpv4 ? 4 : 16; }
  std::uint32_t v4HostOrder() const;
  std::string toString() const;
  auto operator<=>(const Address&) const = default;
};

// An IPv4 or IPv6 prefix. Bits beyond the length are always zero (the constructor masks them),
// so equal prefixes compare equal byte for byte.
class Prefix {
 public:
  Prefix() = default;
  Prefix(const Address& address, std::uint8_t length);
  // "10.0.0.0/8", "2001:db8::/32"; nullopt if malformed or the length is too long.
  static std::optional<Prefix> parse(std::string_view text);

  Afi family() const { return address_.family; }
  std::uint8_t length() const { return length_; }
  const Address& address() const { return address_; }
  // Number of address bytes that carry the prefix on the wire (RFC 4271 §4.3).
  std::size_t wireBytes() const { return (length_ + 7u) / 8u; }
  std::string toString() const;
  auto operator<=>(const Prefix&) const = default;

 private:
  Address address_;
  std::uint8_t length_ = 0;
};

// A prefix as carried in NLRI, with the ADD-PATH path identifier (RFC 7911 §3); 0 when the
// session did not negotiate ADD-PATH for the family.
struct NlriEntry {
  Prefix prefix;
  std::uint32_t pathId = 0;
  auto operator<=>(const NlriEntry&) const = default;
};

std::size_t hashBytes(const void* data, std::size_t size, std::size_t seed = 0);

}  // namespace tartan::bgp

template <>
struct std::hash<tartan::bgp::Prefix> {
  // Hot in every table: two multiplies over the address words instead of a byte loop.
  std::size_t operator()(const tartan::bgp::Prefix& p) const noexcept {
    std::uint64_t w0 = 0, w1 = 0;
    std::memcpy(&w0, p.address().bytes.data(), 8);
    std::memcpy(&w1, p.address().bytes.data() + 8, 8);
    const std::uint64_t h = (w0 * 0x9E3779B97F4A7C15ull) ^ (w1 * 0xC2B2AE3D27D4EB4Full) ^
                            (std::uint64_t{p.length()} << 8 | static_cast<std::uint64_t>(p.family()));
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};
template <>
struct std::hash<tartan::bgp::NlriEntry> {
  std::size_t operator()(const tartan::bgp::NlriEntry& e) const noexcept {
    return std::hash<tartan::bgp::Prefix>{}(e.prefix) * 31u + e.pathId;
  }
};
