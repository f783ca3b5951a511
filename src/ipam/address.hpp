// address.hpp (private) — IPv4 and IPv6 addresses and prefixes as 128-bit numbers, and the names
// Calico derives from them. Pure; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tartan::ipam {

__extension__ using Wide = unsigned __int128;

// One address (prefix = the full length) or prefix. IPv4 uses the low 32 bits of `base`.
struct Cidr {
  int family = 4;  // 4 or 6
  Wide base = 0;
  int prefix = 32;

  int bits() const { return family == 4 ? 32 : 128; }
  int hostBits() const { return bits() - prefix; }
  // How many addresses; saturates at 2^64 (a block is never that large).
  uint64_t size() const { return hostBits() >= 64 ? UINT64_MAX : uint64_t{1} << hostBits(); }
  Wide last() const { return hostBits() >= 128 ? ~Wide{0} : base | ((Wide{1} << hostBits()) - 1); }
  bool contains(Wide address) const { return address >= base && address <= last(); }
  bool contains(const Cidr& other) const {
    return other.family == family && other.prefix >= prefix && contains(other.base);
  }
  bool overlaps(const Cidr& other) const {
    return other.family == family && (contains(other.base) || other.contains(base));
  }
  bool operator==(const Cidr&) const = default;
};

// "10.65.0.0/26", "fd00::/122", or a bare address (a full-length prefix). Host bits must be zero
// when `strict`; otherwise they are masked off.
std::optional<Cidr> parseCidr(std::string_view text, bool strict = false);
std::optional<Cidr> parseAddress(std::string_view text);

// The canonical text of an address of `family` ("10.65.0.1", "fd00::1").
std::string formatAddress(int family, Wide address);
// "10.65.0.0/26".
std::string formatCidr(const Cidr& cidr);

// Calico's resource names: the CIDR with '.', ':' and '/' as '-' ("10-65-0-0-26"), and a block
// affinity's "<node>-<that>".
std::string blockName(const Cidr& cidr);
std::string affinityName(std::string_view node, const Cidr& cidr);

}  // namespace tartan::ipam
