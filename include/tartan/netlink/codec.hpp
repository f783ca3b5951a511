// tartan/netlink/codec.hpp — rtnetlink messages to and from bytes, with no socket in sight.
//
// The encoders append one complete netlink message (header included, NLMSG_ALIGNed) to a buffer
// so that a batch of route changes is one contiguous buffer for one sendmsg(). The decoders take
// bytes that came from the kernel — outside input — and check every length before reading:
// a truncated or garbled reply gives a Result error, never a read past the end.
// Layouts: linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h.
#pragma once

#include <tartan/netlink/types.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tartan::netlink {

inline constexpr uint16_t kFlagDumpInterrupted = 0x10;  // NLM_F_DUMP_INTR: retry the dump
inline constexpr uint16_t kRouteFlagCloned = 0x200;     // RTM_F_CLONED: a cache entry

// Message types (linux/rtnetlink.h), repeated here so callers need no kernel headers.
inline constexpr uint16_t kNlmsgNoop = 1;
inline constexpr uint16_t kNlmsgError = 2;
inline constexpr uint16_t kNlmsgDone = 3;
inline constexpr uint16_t kNlmsgOverrun = 4;
inline constexpr uint16_t kRtmNewLink = 16;
inline constexpr uint16_t kRtmDelLink = 17;
inline constexpr uint16_t kRtmGetLink = 18;
inline constexpr uint16_t kRtmNewAddr = 20;
inline constexpr uint16_t kRtmDelAddr = 21;
inline constexpr uint16_t kRtmGetAddr = 22;
inline constexpr uint16_t kRtmNewRoute = 24;
inline constexpr uint16_t kRtmDelRoute = 25;
inline constexpr uint16_t kRtmGetRoute = 26;

// "RTM_NEWROUTE", or "message type 99".
std::string messageTypeName(uint16_t type);

// One netlink message as found in a receive buffer; the payload views the buffer.
struct Message {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t pid = 0;
  std::span<const uint8_t> payload;  // after the 16-byte header, nlmsg_len - 16 bytes
};

// Splits a datagram into its messages, checking each nlmsg_len against what is left.
Result<std::vector<Message>> splitMessages(std::span<const uint8_t> datagram);

// --- requests -------------------------------------------------------------------------------

// RTM_NEWROUTE (Add: NLM_F_CREATE|NLM_F_EXCL; Replace: NLM_F_CREATE|NLM_F_REPLACE) or
// RTM_DELROUTE. With `ack` (NLM_F_ACK) the kernel answers success too; without it, only a
// failure is answered — a batch then ends with a barrier instead of waiting for one ack each.
void encodeRouteChange(std::vector<uint8_t>& out, const RouteChange& change, uint32_t seq, bool ack = true);

// Dump requests (NLM_F_REQUEST|NLM_F_DUMP). nullopt family dumps IPv4 and IPv6.
void encodeRouteDump(std::vector<uint8_t>& out, std::optional<Family> family, uint32_t seq);
void encodeLinkDump(std::vector<uint8_t>& out, uint32_t seq);
// RTM_GETLINK for one interface by name (IFLA_IFNAME), answered by one RTM_NEWLINK or ENODEV.
void encodeLinkGet(std::vector<uint8_t>& out, std::string_view name, uint32_t seq);
void encodeAddressDump(std::vector<uint8_t>& out, std::optional<Family> family, uint32_t seq);

// NLMSG_NOOP with NLM_F_ACK: the kernel answers it with a zero error once every message before
// it in the same batch is done, which makes it a barrier.
void encodeBarrier(std::vector<uint8_t>& out, uint32_t seq);

// --- replies and events ---------------------------------------------------------------------

// The payload of an RTM_NEWROUTE / RTM_DELROUTE.
Result<Route> decodeRoute(std::span<const uint8_t> payload);
// The payload of an RTM_NEWLINK / RTM_DELLINK.
Result<Link> decodeLink(std::span<const uint8_t> payload);
// The payload of an RTM_NEWADDR / RTM_DELADDR.
Result<InterfaceAddress> decodeAddress(std::span<const uint8_t> payload);

// The payload of an NLMSG_ERROR: errno (positive; 0 is an ACK), the sequence of the request it
// answers, and the extended-ACK text (NLMSGERR_ATTR_MSG) when the kernel gave one.
struct Ack {
  int error = 0;
  uint32_t requestSeq = 0;
  uint16_t requestType = 0;
  std::string message;
};
Result<Ack> decodeAck(std::span<const uint8_t> payload, uint16_t flags);

}  // namespace tartan::netlink
