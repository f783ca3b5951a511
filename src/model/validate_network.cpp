// validate_network.cpp — Calico's validation and defaults for IPPool, the BGP kinds, Node, the
// IPAM records and AgentConfiguration (libcalico-go validator/v3 and clientv3's defaulting).
#include "fixed_values.hpp"
#include "tartan/common/duration.hpp"
#include "tartan/model/agent_configuration_fields.hpp"
#include "validate.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>
#include <set>

namespace tartan::model {

namespace {

std::string at(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

// A value of a string field with a fixed set (fixed_values.hpp; a set that ignores case is
// Calico's (?i) pattern, so "accept" and "info" are as good as "Accept" and "Info").
void oneOf(Validator& v, const std::string& path, const std::string& value, const FixedValues& allowed,
           bool allowEmpty = true) {
  if ((value.empty() && allowEmpty) || isOneOf(allowed, value)) return;
  v.fail(path, "\"" + value + "\" is not one of " + listed(allowed));
}

void oneOf(Validator& v, const std::string& path, const std::optional<std::string>& value,
           const FixedValues& allowed) {
  if (value) oneOf(v, path, *value, allowed, false);
}

void checkDuration(Validator& v, const std::string& path, const std::optional<std::string>& d) {
  if (d && !parseGoDuration(*d)) v.fail(path, "invalid duration \"" + *d + "\" (for example \"90s\")");
}

// Calico's "net": an address or a strictly masked CIDR, of the given version if non-zero.
void checkNet(Validator& v, const std::string& path, const std::string& text, int version = 0) {
  auto net = parseCIDROrIP(text);
  if (!net || (version != 0 && net->version != version)) {
    v.fail(path, std::string("invalid ") +
                     (version == 4   ? "IPv4 "
                      : version == 6 ? "IPv6 "
                                     : "") +
                     "CIDR \"" + text + "\"");
  } else if (net->hostBitsSet()) {
    v.fail(path,
           "CIDR \"" + text + "\" has host bits set (did you mean \"" + net->masked().toString() + "\"?)");
  }
}

// Felix's interfaceExclude: comma-separated interface names and /regular expressions/.
void checkInterfaceExclude(Validator& v, const std::string& path, const std::string& text) {
  if (text.empty()) return;
  static const std::regex kName("^[a-zA-Z0-9_.@:-]{1,15}$");
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string entry = text.substr(start, comma - start);
    start = comma + 1;
    if (entry.size() >= 2 && entry.front() == '/' && entry.back() == '/') {
      try {
        std::regex(entry.substr(1, entry.size() - 2));
      } catch (const std::regex_error&) {
        v.fail(path, "\"" + entry + "\" is not a valid regular expression");
      }
    } else if (!std::regex_match(entry, kName)) {
      v.fail(path, "\"" + entry + "\" is neither an interface name nor a /regular expression/");
    }
  }
}

void checkAddress(Validator& v, const std::string& path, const std::string& text, int version) {
  if (text.empty()) return;
  auto ip = parseIP(text);
  if (!ip || (version != 0 && ip->version != version)) {
    v.fail(path, std::string("invalid IPv") + std::to_string(version) + " address \"" + text + "\"");
  }
}

// Calico's "cidrv4"/"cidrv6": a CIDR (host bits allowed) or an address, of the given version.
void checkCidrOfVersion(Validator& v, const std::string& path, const std::string& text, int version) {
  if (text.empty()) return;
  auto net = parseCIDROrIP(text);
  if (!net || net->version != version) {
    v.fail(path, "invalid IPv" + std::to_string(version) + " CIDR \"" + text + "\"");
  }
}

void checkMac(Validator& v, const std::string& path, const std::string& mac) {
  if (mac.empty()) return;
  bool ok = mac.size() == 17;
  for (size_t i = 0; ok && i < mac.size(); ++i) {
    ok = (i % 3 == 2) ? (mac[i] == ':' || mac[i] == '-')
                      : std::isxdigit(static_cast<unsigned char>(mac[i])) != 0;
  }
  if (!ok) v.fail(path, "invalid MAC address \"" + mac + "\"");
}

// Configuration resources are named "default" or "node.<node name>".
void checkConfigName(Validator& v, const ObjectMeta& meta) { checkName(v, meta); }

// "aa:nn" (16-bit each) or "aa:nn:mm" (32-bit each): RFC 1997 and RFC 8092 communities.
bool isCommunityValue(const std::string& value) {
  std::vector<uint64_t> parts;
  size_t start = 0;
  while (true) {
    size_t colon = value.find(':', start);
    std::string_view part =
        std::string_view(value).substr(start, colon == std::string::npos ? colon : colon - start);
    uint64_t n = 0;
    if (part.empty() || part.size() > 10) return false;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (ec != std::errc() || end != part.data() + part.size()) return false;
    parts.push_back(n);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() == 2) return parts[0] <= 0xffff && parts[1] <= 0xffff;
  if (parts.size() == 3) {
    return std::all_of(parts.begin(), parts.end(), [](uint64_t p) { return p <= 0xffffffffULL; });
  }
  return false;
}

// "10.0.0.1", "10.0.0.1:179", "[fd00::1]:179" or "fd00::1".
bool isPeerAddress(const std::string& text, int* version) {
  std::string host = text;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = parseIP(host);
  if (!ip) return false;
  if (text[0] == '[' && ip->version != 6) return false;
  if (!port.empty() || text.find("]:") != std::string::npos ||
      (ip->version == 4 && text.find(':') != std::string::npos)) {
    int n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535) {
      return false;
    }
  }
  *version = ip->version;
  return true;
}

}  // namespace

// ---- IPPool ----

void defaultKind(IPPool& r) {
  IPPoolSpec& s = r.spec;
  auto cidr = parseCIDROrIP(s.cidr);
  if (cidr && !cidr->hostBitsSet() && cidr->hadPrefix) s.cidr = cidr->toString();
  if (s.blockSize == 0 && cidr) s.blockSize = cidr->version == 4 ? 26 : 122;
  if (s.vxlanMode.empty()) s.vxlanMode = "Never";
  if (s.ipipMode.empty()) s.ipipMode = "Never";
  if (s.nodeSelector.empty()) s.nodeSelector = "all()";
  if (s.allowedUses.empty()) s.allowedUses = {"Workload", "Tunnel"};
  if (!s.assignmentMode) s.assignmentMode = "Automatic";
}

void validateKind(Validator& v, const IPPool& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const IPPoolSpec& s = r.spec;
  oneOf(v, "spec.vxlanMode", s.vxlanMode, kEncapsulationModes);
  oneOf(v, "spec.ipipMode", s.ipipMode, kEncapsulationModes);
  oneOf(v, "spec.assignmentMode", s.assignmentMode, kAssignmentModes);
  if (!s.nodeSelector.empty()) checkSelector(v, "spec.nodeSelector", s.nodeSelector);
  if (!s.namespaceSelector.empty()) checkSelector(v, "spec.namespaceSelector", s.namespaceSelector);
  if (s.ipip) v.fail("spec.ipip", "the APIv1 ipip field may not be set (use ipipMode)");
  if (s.natOutgoingV1) v.fail("spec.nat-outgoing", "the APIv1 nat-outgoing field may not be set");
  auto cidr = parseCIDROrIP(s.cidr);
  if (!cidr) {
    v.fail("spec.cidr", "IPPool CIDR must be a valid subnet");
    return;
  }
  if (cidr->hostBitsSet()) {
    v.fail("spec.cidr",
           "IP pool CIDR is not strictly masked (did you mean \"" + cidr->masked().toString() + "\"?)");
  }
  bool loadBalancer = std::count(s.allowedUses.begin(), s.allowedUses.end(), "LoadBalancer") > 0;
  bool ipip = s.ipipMode == "Always" || s.ipipMode == "CrossSubnet";
  bool vxlan = s.vxlanMode == "Always" || s.vxlanMode == "CrossSubnet";
  if (cidr->version == 6 && ipip) {
    v.fail("spec.ipipMode", "IPIPMode other than 'Never' is not supported on an IPv6 IP pool");
  }
  if (ipip && vxlan) v.fail("spec.ipipMode", "IPIPMode and VXLANMode cannot both be enabled");
  if (loadBalancer && (ipip || vxlan)) {
    v.fail("spec.ipipMode", "neither IPIPMode nor VXLANMode can be enabled on a LoadBalancer pool");
  }
  int minBlock = cidr->version == 4 ? 20 : 116;
  int maxBlock = cidr->version == 4 ? 32 : 128;
  if (s.blockSize < minBlock || s.blockSize > maxBlock) {
    v.fail("spec.blockSize", "block size must be between " + std::to_string(minBlock) + " and " +
                                 std::to_string(maxBlock) + " for an IPv" + std::to_string(cidr->version) +
                                 " pool");
  } else if (!s.disabled && cidr->prefixLength > s.blockSize) {
    v.fail("spec.cidr",
           "IP pool size is too small for use with Calico IPAM. It must be equal to or greater "
           "than the block size.");
  }
  IPNet linkLocal = cidr->version == 4 ? *parseCIDROrIP("169.254.0.0/16") : *parseCIDROrIP("fe80::/10");
  if (linkLocal.contains(*cidr) || cidr->contains(linkLocal)) {
    v.fail("spec.cidr", cidr->version == 4
                            ? "IP pool range overlaps with IPv4 Link Local range 169.254.0.0/16"
                            : "IP pool range overlaps with IPv6 Link Local range fe80::/10");
  }
  for (size_t i = 0; i < s.allowedUses.size(); ++i) {
    const std::string& use = s.allowedUses[i];
    if (!isOneOf(kAllowedUses, use)) {
      v.fail(at("spec.allowedUses", i), "unknown use \"" + use + "\"");
    } else if (use != "LoadBalancer" && loadBalancer) {
      v.fail(at("spec.allowedUses", i), "LoadBalancer cannot be used at the same time as " + use);
    }
  }
  if (loadBalancer && s.disableBGPExport) {
    v.fail("spec.disableBGPExport", "a LoadBalancer pool may not disable BGP export");
  }
  if (loadBalancer && s.nodeSelector != "all()") {
    v.fail("spec.nodeSelector", "a LoadBalancer pool must have node selector all()");
  }
}

// ---- BGPConfiguration ----

void defaultKind(BGPConfiguration&) {}

void validateKind(Validator& v, const BGPConfiguration& r) {
  checkConfigName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const BGPConfigurationSpec& s = r.spec;
  oneOf(v, "spec.logSeverityScreen", s.logSeverityScreen, kLogLevels);
  const std::pair<const char*, const std::vector<CIDRBlock>*> blocks[] = {
      {"spec.serviceLoadBalancerIPs", &s.serviceLoadBalancerIPs},
      {"spec.serviceExternalIPs", &s.serviceExternalIPs},
      {"spec.serviceClusterIPs", &s.serviceClusterIPs}};
  for (const auto& [path, list] : blocks) {
    for (size_t i = 0; i < list->size(); ++i) checkNet(v, at(path, i) + ".cidr", (*list)[i].cidr);
  }
  std::set<std::string> names;
  for (size_t i = 0; i < s.communities.size(); ++i) {
    const Community& c = s.communities[i];
    std::string p = at("spec.communities", i);
    if (c.name.empty() || !isDNS1123Subdomain(c.name)) v.fail(p + ".name", "a community needs a valid name");
    if (!isCommunityValue(c.value)) {
      v.fail(p + ".value", "invalid community value \"" + c.value + "\" (aa:nn or aa:nn:mm)");
    }
    names.insert(c.name);
  }
  if (!s.communities.empty() && s.prefixAdvertisements.empty()) {
    v.fail("spec.communities", "communities are defined but not used in spec.prefixAdvertisements");
  }
  for (size_t i = 0; i < s.prefixAdvertisements.size(); ++i) {
    const PrefixAdvertisement& pa = s.prefixAdvertisements[i];
    std::string p = at("spec.prefixAdvertisements", i);
    checkNet(v, p + ".cidr", pa.cidr);
    for (size_t j = 0; j < pa.communities.size(); ++j) {
      if (!isCommunityValue(pa.communities[j]) && !names.count(pa.communities[j])) {
        v.fail(at(p + ".communities", j),
               "community \"" + pa.communities[j] + "\" is invalid or not defined");
      }
    }
  }
  bool meshDisabled = s.nodeToNodeMeshEnabled && !*s.nodeToNodeMeshEnabled;
  if (s.nodeMeshPassword && meshDisabled) {
    v.fail("spec.nodeMeshPassword", "cannot be set if nodeToNodeMeshEnabled is false");
  }
  if (s.nodeMeshMaxRestartTime && meshDisabled) {
    v.fail("spec.nodeMeshMaxRestartTime", "cannot be set if nodeToNodeMeshEnabled is false");
  }
  if ((s.nodeMeshPassword || s.nodeMeshMaxRestartTime) && r.metadata.name != "default") {
    v.fail(s.nodeMeshPassword ? "spec.nodeMeshPassword" : "spec.nodeMeshMaxRestartTime",
           "can only be set on the default BGPConfiguration");
  }
  checkDuration(v, "spec.nodeMeshMaxRestartTime", s.nodeMeshMaxRestartTime);
  oneOf(v, "spec.bindMode", s.bindMode, kBindModes);
  oneOf(v, "spec.programClusterRoutes", s.programClusterRoutes, kEnabledDisabled);
  checkAddress(v, "spec.localWorkloadPeeringIPV4", s.localWorkloadPeeringIPV4, 4);
  checkAddress(v, "spec.localWorkloadPeeringIPV6", s.localWorkloadPeeringIPV6, 6);
  for (size_t i = 0; i < s.ignoredInterfaces.size(); ++i) {
    const std::string& name = s.ignoredInterfaces[i];
    bool ok =
        !name.empty() && name.size() <= 15 && name != "*" &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '*' || c == '-';
        });
    if (!ok) v.fail(at("spec.ignoredInterfaces", i), "invalid interface name \"" + name + "\"");
  }
}

// ---- BGPPeer ----

void defaultKind(BGPPeer&) {}

void validateKind(Validator& v, const BGPPeer& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const BGPPeerSpec& s = r.spec;
  if (!s.node.empty() && !isDNS1123Subdomain(s.node)) v.fail("spec.node", "invalid node name");
  if (!s.nodeSelector.empty()) checkSelector(v, "spec.nodeSelector", s.nodeSelector);
  if (!s.peerSelector.empty()) checkSelector(v, "spec.peerSelector", s.peerSelector);
  if (!s.localWorkloadSelector.empty()) {
    checkSelector(v, "spec.localWorkloadSelector", s.localWorkloadSelector);
  }
  int peerVersion = 0;
  if (!s.peerIP.empty() && !isPeerAddress(s.peerIP, &peerVersion)) {
    v.fail("spec.peerIP",
           "invalid peer address \"" + s.peerIP + "\" (<IP>, <IPv4>:<port> or [<IPv6>]:<port>)");
  }
  if (!s.node.empty() && !s.nodeSelector.empty()) {
    v.fail("spec.node", "node must be empty when nodeSelector is specified");
  }
  if (!s.peerIP.empty() && !s.peerSelector.empty()) {
    v.fail("spec.peerIP", "peerIP must be empty when peerSelector is specified");
  }
  if (s.asNumber.value != 0 && !s.peerSelector.empty()) {
    v.fail("spec.asNumber", "asNumber must be empty when peerSelector is specified");
  }
  if (s.asNumber.value == 0 && !s.localWorkloadSelector.empty()) {
    v.fail("spec.asNumber", "asNumber must be set when localWorkloadSelector is specified");
  }
  if (!s.peerIP.empty() && !s.localWorkloadSelector.empty()) {
    v.fail("spec.peerIP", "peerIP must be empty when localWorkloadSelector is specified");
  }
  if (!s.peerSelector.empty() && !s.localWorkloadSelector.empty()) {
    v.fail("spec.peerSelector", "peerSelector must be empty when localWorkloadSelector is specified");
  }
  if (!s.reachableBy.empty()) {
    auto gateway = parseIP(s.reachableBy);
    if (s.peerIP.empty()) {
      v.fail("spec.reachableBy", "reachableBy must be empty when peerIP is empty");
    } else if (!gateway) {
      v.fail("spec.reachableBy", "reachableBy is not a valid address");
    } else if (peerVersion != 0 && gateway->version != peerVersion) {
      v.fail("spec.reachableBy", "reachableBy and peerIP address families differ");
    }
  }
  if (s.keepOriginalNextHop && s.nextHopMode) {
    v.fail("spec.keepOriginalNextHop", "the deprecated keepOriginalNextHop must not be set with nextHopMode");
  }
  oneOf(v, "spec.nextHopMode", s.nextHopMode, kNextHopModes);
  oneOf(v, "spec.sourceAddress", s.sourceAddress, kSourceAddresses);
  oneOf(v, "spec.failureDetectionMode", s.failureDetectionMode, kFailureDetectionModes);
  oneOf(v, "spec.restartMode", s.restartMode, kRestartModes);
  oneOf(v, "spec.birdGatewayMode", s.birdGatewayMode, kBirdGatewayModes);
  oneOf(v, "spec.reversePeering", s.reversePeering, kReversePeeringModes);
  checkDuration(v, "spec.maxRestartTime", s.maxRestartTime);
  checkDuration(v, "spec.keepaliveTime", s.keepaliveTime);
  if (s.ttlSecurity && (*s.ttlSecurity < 0 || *s.ttlSecurity > 255)) {
    v.fail("spec.ttlSecurity", "ttlSecurity must be between 0 and 255");
  }
  if (s.numAllowedLocalASNumbers && *s.numAllowedLocalASNumbers < 0) {
    v.fail("spec.numAllowedLocalASNumbers", "must not be negative");
  }
  for (size_t i = 0; i < s.filters.size(); ++i) {
    if (!isDNS1123Subdomain(s.filters[i])) v.fail(at("spec.filters", i), "invalid BGPFilter name");
  }
}

// ---- BGPFilter ----

namespace {

// Calico's bounds for a route priority (FelixConfiguration's ...RoutePriority units).
constexpr int kMinRoutePriority = 1;
constexpr int kMaxRoutePriority = 2147483646;
constexpr size_t kMaxOperations = 10;
constexpr size_t kMaxPrependedASNumbers = 10;

void checkPriority(Validator& v, const std::string& path, int value) {
  if (value < kMinRoutePriority || value > kMaxRoutePriority) {
    v.fail(path, "priority must be between 1 and 2147483646");
  }
}

// BGPCommunityValue's CRD pattern is stricter than BGPConfiguration's check: no leading zeros.
bool hasLeadingZero(const std::string& value) {
  for (size_t i = 0; i + 1 < value.size(); ++i) {
    bool partStart = i == 0 || value[i - 1] == ':';
    if (partStart && value[i] == '0' && value[i + 1] != ':') return true;
  }
  return false;
}

void checkCommunity(Validator& v, const std::string& path, const std::string& value) {
  if (!isCommunityValue(value) || hasLeadingZero(value)) {
    v.fail(path, "invalid community value \"" + value +
                     "\" (aa:nn with 16-bit parts or aa:nn:mm with 32-bit parts)");
  }
}

// The match fields and operations added with peer type, community, AS path and priority
// matching (the CRD's CEL rules and the Go validate tags of BGPFilterRuleV4/V6).
void checkRuleExtensions(Validator& v, const std::string& p, const BGPFilterRule& rule, bool import) {
  oneOf(v, p + ".peerType", rule.peerType, kPeerTypes);
  if (import && !rule.source.empty()) {
    // Every imported route comes from a peer; the field would suggest a choice there is not.
    v.fail(p + ".source", "source is not applicable to import rules");
  }
  if (rule.communities) {
    const std::vector<std::string>& values = rule.communities->values;
    if (values.size() != 1) {
      v.fail(p + ".communities.values", "exactly one community value must be given");
    }
    for (size_t j = 0; j < values.size(); ++j) checkCommunity(v, at(p + ".communities.values", j), values[j]);
  }
  if (rule.priority) checkPriority(v, p + ".priority", *rule.priority);
  if (rule.operations.empty()) return;
  if (rule.action != "Accept") v.fail(p + ".operations", "operations may only be used with action Accept");
  if (rule.operations.size() > kMaxOperations) v.fail(p + ".operations", "at most 10 operations");
  for (size_t j = 0; j < rule.operations.size(); ++j) {
    const BGPFilterOperation& op = rule.operations[j];
    std::string q = at(p + ".operations", j);
    int set = int(op.addCommunity.has_value()) + int(op.prependASPath.has_value()) +
              int(op.setPriority.has_value());
    if (set != 1) {
      v.fail(q, "exactly one of addCommunity, prependASPath and setPriority must be set");
      continue;
    }
    if (op.addCommunity) checkCommunity(v, q + ".addCommunity.value", op.addCommunity->value);
    if (op.prependASPath) {
      size_t n = op.prependASPath->prefix.size();
      if (n < 1 || n > kMaxPrependedASNumbers) {
        v.fail(q + ".prependASPath.prefix", "between 1 and 10 AS numbers must be given");
      }
    }
    if (op.setPriority) checkPriority(v, q + ".setPriority.value", op.setPriority->value);
  }
}

}  // namespace

void defaultKind(BGPFilter&) {}

void validateKind(Validator& v, const BGPFilter& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const std::tuple<const char*, const std::vector<BGPFilterRule>*, int, bool> lists[] = {
      {"spec.exportV4", &r.spec.exportV4, 4, false},
      {"spec.importV4", &r.spec.importV4, 4, true},
      {"spec.exportV6", &r.spec.exportV6, 6, false},
      {"spec.importV6", &r.spec.importV6, 6, true}};
  for (const auto& [path, rules, version, import] : lists) {
    int maxLength = version == 4 ? 32 : 128;
    for (size_t i = 0; i < rules->size(); ++i) {
      const BGPFilterRule& rule = (*rules)[i];
      std::string p = at(path, i);
      oneOf(v, p + ".action", rule.action, kFilterActions, false);
      oneOf(v, p + ".matchOperator", rule.matchOperator, kMatchOperators);
      oneOf(v, p + ".source", rule.source, kFilterSources);
      if (!rule.cidr.empty()) checkNet(v, p + ".cidr", rule.cidr, version);
      if (!rule.cidr.empty() && rule.matchOperator.empty()) {
        v.fail(p + ".matchOperator", "matchOperator cannot be empty when cidr is not");
      }
      if (rule.cidr.empty() && !rule.matchOperator.empty()) {
        v.fail(p + ".cidr", "cidr cannot be empty when matchOperator is not");
      }
      if (rule.prefixLength) {
        if (rule.cidr.empty()) v.fail(p + ".prefixLength", "cidr cannot be empty when prefixLength is not");
        for (const auto& [name, value] :
             {std::pair{"min", rule.prefixLength->min}, std::pair{"max", rule.prefixLength->max}}) {
          if (value && (*value < 0 || *value > maxLength)) {
            v.fail(p + ".prefixLength." + name,
                   "prefix length must be between 0 and " + std::to_string(maxLength));
          }
        }
      }
      if (!rule.interface.empty()) {
        bool ok = rule.interface.size() <= 15 &&
                  std::all_of(rule.interface.begin(), rule.interface.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '*' ||
                           c == '-';
                  });
        if (!ok) v.fail(p + ".interface", "invalid interface pattern \"" + rule.interface + "\"");
      }
      checkRuleExtensions(v, p, rule, import);
    }
  }
}

// ---- Node ----

void defaultKind(Node&) {}

void validateKind(Validator& v, const Node& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const NodeSpec& s = r.spec;
  if (s.bgp) {
    const NodeBGPSpec& b = *s.bgp;
    if (b == NodeBGPSpec{}) v.fail("spec.bgp", "spec.bgp should not be empty");
    checkCidrOfVersion(v, "spec.bgp.ipv4Address", b.ipv4Address, 4);
    checkCidrOfVersion(v, "spec.bgp.ipv6Address", b.ipv6Address, 6);
    checkAddress(v, "spec.bgp.ipv4IPIPTunnelAddr", b.ipv4IPIPTunnelAddr, 4);
    checkAddress(v, "spec.bgp.routeReflectorClusterID", b.routeReflectorClusterID, 4);
  }
  checkAddress(v, "spec.ipv4VXLANTunnelAddr", s.ipv4VXLANTunnelAddr, 4);
  checkAddress(v, "spec.ipv6VXLANTunnelAddr", s.ipv6VXLANTunnelAddr, 6);
  checkMac(v, "spec.vxlanTunnelMACAddr", s.vxlanTunnelMACAddr);
  checkMac(v, "spec.vxlanTunnelMACAddrV6", s.vxlanTunnelMACAddrV6);
  for (size_t i = 0; i < s.orchRefs.size(); ++i) {
    if (s.orchRefs[i].orchestrator.empty()) {
      v.fail(at("spec.orchRefs", i) + ".orchestrator", "orchestrator is required");
    }
  }
  if (s.wireguard) {
    checkAddress(v, "spec.wireguard.interfaceIPv4Address", s.wireguard->interfaceIPv4Address, 4);
    checkAddress(v, "spec.wireguard.interfaceIPv6Address", s.wireguard->interfaceIPv6Address, 6);
  }
  for (size_t i = 0; i < s.addresses.size(); ++i) {
    std::string p = at("spec.addresses", i);
    if (!parseCIDROrIP(s.addresses[i].address)) v.fail(p + ".address", "invalid address");
    oneOf(v, p + ".type", s.addresses[i].type, kNodeAddressTypes);
  }
  for (size_t i = 0; i < r.status.podCIDRs.size(); ++i) {
    if (!parseCIDROrIP(r.status.podCIDRs[i])) v.fail(at("status.podCIDRs", i), "invalid CIDR");
  }
}

// ---- IPAM ----

void defaultKind(IPAMBlock&) {}

void validateKind(Validator& v, const IPAMBlock& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const IPAMBlockSpec& s = r.spec;
  checkNet(v, "spec.cidr", s.cidr);
  auto cidr = parseCIDROrIP(s.cidr);
  int attributes = static_cast<int>(s.attributes.size());
  for (size_t i = 0; i < s.allocations.size(); ++i) {
    const auto& a = s.allocations[i];
    if (a && (*a < 0 || *a >= attributes)) {
      v.fail(at("spec.allocations", i), "allocation refers to a missing attribute");
    }
  }
  if (cidr && cidr->prefixLength >= (cidr->version == 4 ? 32 - 20 : 128 - 20)) {
    size_t size = size_t{1} << ((cidr->version == 4 ? 32 : 128) - cidr->prefixLength);
    if (s.allocations.size() != size) {
      v.fail("spec.allocations", "a /" + std::to_string(cidr->prefixLength) + " block has " +
                                     std::to_string(size) + " allocations");
    }
    for (size_t i = 0; i < s.unallocated.size(); ++i) {
      if (s.unallocated[i] < 0 || static_cast<size_t>(s.unallocated[i]) >= size) {
        v.fail(at("spec.unallocated", i), "ordinal out of the block");
      }
    }
  }
}

void defaultKind(BlockAffinity&) {}

void validateKind(Validator& v, const BlockAffinity& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const BlockAffinitySpec& s = r.spec;
  oneOf(v, "spec.state", s.state, kAffinityStates, false);
  oneOf(v, "spec.type", s.type, kAffinityTypes);
  if (s.node.empty()) v.fail("spec.node", "node is required");
  checkNet(v, "spec.cidr", s.cidr);
  if (s.deleted == "true") v.fail("spec.deleted", "spec.deleted cannot be set to \"true\"");
  oneOf(v, "spec.deleted", s.deleted, kBooleanStrings);
}

void defaultKind(IPAMHandle&) {}

void validateKind(Validator& v, const IPAMHandle& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  if (r.spec.handleID.empty()) v.fail("spec.handleID", "handleID is required");
  for (const auto& [block, count] : r.spec.block) {
    std::string p = "spec.block[" + block + "]";
    if (!parseCIDROrIP(block)) v.fail(p, "invalid block CIDR");
    if (count < 0) v.fail(p, "count must not be negative");
  }
}

// ---- AgentConfiguration ----

void defaultKind(AgentConfiguration&) {}

void validateKind(Validator& v, const AgentConfiguration& r) {
  const size_t errorsBefore = v.errorCount();
  checkConfigName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const AgentConfigurationSpec& s = r.spec;
  const std::pair<const char*, const std::optional<std::string>*> durations[] = {
      {"spec.dataplaneWatchdogTimeout", &s.dataplaneWatchdogTimeout},
      {"spec.routeRefreshInterval", &s.routeRefreshInterval},
      {"spec.interfaceRefreshInterval", &s.interfaceRefreshInterval},
      {"spec.iptablesRefreshInterval", &s.iptablesRefreshInterval},
      {"spec.iptablesPostWriteCheckInterval", &s.iptablesPostWriteCheckInterval},
      {"spec.iptablesLockTimeout", &s.iptablesLockTimeout},
      {"spec.iptablesLockProbeInterval", &s.iptablesLockProbeInterval},
      {"spec.ipsetsRefreshInterval", &s.ipsetsRefreshInterval},
      {"spec.xdpRefreshInterval", &s.xdpRefreshInterval},
      {"spec.netlinkTimeout", &s.netlinkTimeout},
      {"spec.reportingInterval", &s.reportingInterval},
      {"spec.reportingTTL", &s.reportingTTL},
      {"spec.endpointReportingDelay", &s.endpointReportingDelay},
      {"spec.usageReportingInitialDelay", &s.usageReportingInitialDelay},
      {"spec.usageReportingInterval", &s.usageReportingInterval},
      {"spec.debugSimulateCalcGraphHangAfter", &s.debugSimulateCalcGraphHangAfter},
      {"spec.debugSimulateDataplaneHangAfter", &s.debugSimulateDataplaneHangAfter},
      {"spec.debugSimulateDataplaneApplyDelay", &s.debugSimulateDataplaneApplyDelay},
      {"spec.nftablesRefreshInterval", &s.nftablesRefreshInterval},
      {"spec.bpfKubeProxyMinSyncPeriod", &s.bpfKubeProxyMinSyncPeriod},
      {"spec.wireguardKeepAlive", &s.wireguardKeepAlive}};
  for (const auto& [path, value] : durations) checkDuration(v, path, *value);
  for (size_t i = 0; i < s.healthTimeoutOverrides.size(); ++i) {
    checkDuration(v, at("spec.healthTimeoutOverrides", i) + ".timeout", s.healthTimeoutOverrides[i].timeout);
  }
  oneOf(v, "spec.iptablesBackend", s.iptablesBackend, kIptablesBackends);
  oneOf(v, "spec.defaultEndpointToHostAction", s.defaultEndpointToHostAction, kEndpointToHostActions);
  oneOf(v, "spec.iptablesFilterAllowAction", s.iptablesFilterAllowAction, kAllowActions);
  oneOf(v, "spec.iptablesMangleAllowAction", s.iptablesMangleAllowAction, kAllowActions);
  oneOf(v, "spec.iptablesFilterDenyAction", s.iptablesFilterDenyAction, kDenyActions);
  oneOf(v, "spec.chainInsertMode", s.chainInsertMode, kChainInsertModes);
  oneOf(v, "spec.nftablesFilterAllowAction", s.nftablesFilterAllowAction, kAllowActions);
  oneOf(v, "spec.nftablesMangleAllowAction", s.nftablesMangleAllowAction, kAllowActions);
  oneOf(v, "spec.nftablesFilterDenyAction", s.nftablesFilterDenyAction, kDenyActions);
  oneOf(v, "spec.nftablesMode", s.nftablesMode, kEnabledDisabled);
  oneOf(v, "spec.logSeverityFile", s.logSeverityFile, kLogLevels);
  oneOf(v, "spec.logSeverityScreen", s.logSeverityScreen, kLogLevels);
  oneOf(v, "spec.logSeveritySys", s.logSeveritySys, kLogLevels);
  oneOf(v, "spec.bpfLogLevel", s.bpfLogLevel, kBpfLogLevels);
  oneOf(v, "spec.bpfExternalServiceMode", s.bpfExternalServiceMode, kBpfExternalServiceModes);
  oneOf(v, "spec.bpfConnectTimeLoadBalancing", s.bpfConnectTimeLoadBalancing, kBpfConnectTimeLoadBalancing);
  oneOf(v, "spec.bpfHostNetworkedNATWithoutCTLB", s.bpfHostNetworkedNATWithoutCTLB, kEnabledDisabled);
  oneOf(v, "spec.routeSource", s.routeSource, kRouteSources);
  oneOf(v, "spec.ipForwarding", s.ipForwarding, kEnabledDisabled);
  oneOf(v, "spec.awsSrcDstCheck", s.awsSrcDstCheck, kAwsSrcDstChecks);
  oneOf(v, "spec.serviceLoopPrevention", s.serviceLoopPrevention, kServiceLoopPrevention);
  oneOf(v, "spec.workloadSourceSpoofing", s.workloadSourceSpoofing, kWorkloadSourceSpoofing);
  oneOf(v, "spec.floatingIPs", s.floatingIPs, kEnabledDisabled);
  oneOf(v, "spec.windowsManageFirewallRules", s.windowsManageFirewallRules, kEnabledDisabled);
  if (s.kubeNodePortRanges) {
    if (s.kubeNodePortRanges->size() > 7) {
      v.fail("spec.kubeNodePortRanges", "node port ranges list is too long (max 7)");
    }
    for (size_t i = 0; i < s.kubeNodePortRanges->size(); ++i) {
      if ((*s.kubeNodePortRanges)[i].isNamed()) {
        v.fail(at("spec.kubeNodePortRanges", i), "node port ranges should not contain named ports");
      }
    }
  }
  for (const auto& [path, list] :
       {std::pair{"spec.failsafeInboundHostPorts", &s.failsafeInboundHostPorts},
        std::pair{"spec.failsafeOutboundHostPorts", &s.failsafeOutboundHostPorts}}) {
    if (!*list) continue;
    for (size_t i = 0; i < (*list)->size(); ++i) {
      const ProtoPort& pp = (**list)[i];
      std::string p = at(path, i);
      Protocol protocol = Protocol::fromName(pp.protocol);
      // Calico's own defaults spell these in lower case, so any case is accepted.
      if (!protocol.supportsPorts()) v.fail(p + ".protocol", "protocol must be TCP, UDP or SCTP");
      if (!pp.net.empty() && !parseCIDROrIP(pp.net)) v.fail(p + ".net", "invalid CIDR");
    }
  }
  if (s.externalNodesList) {
    for (size_t i = 0; i < s.externalNodesList->size(); ++i) {
      auto net = parseCIDROrIP((*s.externalNodesList)[i]);
      if (!net)
        v.fail(at("spec.externalNodesList", i), "invalid CIDR");
      else if (net->version != 4)
        v.fail(at("spec.externalNodesList", i), "IPv6 CIDRs are not supported");
    }
  }
  if (!s.openstackRegion.empty() &&
      (s.openstackRegion.size() > 63 - 17 || !isDNS1123Label(s.openstackRegion))) {
    v.fail("spec.openstackRegion", "must be a valid DNS label of at most 46 characters");
  }
  checkInterfaceExclude(v, "spec.interfaceExclude", s.interfaceExclude);
  checkAddress(v, "spec.natOutgoingAddress", s.natOutgoingAddress, 4);
  checkAddress(v, "spec.deviceRouteSourceAddress", s.deviceRouteSourceAddress, 4);
  checkAddress(v, "spec.deviceRouteSourceAddressIPv6", s.deviceRouteSourceAddressIPv6, 6);
  if (s.routeTableRange && s.routeTableRanges) {
    v.fail("spec.routeTableRange", "cannot be set when routeTableRanges is also set");
  }
  if (s.routeTableRange) {
    const RouteTableRange& range = *s.routeTableRange;
    if (!(range.min >= 1 && range.max >= range.min && range.max <= 250)) {
      v.fail("spec.routeTableRange", "must be a range of route table indices within 1..250");
    }
  }
  if (s.routeTableRanges) {
    int64_t tables = 0;
    for (size_t i = 0; i < s.routeTableRanges->size(); ++i) {
      const RouteTableRange& range = (*s.routeTableRanges)[i];
      std::string p = at("spec.routeTableRanges", i);
      if (range.min > range.max) v.fail(p, "min value cannot be greater than max value");
      if (range.min <= 0) v.fail(p, "cannot target indices < 1");
      tables += int64_t(range.max) - range.min + 1;
    }
    if (tables > 0xffff) v.fail("spec.routeTableRanges", "targets too many tables");
  }
  for (const auto& [path, port] : {std::pair{"spec.wireguardListeningPort", s.wireguardListeningPort},
                                   std::pair{"spec.wireguardListeningPortV6", s.wireguardListeningPortV6},
                                   std::pair{"spec.healthPort", s.healthPort},
                                   std::pair{"spec.prometheusMetricsPort", s.prometheusMetricsPort},
                                   std::pair{"spec.vxlanPort", s.vxlanPort}}) {
    if (port && (*port < 1 || *port > 65535)) v.fail(path, "port must be between 1 and 65535");
  }
  if (s.debugPort && (*s.debugPort < 0 || *s.debugPort > 65535)) {
    v.fail("spec.debugPort", "port must be between 0 and 65535");
  }
  if (s.wireguardRoutingRulePriority &&
      (*s.wireguardRoutingRulePriority <= 0 || *s.wireguardRoutingRulePriority >= 32766)) {
    v.fail("spec.wireguardRoutingRulePriority", "must be between 1 and 32765");
  }
  for (const auto& [path, name] : {std::pair{"spec.wireguardInterfaceName", &s.wireguardInterfaceName},
                                   std::pair{"spec.wireguardInterfaceNameV6", &s.wireguardInterfaceNameV6}}) {
    if (!name->empty() && !isValidInterfaceName(*name)) v.fail(path, "invalid interface name");
  }
  for (const auto& [path, value] :
       {std::pair{"spec.goGCThreshold", s.goGCThreshold},
        std::pair{"spec.goMemoryLimitMB", s.goMemoryLimitMB}, std::pair{"spec.goMaxProcs", s.goMaxProcs}}) {
    if (value && *value < -1) v.fail(path, "must be -1 or more");
  }
  if (s.bpfExtToServiceConnmark &&
      (*s.bpfExtToServiceConnmark < 0 || *s.bpfExtToServiceConnmark > 0xffffffffLL)) {
    v.fail("spec.bpfExtToServiceConnmark", "must be a 32-bit mark");
  }
  if (s.bpfLogFilters) {
    for (const auto& [key, value] : *s.bpfLogFilters) {
      (void)value;
      if (!isValidInterfaceName(key)) v.fail("spec.bpfLogFilters[" + key + "]", "invalid interface name");
    }
  }
  for (const auto& [path, list] : {std::pair{"spec.bpfDSROptoutCIDRs", &s.bpfDSROptoutCIDRs},
                                   std::pair{"spec.bpfExcludeCIDRsFromNAT", &s.bpfExcludeCIDRsFromNAT}}) {
    if (!*list) continue;
    for (size_t i = 0; i < (*list)->size(); ++i) {
      if (!parseCIDROrIP((**list)[i])) v.fail(at(path, i), "invalid CIDR");
    }
  }
  // Last, on a spec Calico would take: the values Tartan cannot honour (eBPF, WireGuard, ...).
  if (v.errorCount() == errorsBefore) {
    for (const auto& [field, reason] : refusedAgentConfigurationFields(s)) v.fail("spec." + field, reason);
  }
}

}  // namespace tartan::model
