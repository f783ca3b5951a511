// bgp/codec/capabilities.hpp — BGP capabilities carried in OPEN (RFC 5492).
//
// Capabilities keep the order they were received in, so an OPEN re-encodes byte for byte.
// Known ones are decoded into typed values; unknown ones are kept as raw bytes (RFC 5492 §4:
// a speaker ignores capabilities it does not understand, but we keep them for status output).
#pragma once

#include "codec/wire.hpp"
#include "types.hpp"

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace tartan::bgp {

enum class CapabilityCode : std::uint8_t {
  kMultiprotocol = 1,     // RFC 4760 §8
  kRouteRefresh = 2,      // RFC 2918 §2
  kGracefulRestart = 64,  // RFC 4724 §3
  kFourOctetAs = 65,      // RFC 6793 §3
  kAddPath = 69,          // RFC 7911 §4
};

struct MultiprotocolCap {
  AfiSafi family;
  bool operator==(const MultiprotocolCap&) const = default;
};

struct RouteRefreshCap {
  bool operator==(const RouteRefreshCap&) const = default;
};

struct FourOctetAsCap {
  std::uint32_t asn = 0;
  bool operator==(const FourOctetAsCap&) const = default;
};

// RFC 4724 §3: Restart Flags (R bit, and the N bit of RFC 8538), a 12-bit Restart Time, then
// one tuple per family with the Forwarding State bit.
struct GracefulRestartCap {
  struct Family {
    AfiSafi family;
    bool forwardingPreserved = false;
    bool operator==(const Family&) const = default;
  };
  bool restarting = false;        // R bit
  bool notification = false;      // N bit (RFC 8538)
  std::uint16_t restartTime = 0;  // seconds, 12 bits
  std::vector<Family> families;
  bool operator==(const GracefulRestartCap&) const = default;
};

// RFC 7911 §4: Send/Receive per family.
enum class AddPathMode : std::uint8_t { kReceive = 1, kSend = 2, kBoth = 3 };
struct AddPathCap {
  struct Family {
    AfiSafi family;
    AddPathMode mode = AddPathMode::kBoth;
    bool operator==(const Family&) const = default;
  };
  std::vector<Family> families;
  bool operator==(const AddPathCap&) const = default;
};

struct UnknownCap {
  std::uint8_t code = 0;
  wire::Bytes value;
  bool operator==(const UnknownCap&) const = default;
};

using Capability = std::variant<MultiprotocolCap, RouteRefreshCap, FourOctetAsCap, GracefulRestartCap,
                                AddPathCap, UnknownCap>;

// Outcome of decoding one capability: the value, or why it is malformed.
struct CapabilityDecode {
  std::optional<Capability> capability;
  const char* error = nullptr;  // set when malformed
};

// Decodes one capability's value (code and value already split out of the TLV).
CapabilityDecode decodeCapability(std::uint8_t code, wire::ByteView value);
// Appends code, length and value.
void encodeCapability(const Capability& capability, wire::Writer& out);
std::uint8_t capabilityCode(const Capability& capability);

// Queries over a received list.
std::optional<std::uint32_t> fourOctetAs(const std::vector<Capability>& caps);
std::vector<AfiSafi> multiprotocolFamilies(const std::vector<Capability>& caps);
bool hasRouteRefresh(const std::vector<Capability>& caps);
const GracefulRestartCap* gracefulRestart(const std::vector<Capability>& caps);
const AddPathCap* addPath(const std::vector<Capability>& caps);

}  // namespace tartan::bgp
