#include "fsm/open_validation.hpp"

#include <algorithm>

namespace tartan::bgp::fsm {
namespace {

bool contains(const std::vector<AfiSafi>& v, AfiSafi f) {
  return std::find(v.begin(), v.end(), f) != v.end();
}

bool sends(AddPathMode m) { return m == AddPathMode::kSend || m == AddPathMode::kBoth; }
bool receives(AddPathMode m) { return m == AddPathMode::kReceive || m == AddPathMode::kBoth; }

std::optional<AddPathMode> modeFor(const std::vector<AddPathCap::Family>& list, AfiSafi f) {
  for (const auto& e : list)
    if (e.family == f) return e.mode;
  return std::nullopt;
}

Notification openError(OpenSubcode sub, wire::Bytes data = {}) {
  return Notification::make(ErrorCode::kOpenMessage, sub, std::move(data));
}

}  // namespace

CodecContext SessionParams::receiveContext() const {
  CodecContext c;
  c.fourOctetAs = fourOctetAs;
  c.addPathIpv4 = contains(addPathReceive, kIpv4Unicast);
  c.addPathIpv6 = contains(addPathReceive, kIpv6Unicast);
  c.externalPeer = external;
  return c;
}

CodecContext SessionParams::sendContext() const {
  CodecContext c;
  c.fourOctetAs = fourOctetAs;
  c.addPathIpv4 = contains(addPathSend, kIpv4Unicast);
  c.addPathIpv6 = contains(addPathSend, kIpv6Unicast);
  c.externalPeer = external;
  return c;
}

Open makeOpen(const PeerConfig& config) {
  Open open;
  // RFC 6793 §4.1: a 4-octet AS is sent as AS_TRANS in My Autonomous System.
  open.myAs = static_cast<std::uint16_t>(config.localAs > 0xffff ? kAsTrans : config.localAs);
  open.holdTime = config.holdTime;
  open.bgpId = config.routerId;
  for (const auto& f : config.families) open.capabilities.push_back(MultiprotocolCap{f});
  if (config.routeRefresh) open.capabilities.push_back(RouteRefreshCap{});
  if (config.gracefulRestart) open.capabilities.push_back(*config.gracefulRestart);
  open.capabilities.push_back(FourOctetAsCap{config.localAs});
  if (!config.addPath.empty()) open.capabilities.push_back(AddPathCap{config.addPath});
  return open;
}

std::variant<SessionParams, Notification> negotiate(const PeerConfig& config, const Open& open) {
  // §6.2: Unsupported Version Number, data = the largest version we support.
  if (open.version != kBgpVersion) return openError(OpenSubcode::kUnsupportedVersionNumber, {0, kBgpVersion});

  SessionParams s;
  const auto as4 = fourOctetAs(open.capabilities);
  s.fourOctetAs = as4.has_value();
  s.peerAs = as4 ? *as4 : open.myAs;
  // RFC 6793 §4.1 and RFC 7607: the 4-octet AS must agree with My AS, and AS 0 is never valid.
  if (s.peerAs == 0 || open.myAs == 0) return openError(OpenSubcode::kBadPeerAs);
  if (as4 && *as4 <= 0xffff && open.myAs != *as4) return openError(OpenSubcode::kBadPeerAs);
  if (as4 && *as4 > 0xffff && open.myAs != kAsTrans) return openError(OpenSubcode::kBadPeerAs);
  if (config.peerAs && *config.peerAs != s.peerAs) return openError(OpenSubcode::kBadPeerAs);
  s.external = s.peerAs != config.localAs;

  // RFC 6286 §2.2: the identifier is non-zero, and differs from ours within one AS.
  s.peerId = open.bgpId;
  if (s.peerId == 0 || (!s.external && s.peerId == config.routerId))
    return openError(OpenSubcode::kBadBgpIdentifier);

  // §4.2 / §6.2: a hold time of 1 or 2 seconds is unacceptable.
  if (open.holdTime == 1 || open.holdTime == 2) return openError(OpenSubcode::kUnacceptableHoldTime);
  s.holdTime = std::min(open.holdTime, config.holdTime);
  s.keepaliveTime = static_cast<std::uint16_t>(s.holdTime / 3);
  if (config.keepaliveTime && s.holdTime > 0)
    s.keepaliveTime = std::max<std::uint16_t>(1, std::min(s.keepaliveTime, *config.keepaliveTime));

  for (auto code : config.requiredCapabilities) {
    const bool present = std::any_of(open.capabilities.begin(), open.capabilities.end(),
                                     [&](const Capability& c) { return capabilityCode(c) == code; });
    if (!present) {
      // RFC 5492 §5: the data lists the capabilities we need, as TLVs.
      const Open ours = makeOpen(config);
      wire::Bytes data;
      wire::Writer w(data);
      for (const auto& c : ours.capabilities)
        if (capabilityCode(c) == code) encodeCapability(c, w);
      if (data.empty()) data = {code, 0};
      return openError(OpenSubcode::kUnsupportedCapability, data);
    }
  }

  // RFC 4760 §8: without Multiprotocol capabilities a speaker does IPv4 unicast only.
  auto theirs = multiprotocolFamilies(open.capabilities);
  if (theirs.empty()) theirs = {kIpv4Unicast};
  for (const auto& f : config.families)
    if (contains(theirs, f)) s.families.push_back(f);

  s.routeRefresh = config.routeRefresh && hasRouteRefresh(open.capabilities);
  if (const auto* gr = gracefulRestart(open.capabilities)) s.peerGracefulRestart = *gr;

  // RFC 7911 §5: path identifiers flow where one side sends and the other receives.
  if (const auto* peerAddPath = addPath(open.capabilities)) {
    for (const auto& f : s.families) {
      const auto ours = modeFor(config.addPath, f);
      const auto peers = modeFor(peerAddPath->families, f);
      if (!ours || !peers) continue;
      if (receives(*ours) && sends(*peers)) s.addPathReceive.push_back(f);
      if (sends(*ours) && receives(*peers)) s.addPathSend.push_back(f);
    }
  }
  return s;
}

}  // namespace tartan::bgp::fsm
