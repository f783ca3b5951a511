// bgp/codec/message.hpp — the BGP-4 wire codec: framing, and every message type.
//
// What: decodeMessage turns one framed message into a typed value plus an RFC 7606 outcome;
// encodeMessage is its exact inverse for canonical input. The codec is pure (no I/O, no clocks, no
// logging); the per-session CodecContext carries what the OPEN exchange negotiated (4-octet AS,
// ADD-PATH) because it changes how UPDATE bytes are read.
// Failure: malformed input is an outcome value — a NOTIFICATION to send for a session reset, or a
// gentler RFC 7606 action for UPDATEs — never an exception and never a read out of bounds.
// Threading: stateless functions; safe from any thread.
#pragma once

#include "codec/attributes.hpp"
#include "codec/capabilities.hpp"
#include "codec/notification.hpp"
#include "codec/wire.hpp"
#include "types.hpp"

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace tartan::bgp {

enum class MessageType : std::uint8_t {
  kOpen = 1,
  kUpdate = 2,
  kNotification = 3,
  kKeepalive = 4,
  kRouteRefresh = 5,  // RFC 2918
};

inline constexpr std::size_t kHeaderSize = 19;
inline constexpr std::size_t kMaxMessageSize = 4096;  // RFC 4271 §4.1
inline constexpr std::uint8_t kBgpVersion = 4;

// RFC 4271 §4.2. Capabilities (RFC 5492) are the only optional parameter we know.
struct Open {
  std::uint8_t version = kBgpVersion;
  std::uint16_t myAs = 0;  // AS_TRANS when the real AS needs 4 octets
  std::uint16_t holdTime = 0;
  std::uint32_t bgpId = 0;  // host order
  std::vector<Capability> capabilities;
  bool operator==(const Open&) const = default;
};

// RFC 4271 §4.3. withdrawn and nlri are the IPv4 unicast fields; other families ride in
// attributes.mpReach / attributes.mpUnreach.
struct Update {
  std::vector<NlriEntry> withdrawn;
  PathAttributes attributes;
  std::vector<NlriEntry> nlri;
  bool operator==(const Update&) const = default;
};

struct Keepalive {
  bool operator==(const Keepalive&) const = default;
};

// RFC 2918 §3; subtype is RFC 7313's (0 normal, 1 BoRR, 2 EoRR).
struct RouteRefresh {
  std::uint16_t afi = 1;
  std::uint8_t subtype = 0;
  std::uint8_t safi = 1;
  bool operator==(const RouteRefresh&) const = default;
};

using Message = std::variant<Open, Update, Notification, Keepalive, RouteRefresh>;

// Framing of a byte stream (RFC 4271 §4.1, §6.1).
struct Frame {
  enum class Status { kNeedMore, kComplete, kError } status = Status::kNeedMore;
  std::size_t length = 0;  // of the whole message, when complete
  Notification error;      // when status is kError: send it and close
};
Frame frameMessage(wire::ByteView buffer);

struct Decoded {
  std::optional<Message> message;  // absent when outcome.action is kSessionReset
  UpdateOutcome outcome;
};
// Decodes exactly one whole message (header included).
Decoded decodeMessage(wire::ByteView bytes, const CodecContext& ctx);
wire::Bytes encodeMessage(const Message& message, const CodecContext& ctx);

// End-of-RIB marker (RFC 4724 §2): an UPDATE that is empty, or holds only an empty MP_UNREACH.
std::optional<AfiSafi> endOfRib(const Update& update);

}  // namespace tartan::bgp
