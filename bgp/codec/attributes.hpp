// bgp/codec/attributes.hpp — path attributes of an UPDATE, decoded through a table.
//
// What: one PathAttributes value per UPDATE, with a typed field per known attribute and unknown
// optional attributes kept raw. Each known attribute is a row of a table (attributes.cpp):
// {type code, expected flags, decode fn, encode fn, RFC 7606 action when malformed}. Adding an
// attribute means adding a row, as in BIRD's bgp_attr_table.
// Failure: decoding never throws and never reads out of bounds; a malformed attribute yields an
// UpdateOutcome (RFC 7606 §2: session reset, AFI/SAFI disable, treat-as-withdraw, attribute
// discard), and the most severe outcome of a message wins.
#pragma once

#include "codec/notification.hpp"
#include "codec/wire.hpp"
#include "types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tartan::bgp {

enum class AttrType : std::uint8_t {
  kOrigin = 1,
  kAsPath = 2,
  kNextHop = 3,
  kMultiExitDisc = 4,
  kLocalPref = 5,
  kAtomicAggregate = 6,
  kAggregator = 7,
  kCommunities = 8,      // RFC 1997
  kOriginatorId = 9,     // RFC 4456
  kClusterList = 10,     // RFC 4456
  kMpReachNlri = 14,     // RFC 4760
  kMpUnreachNlri = 15,   // RFC 4760
  kAs4Path = 17,         // RFC 6793
  kAs4Aggregator = 18,   // RFC 6793
  kLargeCommunity = 32,  // RFC 8092
};

// Attribute Flags (RFC 4271 §4.3).
namespace attr_flag {
inline constexpr std::uint8_t kOptional = 0x80;
inline constexpr std::uint8_t kTransitive = 0x40;
inline constexpr std::uint8_t kPartial = 0x20;
inline constexpr std::uint8_t kExtendedLength = 0x10;
}  // namespace attr_flag

enum class Origin : std::uint8_t { kIgp = 0, kEgp = 1, kIncomplete = 2 };

enum class AsSegmentType : std::uint8_t { kSet = 1, kSequence = 2, kConfedSequence = 3, kConfedSet = 4 };
struct AsPathSegment {
  AsSegmentType type = AsSegmentType::kSequence;
  std::vector<std::uint32_t> asns;
  bool operator==(const AsPathSegment&) const = default;
};
using AsPath = std::vector<AsPathSegment>;

// The AS used in place of a 4-octet AS towards 2-octet speakers (RFC 6793 §9).
inline constexpr std::uint32_t kAsTrans = 23456;

struct Aggregator {
  std::uint32_t asn = 0;
  std::uint32_t address = 0;  // host order
  bool operator==(const Aggregator&) const = default;
};

// Well-known communities (RFC 1997 §3, RFC 3765).
namespace community {
inline constexpr std::uint32_t kNoExport = 0xFFFFFF01;
inline constexpr std::uint32_t kNoAdvertise = 0xFFFFFF02;
inline constexpr std::uint32_t kNoExportSubconfed = 0xFFFFFF03;
inline constexpr std::uint32_t kNoPeer = 0xFFFFFF04;
}  // namespace community

struct LargeCommunity {
  std::uint32_t global = 0, local1 = 0, local2 = 0;
  auto operator<=>(const LargeCommunity&) const = default;
};

// RFC 4760 §3. For IPv6 the next hop is the global address, optionally followed by a
// link-local one (RFC 2545 §3).
struct MpReach {
  AfiSafi family;
  Address nextHop;
  std::optional<Address> linkLocal;
  std::vector<NlriEntry> nlri;
  bool operator==(const MpReach&) const = default;
};

struct MpUnreach {
  AfiSafi family;
  std::vector<NlriEntry> withdrawn;
  bool operator==(const MpUnreach&) const = default;
};

struct RawAttribute {
  std::uint8_t flags = 0;  // as received, without the Extended Length bit
  std::uint8_t type = 0;
  wire::Bytes value;
  bool operator==(const RawAttribute&) const = default;
};

struct PathAttributes {
  std::optional<Origin> origin;
  std::optional<AsPath> asPath;
  std::optional<Address> nextHop;  // IPv4 NEXT_HOP
  std::optional<std::uint32_t> med;
  std::optional<std::uint32_t> localPref;
  bool atomicAggregate = false;
  std::optional<Aggregator> aggregator;
  std::optional<std::vector<std::uint32_t>> communities;
  std::optional<std::uint32_t> originatorId;
  std::optional<std::vector<std::uint32_t>> clusterList;
  std::optional<MpReach> mpReach;
  std::optional<MpUnreach> mpUnreach;
  std::optional<AsPath> as4Path;
  std::optional<Aggregator> as4Aggregator;
  std::optional<std::vector<LargeCommunity>> largeCommunities;
  std::vector<RawAttribute> unknown;  // in the order received
  // Known optional transitive attributes that arrived with the Partial bit (bit n = type code n).
  // RFC 4271 §5: once set by a speaker that did not know the attribute, it stays set.
  std::uint64_t partial = 0;

  bool operator==(const PathAttributes&) const = default;
};

// What the session negotiated that changes the wire format (RFC 6793, RFC 7911).
struct CodecContext {
  bool fourOctetAs = true;
  bool addPathIpv4 = false;  // path identifiers present in IPv4 unicast NLRI
  bool addPathIpv6 = false;
  // The peer is in another AS: LOCAL_PREF from it is discarded (RFC 4271 §5.1.5).
  bool externalPeer = false;

  bool addPath(AfiSafi family) const {
    return family == kIpv4Unicast ? addPathIpv4 : family == kIpv6Unicast ? addPathIpv6 : false;
  }
};

// RFC 7606 §2 error-handling approaches, least to most severe.
enum class ErrorAction : std::uint8_t {
  kNone = 0,
  kAttributeDiscard = 1,
  kTreatAsWithdraw = 2,
  kAfiSafiDisable = 3,
  kSessionReset = 4,
};
std::string_view errorActionName(ErrorAction action);

struct UpdateOutcome {
  ErrorAction action = ErrorAction::kNone;  // the most severe action
  Notification notification;                // what to send when action is kSessionReset
  std::optional<AfiSafi> family;            // the first disabled family, when action is kAfiSafiDisable
  std::string reason;                       // for the log: the first problem of the worst kind
  // Actions below the most severe one still apply to what they cover: one family disabled does
  // not excuse a malformed ORIGIN for the others.
  bool treatAsWithdraw = false;           // some problem asked for treat-as-withdraw
  std::vector<AfiSafi> disabledFamilies;  // every family an error disabled

  // Keeps the more severe of the two (RFC 7606 §3: the strongest approach applies).
  void raise(ErrorAction a, std::string why, Notification n = {}, std::optional<AfiSafi> f = {});
};

// Decodes the Path Attributes field of an UPDATE (RFC 4271 §4.3, RFC 7606 §3-§7).
void decodePathAttributes(wire::ByteView field, const CodecContext& ctx, PathAttributes& out,
                          UpdateOutcome& outcome);
// Encodes every present attribute: MP_REACH/MP_UNREACH first (RFC 7606 §5.1), then ascending type
// code, then unknown attributes as they were received.
void encodePathAttributes(const PathAttributes& attrs, const CodecContext& ctx, wire::Writer& out);

// NLRI encoding shared by the UPDATE fields and MP_REACH/MP_UNREACH (RFC 4271 §4.3, RFC 7911 §3).
// Returns false if a prefix is malformed (length too long, truncated).
bool decodeNlri(wire::ByteView field, Afi family, bool addPath, std::vector<NlriEntry>& out);
void encodeNlri(const NlriEntry& entry, bool addPath, wire::Writer& out);
std::size_t nlriSize(const NlriEntry& entry, bool addPath);

// Number of ASes for path-length comparison (RFC 4271 §9.1.2.2 a: a set counts 1; RFC 5065 §5.3:
// confederation segments count 0).
std::size_t asPathLength(const AsPath& path);
// The neighbouring AS: first AS of the first AS_SEQUENCE, or nullopt (local routes).
std::optional<std::uint32_t> neighbourAs(const AsPath& path);
bool asPathContains(const AsPath& path, std::uint32_t asn);
// How many times asn appears, in every segment.
std::size_t asPathCount(const AsPath& path, std::uint32_t asn);
// Prepends asn to the leading AS_SEQUENCE (RFC 4271 §5.1.2), starting one if needed.
void prependAs(AsPath& path, std::uint32_t asn);

// RFC 6793 §4.2.3: the AS path a 2-octet peer really meant, from its AS_PATH and AS4_PATH (and
// AGGREGATOR/AS4_AGGREGATOR). Removes AS4_PATH and AS4_AGGREGATOR from attrs.
void mergeAs4(PathAttributes& attrs);
// RFC 6793 §4.2.2: prepares attributes for a 2-octet peer — ASes above 65535 become AS_TRANS in
// AS_PATH/AGGREGATOR, with the real values in AS4_PATH/AS4_AGGREGATOR when needed.
void splitAs4(PathAttributes& attrs);

std::size_t hashPathAttributes(const PathAttributes& attrs);

}  // namespace tartan::bgp
