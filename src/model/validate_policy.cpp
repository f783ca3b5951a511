// validate_policy.cpp — Calico's validation and defaults for the policy kinds, network sets and
// endpoints (libcalico-go validator/v3: validateRule, validateEntityRule, validate*Policy ...).
#include "fixed_values.hpp"
#include "validate.hpp"

#include "tartan/common/limits.hpp"

#include <algorithm>
#include <set>

namespace tartan::model {

namespace {

const char* const kPortsNeedProtocol = "rules that specify ports must set protocol to TCP or UDP or SCTP";

std::string at(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

// Calico's "net" rule: an address or a strictly masked CIDR.
void checkStrictNets(Validator& v, const std::string& path, const std::vector<std::string>& nets,
                     bool& seenV4, bool& seenV6, const std::optional<int>& ipVersion) {
  bool v4 = false, v6 = false;
  for (size_t i = 0; i < nets.size(); ++i) {
    auto net = parseCIDROrIP(nets[i]);
    if (!net) {
      v.fail(at(path, i), "invalid CIDR \"" + nets[i] + "\"");
      continue;
    }
    if (net->hostBitsSet()) {
      v.fail(at(path, i), "CIDR \"" + nets[i] + "\" has host bits set (did you mean \"" +
                              net->masked().toString() + "\"?)");
    }
    v4 = v4 || net->version == 4;
    v6 = v6 || net->version == 6;
  }
  if (ipVersion && ((v4 && *ipVersion != 4) || (v6 && *ipVersion != 6))) {
    v.fail(path, "rule IP version doesn't match CIDR version");
  }
  if ((v4 && seenV6) || (v6 && seenV4) || (v4 && v6)) {
    v.fail(path, "rule contains both IPv4 and IPv6 CIDRs");
  }
  seenV4 = seenV4 || v4;
  seenV6 = seenV6 || v6;
}

void checkPorts(Validator& v, const std::string& path, const std::vector<Port>& ports) {
  for (size_t i = 0; i < ports.size(); ++i) {
    const Port& p = ports[i];
    if (p.isNamed()) continue;
    if (p.minPort > p.maxPort) {
      v.fail(at(path, i), "port range invalid");
    } else if (p.minPort < 1) {
      v.fail(at(path, i), "port range invalid, port number must be between 1 and 65535");
    }
  }
}

void checkProtocol(Validator& v, const std::string& path, const Protocol& protocol) {
  if (protocol.isNumber()) {
    if (*protocol.number() < 1) v.fail(path, "protocol number invalid: must be 1-255");
    return;
  }
  auto number = protocol.number();
  if (!number || *number < 1) {
    v.fail(path, "protocol name invalid: \"" + protocol.toString() +
                     "\" (must be TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255; names are case-sensitive)");
  }
}

// An endpoint's port names its protocol in any case ("udp" is UDP), as Calico's endpoint
// manifests are written; a rule's protocol is case-sensitive (checkProtocol).
void checkEndpointPortProtocol(Validator& v, const std::string& path, const Protocol& protocol) {
  const Protocol canonical = protocol.isNumber() ? protocol : Protocol::fromName(protocol.toString());
  checkProtocol(v, path, canonical);
  if (canonical.number() && !canonical.supportsPorts()) v.fail(path, "protocol does not support ports");
}

void checkIcmp(Validator& v, const std::string& path, const ICMPFields& icmp) {
  if (icmp.type && (*icmp.type < 0 || *icmp.type > 254)) {
    v.fail(path + ".type", "ICMP type must be between 0 and 254");
  }
  if (icmp.code && (*icmp.code < 0 || *icmp.code > 255)) {
    v.fail(path + ".code", "ICMP code must be between 0 and 255");
  }
  if (icmp.code && !icmp.type) v.fail(path + ".code", "ICMP code specified without an ICMP type");
}

void checkEntityRule(Validator& v, const std::string& path, const EntityRule& e) {
  if (!e.selector.empty()) {
    checkSelector(v, path + ".selector", e.selector);
    if (e.selector.find("global()") != std::string::npos) {
      v.fail(path + ".selector", "global() can only be used in an EntityRule namespaceSelector");
    }
  }
  if (!e.notSelector.empty()) checkSelector(v, path + ".notSelector", e.notSelector);
  if (!e.namespaceSelector.empty()) {
    checkSelector(v, path + ".namespaceSelector", e.namespaceSelector);
    std::string trimmed = e.namespaceSelector;
    trimmed.erase(std::remove(trimmed.begin(), trimmed.end(), ' '), trimmed.end());
    if (e.namespaceSelector.find("global(") != std::string::npos && trimmed != "global()") {
      v.fail(path + ".namespaceSelector", "global() cannot be combined with other selectors");
    }
  }
  if (e.serviceAccounts && !e.serviceAccounts->selector.empty()) {
    checkSelector(v, path + ".serviceAccounts.selector", e.serviceAccounts->selector);
  }
  checkPorts(v, path + ".ports", e.ports);
  checkPorts(v, path + ".notPorts", e.notPorts);
  if (e.services) {
    const std::string sp = path + ".services";
    if (e.services->name.empty()) v.fail(sp, "must specify a service name");
    if (!e.services->name.empty() && !isDNS1123Subdomain(e.services->name)) {
      v.fail(sp + ".name", "service name must be a lower case RFC 1123 subdomain");
    }
    if (!e.services->namespaceName.empty() && !isDNS1123Subdomain(e.services->namespaceName)) {
      v.fail(sp + ".namespace", "service namespace must be a lower case RFC 1123 subdomain");
    }
    if (!e.namespaceSelector.empty()) {
      v.fail(sp, "cannot specify NamespaceSelector and Services on the same rule");
    }
    if (!e.selector.empty() || !e.notSelector.empty()) {
      v.fail(sp, "cannot specify Selector/NotSelector and Services on the same rule");
    }
    if (e.serviceAccounts) v.fail(sp, "cannot specify ServiceAccounts and Services on the same rule");
    if (!e.nets.empty() || !e.notNets.empty()) {
      v.fail(sp, "cannot specify Nets/NotNets and Services on the same rule");
    }
  }
}

void checkHttp(Validator& v, const std::string& path, const HTTPMatch& http) {
  std::set<std::string> methods(http.methods.begin(), http.methods.end());
  if (methods.size() != http.methods.size()) v.fail(path + ".methods", "duplicate HTTP methods");
  for (size_t i = 0; i < http.paths.size(); ++i) {
    const HTTPPath& p = http.paths[i];
    std::string pp = at(path + ".paths", i);
    if (!p.exact.empty() && !p.prefix.empty()) {
      v.fail(pp, "invalid path match: both 'exact' and 'prefix' are set");
      continue;
    }
    const std::string& value = p.exact.empty() ? p.prefix : p.exact;
    if (value.empty()) {
      v.fail(pp, "invalid path match: either 'exact' or 'prefix' must be set");
    } else if (value[0] != '/' || value.find_first_of("? #") != std::string::npos) {
      v.fail(pp, "invalid path " + value + " (must start with '/' and not contain '?', ' ' or '#')");
    }
  }
}

enum class Direction { kIngress, kEgress };

// Fields Calico accepts that Tartan cannot enforce. Left out of the rule, an HTTP match would
// widen it to every request, so a rule that is otherwise valid is refused instead. Reported
// once the rule has no other error, so the user fixes one thing at a time.
void checkEnforceable(Validator& v, const std::string& path, const Rule& r, size_t errorsBefore) {
  if (v.errorCount() != errorsBefore) return;
  if (r.http) {
    v.fail(path + ".http",
           "application-layer (HTTP) rules are not enforced by Tartan; refused rather than widened to "
           "every request");
  }
}

void checkRule(Validator& v, const std::string& path, const Rule& r, Direction direction, bool global) {
  const size_t errorsBefore = v.errorCount();
  if (!isOneOf(kRuleActions, r.action)) {
    v.fail(path + ".action", "unknown action \"" + r.action + "\" (must be one of Allow, Deny, Log, Pass)");
  }
  if (r.ipVersion && *r.ipVersion != 4 && *r.ipVersion != 6) {
    v.fail(path + ".ipVersion", "ipVersion must be 4 or 6");
  }
  if (r.protocol) checkProtocol(v, path + ".protocol", *r.protocol);
  if (r.notProtocol) checkProtocol(v, path + ".notProtocol", *r.notProtocol);
  bool portProtocol = r.protocol && r.protocol->supportsPorts();
  if (!portProtocol) {
    const std::pair<const char*, const std::vector<Port>*> portLists[] = {
        {".source.ports", &r.source.ports},
        {".source.notPorts", &r.source.notPorts},
        {".destination.ports", &r.destination.ports},
        {".destination.notPorts", &r.destination.notPorts}};
    // Calico's current rule: a named port carries its own protocol (the endpoint's), so only
    // numbers and ranges need the rule to name one.
    for (const auto& [suffix, ports] : portLists) {
      for (size_t i = 0; i < ports->size(); ++i) {
        if ((*ports)[i].isNamed() && !r.protocol) continue;
        v.fail(path + suffix, kPortsNeedProtocol);
        break;
      }
    }
  }
  bool icmpProtocol = r.protocol && (r.protocol->isIcmp() || r.protocol->isIcmpV6());
  if (r.icmp) {
    checkIcmp(v, path + ".icmp", *r.icmp);
    if (!icmpProtocol) {
      v.fail(path + ".icmp", "rules that specify ICMP fields must set protocol to ICMP or ICMPv6");
    }
  }
  if (r.notICMP) {
    checkIcmp(v, path + ".notICMP", *r.notICMP);
    if (!icmpProtocol) {
      v.fail(path + ".notICMP", "rules that specify ICMP fields must set protocol to ICMP or ICMPv6");
    }
  }
  bool icmpV4 = (r.protocol && r.protocol->isIcmp()) || (r.notProtocol && r.notProtocol->isIcmp());
  bool icmpV6 = (r.protocol && r.protocol->isIcmpV6()) || (r.notProtocol && r.notProtocol->isIcmpV6());
  if (icmpV4 && r.ipVersion && *r.ipVersion != 4) {
    v.fail(path + ".ipVersion", "must set ipVersion to 4 with protocol ICMP");
  }
  if (icmpV6 && r.ipVersion && *r.ipVersion != 6) {
    v.fail(path + ".ipVersion", "must set ipVersion to 6 with protocol ICMPv6");
  }
  bool seenV4 = false, seenV6 = false;
  checkStrictNets(v, path + ".source.nets", r.source.nets, seenV4, seenV6, r.ipVersion);
  checkStrictNets(v, path + ".source.notNets", r.source.notNets, seenV4, seenV6, r.ipVersion);
  checkStrictNets(v, path + ".destination.nets", r.destination.nets, seenV4, seenV6, r.ipVersion);
  checkStrictNets(v, path + ".destination.notNets", r.destination.notNets, seenV4, seenV6, r.ipVersion);
  // Every address of a family is in a /0, so a notNets of one leaves the rule nothing to match
  // in that family: a rule that can never apply is a mistake, refused as Calico refuses it.
  for (const auto& [suffix, list] : {std::pair{".source.notNets", &r.source.notNets},
                                     std::pair{".destination.notNets", &r.destination.notNets}}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const auto net = parseCIDROrIP((*list)[i]);
      if (net && net->prefixLength == 0) {
        v.fail(at(path + suffix, i),
               "\"" + (*list)[i] + "\" holds every address, so the rule could never match");
      }
    }
  }
  checkEntityRule(v, path + ".source", r.source);
  checkEntityRule(v, path + ".destination", r.destination);
  if (r.http) {
    checkHttp(v, path + ".http", *r.http);
    if (r.action != "Allow") v.fail(path + ".http", "HTTP match is only valid on Allow rules");
    if (r.protocol && r.protocol->number() != 6) {
      v.fail(path + ".protocol", "rules that specify HTTP fields must set protocol to TCP or empty");
    }
    if (direction == Direction::kEgress) v.fail(path + ".http", "not allowed in egress rules");
  }
  // A destination Service brings its own ports, its EndpointSlices' (Calico's validateRule).
  if (r.destination.services && !r.destination.ports.empty()) {
    v.fail(path + ".destination.ports", "cannot specify ports with a service selector");
  }
  if (r.destination.services && !r.destination.notPorts.empty()) {
    v.fail(path + ".destination.notPorts", "cannot specify notports with a service selector");
  }
  if (direction == Direction::kEgress && r.source.services) {
    v.fail(path + ".source.services", "not allowed in egress rule source");
  }
  if (direction == Direction::kIngress && r.destination.services) {
    v.fail(path + ".destination.services", "not allowed in ingress rule destination");
  }
  if (global) {
    const ServiceMatch* services = direction == Direction::kEgress
                                       ? (r.destination.services ? &*r.destination.services : nullptr)
                                       : (r.source.services ? &*r.source.services : nullptr);
    if (services && services->namespaceName.empty()) {
      v.fail(path + (direction == Direction::kEgress ? ".destination" : ".source") + ".services.namespace",
             "must specify a namespace");
    }
  }
  if (r.metadata) {
    size_t total = 0;
    for (const auto& [key, value] : r.metadata->annotations) total += key.size() + value.size();
    if (total > 256 * 1024) v.fail(path + ".metadata.annotations", "annotations are too large");
  }
  checkEnforceable(v, path, r, errorsBefore);
}

// What GlobalNetworkPolicySpec and NetworkPolicySpec share.
template <class Spec>
void checkPolicySpec(Validator& v, const Spec& spec, bool global) {
  if (spec.tier.size() > 63 && matchesDNS1123LabelPattern(spec.tier)) {
    v.fail("spec.tier", "tier is " + tooLong(spec.tier.size(), 63));
  } else if (!spec.tier.empty() && !isDNS1123Label(spec.tier)) {
    v.fail("spec.tier", "tier must be a lower case RFC 1123 label");
  }
  std::set<std::string> types;
  for (size_t i = 0; i < spec.types.size(); ++i) {
    const std::string& t = spec.types[i];
    if (!isOneOf(kPolicyTypes, t)) {
      v.fail(at("spec.types", i), "unknown policy type \"" + t + "\" (must be Ingress or Egress)");
    } else if (!types.insert(t).second) {
      v.fail(at("spec.types", i), "'" + t + "' type specified more than once");
    }
  }
  if (!spec.selector.empty()) {
    checkSelector(v, "spec.selector", spec.selector);
    if (spec.selector.find("global()") != std::string::npos) {
      v.fail("spec.selector", "global() can only be used in an EntityRule namespaceSelector");
    }
  }
  if (!spec.serviceAccountSelector.empty()) {
    checkSelector(v, "spec.serviceAccountSelector", spec.serviceAccountSelector);
    if (spec.serviceAccountSelector.find("global()") != std::string::npos) {
      v.fail("spec.serviceAccountSelector", "global() can only be used in an EntityRule namespaceSelector");
    }
  }
  std::set<std::string> hints;
  for (size_t i = 0; i < spec.performanceHints.size(); ++i) {
    const std::string& hint = spec.performanceHints[i];
    if (!isOneOf(kPerformanceHints, hint)) {
      v.fail(at("spec.performanceHints", i), "unknown performance hint \"" + hint + "\"");
    } else if (!hints.insert(hint).second) {
      v.fail(at("spec.performanceHints", i), "duplicate performance hint");
    }
  }
  for (size_t i = 0; i < spec.ingress.size(); ++i) {
    checkRule(v, at("spec.ingress", i), spec.ingress[i], Direction::kIngress, global);
  }
  for (size_t i = 0; i < spec.egress.size(); ++i) {
    checkRule(v, at("spec.egress", i), spec.egress[i], Direction::kEgress, global);
  }
}

// A policy's name may carry its tier as a prefix ("security.allow-dns"); if it does, the prefix
// must be the policy's tier.
void checkTierPrefix(Validator& v, const std::string& name, const std::string& tier) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return;
  if (name.rfind("knp.default.", 0) == 0 || name.rfind("ossg.default.", 0) == 0) return;
  std::string prefix = name.substr(0, dot);
  std::string effectiveTier = tier.empty() ? kDefaultTierName : tier;
  if (prefix != effectiveTier) {
    v.fail("metadata.name", "policy name \"" + name + "\" must be prefixed by its tier \"" + effectiveTier +
                                ".\" (or have no dot)");
  }
}

template <class Spec>
void defaultPolicySpec(Spec& spec) {
  if (spec.tier.empty()) spec.tier = kDefaultTierName;
  if (spec.types.empty()) {
    // Calico: Ingress unless there are egress rules only; both if there are both.
    if (!spec.ingress.empty() || spec.egress.empty()) spec.types.push_back("Ingress");
    if (!spec.egress.empty()) spec.types.push_back("Egress");
  }
}

bool checkPolicyName(Validator& v, const std::string& name, bool global) {
  if (name.empty()) {
    v.fail("metadata.name", "name is required");
    return false;
  }
  if (name.size() > 253) {
    v.fail("metadata.name", "name is " + tooLong(name.size(), 253));
    return false;
  }
  bool ok = false;
  size_t dot = name.find('.');
  std::vector<std::string_view> parts;  // the name, or the tier and the name
  if (dot == std::string::npos) {
    parts = {name};
  } else if (name.find('.', dot + 1) == std::string::npos) {
    parts = {std::string_view(name).substr(0, dot), std::string_view(name).substr(dot + 1)};
  }
  if (!parts.empty()) ok = std::all_of(parts.begin(), parts.end(), isDNS1123Label);
  if (!ok && !parts.empty() && std::all_of(parts.begin(), parts.end(), matchesDNS1123LabelPattern)) {
    // Right in form, wrong in length: say so, not the pattern.
    const auto longest =
        std::max_element(parts.begin(), parts.end(), [](auto a, auto b) { return a.size() < b.size(); });
    v.fail("metadata.name", std::string(parts.size() == 1 ? "name" : "a part of the name") + " is " +
                                tooLong(longest->size(), 63));
    return false;
  }
  if (!ok && !global) {
    for (const char* prefix : {"knp.default.", "ossg.default."}) {
      std::string_view p(prefix);
      if (name.rfind(p, 0) == 0 && isDNS1123Subdomain(std::string_view(name).substr(p.size()))) {
        ok = true;
      }
    }
  }
  if (!ok) {
    v.fail("metadata.name",
           "name must consist of lower case alphanumeric characters or '-', optionally prefixed "
           "by a tier name and a dot (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?)");
  }
  return ok;
}

void checkNetworkSetNets(Validator& v, const ObjectMeta& meta, const NetworkSetSpec& spec) {
  if (spec.nets.size() > kMaxNetworkSetNets) {
    // One error, before any net is parsed: a set this large is refused as a whole.
    v.fail("spec.nets", "too many nets (" + std::to_string(spec.nets.size()) + " > " +
                            std::to_string(kMaxNetworkSetNets) + "); split them across several network sets");
    return;
  }
  // Calico's "cidr" rule: host bits are allowed in network sets (they are masked when used).
  for (size_t i = 0; i < spec.nets.size(); ++i) {
    if (!parseCIDROrIP(spec.nets[i])) v.fail(at("spec.nets", i), "invalid CIDR \"" + spec.nets[i] + "\"");
  }
  if (meta.labels.count("projectcalico.org/namespace")) {
    v.fail("metadata.labels[projectcalico.org/namespace]",
           "projectcalico.org/namespace is not a valid label name");
  }
}

void checkProfiles(Validator& v, const std::vector<std::string>& profiles) {
  for (size_t i = 0; i < profiles.size(); ++i) {
    if (!isDNS1123Subdomain(profiles[i])) {
      v.fail(at("spec.profiles", i), "profile name must be a lower case RFC 1123 subdomain");
    }
  }
}

void checkOptionalName(Validator& v, const std::string& path, const std::string& value) {
  if (!value.empty() && !isDNS1123Subdomain(value)) {
    v.fail(path, "must be a lower case RFC 1123 subdomain");
  }
}

}  // namespace

// ---- GlobalNetworkPolicy / NetworkPolicy / Tier ----

void defaultKind(GlobalNetworkPolicy& r) { defaultPolicySpec(r.spec); }

void validateKind(Validator& v, const GlobalNetworkPolicy& r) {
  if (checkPolicyName(v, r.metadata.name, true)) checkTierPrefix(v, r.metadata.name, r.spec.tier);
  checkMetadata(v, r.metadata, false);
  checkPolicySpec(v, r.spec, true);
  const GlobalNetworkPolicySpec& s = r.spec;
  if (!s.namespaceSelector.empty()) {
    checkSelector(v, "spec.namespaceSelector", s.namespaceSelector);
    if (s.namespaceSelector.find("global()") != std::string::npos) {
      v.fail("spec.namespaceSelector", "global() can only be used in an EntityRule namespaceSelector");
    }
  }
  if (s.doNotTrack && s.preDNAT) {
    v.fail("spec.preDNAT", "preDNAT and doNotTrack cannot both be true");
  }
  if (s.preDNAT && !s.egress.empty()) {
    v.fail("spec.egress", "a preDNAT policy cannot have egress rules");
  } else if (s.preDNAT && std::count(s.types.begin(), s.types.end(), "Egress")) {
    // (Only when there are no egress rules: those alone make the inferred types include Egress.)
    v.fail("spec.types", "a preDNAT policy cannot have the Egress type");
  }
  if (!s.applyOnForward && (s.doNotTrack || s.preDNAT)) {
    v.fail("spec.applyOnForward", "applyOnForward must be true if either preDNAT or doNotTrack is true");
  }
}

void defaultKind(NetworkPolicy& r) {
  if (r.metadata.namespaceName.empty()) r.metadata.namespaceName = "default";
  defaultPolicySpec(r.spec);
}

void validateKind(Validator& v, const NetworkPolicy& r) {
  if (checkPolicyName(v, r.metadata.name, false)) checkTierPrefix(v, r.metadata.name, r.spec.tier);
  checkMetadata(v, r.metadata, true);
  checkPolicySpec(v, r.spec, false);
}

// ---- Staged policies and ClusterInformation: stored and shown, never enforced ----

namespace {
// Calico's staged actions; Set when left out.
void checkStagedAction(Validator& v, const std::string& action) {
  if (!isOneOf(kStagedActions, action))
    v.fail("spec.stagedAction",
           "unknown staged action \"" + action + "\" (must be one of Set, Delete, Learn, Ignore)");
}
}  // namespace

// A staged policy is validated as the policy it would set: the same fields at the same paths.
void defaultKind(StagedGlobalNetworkPolicy& r) {
  if (r.spec.stagedAction.empty()) r.spec.stagedAction = "Set";
  defaultPolicySpec(r.spec.policy);
}

void validateKind(Validator& v, const StagedGlobalNetworkPolicy& r) {
  checkStagedAction(v, r.spec.stagedAction);
  validateKind(v, GlobalNetworkPolicy{r.metadata, r.spec.policy});
}

void defaultKind(StagedNetworkPolicy& r) {
  if (r.spec.stagedAction.empty()) r.spec.stagedAction = "Set";
  NetworkPolicy policy{r.metadata, r.spec.policy};
  defaultKind(policy);
  r.metadata = std::move(policy.metadata);
  r.spec.policy = std::move(policy.spec);
}

void validateKind(Validator& v, const StagedNetworkPolicy& r) {
  checkStagedAction(v, r.spec.stagedAction);
  validateKind(v, NetworkPolicy{r.metadata, r.spec.policy});
}

void defaultKind(ClusterInformation&) {}

void validateKind(Validator& v, const ClusterInformation& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
}

void defaultKind(Tier&) {}

void validateKind(Validator& v, const Tier& r) {
  const std::string& name = r.metadata.name;
  if (name.empty()) {
    v.fail("metadata.name", "name is required");
  } else if (name.size() > 63 && matchesDNS1123LabelPattern(name)) {
    v.fail("metadata.name", "tier name is " + tooLong(name.size(), 63));
  } else if (!isDNS1123Label(name)) {
    v.fail("metadata.name",
           "tier name must consist of lower case alphanumeric characters or '-', at most 63 "
           "(regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?)");
  }
  checkMetadata(v, r.metadata, false);
  if (name == kDefaultTierName && (!r.spec.order || *r.spec.order != kDefaultTierOrder)) {
    v.fail("spec.order", "default tier order must be 1e+06");
  }
  if (r.spec.defaultAction && !isOneOf(kTierDefaultActions, *r.spec.defaultAction)) {
    v.fail("spec.defaultAction", "defaultAction must be Deny or Pass");
  }
}

// ---- GlobalNetworkSet / NetworkSet ----

void defaultKind(GlobalNetworkSet&) {}

void validateKind(Validator& v, const GlobalNetworkSet& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  checkNetworkSetNets(v, r.metadata, r.spec);
}

void defaultKind(NetworkSet& r) {
  if (r.metadata.namespaceName.empty()) r.metadata.namespaceName = "default";
}

void validateKind(Validator& v, const NetworkSet& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, true);
  checkNetworkSetNets(v, r.metadata, r.spec);
}

// ---- HostEndpoint / WorkloadEndpoint ----

void defaultKind(HostEndpoint&) {}

void validateKind(Validator& v, const HostEndpoint& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  const HostEndpointSpec& s = r.spec;
  if (s.node.empty()) {
    v.fail("spec.node", "no node has been specified");
  } else {
    checkOptionalName(v, "spec.node", s.node);
  }
  if (s.interfaceName.empty() && s.expectedIPs.empty()) {
    v.fail("spec.interfaceName", "no interface or expected IPs have been specified");
  }
  if (!s.interfaceName.empty() && s.interfaceName != "*" && !isValidInterfaceName(s.interfaceName)) {
    v.fail("spec.interfaceName", "invalid interface name \"" + s.interfaceName + "\"");
  }
  for (size_t i = 0; i < s.expectedIPs.size(); ++i) {
    if (!parseIP(s.expectedIPs[i])) {
      v.fail(at("spec.expectedIPs", i), "invalid IP address \"" + s.expectedIPs[i] + "\"");
    }
  }
  checkProfiles(v, s.profiles);
  for (size_t i = 0; i < s.ports.size(); ++i) {
    const EndpointPort& p = s.ports[i];
    std::string pp = at("spec.ports", i);
    if (!isValidPortName(p.name)) v.fail(pp + ".name", "invalid port name \"" + p.name + "\"");
    checkEndpointPortProtocol(v, pp + ".protocol", p.protocol);
    if (p.port == 0) v.fail(pp + ".port", "port must be between 1 and 65535");
  }
}

void defaultKind(WorkloadEndpoint& r) {
  if (r.metadata.namespaceName.empty()) r.metadata.namespaceName = "default";
}

void validateKind(Validator& v, const WorkloadEndpoint& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, true);
  const WorkloadEndpointSpec& s = r.spec;
  checkOptionalName(v, "spec.orchestrator", s.orchestrator);
  checkOptionalName(v, "spec.workload", s.workload);
  checkOptionalName(v, "spec.node", s.node);
  checkOptionalName(v, "spec.pod", s.pod);
  checkOptionalName(v, "spec.endpoint", s.endpoint);
  checkOptionalName(v, "spec.serviceAccountName", s.serviceAccountName);
  if (!s.containerID.empty()) {
    bool ok = std::all_of(s.containerID.begin(), s.containerID.end(),
                          [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }) &&
              s.containerID.front() != '-' && s.containerID.back() != '-';
    if (!ok) v.fail("spec.containerID", "invalid container ID");
  }
  std::vector<IPNet> networks;
  for (size_t i = 0; i < s.ipNetworks.size(); ++i) {
    auto net = parseCIDROrIP(s.ipNetworks[i]);
    if (!net) {
      v.fail(at("spec.ipNetworks", i), "invalid CIDR \"" + s.ipNetworks[i] + "\"");
    } else if (net->prefixLength != (net->version == 4 ? 32 : 128)) {
      v.fail(at("spec.ipNetworks", i), "IP network contains multiple addresses");
    } else {
      networks.push_back(*net);
    }
  }
  if (!s.ipv4Gateway.empty()) {
    auto gw = parseIP(s.ipv4Gateway);
    if (!gw || gw->version != 4) v.fail("spec.ipv4Gateway", "invalid IPv4 gateway address");
  }
  if (!s.ipv6Gateway.empty()) {
    auto gw = parseIP(s.ipv6Gateway);
    if (!gw || gw->version != 6) v.fail("spec.ipv6Gateway", "invalid IPv6 gateway address");
  }
  for (size_t i = 0; i < s.ipNATs.size(); ++i) {
    std::string np = at("spec.ipNATs", i);
    auto internal = parseIP(s.ipNATs[i].internalIP);
    auto external = parseIP(s.ipNATs[i].externalIP);
    if (!internal) v.fail(np + ".internalIP", "invalid IP address");
    if (!external) v.fail(np + ".externalIP", "invalid IP address");
    if (internal && external && internal->version != external->version) {
      v.fail(np + ".externalIP", "mismatched IP versions");
    }
    if (internal && std::none_of(networks.begin(), networks.end(),
                                 [&](const IPNet& n) { return n.contains(*internal); })) {
      v.fail(np + ".internalIP", "NAT is not in the endpoint networks");
    }
  }
  checkProfiles(v, s.profiles);
  if (!s.interfaceName.empty() && !isValidInterfaceName(s.interfaceName)) {
    v.fail("spec.interfaceName", "invalid interface name \"" + s.interfaceName + "\"");
  }
  if (!s.mac.empty()) {
    // Go's net.ParseMAC accepts 6-byte colon or dash separated forms (and longer EUI forms).
    bool ok = s.mac.size() == 17;
    for (size_t i = 0; ok && i < s.mac.size(); ++i) {
      ok = (i % 3 == 2) ? (s.mac[i] == ':' || s.mac[i] == '-')
                        : std::isxdigit(static_cast<unsigned char>(s.mac[i]));
    }
    if (!ok) v.fail("spec.mac", "invalid MAC address \"" + s.mac + "\"");
  }
  for (size_t i = 0; i < s.ports.size(); ++i) {
    const WorkloadEndpointPort& p = s.ports[i];
    std::string pp = at("spec.ports", i);
    if (!p.name.empty() && !isValidPortName(p.name)) {
      v.fail(pp + ".name", "invalid port name \"" + p.name + "\"");
    }
    if (p.name.empty() && p.hostPort == 0) {
      v.fail(pp + ".name", "port name must not be empty if no hostPort is specified");
    }
    checkEndpointPortProtocol(v, pp + ".protocol", p.protocol);
    if (p.port == 0) v.fail(pp + ".port", "port must be between 1 and 65535");
    if (!p.hostIP.empty() && !parseCIDROrIP(p.hostIP)) v.fail(pp + ".hostIP", "invalid host IP");
  }
  for (size_t i = 0; i < s.allowSpoofedSourcePrefixes.size(); ++i) {
    if (!parseCIDROrIP(s.allowSpoofedSourcePrefixes[i])) {
      v.fail(at("spec.allowSpoofedSourcePrefixes", i), "invalid CIDR");
    }
  }
}

}  // namespace tartan::model
