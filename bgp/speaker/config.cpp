// Translation of datastore resources into the speaker's configuration (see config.hpp).
#include "config.hpp"

#include <tartan/common/duration.hpp>
#include <tartan/selector/selector.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

namespace tartan::bgp::speaker {
namespace {

constexpr std::uint32_t kDefaultAs = 64512;  // Calico's default AS

// "10.0.0.1/24" or "10.0.0.1" → the address.
std::optional<Address> addressOfCidr(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const auto slash = text.find('/');
  return Address::parse(text.substr(0, slash));
}

// "10.0.0.1", "10.0.0.1:1179", "[fd00::1]:1179", "fd00::1".
std::optional<std::pair<Address, std::uint16_t>> parsePeerIp(std::string_view text) {
  std::uint16_t port = 179;
  std::string_view host = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      rest.remove_prefix(1);
      if (std::from_chars(rest.data(), rest.data() + rest.size(), port).ec != std::errc{})
        return std::nullopt;
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    auto rest = text.substr(colon + 1);
    if (std::from_chars(rest.data(), rest.data() + rest.size(), port).ec != std::errc{}) return std::nullopt;
  }
  auto address = Address::parse(host);
  if (!address) return std::nullopt;
  return std::pair{*address, port};
}

bool selectorMatches(const std::string& text, const model::Labels& labels,
                     std::vector<std::string>& warnings) {
  auto parsed = selector::parse(text);
  if (!parsed) {
    warnings.push_back("selector \"" + text + "\": " + parsed.error().toString());
    return false;
  }
  return parsed->matches(labels);
}

// BGPPeer nextHopMode, with the deprecated keepOriginalNextHop meaning Keep.
NextHopMode nextHopModeOf(const model::BGPPeer& peer, std::vector<std::string>& warnings) {
  const auto& mode = peer.spec.nextHopMode;
  if (peer.spec.keepOriginalNextHop || mode == std::optional<std::string>("Keep")) return NextHopMode::kKeep;
  if (mode == std::optional<std::string>("Self")) return NextHopMode::kSelf;
  if (mode && *mode != "Auto")
    warnings.push_back("BGPPeer " + peer.metadata.name + ": unknown nextHopMode \"" + *mode +
                       "\", using Auto");
  return NextHopMode::kAuto;
}

std::uint32_t nodeAs(const model::Node& node, std::uint32_t clusterAs) {
  if (node.spec.bgp && node.spec.bgp->asNumber) return node.spec.bgp->asNumber->value;
  return clusterAs;
}

std::string clusterIdOf(const model::Node& node) {
  return node.spec.bgp ? node.spec.bgp->routeReflectorClusterID : std::string{};
}

}  // namespace

std::string_view peerTypeName(PeerType type) {
  switch (type) {
    case PeerType::kMesh:
      return "node-to-node mesh";
    case PeerType::kGlobal:
      return "global";
    case PeerType::kNodeSpecific:
      return "node specific";
  }
  return "?";
}

const PeerSpec* SpeakerConfig::peer(const std::string& key) const {
  for (const auto& p : peers)
    if (p.key == key) return &p;
  return nullptr;
}

std::optional<std::uint32_t> parseDurationSeconds(std::string_view text) {
  const auto d = parseGoDurationSeconds(text);
  if (!d || d->count() < 0 || d->count() > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(d->count());
}

SpeakerConfig buildConfig(const ResourceSnapshot& snapshot, const std::string& nodeName,
                          const SecretLookup& secrets) {
  SpeakerConfig config;
  config.nodeName = nodeName;
  auto& warnings = config.warnings;

  // Calico reads the cluster-wide BGPConfiguration named "default".
  const model::BGPConfigurationSpec* global = nullptr;
  for (const auto& c : snapshot.bgpConfigurations)
    if (c.metadata.name == "default") global = &c.spec;
  const std::uint32_t clusterAs = global && global->asNumber ? global->asNumber->value : kDefaultAs;
  const bool mesh = !global || global->nodeToNodeMeshEnabled.value_or(true);
  if (global && global->listenPort != 0) config.listenPort = global->listenPort;
  if (global && global->bindMode == std::optional<std::string>("NodeIP")) config.listenOnNodeAddresses = true;
  std::optional<std::string> meshPassword;
  if (global && global->nodeMeshPassword && global->nodeMeshPassword->secretKeyRef && secrets) {
    const auto& ref = *global->nodeMeshPassword->secretKeyRef;
    meshPassword = secrets(ref.name, ref.key);
    if (!meshPassword)
      warnings.push_back("nodeMeshPassword: secret " + ref.name + "/" + ref.key + " not found");
  }
  std::uint16_t meshRestart = 120;
  if (global && global->nodeMeshMaxRestartTime)
    if (auto s = parseDurationSeconds(*global->nodeMeshMaxRestartTime))
      meshRestart = static_cast<std::uint16_t>(std::min<std::uint32_t>(*s, 4095));

  const model::Node* self = nullptr;
  for (const auto& n : snapshot.nodes)
    if (n.metadata.name == nodeName) self = &n;
  if (!self) warnings.push_back("node " + nodeName + " has no Node resource");

  if (self) {
    config.localAs = nodeAs(*self, clusterAs);
    if (self->spec.bgp) {
      config.ipv4 = addressOfCidr(self->spec.bgp->ipv4Address);
      config.ipv6 = addressOfCidr(self->spec.bgp->ipv6Address);
      if (const auto& id = self->spec.bgp->routeReflectorClusterID; !id.empty()) {
        auto a = Address::parse(id);
        if (a && a->family == Afi::kIpv4) {
          config.routeReflector = true;
          config.clusterId = a->v4HostOrder();
        } else {
          warnings.push_back("routeReflectorClusterID \"" + id + "\" is not an IPv4 address");
        }
      }
    }
  } else {
    config.localAs = clusterAs;
  }
  if (config.ipv4)
    config.routerId = config.ipv4->v4HostOrder();
  else
    config.routerId = static_cast<std::uint32_t>(hashBytes(nodeName.data(), nodeName.size()) | 1u);

  // Blocks affine to this node: IPAMBlock "host:<node>", or a confirmed BlockAffinity.
  const std::string affinity = "host:" + nodeName;
  for (const auto& b : snapshot.ipamBlocks) {
    if (b.spec.deleted || b.spec.affinity != affinity) continue;
    if (auto p = Prefix::parse(b.spec.cidr))
      config.blocks.push_back(*p);
    else
      warnings.push_back("IPAMBlock " + b.metadata.name + ": bad cidr " + b.spec.cidr);
  }
  for (const auto& a : snapshot.blockAffinities) {
    if (a.spec.node != nodeName || a.spec.deleted == "true" || a.spec.state == "pendingDeletion") continue;
    if (!a.spec.type.empty() && a.spec.type != "host") continue;
    if (auto p = Prefix::parse(a.spec.cidr)) config.blocks.push_back(*p);
  }
  std::sort(config.blocks.begin(), config.blocks.end());
  config.blocks.erase(std::unique(config.blocks.begin(), config.blocks.end()), config.blocks.end());

  // Service address ranges: Calico reads them from the cluster-wide configuration only, and every
  // node announces them.
  if (global) {
    for (const auto* list :
         {&global->serviceClusterIPs, &global->serviceExternalIPs, &global->serviceLoadBalancerIPs})
      for (const auto& block : *list) {
        if (auto p = Prefix::parse(block.cidr))
          config.serviceCidrs.push_back(*p);
        else
          warnings.push_back("BGPConfiguration default: bad service CIDR " + block.cidr);
      }
    std::sort(config.serviceCidrs.begin(), config.serviceCidrs.end());
    config.serviceCidrs.erase(std::unique(config.serviceCidrs.begin(), config.serviceCidrs.end()),
                              config.serviceCidrs.end());
  }

  // A disabled pool hands out no new addresses (IPAM's business), but its pods keep working:
  // Calico's BIRD config does not look at `disabled`, so the pool's routes are exported and
  // installed as any pool's, and its disableBGPExport still holds.
  for (const auto& pool : snapshot.ipPools) {
    if (auto p = Prefix::parse(pool.spec.cidr))
      config.pools.push_back({*p, pool.spec.disableBGPExport});
    else
      warnings.push_back("IPPool " + pool.metadata.name + ": bad cidr " + pool.spec.cidr);
  }
  // BGPFilters: compiled once; one the speaker cannot honour keeps its peers down (below).
  std::map<std::string, std::string> refused;  // filter name → why
  for (const auto& f : snapshot.bgpFilters) {
    auto compiled = compileFilter(f.spec);
    if (compiled) {
      config.policies[f.metadata.name] = std::move(*compiled);
    } else {
      refused[f.metadata.name] = compiled.error().toString();
      warnings.push_back("BGPFilter " + f.metadata.name + " refused: " + compiled.error().toString());
    }
  }
  // The BGPPeer's filters, or the reason one of them cannot be applied.
  auto refusedFilter = [&](const std::string& peerName, const std::vector<std::string>& filters) {
    for (const auto& name : filters) {
      if (auto it = refused.find(name); it != refused.end()) {
        warnings.push_back("BGPPeer " + peerName + ": not started, its BGPFilter " + name + " is refused (" +
                           it->second + ")");
        return true;
      }
    }
    return false;
  };

  const model::BGPConfigurationSpec* nodeConfig = nullptr;
  for (const auto& c : snapshot.bgpConfigurations)
    if (c.metadata.name == "node." + nodeName) nodeConfig = &c.spec;
  config.prefixCommunities = compilePrefixAdvertisements(nodeConfig, global, warnings);

  const std::string selfCluster = self ? clusterIdOf(*self) : std::string{};
  auto addNodePeers = [&](const model::Node& other, PeerSpec base, const std::string& keyPrefix) {
    if (!other.spec.bgp) return;
    base.peerAs = nodeAs(other, clusterAs);
    // RFC 4456 §6: a route reflector's peers outside its cluster are its clients.
    const std::string otherCluster = clusterIdOf(other);
    base.routeReflectorClient = !selfCluster.empty() && otherCluster != selfCluster;
    if (auto v4 = addressOfCidr(other.spec.bgp->ipv4Address); v4 && config.ipv4) {
      PeerSpec p = base;
      p.address = *v4;
      p.key = keyPrefix + "/v4";
      config.peers.push_back(std::move(p));
    }
    if (auto v6 = addressOfCidr(other.spec.bgp->ipv6Address); v6 && config.ipv6) {
      PeerSpec p = base;
      p.address = *v6;
      p.key = keyPrefix + "/v6";
      config.peers.push_back(std::move(p));
    }
  };

  if (mesh && self) {
    for (const auto& other : snapshot.nodes) {
      if (other.metadata.name == nodeName) continue;
      // Calico: with route reflectors, two reflectors of the same cluster do not mesh with
      // each other's clients; the plain mesh is between every pair of nodes.
      PeerSpec base;
      base.type = PeerType::kMesh;
      base.localAs = config.localAs;
      base.password = meshPassword;
      base.restartTime = meshRestart;
      addNodePeers(other, base, "mesh/" + other.metadata.name);
    }
  }

  // The session settings a BGPPeer gives, whichever side of it this node is; nullopt when its
  // password cannot be found (a session is never brought up without the password it asks for).
  auto sessionOf = [&](const model::BGPPeer& peer, PeerType type) -> std::optional<PeerSpec> {
    const auto& spec = peer.spec;
    PeerSpec base;
    base.type = type;
    base.localAs = config.localAs;
    base.nextHopMode = nextHopModeOf(peer, warnings);
    base.ttlSecurity = spec.ttlSecurity;
    if (spec.ttlSecurity && *spec.ttlSecurity == 0) base.ttlSecurity.reset();
    base.bindNodeAddress = spec.sourceAddress != "None";
    base.allowLocalAs =
        static_cast<std::uint32_t>(std::max<std::int32_t>(0, spec.numAllowedLocalASNumbers.value_or(0)));
    base.filters = spec.filters;
    // LongLivedGracefulRestart (RFC 9494) is not offered: plain graceful restart either way.
    base.gracefulRestart = true;
    if (spec.maxRestartTime)
      if (auto s = parseDurationSeconds(*spec.maxRestartTime))
        base.restartTime = static_cast<std::uint16_t>(std::min<std::uint32_t>(*s, 4095));
    if (spec.keepaliveTime) {
      if (auto s = parseDurationSeconds(*spec.keepaliveTime))
        base.keepaliveTime = static_cast<std::uint16_t>(std::min<std::uint32_t>(*s, 65535));
      else
        warnings.push_back("BGPPeer " + peer.metadata.name + ": bad keepaliveTime " + *spec.keepaliveTime);
    }
    if (spec.password && spec.password->secretKeyRef) {
      const auto& ref = *spec.password->secretKeyRef;
      if (secrets) base.password = secrets(ref.name, ref.key);
      if (!base.password) {
        warnings.push_back("BGPPeer " + peer.metadata.name + ": secret " + ref.name + "/" + ref.key +
                           " not found");
        return std::nullopt;
      }
    }
    return base;
  };

  for (const auto& peer : snapshot.bgpPeers) {
    const auto& spec = peer.spec;
    bool applies = false;
    PeerType type = PeerType::kGlobal;
    if (!spec.node.empty()) {
      applies = spec.node == nodeName;
      type = PeerType::kNodeSpecific;
    } else if (!spec.nodeSelector.empty()) {
      applies = self && selectorMatches(spec.nodeSelector, self->metadata.labels, warnings);
      type = PeerType::kNodeSpecific;
    } else {
      applies = true;
    }
    if (!applies || refusedFilter(peer.metadata.name, spec.filters)) continue;
    auto session = sessionOf(peer, type);
    if (!session) continue;
    PeerSpec base = std::move(*session);
    if (spec.localASNumber) base.localAs = spec.localASNumber->value;
    if (!spec.peerIP.empty()) {
      auto parsed = parsePeerIp(spec.peerIP);
      if (!parsed) {
        warnings.push_back("BGPPeer " + peer.metadata.name + ": bad peerIP " + spec.peerIP);
        continue;
      }
      PeerSpec p = base;
      p.address = parsed->first;
      p.port = parsed->second;
      p.peerAs = spec.asNumber.value;
      p.key = "peer/" + peer.metadata.name + "/" + p.address.toString();
      // A peer that is itself one of our nodes in another cluster is a client of ours.
      for (const auto& other : snapshot.nodes) {
        if (!other.spec.bgp) continue;
        if (addressOfCidr(other.spec.bgp->ipv4Address) == p.address ||
            addressOfCidr(other.spec.bgp->ipv6Address) == p.address)
          p.routeReflectorClient = !selfCluster.empty() && clusterIdOf(other) != selfCluster;
      }
      if ((p.address.family == Afi::kIpv4 && config.ipv4 && *config.ipv4 == p.address) ||
          (p.address.family == Afi::kIpv6 && config.ipv6 && *config.ipv6 == p.address))
        continue;  // never peer with ourselves
      config.peers.push_back(std::move(p));
    } else if (!spec.peerSelector.empty()) {
      for (const auto& other : snapshot.nodes) {
        if (other.metadata.name == nodeName) continue;
        if (!selectorMatches(spec.peerSelector, other.metadata.labels, warnings)) continue;
        addNodePeers(other, base, "peer/" + peer.metadata.name + "/" + other.metadata.name);
      }
    }
  }

  // Calico peerings by selector are symmetric: a node matched by peerSelector peers with every
  // node the BGPPeer applies to (spec.node or nodeSelector; every node when both are empty).
  for (const auto& peer : snapshot.bgpPeers) {
    const auto& spec = peer.spec;
    if (spec.peerSelector.empty() || !self || !spec.peerIP.empty()) continue;
    if (!selectorMatches(spec.peerSelector, self->metadata.labels, warnings)) continue;
    if (refusedFilter(peer.metadata.name, spec.filters)) continue;
    for (const auto& other : snapshot.nodes) {
      if (other.metadata.name == nodeName) continue;
      const bool applies = !spec.node.empty() ? spec.node == other.metadata.name
                           : !spec.nodeSelector.empty()
                               ? selectorMatches(spec.nodeSelector, other.metadata.labels, warnings)
                               : true;
      if (!applies) continue;
      auto base = sessionOf(peer, PeerType::kNodeSpecific);
      if (!base) break;
      addNodePeers(other, std::move(*base), "peer/" + peer.metadata.name + "/" + other.metadata.name);
    }
  }

  // A peer reached both by the mesh and an explicit BGPPeer is one session: first key wins.
  std::sort(config.peers.begin(), config.peers.end(),
            [](const PeerSpec& a, const PeerSpec& b) { return a.key < b.key; });
  std::vector<PeerSpec> unique;
  for (auto& p : config.peers) {
    const bool dup =
        std::any_of(unique.begin(), unique.end(), [&](const PeerSpec& u) { return u.address == p.address; });
    if (!dup) unique.push_back(std::move(p));
  }
  config.peers = std::move(unique);
  return config;
}

}  // namespace tartan::bgp::speaker
