// validate_kubernetes.cpp — Kubernetes' own validation of NetworkPolicy (apis/networking
// validation.go), Service and EndpointSlice (apis/core, apis/discovery; the fields the model
// reads) and the metadata checks of the other Kubernetes kinds.
#include "validate.hpp"

#include <set>

namespace tartan::model {

namespace {

std::string at(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

void checkLabelSelector(Validator& v, const std::string& path, const LabelSelector& s) {
  for (const auto& [key, value] : s.matchLabels) {
    std::string p = path + ".matchLabels[" + key + "]";
    if (auto problem = qualifiedNameProblem(key)) v.fail(p, "invalid label key: " + *problem);
    if (auto problem = labelValueProblem(value)) v.fail(p, "invalid label value: " + *problem);
  }
  for (size_t i = 0; i < s.matchExpressions.size(); ++i) {
    const LabelSelectorRequirement& r = s.matchExpressions[i];
    std::string p = at(path + ".matchExpressions", i);
    if (auto problem = qualifiedNameProblem(r.key)) v.fail(p + ".key", "invalid label key: " + *problem);
    if (r.operator_ == "In" || r.operator_ == "NotIn") {
      if (r.values.empty()) v.fail(p + ".values", "must be specified when operator is In or NotIn");
    } else if (r.operator_ == "Exists" || r.operator_ == "DoesNotExist") {
      if (!r.values.empty()) {
        v.fail(p + ".values", "may not be specified when operator is Exists or DoesNotExist");
      }
    } else {
      v.fail(p + ".operator",
             "unknown operator \"" + r.operator_ + "\" (must be In, NotIn, Exists or DoesNotExist)");
    }
    for (size_t j = 0; j < r.values.size(); ++j) {
      if (auto problem = labelValueProblem(r.values[j])) {
        v.fail(at(p + ".values", j), "invalid label value: " + *problem);
      }
    }
  }
}

void checkPorts(Validator& v, const std::string& path,
                const std::optional<std::vector<NetworkPolicyPort>>& ports) {
  if (!ports) return;
  for (size_t i = 0; i < ports->size(); ++i) {
    const NetworkPolicyPort& port = (*ports)[i];
    std::string p = at(path, i);
    if (port.protocol && *port.protocol != "TCP" && *port.protocol != "UDP" && *port.protocol != "SCTP") {
      v.fail(p + ".protocol", "unsupported protocol \"" + *port.protocol + "\" (must be TCP, UDP or SCTP)");
    }
    if (port.port) {
      if (port.port->isInt()) {
        int32_t n = std::get<int32_t>(port.port->value);
        if (n < 1 || n > 65535) v.fail(p + ".port", "port must be between 1 and 65535");
        if (port.endPort && (*port.endPort < n || *port.endPort > 65535)) {
          v.fail(p + ".endPort", "endPort must be between port and 65535");
        }
      } else {
        const std::string& name = std::get<std::string>(port.port->value);
        if (!isValidPortName(name)) {
          v.fail(p + ".port", "invalid named port \"" + name +
                                  "\" (1-15 lower case letters, digits and '-', with a letter)");
        }
        if (port.endPort) v.fail(p + ".endPort", "may not be specified when port is a named port");
      }
    } else if (port.endPort) {
      v.fail(p + ".endPort", "may not be specified when port is not specified");
    }
  }
}

void checkPeers(Validator& v, const std::string& path,
                const std::optional<std::vector<NetworkPolicyPeer>>& peers) {
  if (!peers) return;
  for (size_t i = 0; i < peers->size(); ++i) {
    const NetworkPolicyPeer& peer = (*peers)[i];
    std::string p = at(path, i);
    if (!peer.podSelector && !peer.namespaceSelector && !peer.ipBlock) {
      v.fail(p, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
    }
    if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) {
      v.fail(p + ".ipBlock", "may not be specified with podSelector or namespaceSelector");
    }
    if (peer.podSelector) checkLabelSelector(v, p + ".podSelector", *peer.podSelector);
    if (peer.namespaceSelector) {
      checkLabelSelector(v, p + ".namespaceSelector", *peer.namespaceSelector);
    }
    if (peer.ipBlock) {
      // Kubernetes parses these CIDRs "sloppily": host bits are allowed, a bare address is not.
      auto cidr = parseCIDROrIP(peer.ipBlock->cidr);
      if (!cidr || !cidr->hadPrefix) {
        v.fail(p + ".ipBlock.cidr", "invalid CIDR \"" + peer.ipBlock->cidr + "\"");
        continue;
      }
      for (size_t j = 0; j < peer.ipBlock->except.size(); ++j) {
        const std::string& text = peer.ipBlock->except[j];
        auto except = parseCIDROrIP(text);
        std::string ep = at(p + ".ipBlock.except", j);
        if (!except || !except->hadPrefix) {
          v.fail(ep, "invalid CIDR \"" + text + "\"");
        } else if (!cidr->contains(*except) || except->prefixLength <= cidr->prefixLength) {
          v.fail(ep, "must be a strict subset of " + peer.ipBlock->cidr);
        }
      }
    }
  }
}

void checkKubernetesName(Validator& v, const ObjectMeta& meta) {
  if (meta.name.empty() && !meta.generateName.empty()) return;
  checkName(v, meta);
}

void defaultNamespace(ObjectMeta& meta) {
  if (meta.namespaceName.empty()) meta.namespaceName = "default";
}

}  // namespace

void defaultKind(KubernetesNetworkPolicy& r) { defaultNamespace(r.metadata); }

void defaultKind(StagedKubernetesNetworkPolicy& r) {
  defaultNamespace(r.metadata);
  if (r.spec.stagedAction.empty()) r.spec.stagedAction = "Set";
}

void validateKind(Validator& v, const StagedKubernetesNetworkPolicy& r) {
  if (r.spec.stagedAction != "Set" && r.spec.stagedAction != "Delete" && r.spec.stagedAction != "Learn" &&
      r.spec.stagedAction != "Ignore") {
    v.fail("spec.stagedAction", "unknown staged action \"" + r.spec.stagedAction +
                                    "\" (must be one of Set, Delete, Learn, Ignore)");
  }
  validateKind(v, KubernetesNetworkPolicy{r.metadata, r.spec.policy});
}

void validateKind(Validator& v, const KubernetesNetworkPolicy& r) {
  checkKubernetesName(v, r.metadata);
  checkMetadata(v, r.metadata, true);
  const KubernetesNetworkPolicySpec& s = r.spec;
  checkLabelSelector(v, "spec.podSelector", s.podSelector);
  if (s.ingress) {
    for (size_t i = 0; i < s.ingress->size(); ++i) {
      std::string p = at("spec.ingress", i);
      checkPorts(v, p + ".ports", (*s.ingress)[i].ports);
      checkPeers(v, p + ".from", (*s.ingress)[i].from);
    }
  }
  if (s.egress) {
    for (size_t i = 0; i < s.egress->size(); ++i) {
      std::string p = at("spec.egress", i);
      checkPorts(v, p + ".ports", (*s.egress)[i].ports);
      checkPeers(v, p + ".to", (*s.egress)[i].to);
    }
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < s.policyTypes.size(); ++i) {
    const std::string& t = s.policyTypes[i];
    if (t != "Ingress" && t != "Egress") {
      v.fail(at("spec.policyTypes", i), "unsupported policy type \"" + t + "\" (must be Ingress or Egress)");
    } else if (!seen.insert(t).second) {
      v.fail(at("spec.policyTypes", i), "duplicate policy type \"" + t + "\"");
    }
  }
}

void defaultKind(KubernetesNamespace&) {}
void validateKind(Validator& v, const KubernetesNamespace& r) {
  if (r.metadata.name.empty()) {
    checkKubernetesName(v, r.metadata);
  } else if (r.metadata.name.size() > 63 && matchesDNS1123LabelPattern(r.metadata.name)) {
    v.fail("metadata.name", "a namespace name is " + tooLong(r.metadata.name.size(), 63));
  } else if (!isDNS1123Label(r.metadata.name)) {
    v.fail("metadata.name", "a namespace name must be a lower case RFC 1123 label");
  }
  checkMetadata(v, r.metadata, false);
}

void defaultKind(KubernetesServiceAccount& r) { defaultNamespace(r.metadata); }
void validateKind(Validator& v, const KubernetesServiceAccount& r) {
  checkKubernetesName(v, r.metadata);
  checkMetadata(v, r.metadata, true);
}

void defaultKind(KubernetesPod& r) { defaultNamespace(r.metadata); }
void validateKind(Validator& v, const KubernetesPod& r) {
  checkKubernetesName(v, r.metadata);
  checkMetadata(v, r.metadata, true);
  if (!r.status.podIP.empty() && !parseIP(r.status.podIP)) {
    v.fail("status.podIP", "invalid IP address \"" + r.status.podIP + "\"");
  }
  for (size_t i = 0; i < r.status.podIPs.size(); ++i) {
    if (!parseIP(r.status.podIPs[i].ip)) v.fail(at("status.podIPs", i) + ".ip", "invalid IP address");
  }
}

void defaultKind(KubernetesNode&) {}
void validateKind(Validator& v, const KubernetesNode& r) {
  checkKubernetesName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  if (!r.spec.podCIDR.empty() && !parseCIDROrIP(r.spec.podCIDR)) {
    v.fail("spec.podCIDR", "invalid CIDR \"" + r.spec.podCIDR + "\"");
  }
  for (size_t i = 0; i < r.spec.podCIDRs.size(); ++i) {
    if (!parseCIDROrIP(r.spec.podCIDRs[i])) v.fail(at("spec.podCIDRs", i), "invalid CIDR");
  }
}

// ---- Service and EndpointSlice (Kubernetes' apis/core and apis/discovery validation) ----

namespace {

bool isPortProtocol(std::string_view protocol) {
  return protocol == "TCP" || protocol == "UDP" || protocol == "SCTP";
}

// DNS-1035 label: a Service's name, which becomes a DNS label and an environment variable.
bool isDNS1035Label(std::string_view s) { return isDNS1123Label(s) && s.front() >= 'a' && s.front() <= 'z'; }

void checkAddress(Validator& v, const std::string& path, const std::string& text, int version) {
  const auto ip = parseIP(text);
  if (!ip || ip->version != version) {
    v.fail(path, "invalid IPv" + std::to_string(version) + " address \"" + text + "\"");
  }
}

void checkAnyAddress(Validator& v, const std::string& path, const std::string& text) {
  if (!parseIP(text)) v.fail(path, "invalid IP address \"" + text + "\"");
}

void checkOneOf(Validator& v, const std::string& path, const std::string& value,
                std::initializer_list<std::string_view> allowed) {
  if (value.empty()) return;
  std::string list;
  for (std::string_view a : allowed) {
    if (value == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  v.fail(path, "unsupported value \"" + value + "\" (must be one of " + list + ")");
}

}  // namespace

void defaultKind(KubernetesService& r) {
  defaultNamespace(r.metadata);
  if (r.spec.type.empty()) r.spec.type = "ClusterIP";
  for (ServicePort& p : r.spec.ports) {
    if (p.protocol.empty()) p.protocol = "TCP";
  }
}

void validateKind(Validator& v, const KubernetesService& r) {
  if (r.metadata.name.empty() && !r.metadata.generateName.empty()) {
    // Named by the API server.
  } else if (r.metadata.name.empty()) {
    v.fail("metadata.name", "name is required");
  } else if (!isDNS1035Label(r.metadata.name)) {
    v.fail("metadata.name",
           "a Service name must be a DNS-1035 label: at most 63 lower case letters, digits and '-', "
           "starting with a letter and ending with a letter or digit");
  }
  checkMetadata(v, r.metadata, true);
  const ServiceSpec& s = r.spec;
  checkOneOf(v, "spec.type", s.type, {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"});
  checkOneOf(v, "spec.externalTrafficPolicy", s.externalTrafficPolicy, {"Cluster", "Local"});
  checkOneOf(v, "spec.internalTrafficPolicy", s.internalTrafficPolicy, {"Cluster", "Local"});
  checkOneOf(v, "spec.ipFamilyPolicy", s.ipFamilyPolicy,
             {"SingleStack", "PreferDualStack", "RequireDualStack"});
  for (size_t i = 0; i < s.ipFamilies.size(); ++i) {
    checkOneOf(v, at("spec.ipFamilies", i), s.ipFamilies[i], {"IPv4", "IPv6"});
  }
  const bool headless = s.clusterIP == "None";
  if (!s.clusterIP.empty() && !headless) checkAnyAddress(v, "spec.clusterIP", s.clusterIP);
  for (size_t i = 0; i < s.clusterIPs.size(); ++i) {
    if (s.clusterIPs[i] != "None") checkAnyAddress(v, at("spec.clusterIPs", i), s.clusterIPs[i]);
  }
  if (!s.clusterIP.empty() && !s.clusterIPs.empty() && s.clusterIPs[0] != s.clusterIP) {
    v.fail("spec.clusterIPs[0]", "must be the same as spec.clusterIP");
  }
  for (size_t i = 0; i < s.externalIPs.size(); ++i)
    checkAnyAddress(v, at("spec.externalIPs", i), s.externalIPs[i]);
  if (!s.loadBalancerIP.empty()) checkAnyAddress(v, "spec.loadBalancerIP", s.loadBalancerIP);
  for (const auto& [key, value] : s.selector) {
    const std::string p = "spec.selector[" + key + "]";
    if (auto problem = qualifiedNameProblem(key)) v.fail(p, "invalid label key: " + *problem);
    if (auto problem = labelValueProblem(value)) v.fail(p, "invalid label value: " + *problem);
  }
  if (s.type == "ExternalName" && !isDNS1123Subdomain(s.externalName)) {
    v.fail("spec.externalName", "must be a lower case RFC 1123 subdomain for a Service of type ExternalName");
  }
  if (s.ports.empty() && !headless && s.type != "ExternalName") {
    v.fail("spec.ports", "a Service must have at least one port (unless headless or ExternalName)");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < s.ports.size(); ++i) {
    const ServicePort& port = s.ports[i];
    const std::string p = at("spec.ports", i);
    if (port.name.empty() && s.ports.size() > 1) {
      v.fail(p + ".name", "each port of a Service with several ports must be named");
    } else if (!port.name.empty() && !isDNS1123Label(port.name)) {
      v.fail(p + ".name", "a port name must be a lower case RFC 1123 label");
    } else if (!names.insert(port.name).second) {
      v.fail(p + ".name", "duplicate port name \"" + port.name + "\"");
    }
    if (!isPortProtocol(port.protocol)) {
      v.fail(p + ".protocol", "unsupported protocol \"" + port.protocol + "\" (must be TCP, UDP or SCTP)");
    }
    if (port.port < 1 || port.port > 65535) v.fail(p + ".port", "port must be between 1 and 65535");
    if (port.nodePort < 0 || port.nodePort > 65535) {
      v.fail(p + ".nodePort", "nodePort must be between 0 and 65535");
    }
    if (port.targetPort) {
      if (port.targetPort->isInt()) {
        const int32_t n = std::get<int32_t>(port.targetPort->value);
        if (n < 1 || n > 65535) v.fail(p + ".targetPort", "targetPort must be between 1 and 65535");
      } else if (!isValidPortName(std::get<std::string>(port.targetPort->value))) {
        v.fail(p + ".targetPort", "invalid named port \"" + std::get<std::string>(port.targetPort->value) +
                                      "\" (1-15 lower case letters, digits and '-', with a letter)");
      }
    }
  }
  for (size_t i = 0; i < r.status.loadBalancer.ingress.size(); ++i) {
    const std::string& ip = r.status.loadBalancer.ingress[i].ip;
    if (!ip.empty()) checkAnyAddress(v, at("status.loadBalancer.ingress", i) + ".ip", ip);
  }
}

void defaultKind(KubernetesEndpointSlice& r) {
  defaultNamespace(r.metadata);
  for (EndpointSlicePort& p : r.ports) {
    if (!p.protocol) p.protocol = "TCP";
  }
}

void validateKind(Validator& v, const KubernetesEndpointSlice& r) {
  checkKubernetesName(v, r.metadata);
  checkMetadata(v, r.metadata, true);
  int version = 0;
  if (r.addressType == "IPv4") {
    version = 4;
  } else if (r.addressType == "IPv6") {
    version = 6;
  } else if (r.addressType != "FQDN") {
    v.fail("addressType", "unsupported address type \"" + r.addressType + "\" (must be IPv4, IPv6 or FQDN)");
  }
  if (r.endpoints.size() > 1000) v.fail("endpoints", "too many endpoints (at most 1000)");
  for (size_t i = 0; i < r.endpoints.size() && i < 1000; ++i) {
    const EndpointSliceEndpoint& e = r.endpoints[i];
    const std::string p = at("endpoints", i);
    if (e.addresses.empty()) v.fail(p + ".addresses", "must have at least one address");
    if (e.addresses.size() > 100) v.fail(p + ".addresses", "too many addresses (at most 100)");
    for (size_t j = 0; j < e.addresses.size() && j < 100; ++j) {
      const std::string ap = at(p + ".addresses", j);
      if (version != 0) {
        checkAddress(v, ap, e.addresses[j], version);
      } else if (r.addressType == "FQDN" && !isDNS1123Subdomain(e.addresses[j])) {
        v.fail(ap, "an FQDN address must be a lower case RFC 1123 subdomain");
      }
    }
    if (e.hostname && !isDNS1123Label(*e.hostname)) {
      v.fail(p + ".hostname", "must be a lower case RFC 1123 label");
    }
    if (e.nodeName && !isDNS1123Subdomain(*e.nodeName)) {
      v.fail(p + ".nodeName", "must be a lower case RFC 1123 subdomain");
    }
  }
  if (r.ports.size() > 100) v.fail("ports", "too many ports (at most 100)");
  std::set<std::string> names;
  for (size_t i = 0; i < r.ports.size(); ++i) {
    const EndpointSlicePort& port = r.ports[i];
    const std::string p = at("ports", i);
    const std::string name = port.name.value_or("");
    if (!name.empty() && !isDNS1123Label(name)) {
      v.fail(p + ".name", "a port name must be a lower case RFC 1123 label");
    } else if (!names.insert(name).second) {
      v.fail(p + ".name", "duplicate port name \"" + name + "\"");
    }
    if (!port.protocol || !isPortProtocol(*port.protocol)) {
      v.fail(p + ".protocol",
             "unsupported protocol \"" + port.protocol.value_or("") + "\" (must be TCP, UDP or SCTP)");
    }
    if (port.port && (*port.port < 1 || *port.port > 65535)) {
      v.fail(p + ".port", "port must be between 1 and 65535");
    }
    if (port.appProtocol) {
      if (auto problem = qualifiedNameProblem(*port.appProtocol)) v.fail(p + ".appProtocol", *problem);
    }
  }
}

}  // namespace tartan::model
