// The path attribute table and its decode/encode functions. RFC 7606 §7 gives each attribute's
// error handling; the row says it once, and the generic loop in decodePathAttributes applies the
// §3/§4 rules that hold for all attributes (duplicates, flags, lengths that overrun the field).
#include "codec/attributes.hpp"

#include <algorithm>
#include <array>

namespace tartan::bgp {
namespace {

using attr_flag::kExtendedLength;
using attr_flag::kOptional;
using attr_flag::kPartial;
using attr_flag::kTransitive;

// What a decode function says about one attribute value. action kNone with an error means "use
// the table's action for a malformed attribute".
struct AttrStatus {
  const char* error = nullptr;
  ErrorAction action = ErrorAction::kNone;
  std::optional<AfiSafi> family;
};
constexpr AttrStatus kOk{};
AttrStatus bad(const char* why) { return AttrStatus{why, ErrorAction::kNone, {}}; }

using DecodeFn = AttrStatus (*)(wire::ByteView value, const CodecContext& ctx, PathAttributes& out);
using EncodeFn = void (*)(const PathAttributes& attrs, const CodecContext& ctx, wire::Writer& out);
using PresentFn = bool (*)(const PathAttributes& attrs);

struct AttrRow {
  AttrType type;
  const char* name;
  std::uint8_t flags;  // the expected Optional and Transitive bits
  PresentFn present;
  DecodeFn decode;
  EncodeFn encode;
  ErrorAction onMalformed;  // RFC 7606 §7
  UpdateSubcode subcode;    // for the NOTIFICATION if the outcome is a session reset
};

bool readU32List(wire::ByteView v, std::vector<std::uint32_t>& out) {
  if (v.empty() || v.size() % 4 != 0) return false;
  wire::Reader in(v);
  out.clear();
  std::uint32_t x = 0;
  while (in.u32(x)) out.push_back(x);
  return true;
}

// --- ORIGIN (RFC 4271 §5.1.1; RFC 7606 §7.1)
AttrStatus decodeOrigin(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  if (v.size() != 1) return bad("ORIGIN length is not 1");
  if (v[0] > 2) return bad("ORIGIN value is undefined");
  out.origin = static_cast<Origin>(v[0]);
  return kOk;
}
void encodeOrigin(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  w.u8(static_cast<std::uint8_t>(*a.origin));
}

// --- AS_PATH and AS4_PATH (RFC 4271 §4.3, RFC 6793 §3; RFC 7606 §7.2)
const char* decodeSegments(wire::ByteView v, std::size_t asSize, bool allowConfed, AsPath& out) {
  wire::Reader in(v);
  out.clear();
  while (!in.empty()) {
    std::uint8_t type = 0, count = 0;
    if (!in.u8(type) || !in.u8(count)) return "AS_PATH segment header is truncated";
    if (type < 1 || type > 4) return "AS_PATH segment type is undefined";
    if (!allowConfed && type > 2) return "AS4_PATH carries a confederation segment";
    if (count == 0) return "AS_PATH segment is empty";
    if (in.remaining() < count * asSize) return "AS_PATH segment overruns the attribute";
    AsPathSegment seg{static_cast<AsSegmentType>(type), {}};
    seg.asns.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
      std::uint32_t asn = 0;
      if (asSize == 2) {
        std::uint16_t a16 = 0;
        in.u16(a16);
        asn = a16;
      } else {
        in.u32(asn);
      }
      seg.asns.push_back(asn);
    }
    out.push_back(std::move(seg));
  }
  return nullptr;
}
void encodeSegments(const AsPath& path, std::size_t asSize, wire::Writer& w) {
  for (const auto& seg : path) {
    // A segment holds at most 255 ASes; longer ones are split (RFC 4271 §5.1.2 allows this).
    for (std::size_t start = 0; start < seg.asns.size(); start += 255) {
      const std::size_t n = std::min<std::size_t>(255, seg.asns.size() - start);
      w.u8(static_cast<std::uint8_t>(seg.type));
      w.u8(static_cast<std::uint8_t>(n));
      for (std::size_t i = start; i < start + n; ++i) {
        if (asSize == 2)
          w.u16(static_cast<std::uint16_t>(seg.asns[i] > 0xffff ? kAsTrans : seg.asns[i]));
        else
          w.u32(seg.asns[i]);
      }
    }
  }
}
AttrStatus decodeAsPath(wire::ByteView v, const CodecContext& ctx, PathAttributes& out) {
  AsPath path;
  if (const char* e = decodeSegments(v, ctx.fourOctetAs ? 4 : 2, true, path)) return bad(e);
  // RFC 7606 §7.2 (revising RFC 5065): confederation segments from an external peer (we are in no
  // confederation) make the AS_PATH malformed.
  if (ctx.externalPeer)
    for (const auto& seg : path)
      if (seg.type == AsSegmentType::kConfedSequence || seg.type == AsSegmentType::kConfedSet)
        return bad("AS_PATH from an external peer carries a confederation segment");
  out.asPath = std::move(path);
  return kOk;
}
void encodeAsPath(const PathAttributes& a, const CodecContext& ctx, wire::Writer& w) {
  encodeSegments(*a.asPath, ctx.fourOctetAs ? 4 : 2, w);
}
AttrStatus decodeAs4Path(wire::ByteView v, const CodecContext& ctx, PathAttributes& out) {
  // RFC 6793 §6: a NEW speaker discards AS4_PATH received from a NEW speaker.
  if (ctx.fourOctetAs) return bad("AS4_PATH from a 4-octet AS speaker");
  AsPath path;
  if (const char* e = decodeSegments(v, 4, false, path)) return bad(e);
  out.as4Path = std::move(path);
  return kOk;
}
void encodeAs4Path(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  encodeSegments(*a.as4Path, 4, w);
}

// --- NEXT_HOP (RFC 4271 §5.1.3; RFC 7606 §7.3)
AttrStatus decodeNextHop(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  if (v.size() != 4) return bad("NEXT_HOP length is not 4");
  wire::Reader in(v);
  std::uint32_t addr = 0;
  in.u32(addr);
  // RFC 4271 §6.3: a next hop that is not a valid host address is syntactically incorrect.
  if (addr == 0 || addr >= 0xE0000000u) return bad("NEXT_HOP is not a unicast address");
  out.nextHop = Address::v4(addr);
  return kOk;
}
void encodeNextHop(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  w.bytes(wire::ByteView(a.nextHop->bytes.data(), 4));
}

// --- MULTI_EXIT_DISC, LOCAL_PREF (RFC 7606 §7.4, §7.5)
AttrStatus decodeMed(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  if (v.size() != 4) return bad("MULTI_EXIT_DISC length is not 4");
  std::uint32_t x = 0;
  wire::Reader(v).u32(x);
  out.med = x;
  return kOk;
}
void encodeMed(const PathAttributes& a, const CodecContext&, wire::Writer& w) { w.u32(*a.med); }
AttrStatus decodeLocalPref(wire::ByteView v, const CodecContext& ctx, PathAttributes& out) {
  if (v.size() != 4) return bad("LOCAL_PREF length is not 4");
  // RFC 4271 §5.1.5 / RFC 7606 §7.5: from an external peer it is disregarded.
  if (ctx.externalPeer)
    return AttrStatus{"LOCAL_PREF from an external peer", ErrorAction::kAttributeDiscard, {}};
  std::uint32_t x = 0;
  wire::Reader(v).u32(x);
  out.localPref = x;
  return kOk;
}
void encodeLocalPref(const PathAttributes& a, const CodecContext&, wire::Writer& w) { w.u32(*a.localPref); }

// --- ATOMIC_AGGREGATE (RFC 7606 §7.6)
AttrStatus decodeAtomicAggregate(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  if (!v.empty()) return bad("ATOMIC_AGGREGATE length is not 0");
  out.atomicAggregate = true;
  return kOk;
}
void encodeNothing(const PathAttributes&, const CodecContext&, wire::Writer&) {}

// --- AGGREGATOR, AS4_AGGREGATOR (RFC 7606 §7.7, RFC 6793 §6)
const char* readAggregator(wire::ByteView v, std::size_t asSize, Aggregator& out) {
  if (v.size() != asSize + 4)
    return asSize == 2 ? "AGGREGATOR length is not 6" : "AGGREGATOR length is not 8";
  wire::Reader in(v);
  if (asSize == 2) {
    std::uint16_t a = 0;
    in.u16(a);
    out.asn = a;
  } else {
    in.u32(out.asn);
  }
  in.u32(out.address);
  return nullptr;
}
AttrStatus decodeAggregator(wire::ByteView v, const CodecContext& ctx, PathAttributes& out) {
  Aggregator agg;
  if (const char* e = readAggregator(v, ctx.fourOctetAs ? 4 : 2, agg)) return bad(e);
  out.aggregator = agg;
  return kOk;
}
void encodeAggregator(const PathAttributes& a, const CodecContext& ctx, wire::Writer& w) {
  if (ctx.fourOctetAs)
    w.u32(a.aggregator->asn);
  else
    w.u16(static_cast<std::uint16_t>(a.aggregator->asn > 0xffff ? kAsTrans : a.aggregator->asn));
  w.u32(a.aggregator->address);
}
AttrStatus decodeAs4Aggregator(wire::ByteView v, const CodecContext& ctx, PathAttributes& out) {
  if (ctx.fourOctetAs) return bad("AS4_AGGREGATOR from a 4-octet AS speaker");
  Aggregator agg;
  if (readAggregator(v, 4, agg)) return bad("AS4_AGGREGATOR length is not 8");
  out.as4Aggregator = agg;
  return kOk;
}
void encodeAs4Aggregator(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  w.u32(a.as4Aggregator->asn);
  w.u32(a.as4Aggregator->address);
}

// --- COMMUNITIES (RFC 1997; RFC 7606 §7.8), ORIGINATOR_ID, CLUSTER_LIST (RFC 4456; §7.9, §7.10)
AttrStatus decodeCommunities(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  std::vector<std::uint32_t> list;
  if (!readU32List(v, list)) return bad("COMMUNITIES length is not a non-zero multiple of 4");
  out.communities = std::move(list);
  return kOk;
}
void encodeCommunities(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  for (auto c : *a.communities) w.u32(c);
}
AttrStatus decodeOriginatorId(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  if (v.size() != 4) return bad("ORIGINATOR_ID length is not 4");
  std::uint32_t x = 0;
  wire::Reader(v).u32(x);
  out.originatorId = x;
  return kOk;
}
void encodeOriginatorId(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  w.u32(*a.originatorId);
}
AttrStatus decodeClusterList(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  std::vector<std::uint32_t> list;
  if (!readU32List(v, list)) return bad("CLUSTER_LIST length is not a non-zero multiple of 4");
  out.clusterList = std::move(list);
  return kOk;
}
void encodeClusterList(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  for (auto c : *a.clusterList) w.u32(c);
}

// --- LARGE_COMMUNITY (RFC 8092 §3, §6)
AttrStatus decodeLargeCommunities(wire::ByteView v, const CodecContext&, PathAttributes& out) {
  if (v.empty() || v.size() % 12 != 0) return bad("LARGE_COMMUNITY length is not a non-zero multiple of 12");
  wire::Reader in(v);
  std::vector<LargeCommunity> list;
  LargeCommunity c;
  while (in.u32(c.global) && in.u32(c.local1) && in.u32(c.local2)) list.push_back(c);
  out.largeCommunities = std::move(list);
  return kOk;
}
void encodeLargeCommunities(const PathAttributes& a, const CodecContext&, wire::Writer& w) {
  for (const auto& c : *a.largeCommunities) {
    w.u32(c.global);
    w.u32(c.local1);
    w.u32(c.local2);
  }
}

// --- MP_REACH_NLRI, MP_UNREACH_NLRI (RFC 4760 §3, §4; RFC 7606 §7.11, §5.3)
AttrStatus disableFamily(AfiSafi family, const char* why) {
  return AttrStatus{why, ErrorAction::kAfiSafiDisable, family};
}
AttrStatus decodeMpReach(wire::ByteView v, const CodecContext& ctx, PathAttributes& out) {
  wire::Reader in(v);
  std::uint16_t afi = 0;
  std::uint8_t safi = 0, nhLength = 0, reserved = 0;
  if (!in.u16(afi) || !in.u8(safi) || !in.u8(nhLength))
    return AttrStatus{"MP_REACH_NLRI too short for AFI/SAFI", ErrorAction::kSessionReset, {}};
  if (!isSupported(afi, safi))
    return AttrStatus{"MP_REACH_NLRI for a family we do not speak", ErrorAction::kAttributeDiscard, {}};
  MpReach mp;
  mp.family = AfiSafi{static_cast<Afi>(afi), static_cast<Safi>(safi)};
  wire::ByteView nh;
  if (!in.take(nhLength, nh) || !in.u8(reserved))
    return disableFamily(mp.family, "MP_REACH_NLRI next hop overruns the attribute");
  if (mp.family.afi == Afi::kIpv4) {
    if (nhLength != 4) return disableFamily(mp.family, "MP_REACH_NLRI IPv4 next hop length is not 4");
    std::uint32_t v4 = 0;
    wire::Reader(nh).u32(v4);
    mp.nextHop = Address::v4(v4);
  } else {
    if (nhLength != 16 && nhLength != 32)
      return disableFamily(mp.family, "MP_REACH_NLRI IPv6 next hop length is not 16 or 32");
    std::array<std::uint8_t, 16> global{};
    std::copy(nh.begin(), nh.begin() + 16, global.begin());
    mp.nextHop = Address::v6(global);
    if (nhLength == 32) {
      std::array<std::uint8_t, 16> local{};
      std::copy(nh.begin() + 16, nh.end(), local.begin());
      mp.linkLocal = Address::v6(local);
    }
  }
  if (!decodeNlri(in.rest(), mp.family.afi, ctx.addPath(mp.family), mp.nlri))
    return disableFamily(mp.family, "MP_REACH_NLRI prefix is malformed");
  out.mpReach = std::move(mp);
  return kOk;
}
void encodeMpReach(const PathAttributes& a, const CodecContext& ctx, wire::Writer& w) {
  const MpReach& mp = *a.mpReach;
  w.u16(static_cast<std::uint16_t>(mp.family.afi));
  w.u8(static_cast<std::uint8_t>(mp.family.safi));
  const std::size_t nhSize = mp.nextHop.size() + (mp.linkLocal ? 16 : 0);
  w.u8(static_cast<std::uint8_t>(nhSize));
  w.bytes(wire::ByteView(mp.nextHop.bytes.data(), mp.nextHop.size()));
  if (mp.linkLocal) w.bytes(wire::ByteView(mp.linkLocal->bytes.data(), 16));
  w.u8(0);  // Reserved (formerly the SNPA count)
  for (const auto& e : mp.nlri) encodeNlri(e, ctx.addPath(mp.family), w);
}
AttrStatus decodeMpUnreach(wire::ByteView v, const CodecContext& ctx, PathAttributes& out) {
  wire::Reader in(v);
  std::uint16_t afi = 0;
  std::uint8_t safi = 0;
  if (!in.u16(afi) || !in.u8(safi))
    return AttrStatus{"MP_UNREACH_NLRI too short for AFI/SAFI", ErrorAction::kSessionReset, {}};
  if (!isSupported(afi, safi))
    return AttrStatus{"MP_UNREACH_NLRI for a family we do not speak", ErrorAction::kAttributeDiscard, {}};
  MpUnreach mp;
  mp.family = AfiSafi{static_cast<Afi>(afi), static_cast<Safi>(safi)};
  if (!decodeNlri(in.rest(), mp.family.afi, ctx.addPath(mp.family), mp.withdrawn))
    return disableFamily(mp.family, "MP_UNREACH_NLRI prefix is malformed");
  out.mpUnreach = std::move(mp);
  return kOk;
}
void encodeMpUnreach(const PathAttributes& a, const CodecContext& ctx, wire::Writer& w) {
  const MpUnreach& mp = *a.mpUnreach;
  w.u16(static_cast<std::uint16_t>(mp.family.afi));
  w.u8(static_cast<std::uint8_t>(mp.family.safi));
  for (const auto& e : mp.withdrawn) encodeNlri(e, ctx.addPath(mp.family), w);
}

constexpr std::uint8_t kWellKnown = kTransitive;
constexpr std::uint8_t kOptTrans = kOptional | kTransitive;
constexpr std::uint8_t kOptNonTrans = kOptional;
using EA = ErrorAction;
using US = UpdateSubcode;

// Sorted by type code; MP_REACH/MP_UNREACH are encoded first (RFC 7606 §5.1).
const AttrRow kAttrTable[] = {
    {AttrType::kOrigin, "ORIGIN", kWellKnown, [](const PathAttributes& a) { return a.origin.has_value(); },
     decodeOrigin, encodeOrigin, EA::kTreatAsWithdraw, US::kInvalidOriginAttribute},
    {AttrType::kAsPath, "AS_PATH", kWellKnown, [](const PathAttributes& a) { return a.asPath.has_value(); },
     decodeAsPath, encodeAsPath, EA::kTreatAsWithdraw, US::kMalformedAsPath},
    {AttrType::kNextHop, "NEXT_HOP", kWellKnown,
     [](const PathAttributes& a) { return a.nextHop.has_value(); }, decodeNextHop, encodeNextHop,
     EA::kTreatAsWithdraw, US::kInvalidNextHopAttribute},
    {AttrType::kMultiExitDisc, "MULTI_EXIT_DISC", kOptNonTrans,
     [](const PathAttributes& a) { return a.med.has_value(); }, decodeMed, encodeMed, EA::kTreatAsWithdraw,
     US::kAttributeLengthError},
    {AttrType::kLocalPref, "LOCAL_PREF", kWellKnown,
     [](const PathAttributes& a) { return a.localPref.has_value(); }, decodeLocalPref, encodeLocalPref,
     EA::kTreatAsWithdraw, US::kAttributeLengthError},
    {AttrType::kAtomicAggregate, "ATOMIC_AGGREGATE", kWellKnown,
     [](const PathAttributes& a) { return a.atomicAggregate; }, decodeAtomicAggregate, encodeNothing,
     EA::kAttributeDiscard, US::kAttributeLengthError},
    {AttrType::kAggregator, "AGGREGATOR", kOptTrans,
     [](const PathAttributes& a) { return a.aggregator.has_value(); }, decodeAggregator, encodeAggregator,
     EA::kAttributeDiscard, US::kAttributeLengthError},
    {AttrType::kCommunities, "COMMUNITIES", kOptTrans,
     [](const PathAttributes& a) { return a.communities.has_value(); }, decodeCommunities, encodeCommunities,
     EA::kTreatAsWithdraw, US::kOptionalAttributeError},
    {AttrType::kOriginatorId, "ORIGINATOR_ID", kOptNonTrans,
     [](const PathAttributes& a) { return a.originatorId.has_value(); }, decodeOriginatorId,
     encodeOriginatorId, EA::kTreatAsWithdraw, US::kAttributeLengthError},
    {AttrType::kClusterList, "CLUSTER_LIST", kOptNonTrans,
     [](const PathAttributes& a) { return a.clusterList.has_value(); }, decodeClusterList, encodeClusterList,
     EA::kTreatAsWithdraw, US::kAttributeLengthError},
    {AttrType::kMpReachNlri, "MP_REACH_NLRI", kOptNonTrans,
     [](const PathAttributes& a) { return a.mpReach.has_value(); }, decodeMpReach, encodeMpReach,
     EA::kSessionReset, US::kOptionalAttributeError},
    {AttrType::kMpUnreachNlri, "MP_UNREACH_NLRI", kOptNonTrans,
     [](const PathAttributes& a) { return a.mpUnreach.has_value(); }, decodeMpUnreach, encodeMpUnreach,
     EA::kSessionReset, US::kOptionalAttributeError},
    {AttrType::kAs4Path, "AS4_PATH", kOptTrans, [](const PathAttributes& a) { return a.as4Path.has_value(); },
     decodeAs4Path, encodeAs4Path, EA::kAttributeDiscard, US::kOptionalAttributeError},
    {AttrType::kAs4Aggregator, "AS4_AGGREGATOR", kOptTrans,
     [](const PathAttributes& a) { return a.as4Aggregator.has_value(); }, decodeAs4Aggregator,
     encodeAs4Aggregator, EA::kAttributeDiscard, US::kOptionalAttributeError},
    {AttrType::kLargeCommunity, "LARGE_COMMUNITY", kOptTrans,
     [](const PathAttributes& a) { return a.largeCommunities.has_value(); }, decodeLargeCommunities,
     encodeLargeCommunities, EA::kTreatAsWithdraw, US::kOptionalAttributeError},
};

const AttrRow* findRow(std::uint8_t type) {
  for (const auto& row : kAttrTable)
    if (static_cast<std::uint8_t>(row.type) == type) return &row;
  return nullptr;
}

void writeAttribute(std::uint8_t flags, std::uint8_t type, wire::ByteView value, wire::Writer& w) {
  flags &= static_cast<std::uint8_t>(~kExtendedLength);
  if (value.size() > 255) flags |= kExtendedLength;
  w.u8(flags);
  w.u8(type);
  if (value.size() > 255)
    w.u16(static_cast<std::uint16_t>(value.size()));
  else
    w.u8(static_cast<std::uint8_t>(value.size()));
  w.bytes(value);
}

void encodeRow(const AttrRow& row, const PathAttributes& attrs, const CodecContext& ctx, wire::Writer& w) {
  // Encode in place with a one-octet length, widening to an extended length if the value needs it.
  const std::size_t flagsAt = w.size();
  const auto code = static_cast<std::uint8_t>(row.type);
  const bool partial = row.flags == (kOptional | kTransitive) && code < 64 && (attrs.partial >> code & 1);
  const std::uint8_t flags = partial ? row.flags | kPartial : row.flags;
  w.u8(flags);
  w.u8(static_cast<std::uint8_t>(row.type));
  const std::size_t lengthAt = w.size();
  w.u8(0);
  row.encode(attrs, ctx, w);
  const std::size_t length = w.size() - lengthAt - 1;
  if (length > 255) {
    w.insertU8(lengthAt, 0);
    w.patchU16(lengthAt, static_cast<std::uint16_t>(length));
    w.patchU8(flagsAt, flags | kExtendedLength);
  } else {
    w.patchU8(lengthAt, static_cast<std::uint8_t>(length));
  }
}

}  // namespace

std::string_view errorActionName(ErrorAction action) {
  switch (action) {
    case ErrorAction::kNone:
      return "none";
    case ErrorAction::kAttributeDiscard:
      return "attribute-discard";
    case ErrorAction::kTreatAsWithdraw:
      return "treat-as-withdraw";
    case ErrorAction::kAfiSafiDisable:
      return "afi-safi-disable";
    case ErrorAction::kSessionReset:
      return "session-reset";
  }
  return "?";
}

void UpdateOutcome::raise(ErrorAction a, std::string why, Notification n, std::optional<AfiSafi> f) {
  if (a == ErrorAction::kTreatAsWithdraw) treatAsWithdraw = true;
  if (a == ErrorAction::kAfiSafiDisable && f &&
      std::find(disabledFamilies.begin(), disabledFamilies.end(), *f) == disabledFamilies.end())
    disabledFamilies.push_back(*f);
  if (a <= action) return;
  action = a;
  reason = std::move(why);
  notification = std::move(n);
  family = f;
}

bool decodeNlri(wire::ByteView field, Afi family, bool addPath, std::vector<NlriEntry>& out) {
  wire::Reader in(field);
  const unsigned maxBits = family == Afi::kIpv4 ? 32 : 128;
  while (!in.empty()) {
    NlriEntry e;
    std::uint8_t bits = 0;
    if (addPath && !in.u32(e.pathId)) return false;
    if (!in.u8(bits) || bits > maxBits) return false;
    wire::ByteView body;
    if (!in.take((bits + 7u) / 8u, body)) return false;
    Address a;
    a.family = family;
    std::copy(body.begin(), body.end(), a.bytes.begin());
    e.prefix = Prefix(a, bits);
    out.push_back(e);
  }
  return true;
}

void encodeNlri(const NlriEntry& entry, bool addPath, wire::Writer& w) {
  if (addPath) w.u32(entry.pathId);
  w.u8(entry.prefix.length());
  w.bytes(wire::ByteView(entry.prefix.address().bytes.data(), entry.prefix.wireBytes()));
}

std::size_t nlriSize(const NlriEntry& entry, bool addPath) {
  return (addPath ? 4 : 0) + 1 + entry.prefix.wireBytes();
}

void decodePathAttributes(wire::ByteView field, const CodecContext& ctx, PathAttributes& out,
                          UpdateOutcome& outcome) {
  wire::Reader in(field);
  std::array<bool, 256> seen{};
  while (!in.empty()) {
    const std::size_t start = in.position();
    std::uint8_t flags = 0, type = 0;
    std::uint16_t length = 0;
    // RFC 7606 §4: too few octets for an attribute header, or a length past the end of the
    // field, make the rest unparseable: treat-as-withdraw, and Total Attribute Length still
    // locates the NLRI.
    bool headerOk = in.u8(flags) && in.u8(type);
    if (headerOk) {
      if (flags & kExtendedLength) {
        headerOk = in.u16(length);
      } else {
        std::uint8_t l8 = 0;
        headerOk = in.u8(l8);
        length = l8;
      }
    }
    wire::ByteView value;
    if (!headerOk || !in.take(length, value)) {
      outcome.raise(ErrorAction::kTreatAsWithdraw, "attribute overruns the path attribute field");
      return;
    }
    const wire::ByteView whole = field.subspan(start, in.position() - start);
    const auto attrData = wire::Bytes(whole.begin(), whole.end());

    // RFC 7606 §3 g: a repeated MP_REACH/MP_UNREACH resets the session; any other repeated
    // attribute is discarded after its first occurrence.
    if (seen[type]) {
      if (type == static_cast<std::uint8_t>(AttrType::kMpReachNlri) ||
          type == static_cast<std::uint8_t>(AttrType::kMpUnreachNlri)) {
        outcome.raise(ErrorAction::kSessionReset, "MP_REACH_NLRI or MP_UNREACH_NLRI appears twice",
                      Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kMalformedAttributeList));
        return;
      }
      outcome.raise(ErrorAction::kAttributeDiscard, "attribute appears twice");
      continue;
    }
    seen[type] = true;

    const AttrRow* row = findRow(type);
    if (!row) {
      // RFC 4271 §6.3: an unrecognized well-known attribute is an error; an unrecognized
      // optional one is kept (transitive ones are passed on with Partial set, §5).
      if (!(flags & kOptional)) {
        outcome.raise(ErrorAction::kSessionReset, "unrecognized well-known attribute",
                      Notification::make(ErrorCode::kUpdateMessage,
                                         UpdateSubcode::kUnrecognizedWellKnownAttribute, attrData));
        return;
      }
      out.unknown.push_back(RawAttribute{static_cast<std::uint8_t>(flags & ~kExtendedLength), type,
                                         wire::Bytes(value.begin(), value.end())});
      continue;
    }

    PathAttributes scratch;
    AttrStatus status = row->decode(value, ctx, scratch);
    ErrorAction action = status.error
                             ? (status.action != ErrorAction::kNone ? status.action : row->onMalformed)
                             : ErrorAction::kNone;
    const char* why = status.error;
    // RFC 7606 §3 c: Optional/Transitive bits that contradict the attribute's definition make it
    // malformed (treat-as-withdraw, or the attribute's own gentler action).
    if ((flags & (kOptional | kTransitive)) != row->flags && action < ErrorAction::kTreatAsWithdraw) {
      action = row->onMalformed == ErrorAction::kAttributeDiscard ? ErrorAction::kAttributeDiscard
                                                                  : ErrorAction::kTreatAsWithdraw;
      why = "attribute flags conflict with the attribute type";
    }
    if (action != ErrorAction::kNone) {
      const auto subcode =
          action == ErrorAction::kAfiSafiDisable ? UpdateSubcode::kOptionalAttributeError : row->subcode;
      outcome.raise(action, std::string(row->name) + ": " + why,
                    Notification::make(ErrorCode::kUpdateMessage, subcode, attrData), status.family);
      if (action == ErrorAction::kSessionReset) return;
      // A flags conflict under treat-as-withdraw keeps the value: MP_REACH's NLRI is still needed
      // to know what to withdraw.
      if (action != ErrorAction::kTreatAsWithdraw || status.error) continue;
    }
    if ((flags & kPartial) && row->flags == (kOptional | kTransitive))
      out.partial |= std::uint64_t{1} << type;
    // Merge the decoded field into out (scratch holds only this attribute).
    switch (row->type) {
      case AttrType::kOrigin:
        out.origin = scratch.origin;
        break;
      case AttrType::kAsPath:
        out.asPath = std::move(scratch.asPath);
        break;
      case AttrType::kNextHop:
        out.nextHop = scratch.nextHop;
        break;
      case AttrType::kMultiExitDisc:
        out.med = scratch.med;
        break;
      case AttrType::kLocalPref:
        out.localPref = scratch.localPref;
        break;
      case AttrType::kAtomicAggregate:
        out.atomicAggregate = true;
        break;
      case AttrType::kAggregator:
        out.aggregator = scratch.aggregator;
        break;
      case AttrType::kCommunities:
        out.communities = std::move(scratch.communities);
        break;
      case AttrType::kOriginatorId:
        out.originatorId = scratch.originatorId;
        break;
      case AttrType::kClusterList:
        out.clusterList = std::move(scratch.clusterList);
        break;
      case AttrType::kMpReachNlri:
        out.mpReach = std::move(scratch.mpReach);
        break;
      case AttrType::kMpUnreachNlri:
        out.mpUnreach = std::move(scratch.mpUnreach);
        break;
      case AttrType::kAs4Path:
        out.as4Path = std::move(scratch.as4Path);
        break;
      case AttrType::kAs4Aggregator:
        out.as4Aggregator = scratch.as4Aggregator;
        break;
      case AttrType::kLargeCommunity:
        out.largeCommunities = std::move(scratch.largeCommunities);
        break;
    }
  }
}

void encodePathAttributes(const PathAttributes& attrs, const CodecContext& ctx, wire::Writer& w) {
  for (const auto& row : kAttrTable)
    if ((row.type == AttrType::kMpReachNlri || row.type == AttrType::kMpUnreachNlri) && row.present(attrs))
      encodeRow(row, attrs, ctx, w);
  for (const auto& row : kAttrTable)
    if (row.type != AttrType::kMpReachNlri && row.type != AttrType::kMpUnreachNlri && row.present(attrs))
      encodeRow(row, attrs, ctx, w);
  for (const auto& raw : attrs.unknown) writeAttribute(raw.flags, raw.type, raw.value, w);
}

std::size_t hashPathAttributes(const PathAttributes& attrs) {
  thread_local wire::Bytes bytes;  // reused: interning hashes once per received route
  bytes.clear();
  wire::Writer w(bytes);
  encodePathAttributes(attrs, CodecContext{true, true, true, false}, w);
  return hashBytes(bytes.data(), bytes.size());
}

}  // namespace tartan::bgp
