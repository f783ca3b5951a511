// builders.hpp — terse constructors for the resources the calc-graph tests feed in.
#pragma once

#include "tartan/model/model.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tartan::calc::testing {

inline model::KubernetesNamespace ns(std::string name, model::Labels labels = {}) {
  model::KubernetesNamespace r;
  r.metadata.name = std::move(name);
  r.metadata.labels = std::move(labels);
  return r;
}

inline model::KubernetesServiceAccount sa(std::string namespaceName, std::string name,
                                          model::Labels labels = {}) {
  model::KubernetesServiceAccount r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  r.metadata.labels = std::move(labels);
  return r;
}

struct NamedContainerPort {
  std::string name;
  int32_t port;
  std::string protocol = "TCP";
};

inline model::KubernetesPod pod(std::string namespaceName, std::string name, std::string node, std::string ip,
                                model::Labels labels = {}, std::string serviceAccount = {},
                                std::vector<NamedContainerPort> ports = {}) {
  model::KubernetesPod r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  r.metadata.labels = std::move(labels);
  r.spec.nodeName = std::move(node);
  r.spec.serviceAccountName = std::move(serviceAccount);
  r.status.phase = "Running";
  r.status.podIP = ip;
  r.status.podIPs.push_back(model::PodIP{ip});
  model::Container c;
  c.name = "main";
  for (const auto& p : ports) {
    model::ContainerPort cp;
    cp.name = p.name;
    cp.containerPort = p.port;
    cp.protocol = p.protocol;
    c.ports.push_back(cp);
  }
  r.spec.containers.push_back(c);
  return r;
}

inline model::LabelSelector match(model::Labels labels,
                                  std::vector<model::LabelSelectorRequirement> expressions = {}) {
  return model::LabelSelector{std::move(labels), std::move(expressions)};
}

inline model::NetworkPolicyPeer podPeer(model::LabelSelector selector) {
  model::NetworkPolicyPeer p;
  p.podSelector = std::move(selector);
  return p;
}
inline model::NetworkPolicyPeer nsPeer(model::LabelSelector selector) {
  model::NetworkPolicyPeer p;
  p.namespaceSelector = std::move(selector);
  return p;
}
inline model::NetworkPolicyPeer ipBlock(std::string cidr, std::vector<std::string> except = {}) {
  model::NetworkPolicyPeer p;
  p.ipBlock = model::IPBlock{std::move(cidr), std::move(except)};
  return p;
}
inline model::NetworkPolicyPort port(int32_t number, std::optional<int32_t> endPort = {},
                                     std::string protocol = "TCP") {
  model::NetworkPolicyPort p;
  p.protocol = std::move(protocol);
  p.port = model::IntOrString{number};
  p.endPort = endPort;
  return p;
}
inline model::NetworkPolicyPort namedPort(std::string name, std::string protocol = "TCP") {
  model::NetworkPolicyPort p;
  p.protocol = std::move(protocol);
  p.port = model::IntOrString{std::move(name)};
  return p;
}

inline model::KubernetesNetworkPolicy knpIngress(std::string namespaceName, std::string name,
                                                 model::LabelSelector podSelector,
                                                 std::vector<model::NetworkPolicyPeer> from,
                                                 std::vector<model::NetworkPolicyPort> ports = {}) {
  model::KubernetesNetworkPolicy r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  r.spec.podSelector = std::move(podSelector);
  model::NetworkPolicyIngressRule rule;
  if (!from.empty()) rule.from = std::move(from);
  if (!ports.empty()) rule.ports = std::move(ports);
  r.spec.ingress = std::vector<model::NetworkPolicyIngressRule>{rule};
  r.spec.policyTypes = {"Ingress"};
  return r;
}

inline model::KubernetesNetworkPolicy knpEgress(std::string namespaceName, std::string name,
                                                model::LabelSelector podSelector,
                                                std::vector<model::NetworkPolicyPeer> to,
                                                std::vector<model::NetworkPolicyPort> ports = {}) {
  model::KubernetesNetworkPolicy r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  r.spec.podSelector = std::move(podSelector);
  model::NetworkPolicyEgressRule rule;
  if (!to.empty()) rule.to = std::move(to);
  if (!ports.empty()) rule.ports = std::move(ports);
  r.spec.egress = std::vector<model::NetworkPolicyEgressRule>{rule};
  r.spec.policyTypes = {"Egress"};
  return r;
}

inline model::Rule allowFrom(std::string selector, std::string namespaceSelector = {}) {
  model::Rule r;
  r.action = "Allow";
  r.source.selector = std::move(selector);
  r.source.namespaceSelector = std::move(namespaceSelector);
  return r;
}

inline model::GlobalNetworkPolicy gnp(std::string name, std::string tier, std::optional<double> order,
                                      std::string selector, std::vector<model::Rule> ingress,
                                      std::vector<model::Rule> egress = {}) {
  model::GlobalNetworkPolicy r;
  r.metadata.name = std::move(name);
  r.spec.tier = std::move(tier);
  r.spec.order = order;
  r.spec.selector = std::move(selector);
  r.spec.ingress = std::move(ingress);
  r.spec.egress = std::move(egress);
  return r;
}

inline model::NetworkPolicy np(std::string namespaceName, std::string name, std::string selector,
                               std::vector<model::Rule> ingress) {
  model::NetworkPolicy r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  r.spec.tier = "default";
  r.spec.selector = std::move(selector);
  r.spec.ingress = std::move(ingress);
  return r;
}

inline model::Tier tier(std::string name, std::optional<double> order, std::string action = "Deny") {
  model::Tier r;
  r.metadata.name = std::move(name);
  r.spec.order = order;
  r.spec.defaultAction = std::move(action);
  return r;
}

inline model::GlobalNetworkSet gns(std::string name, model::Labels labels, std::vector<std::string> nets) {
  model::GlobalNetworkSet r;
  r.metadata.name = std::move(name);
  r.metadata.labels = std::move(labels);
  r.spec.nets = std::move(nets);
  return r;
}

inline model::NetworkSet netset(std::string namespaceName, std::string name, model::Labels labels,
                                std::vector<std::string> nets) {
  model::NetworkSet r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  r.metadata.labels = std::move(labels);
  r.spec.nets = std::move(nets);
  return r;
}

inline model::HostEndpoint hep(std::string name, std::string node, std::string interfaceName,
                               std::vector<std::string> ips, model::Labels labels) {
  model::HostEndpoint r;
  r.metadata.name = std::move(name);
  r.metadata.labels = std::move(labels);
  r.spec.node = std::move(node);
  r.spec.interfaceName = std::move(interfaceName);
  r.spec.expectedIPs = std::move(ips);
  return r;
}

inline model::WorkloadEndpoint wep(std::string namespaceName, std::string podName, std::string node,
                                   std::string interfaceName, std::string ipNet) {
  model::WorkloadEndpoint r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = node + "-k8s-" + podName + "-eth0";
  r.spec.orchestrator = "k8s";
  r.spec.node = std::move(node);
  r.spec.pod = std::move(podName);
  r.spec.endpoint = "eth0";
  r.spec.interfaceName = std::move(interfaceName);
  r.spec.ipNetworks = {std::move(ipNet)};
  r.spec.mac = "ee:ee:ee:ee:ee:ee";
  return r;
}

inline model::IPPool ipPool(std::string name, std::string cidr, bool natOutgoing, bool disabled = false) {
  model::IPPool r;
  r.metadata.name = std::move(name);
  r.spec.cidr = std::move(cidr);
  r.spec.natOutgoing = natOutgoing;
  r.spec.disabled = disabled;
  return r;
}

inline model::NetworkPolicy npRules(std::string namespaceName, std::string name, std::string selector,
                                    std::vector<model::Rule> ingress, std::vector<model::Rule> egress) {
  model::NetworkPolicy r =
      np(std::move(namespaceName), std::move(name), std::move(selector), std::move(ingress));
  r.spec.egress = std::move(egress);
  if (!r.spec.ingress.empty()) r.spec.types.push_back("Ingress");
  if (!r.spec.egress.empty()) r.spec.types.push_back("Egress");
  return r;
}

inline model::KubernetesService service(std::string namespaceName, std::string name) {
  model::KubernetesService r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  r.spec.type = "ClusterIP";
  r.spec.ports.push_back(model::ServicePort{"", "TCP", std::nullopt, 80, std::nullopt, 0});
  return r;
}

struct SlicePort {
  std::optional<int32_t> port;
  std::string protocol = "TCP";
  std::string name;
};

// An EndpointSlice of `serviceName` ("" = no kubernetes.io/service-name label), one endpoint per
// address.
inline model::KubernetesEndpointSlice slice(std::string namespaceName, std::string name,
                                            std::string serviceName, std::vector<std::string> addresses,
                                            std::vector<SlicePort> ports, std::string addressType = "IPv4") {
  model::KubernetesEndpointSlice r;
  r.metadata.namespaceName = std::move(namespaceName);
  r.metadata.name = std::move(name);
  if (!serviceName.empty()) r.metadata.labels[model::kServiceNameLabel] = std::move(serviceName);
  r.addressType = std::move(addressType);
  for (std::string& a : addresses) {
    model::EndpointSliceEndpoint e;
    e.addresses.push_back(std::move(a));
    e.conditions.ready = true;
    r.endpoints.push_back(std::move(e));
  }
  for (SlicePort& p : ports) {
    model::EndpointSlicePort out;
    if (!p.name.empty()) out.name = std::move(p.name);
    out.protocol = std::move(p.protocol);
    out.port = p.port;
    r.ports.push_back(std::move(out));
  }
  return r;
}

// A rule whose source (or destination) names a Service.
inline model::Rule serviceRule(std::string action, bool destination, std::string name,
                               std::string namespaceName = {}) {
  model::Rule r;
  r.action = std::move(action);
  model::EntityRule& side = destination ? r.destination : r.source;
  side.services = model::ServiceMatch{std::move(name), std::move(namespaceName)};
  return r;
}

}  // namespace tartan::calc::testing
