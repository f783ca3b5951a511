// builders.hpp — terse constructors for the resources the calc-graph tests feed in.
#pragma once

#include "tartan/model/model.hpp"

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

}  // namespace tartan::calc::testing
