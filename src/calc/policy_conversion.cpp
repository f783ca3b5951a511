#include "policy_conversion.hpp"

#include "selector_program.hpp"
#include "tartan/common/log.hpp"
#include "tartan/selector/selector.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace tartan::calc {
namespace {

constexpr std::string_view kLabelNamespace = "projectcalico.org/namespace";
constexpr std::string_view kLabelServiceAccount = "projectcalico.org/serviceaccount";
constexpr std::string_view kNamespacePrefix = "pcns.";
constexpr std::string_view kServiceAccountPrefix = "pcsa.";

void replaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

std::string quoted(std::string_view value) {
  const char q = value.find('\'') == std::string_view::npos ? '\'' : '"';
  return std::string(1, q) + std::string(value) + q;
}

// Calico's parseSelectorAttachPrefix.
std::string attachPrefix(std::string_view selector, std::string_view prefix) {
  const std::string canonical = canonicalSelector(selector);
  if (canonical.empty()) return {};
  return prefixSelectorKeys(canonical, prefix);
}

// Calico's parseServiceAccounts.
std::string serviceAccountSelector(const model::ServiceAccountMatch& match) {
  std::string bySelector;
  if (!match.selector.empty()) bySelector = attachPrefix(match.selector, kServiceAccountPrefix);
  if (match.names.empty()) return bySelector;
  std::string byName = std::string(kLabelServiceAccount) + " in {";
  for (std::size_t i = 0; i < match.names.size(); ++i) {
    if (i != 0) byName += ", ";
    byName += quoted(match.names[i]);
  }
  byName += "}";
  if (bySelector.empty()) return byName;
  return "(" + bySelector + ") && (" + byName + ")";
}

// Calico's getEndpointSelector: one selector for an entity rule's selector, namespaceSelector and
// serviceAccounts, scoped to the policy's namespace when it has one and no namespaceSelector.
std::string entitySelector(const model::EntityRule& rule, std::string_view ns) {
  std::string nsSelector;
  if (!rule.namespaceSelector.empty()) {
    nsSelector = attachPrefix(rule.namespaceSelector, kNamespacePrefix);
    replaceAll(nsSelector, "all()", "has(projectcalico.org/namespace)");
    replaceAll(nsSelector, "global()", "!has(projectcalico.org/namespace)");
  } else if (!ns.empty()) {
    nsSelector = std::string(kLabelNamespace) + " == " + quoted(ns);
  }
  std::vector<std::string> parts;
  if (rule.serviceAccounts) {
    std::string sa = serviceAccountSelector(*rule.serviceAccounts);
    if (!sa.empty()) parts.push_back(std::move(sa));
  }
  if (!rule.selector.empty()) parts.push_back(rule.selector);
  std::string selector;
  if (parts.size() == 1) {
    selector = parts[0];
  } else if (parts.size() == 2) {
    selector = "(" + parts[0] + ") && (" + parts[1] + ")";
  }
  if (!nsSelector.empty() &&
      (!selector.empty() || !rule.notSelector.empty() || !rule.namespaceSelector.empty())) {
    selector = selector.empty() ? nsSelector : "(" + nsSelector + ") && (" + selector + ")";
  }
  return selector.empty() ? std::string() : canonicalSelector(selector);
}

std::vector<std::string> normaliseNets(const std::vector<std::string>& nets) {
  std::vector<std::string> out;
  for (const std::string& net : nets) {
    if (auto n = normaliseCidr(net)) out.push_back(*n);
  }
  return out;
}

EntityDef convertEntity(const model::EntityRule& rule, std::string_view ns) {
  EntityDef out;
  out.nets = normaliseNets(rule.nets);
  out.notNets = normaliseNets(rule.notNets);
  out.selector = entitySelector(rule, ns);
  // As in Calico, a notSelector is taken as written, not scoped to the namespace.
  if (!rule.notSelector.empty()) out.notSelector = canonicalSelector(rule.notSelector);
  out.ports = rule.ports;
  out.notPorts = rule.notPorts;
  // Calico's rule conversion: a Service without a namespace is in the policy's (validation
  // requires one in a global policy, so "/<name>" names no Service and matches nothing).
  if (rule.services) {
    const std::string& serviceNs =
        rule.services->namespaceName.empty() ? std::string(ns) : rule.services->namespaceName;
    out.service = serviceNs + "/" + rule.services->name;
  }
  return out;
}

std::vector<RuleDef> convertRules(const std::vector<model::Rule>& rules, std::string_view ns) {
  std::vector<RuleDef> out;
  out.reserve(rules.size());
  for (const model::Rule& r : rules) {
    RuleDef d;
    d.action = r.action.empty() ? "Allow" : r.action;
    d.ipVersion = r.ipVersion;
    d.protocol = r.protocol;
    d.notProtocol = r.notProtocol;
    d.icmp = r.icmp;
    d.notIcmp = r.notICMP;
    d.source = convertEntity(r.source, ns);
    d.destination = convertEntity(r.destination, ns);
    out.push_back(std::move(d));
  }
  return out;
}

// Calico's defaulting of spec.types: Ingress unless the policy has only egress rules; Egress if
// it has egress rules.
void applyTypes(PolicyDef& def, const std::vector<std::string>& types, bool hasIngress, bool hasEgress) {
  if (types.empty()) {
    def.appliesToIngress = hasIngress || !hasEgress;
    def.appliesToEgress = hasEgress;
    return;
  }
  for (const std::string& t : types) {
    if (t == "Ingress") def.appliesToIngress = true;
    if (t == "Egress") def.appliesToEgress = true;
  }
}

std::string tierOf(const std::string& tier) { return tier.empty() ? model::kDefaultTierName : tier; }

// Calico's k8sSelectorToCalico.
enum class SelectorType { kPod, kNamespace };
std::string k8sSelector(const model::LabelSelector* s, SelectorType type) {
  std::vector<std::string> parts;
  if (type == SelectorType::kPod) parts.push_back("projectcalico.org/orchestrator == 'k8s'");
  if (s == nullptr) {
    return parts.empty() ? std::string() : parts[0];
  }
  if (type == SelectorType::kNamespace && s->matchLabels.empty() && s->matchExpressions.empty()) {
    return "all()";
  }
  for (const auto& [k, v] : s->matchLabels) parts.push_back(k + " == " + quoted(v));
  for (const model::LabelSelectorRequirement& e : s->matchExpressions) {
    std::string values;
    for (std::size_t i = 0; i < e.values.size(); ++i) {
      if (i != 0) values += ", ";
      values += quoted(e.values[i]);
    }
    if (e.operator_ == "In") {
      parts.push_back(e.key + " in { " + values + " }");
    } else if (e.operator_ == "NotIn") {
      parts.push_back(e.key + " not in { " + values + " }");
    } else if (e.operator_ == "Exists") {
      parts.push_back("has(" + e.key + ")");
    } else if (e.operator_ == "DoesNotExist") {
      parts.push_back("! has(" + e.key + ")");
    }
  }
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += " && ";
    out += parts[i];
  }
  return out;
}

// Calico's SimplifyPorts: numeric ports merged into the fewest ranges, named ports kept.
std::vector<model::Port> simplifyPorts(std::vector<model::Port> ports) {
  if (ports.size() <= 1) return ports;
  std::vector<model::Port> out;
  std::vector<std::pair<int, int>> ranges;
  for (const model::Port& p : ports) {
    if (p.isNamed()) {
      out.push_back(p);
    } else {
      ranges.emplace_back(p.minPort, p.maxPort);
    }
  }
  if (ranges.size() <= 1) return ports;
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<int, int>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  for (const auto& [first, last] : merged) {
    out.push_back(model::Port::range(static_cast<uint16_t>(first), static_cast<uint16_t>(last)));
  }
  return out;
}

// Calico's k8sRuleToCalico.
std::vector<model::Rule> k8sRules(const std::optional<std::vector<model::NetworkPolicyPeer>>& peersIn,
                                  const std::optional<std::vector<model::NetworkPolicyPort>>& portsIn,
                                  bool ingress) {
  std::vector<const model::NetworkPolicyPeer*> peers;
  if (peersIn) {
    for (const auto& p : *peersIn) peers.push_back(&p);
  }
  if (peers.empty()) peers.push_back(nullptr);

  // protocol ("" = any) -> ports (nullopt = all ports of that protocol).
  std::map<std::string, std::optional<std::vector<model::Port>>> protocolPorts;
  if (!portsIn || portsIn->empty()) {
    protocolPorts[""] = std::nullopt;
  } else {
    for (const model::NetworkPolicyPort& p : *portsIn) {
      const std::string protocol = model::Protocol::fromName(p.protocol.value_or("TCP")).toString();
      std::optional<model::Port> port;
      if (p.port) {
        if (p.port->isInt()) {
          const auto first = static_cast<uint16_t>(std::get<int32_t>(p.port->value));
          const auto last = p.endPort ? static_cast<uint16_t>(*p.endPort) : first;
          port = model::Port::range(first, last);
        } else {
          port = model::Port::named(std::get<std::string>(p.port->value));
        }
      }
      auto it = protocolPorts.find(protocol);
      if (!port) {
        protocolPorts[protocol] = std::nullopt;
      } else if (it == protocolPorts.end()) {
        protocolPorts[protocol] = std::vector<model::Port>{*port};
      } else if (it->second) {
        it->second->push_back(*port);
      }
    }
  }

  std::vector<model::Rule> rules;
  for (const auto& [protocol, ports] : protocolPorts) {
    for (const model::NetworkPolicyPeer* peer : peers) {
      model::Rule rule;
      rule.action = "Allow";
      if (!protocol.empty()) rule.protocol = model::Protocol::fromName(protocol);
      model::EntityRule peerRule;
      if (peer != nullptr) {
        if (peer->ipBlock) {
          if (auto net = normaliseCidr(peer->ipBlock->cidr)) peerRule.nets.push_back(*net);
          for (const std::string& e : peer->ipBlock->except) {
            if (auto net = normaliseCidr(e)) peerRule.notNets.push_back(*net);
          }
        } else {
          peerRule.selector =
              k8sSelector(peer->podSelector ? &*peer->podSelector : nullptr, SelectorType::kPod);
          peerRule.namespaceSelector = k8sSelector(
              peer->namespaceSelector ? &*peer->namespaceSelector : nullptr, SelectorType::kNamespace);
        }
      }
      std::vector<model::Port> portList = ports ? simplifyPorts(*ports) : std::vector<model::Port>{};
      if (ingress) {
        rule.source = std::move(peerRule);
        rule.destination.ports = std::move(portList);
      } else {
        rule.destination = std::move(peerRule);
        rule.destination.ports = std::move(portList);
      }
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

}  // namespace

std::string canonicalSelector(std::string_view text) {
  auto parsed = selector::parse(text);
  if (!parsed) {
    log::get("calc")->warn("selector \"{}\" does not parse: {}", text, parsed.error().toString());
    return {};
  }
  return parsed->canonical();
}

std::optional<std::string> normaliseCidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  unsigned char bytes[16] = {};
  int family = AF_INET;
  int maxBits = 32;
  if (addr.find(':') != std::string::npos) {
    family = AF_INET6;
    maxBits = 128;
  }
  if (inet_pton(family, addr.c_str(), bytes) != 1) return std::nullopt;
  int bits = maxBits;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3) return std::nullopt;
    bits = 0;
    for (char c : len) {
      if (c < '0' || c > '9') return std::nullopt;
      bits = bits * 10 + (c - '0');
    }
    if (bits > maxBits) return std::nullopt;
  }
  const int byteCount = maxBits / 8;
  for (int i = 0; i < byteCount; ++i) {
    const int keep = std::clamp(bits - i * 8, 0, 8);
    bytes[i] &= static_cast<unsigned char>(0xff00u >> keep);
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family, bytes, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(bits);
}

std::string memberFromNet(std::string_view net) {
  if (net.ends_with("/32") && net.find(':') == std::string_view::npos) {
    return std::string(net.substr(0, net.size() - 3));
  }
  if (net.ends_with("/128")) return std::string(net.substr(0, net.size() - 4));
  return std::string(net);
}

PolicyDef convertPolicy(const model::GlobalNetworkPolicy& policy) {
  const auto& spec = policy.spec;
  PolicyDef def;
  def.tier = tierOf(spec.tier);
  def.name = policy.metadata.name;
  def.order = spec.order;
  // Calico's globalnetworkpolicyprocessor: namespaceSelector keys get pcns., then all() means
  // "any namespaced endpoint"; serviceAccountSelector keys get pcsa.
  std::string selector = spec.selector;
  if (!spec.namespaceSelector.empty()) {
    std::string ns = attachPrefix(spec.namespaceSelector, kNamespacePrefix);
    selector = selector.empty() ? ns : "(" + selector + ") && " + ns;
    replaceAll(selector, "all()", "has(projectcalico.org/namespace)");
    replaceAll(selector, "global()", "!has(projectcalico.org/namespace)");
  }
  if (!spec.serviceAccountSelector.empty()) {
    std::string sa = attachPrefix(spec.serviceAccountSelector, kServiceAccountPrefix);
    selector = selector.empty() ? sa : "(" + selector + ") && " + sa;
  }
  def.selector = canonicalSelector(selector);
  def.ingress = convertRules(spec.ingress, "");
  def.egress = convertRules(spec.egress, "");
  applyTypes(def, spec.types, !spec.ingress.empty(), !spec.egress.empty());
  def.untracked = spec.doNotTrack;
  def.preDnat = spec.preDNAT;
  def.applyOnForward = spec.applyOnForward;
  return def;
}

PolicyDef convertPolicy(const model::NetworkPolicy& policy) {
  const auto& spec = policy.spec;
  const std::string& ns = policy.metadata.namespaceName;
  PolicyDef def;
  def.tier = tierOf(spec.tier);
  def.name = ns + "/" + policy.metadata.name;
  def.order = spec.order;
  // Calico's networkpolicyprocessor: the selector is limited to the policy's namespace.
  std::string selector = std::string(kLabelNamespace) + " == " + quoted(ns);
  if (!spec.selector.empty()) selector = "(" + selector + ") && (" + spec.selector + ")";
  if (!spec.serviceAccountSelector.empty()) {
    selector = "(" + selector + ") && " + attachPrefix(spec.serviceAccountSelector, kServiceAccountPrefix);
  }
  def.selector = canonicalSelector(selector);
  def.ingress = convertRules(spec.ingress, ns);
  def.egress = convertRules(spec.egress, ns);
  applyTypes(def, spec.types, !spec.ingress.empty(), !spec.egress.empty());
  return def;
}

model::NetworkPolicy convertKubernetesPolicy(const model::KubernetesNetworkPolicy& policy) {
  const auto& spec = policy.spec;
  model::NetworkPolicy out;
  out.metadata.name = "knp.default." + policy.metadata.name;
  out.metadata.namespaceName = policy.metadata.namespaceName;
  out.spec.tier = model::kDefaultTierName;
  out.spec.order = 1000.0;
  out.spec.selector = k8sSelector(&spec.podSelector, SelectorType::kPod);
  if (spec.ingress) {
    for (const auto& r : *spec.ingress) {
      auto rules = k8sRules(r.from, r.ports, true);
      out.spec.ingress.insert(out.spec.ingress.end(), rules.begin(), rules.end());
    }
  }
  if (spec.egress) {
    for (const auto& r : *spec.egress) {
      auto rules = k8sRules(r.to, r.ports, false);
      out.spec.egress.insert(out.spec.egress.end(), rules.begin(), rules.end());
    }
  }
  // The types the API server defaults policyTypes to (Ingress, plus Egress with egress rules);
  // Calico converts the defaulted list.
  bool ingress = false;
  bool egress = false;
  for (const std::string& t : model::effectivePolicyTypes(spec)) {
    ingress = ingress || t == "Ingress";
    egress = egress || t == "Egress";
  }
  if (ingress) out.spec.types.push_back("Ingress");
  if (egress) out.spec.types.push_back("Egress");
  if (out.spec.types.empty()) out.spec.types.push_back("Ingress");
  return out;
}

}  // namespace tartan::calc
