// The rtnetlink codec. Every integer is read and written with memcpy at a checked offset: a
// receive buffer gives no alignment guarantee to a parser that must survive garbage, and the
// sanitizers would rightly object to casting it to kernel structs.
#include <tartan/netlink/codec.hpp>

#include <cstring>

namespace tartan::netlink {

namespace {

// linux/netlink.h
constexpr uint16_t kFlagRequest = 0x01;
constexpr uint16_t kFlagAck = 0x04;
constexpr uint16_t kFlagDump = 0x300;  // NLM_F_ROOT | NLM_F_MATCH
constexpr uint16_t kFlagReplace = 0x100;
constexpr uint16_t kFlagExcl = 0x200;
constexpr uint16_t kFlagCreate = 0x400;
constexpr uint16_t kFlagCapped = 0x100;   // on NLMSG_ERROR: request payload left out
constexpr uint16_t kFlagAckTlvs = 0x200;  // on NLMSG_ERROR: extended ACK attributes follow
constexpr uint16_t kErrAttrMsg = 1;       // NLMSGERR_ATTR_MSG

constexpr size_t kHeaderSize = 16;    // struct nlmsghdr
constexpr size_t kRtmsgSize = 12;     // struct rtmsg
constexpr size_t kIfinfoSize = 16;    // struct ifinfomsg
constexpr size_t kIfaddrSize = 8;     // struct ifaddrmsg
constexpr size_t kRtnexthopSize = 8;  // struct rtnexthop
constexpr size_t kAttrHeader = 4;     // struct rtattr / nlattr

// linux/rtnetlink.h attribute types
constexpr uint16_t kRtaDst = 1;
constexpr uint16_t kRtaOif = 4;
constexpr uint16_t kRtaGateway = 5;
constexpr uint16_t kRtaPriority = 6;
constexpr uint16_t kRtaPrefsrc = 7;
constexpr uint16_t kRtaMultipath = 9;
constexpr uint16_t kRtaTable = 15;
constexpr uint16_t kRtaVia = 18;
// linux/if_link.h
constexpr uint16_t kIflaAddress = 1;
constexpr uint16_t kIflaIfname = 3;
constexpr uint16_t kIflaMtu = 4;
constexpr uint16_t kIflaLinkinfo = 18;
constexpr uint16_t kIflaInfoKind = 1;
// linux/if_addr.h
constexpr uint16_t kIfaAddress = 1;
constexpr uint16_t kIfaLocal = 2;

constexpr uint32_t kIffUp = 0x1;
constexpr uint32_t kIffRunning = 0x40;

size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

// --- writing --------------------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out), start_(out.size()) {}

  template <class T>
  void put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void bytes(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  void pad() { out_.resize(start_ + align4(out_.size() - start_), 0); }

  void header(uint16_t type, uint16_t flags, uint32_t seq) {
    put<uint32_t>(0);  // length, patched by finish()
    put(type);
    put(flags);
    put(seq);
    put<uint32_t>(0);  // port id: the kernel fills in ours
  }

  // Starts an attribute and returns its offset, for nested attributes to be closed later.
  size_t open(uint16_t type) {
    pad();
    size_t at = out_.size();
    put<uint16_t>(0);
    put(type);
    return at;
  }
  void close(size_t at) { patch16(at, static_cast<uint16_t>(out_.size() - at)); }

  void attr(uint16_t type, const void* data, size_t n) {
    size_t at = open(type);
    bytes(static_cast<const uint8_t*>(data), n);
    close(at);
  }
  void attr32(uint16_t type, uint32_t value) { attr(type, &value, sizeof value); }
  void attrAddress(uint16_t type, const IpAddress& address) {
    attr(type, address.bytes.data(), address.size());
  }

  size_t size() const { return out_.size(); }
  void patch16(size_t at, uint16_t value) { std::memcpy(out_.data() + at, &value, 2); }

  void finish() {
    pad();
    auto length = static_cast<uint32_t>(out_.size() - start_);
    std::memcpy(out_.data() + start_, &length, 4);
  }

 private:
  std::vector<uint8_t>& out_;
  size_t start_;
};

// --- reading --------------------------------------------------------------------------------

template <class T>
T load(std::span<const uint8_t> bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

struct Attr {
  uint16_t type = 0;
  std::span<const uint8_t> data;
};

// Splits a run of attributes, checking that each one fits in what is left.
Result<std::vector<Attr>> splitAttrs(std::span<const uint8_t> bytes, const char* where) {
  std::vector<Attr> attrs;
  size_t at = 0;
  while (bytes.size() - at >= kAttrHeader) {
    auto length = load<uint16_t>(bytes, at);
    auto type = load<uint16_t>(bytes, at + 2);
    if (length < kAttrHeader || length > bytes.size() - at)
      return makeError(where, "attribute " + std::to_string(type & 0x3fff),
                       "length " + std::to_string(length) + " does not fit in " +
                           std::to_string(bytes.size() - at) + " bytes");
    attrs.push_back(Attr{static_cast<uint16_t>(type & 0x3fff),  // strip NLA_F_NESTED/BYTEORDER
                         bytes.subspan(at + kAttrHeader, length - kAttrHeader)});
    at += std::min(align4(length), bytes.size() - at);
  }
  if (at != bytes.size())
    return makeError(where, "", std::to_string(bytes.size() - at) + " stray bytes after attributes");
  return attrs;
}

Result<uint32_t> attrU32(const Attr& attr, const char* where, const char* name) {
  if (attr.data.size() != 4)
    return makeError(where, name, "expected 4 bytes, got " + std::to_string(attr.data.size()));
  return load<uint32_t>(attr.data, 0);
}

Result<IpAddress> attrAddress(const Attr& attr, Family family, const char* where, const char* name) {
  IpAddress address;
  address.family = family;
  if (attr.data.size() != address.size())
    return makeError(where, name,
                     "address of " + std::to_string(attr.data.size()) + " bytes for family " +
                         std::to_string(static_cast<int>(family)));
  std::memcpy(address.bytes.data(), attr.data.data(), address.size());
  return address;
}

Result<Family> familyOf(uint8_t raw, const char* where) {
  if (raw == 2) return Family::V4;
  if (raw == 10) return Family::V6;
  return makeError(where, "family", "unsupported address family " + std::to_string(raw));
}

// RTA_VIA: struct rtvia { __kernel_sa_family_t (u16); address }. An IPv4 route through an
// IPv6 gateway (RFC 5549) is reported this way.
Result<IpAddress> viaAddress(const Attr& attr, const char* where) {
  if (attr.data.size() < 2) return makeError(where, "RTA_VIA", "too short");
  auto family = familyOf(static_cast<uint8_t>(load<uint16_t>(attr.data, 0)), where);
  if (!family) return family.error();
  return attrAddress(Attr{attr.type, attr.data.subspan(2)}, *family, where, "RTA_VIA");
}

Result<std::vector<Nexthop>> decodeMultipath(std::span<const uint8_t> bytes, Family family) {
  constexpr const char* kWhere = "RTA_MULTIPATH";
  std::vector<Nexthop> hops;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < kRtnexthopSize) return makeError(kWhere, "", "truncated rtnexthop");
    auto length = load<uint16_t>(bytes, at);
    if (length < kRtnexthopSize || length > bytes.size() - at)
      return makeError(kWhere, "rtnh_len", "length " + std::to_string(length) + " out of range");
    Nexthop hop;
    hop.weight = static_cast<uint8_t>(load<uint8_t>(bytes, at + 3) + 1);
    hop.ifindex = static_cast<uint32_t>(load<int32_t>(bytes, at + 4));
    auto attrs = splitAttrs(bytes.subspan(at + kRtnexthopSize, length - kRtnexthopSize), kWhere);
    if (!attrs) return attrs.error();
    for (const Attr& attr : *attrs) {
      if (attr.type == kRtaGateway) {
        auto gateway = attrAddress(attr, family, kWhere, "RTA_GATEWAY");
        if (!gateway) return gateway.error();
        hop.gateway = *gateway;
      } else if (attr.type == kRtaVia) {
        auto gateway = viaAddress(attr, kWhere);
        if (!gateway) return gateway.error();
        hop.gateway = *gateway;
      }
    }
    hops.push_back(hop);
    at += std::min(align4(length), bytes.size() - at);
  }
  return hops;
}

}  // namespace

std::string messageTypeName(uint16_t type) {
  switch (type) {
    case kNlmsgNoop:
      return "NLMSG_NOOP";
    case kNlmsgError:
      return "NLMSG_ERROR";
    case kNlmsgDone:
      return "NLMSG_DONE";
    case kRtmNewLink:
      return "RTM_NEWLINK";
    case kRtmDelLink:
      return "RTM_DELLINK";
    case kRtmGetLink:
      return "RTM_GETLINK";
    case kRtmNewAddr:
      return "RTM_NEWADDR";
    case kRtmDelAddr:
      return "RTM_DELADDR";
    case kRtmGetAddr:
      return "RTM_GETADDR";
    case kRtmNewRoute:
      return "RTM_NEWROUTE";
    case kRtmDelRoute:
      return "RTM_DELROUTE";
    case kRtmGetRoute:
      return "RTM_GETROUTE";
    default:
      return "message type " + std::to_string(type);
  }
}

Result<std::vector<Message>> splitMessages(std::span<const uint8_t> datagram) {
  std::vector<Message> messages;
  size_t at = 0;
  while (at < datagram.size()) {
    if (datagram.size() - at < kHeaderSize)
      return makeError("netlink", "",
                       "truncated header: " + std::to_string(datagram.size() - at) + " bytes left");
    auto length = load<uint32_t>(datagram, at);
    if (length < kHeaderSize || length > datagram.size() - at)
      return makeError("netlink", "nlmsg_len",
                       "length " + std::to_string(length) + " does not fit in " +
                           std::to_string(datagram.size() - at) + " bytes");
    Message message;
    message.type = load<uint16_t>(datagram, at + 4);
    message.flags = load<uint16_t>(datagram, at + 6);
    message.seq = load<uint32_t>(datagram, at + 8);
    message.pid = load<uint32_t>(datagram, at + 12);
    message.payload = datagram.subspan(at + kHeaderSize, length - kHeaderSize);
    messages.push_back(message);
    at += std::min<size_t>(align4(length), datagram.size() - at);
  }
  return messages;
}

void encodeRouteChange(std::vector<uint8_t>& out, const RouteChange& change, uint32_t seq, bool ack) {
  const Route& route = change.route;
  const bool remove = change.op == RouteOp::Delete;
  uint16_t flags = ack ? kFlagRequest | kFlagAck : kFlagRequest;
  if (change.op == RouteOp::Add) flags |= kFlagCreate | kFlagExcl;
  if (change.op == RouteOp::Replace) flags |= kFlagCreate | kFlagReplace;

  Writer w(out);
  w.header(remove ? kRtmDelRoute : kRtmNewRoute, flags, seq);
  // struct rtmsg. A table above 255 does not fit rtm_table: it goes in RTA_TABLE, as iproute2
  // sends it.
  w.put(static_cast<uint8_t>(route.family()));
  w.put(route.dst.length);
  w.put<uint8_t>(0);  // rtm_src_len
  w.put<uint8_t>(0);  // rtm_tos
  w.put(static_cast<uint8_t>(route.table < 256 ? route.table : 0));
  w.put(route.protocol);
  // A delete matches on the key and the protocol; scope NOWHERE means "any scope", so a
  // delete names exactly one route without having to restate how it forwards.
  w.put(static_cast<uint8_t>(remove ? RouteScope::Nowhere : route.scope));
  w.put(static_cast<uint8_t>(route.type));
  w.put<uint32_t>(0);  // rtm_flags

  if (route.dst.length > 0) w.attrAddress(kRtaDst, route.dst.address);
  if (route.table >= 256) w.attr32(kRtaTable, route.table);
  if (route.priority != 0) w.attr32(kRtaPriority, route.priority);
  if (remove) {
    w.finish();
    return;
  }
  if (route.prefsrc) w.attrAddress(kRtaPrefsrc, *route.prefsrc);
  const bool forwards = route.type == RouteType::Unicast || route.type == RouteType::Local;
  if (forwards && route.nexthops.size() == 1) {
    const Nexthop& hop = route.nexthops.front();
    if (hop.gateway) w.attrAddress(kRtaGateway, *hop.gateway);
    if (hop.ifindex != 0) w.attr32(kRtaOif, hop.ifindex);
  } else if (forwards && route.nexthops.size() > 1) {
    size_t multipath = w.open(kRtaMultipath);
    for (const Nexthop& hop : route.nexthops) {
      size_t start = w.size();
      w.put<uint16_t>(0);  // rtnh_len
      w.put<uint8_t>(0);   // rtnh_flags
      w.put(static_cast<uint8_t>(hop.weight == 0 ? 0 : hop.weight - 1));
      w.put(static_cast<int32_t>(hop.ifindex));
      if (hop.gateway) w.attrAddress(kRtaGateway, *hop.gateway);
      w.patch16(start, static_cast<uint16_t>(w.size() - start));
    }
    w.close(multipath);
  }
  w.finish();
}

void encodeRouteDump(std::vector<uint8_t>& out, std::optional<Family> family, uint32_t seq) {
  Writer w(out);
  w.header(kRtmGetRoute, kFlagRequest | kFlagDump, seq);
  w.put(static_cast<uint8_t>(family ? static_cast<uint8_t>(*family) : 0));
  for (int i = 0; i < 7; ++i) w.put<uint8_t>(0);
  w.put<uint32_t>(0);
  w.finish();
}

void encodeLinkDump(std::vector<uint8_t>& out, uint32_t seq) {
  Writer w(out);
  w.header(kRtmGetLink, kFlagRequest | kFlagDump, seq);
  for (size_t i = 0; i < kIfinfoSize; ++i) w.put<uint8_t>(0);  // AF_UNSPEC, all links
  w.finish();
}

void encodeLinkGet(std::vector<uint8_t>& out, std::string_view name, uint32_t seq) {
  Writer w(out);
  w.header(kRtmGetLink, kFlagRequest, seq);
  for (size_t i = 0; i < kIfinfoSize; ++i) w.put<uint8_t>(0);
  std::string terminated(name);
  w.attr(kIflaIfname, terminated.c_str(), terminated.size() + 1);
  w.finish();
}

void encodeAddressDump(std::vector<uint8_t>& out, std::optional<Family> family, uint32_t seq) {
  Writer w(out);
  w.header(kRtmGetAddr, kFlagRequest | kFlagDump, seq);
  w.put(static_cast<uint8_t>(family ? static_cast<uint8_t>(*family) : 0));
  for (size_t i = 1; i < kIfaddrSize; ++i) w.put<uint8_t>(0);
  w.finish();
}

void encodeBarrier(std::vector<uint8_t>& out, uint32_t seq) {
  Writer w(out);
  w.header(kNlmsgNoop, kFlagRequest | kFlagAck, seq);
  w.finish();
}

Result<Route> decodeRoute(std::span<const uint8_t> payload) {
  constexpr const char* kWhere = "RTM_NEWROUTE";
  if (payload.size() < kRtmsgSize)
    return makeError(kWhere, "rtmsg", "truncated: " + std::to_string(payload.size()) + " bytes");
  auto family = familyOf(payload[0], kWhere);
  if (!family) return family.error();
  Route route;
  route.dst.address.family = *family;
  route.dst.length = payload[1];
  if (route.dst.length > route.dst.address.size() * 8)
    return makeError(kWhere, "rtm_dst_len", "prefix length " + std::to_string(route.dst.length));
  route.table = payload[4];
  route.protocol = payload[5];
  route.scope = static_cast<RouteScope>(payload[6]);
  route.type = static_cast<RouteType>(payload[7]);

  auto attrs = splitAttrs(payload.subspan(kRtmsgSize), kWhere);
  if (!attrs) return attrs.error();
  bool haveDst = false;
  Nexthop single;
  bool haveSingle = false;
  for (const Attr& attr : *attrs) {
    switch (attr.type) {
      case kRtaDst: {
        auto dst = attrAddress(attr, *family, kWhere, "RTA_DST");
        if (!dst) return dst.error();
        route.dst.address = *dst;
        haveDst = true;
        break;
      }
      case kRtaTable: {
        auto table = attrU32(attr, kWhere, "RTA_TABLE");
        if (!table) return table.error();
        route.table = *table;
        break;
      }
      case kRtaPriority: {
        auto priority = attrU32(attr, kWhere, "RTA_PRIORITY");
        if (!priority) return priority.error();
        route.priority = *priority;
        break;
      }
      case kRtaOif: {
        auto oif = attrU32(attr, kWhere, "RTA_OIF");
        if (!oif) return oif.error();
        single.ifindex = *oif;
        haveSingle = true;
        break;
      }
      case kRtaGateway: {
        auto gateway = attrAddress(attr, *family, kWhere, "RTA_GATEWAY");
        if (!gateway) return gateway.error();
        single.gateway = *gateway;
        haveSingle = true;
        break;
      }
      case kRtaVia: {
        auto gateway = viaAddress(attr, kWhere);
        if (!gateway) return gateway.error();
        single.gateway = *gateway;
        haveSingle = true;
        break;
      }
      case kRtaPrefsrc: {
        auto src = attrAddress(attr, *family, kWhere, "RTA_PREFSRC");
        if (!src) return src.error();
        route.prefsrc = *src;
        break;
      }
      case kRtaMultipath: {
        auto hops = decodeMultipath(attr.data, *family);
        if (!hops) return hops.error();
        route.nexthops = std::move(*hops);
        break;
      }
      default:
        break;  // metrics, cache info, expiry, preference: not ours to manage
    }
  }
  if (route.dst.length > 0 && !haveDst)
    return makeError(kWhere, "RTA_DST", "missing for a /" + std::to_string(route.dst.length));
  // Keep the Prefix invariant (host bits zero) even if a sender does not.
  for (size_t bit = route.dst.length; bit < route.dst.address.size() * 8; ++bit)
    route.dst.address.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  if (haveSingle && route.nexthops.empty()) route.nexthops.push_back(single);
  return route;
}

Result<Link> decodeLink(std::span<const uint8_t> payload) {
  constexpr const char* kWhere = "RTM_NEWLINK";
  if (payload.size() < kIfinfoSize)
    return makeError(kWhere, "ifinfomsg", "truncated: " + std::to_string(payload.size()) + " bytes");
  Link link;
  link.ifindex = static_cast<uint32_t>(load<int32_t>(payload, 4));
  link.flags = load<uint32_t>(payload, 8);
  link.up = (link.flags & kIffUp) != 0;
  link.running = (link.flags & kIffRunning) != 0;
  auto attrs = splitAttrs(payload.subspan(kIfinfoSize), kWhere);
  if (!attrs) return attrs.error();
  for (const Attr& attr : *attrs) {
    if (attr.type == kIflaIfname) {
      // NUL-terminated on the wire; stop at the first NUL, and never read past the attribute.
      std::string name(reinterpret_cast<const char*>(attr.data.data()), attr.data.size());
      link.name = name.substr(0, name.find('\0'));
    } else if (attr.type == kIflaMtu) {
      auto mtu = attrU32(attr, kWhere, "IFLA_MTU");
      if (!mtu) return mtu.error();
      link.mtu = *mtu;
    } else if (attr.type == kIflaAddress) {
      link.mac.assign(attr.data.begin(), attr.data.end());
    } else if (attr.type == kIflaLinkinfo) {
      auto info = splitAttrs(attr.data, "IFLA_LINKINFO");
      if (!info) return info.error();
      for (const Attr& inner : *info) {
        if (inner.type != kIflaInfoKind) continue;
        std::string kind(reinterpret_cast<const char*>(inner.data.data()), inner.data.size());
        link.kind = kind.substr(0, kind.find('\0'));
      }
    }
  }
  if (link.name.empty()) return makeError(kWhere, "IFLA_IFNAME", "missing");
  return link;
}

Result<InterfaceAddress> decodeAddress(std::span<const uint8_t> payload) {
  constexpr const char* kWhere = "RTM_NEWADDR";
  if (payload.size() < kIfaddrSize)
    return makeError(kWhere, "ifaddrmsg", "truncated: " + std::to_string(payload.size()) + " bytes");
  auto family = familyOf(payload[0], kWhere);
  if (!family) return family.error();
  InterfaceAddress address;
  address.prefix.address.family = *family;
  address.prefix.length = payload[1];
  if (address.prefix.length > address.prefix.address.size() * 8)
    return makeError(kWhere, "ifa_prefixlen", std::to_string(address.prefix.length));
  address.scope = static_cast<RouteScope>(payload[3]);
  address.ifindex = load<uint32_t>(payload, 4);
  auto attrs = splitAttrs(payload.subspan(kIfaddrSize), kWhere);
  if (!attrs) return attrs.error();
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point
  // links, and the only one IPv6 sends.
  std::optional<IpAddress> local, peer;
  for (const Attr& attr : *attrs) {
    if (attr.type != kIfaLocal && attr.type != kIfaAddress) continue;
    auto ip = attrAddress(attr, *family, kWhere, attr.type == kIfaLocal ? "IFA_LOCAL" : "IFA_ADDRESS");
    if (!ip) return ip.error();
    (attr.type == kIfaLocal ? local : peer) = *ip;
  }
  if (!local && !peer) return makeError(kWhere, "IFA_ADDRESS", "missing");
  address.prefix.address = local ? *local : *peer;
  return address;
}

Result<Ack> decodeAck(std::span<const uint8_t> payload, uint16_t flags) {
  constexpr const char* kWhere = "NLMSG_ERROR";
  if (payload.size() < 4 + kHeaderSize)
    return makeError(kWhere, "", "truncated: " + std::to_string(payload.size()) + " bytes");
  Ack ack;
  ack.error = -load<int32_t>(payload, 0);
  auto requestLength = load<uint32_t>(payload, 4);
  ack.requestType = load<uint16_t>(payload, 8);
  ack.requestSeq = load<uint32_t>(payload, 12);
  if ((flags & kFlagAckTlvs) == 0) return ack;
  size_t tlvs = 4 + ((flags & kFlagCapped) ? kHeaderSize : align4(requestLength));
  if (tlvs > payload.size())
    return makeError(kWhere, "", "request copy of " + std::to_string(requestLength) + " bytes does not fit");
  auto attrs = splitAttrs(payload.subspan(tlvs), kWhere);
  if (!attrs) return attrs.error();
  for (const Attr& attr : *attrs) {
    if (attr.type != kErrAttrMsg) continue;
    std::string text(reinterpret_cast<const char*>(attr.data.data()), attr.data.size());
    ack.message = text.substr(0, text.find('\0'));
  }
  return ack;
}

}  // namespace tartan::netlink
