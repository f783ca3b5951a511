// Inputs of the calc graph: each resource kind turned into items, parents, policies and tiers,
// with Calico's conversions (libcalico-go k8s/conversion) for pods, namespaces and service
// accounts.
#include "graph_state.hpp"

#include "tartan/common/log.hpp"

#include <openssl/evp.h>

#include <cstdio>

namespace tartan::calc {
namespace {

constexpr std::string_view kNamespacePrefix = "pcns.";
constexpr std::string_view kServiceAccountPrefix = "pcsa.";
constexpr std::string_view kNameLabel = "projectcalico.org/name";

// Calico's WorkloadEndpointIdentifiers name: each part with "-" doubled, joined by "-".
std::string escapeNamePart(std::string_view part) {
  std::string out;
  for (char c : part) {
    out += c;
    if (c == '-') out += '-';
  }
  return out;
}

std::string_view lowerProtocol(std::string_view protocol) {  // a literal: never dangles
  if (protocol.empty() || protocol == "TCP" || protocol == "tcp") return "tcp";
  if (protocol == "UDP" || protocol == "udp") return "udp";
  if (protocol == "SCTP" || protocol == "sctp") return "sctp";
  return {};
}

// Calico's podToDefaultWorkloadEndpoint, reduced to what the calc graph uses. A pod that
// Calico would not turn into an endpoint (host-networked, unscheduled, no address yet, or
// finished and so no longer owning its address) gives nothing.
LabelVec intern(const model::Labels& labels, Interner& interner) {
  LabelVec out;
  out.reserve(labels.size() + 3);
  for (const auto& [k, v] : labels) out.push_back(Label{interner.intern(k), interner.intern(v)});
  std::sort(out.begin(), out.end());
  return out;
}

// Sets (or replaces) one label of a sorted LabelVec.
void setLabel(LabelVec& labels, StrId key, StrId value) {
  auto it =
      std::lower_bound(labels.begin(), labels.end(), key, [](const Label& l, StrId k) { return l.key < k; });
  if (it != labels.end() && it->key == key) {
    it->value = value;
  } else {
    labels.insert(it, Label{key, value});
  }
}

std::optional<WorkloadData> podData(const model::KubernetesPod& pod, const Config& config,
                                    Interner& interner) {
  if (pod.spec.hostNetwork || pod.spec.nodeName.empty()) return std::nullopt;
  const std::string& phase = pod.status.phase;
  if (phase == "Failed" || phase == "Succeeded" || phase == "Completed") return std::nullopt;
  WorkloadData d;
  if (!pod.status.podIPs.empty()) {
    for (const auto& ip : pod.status.podIPs) d.ips.push_back(ip.ip);
  } else if (!pod.status.podIP.empty()) {
    d.ips.push_back(pod.status.podIP);
  }
  if (d.ips.empty()) return std::nullopt;
  d.local = pod.spec.nodeName == config.nodeName;
  d.ns = pod.metadata.namespaceName;
  d.sa = pod.spec.serviceAccountName;
  d.labels = intern(pod.metadata.labels, interner);
  for (const model::Container& c : pod.spec.containers) {
    for (const model::ContainerPort& p : c.ports) {
      if (p.containerPort == 0 || p.name.empty()) continue;
      const std::string protocol(lowerProtocol(p.protocol));
      if (protocol.empty()) continue;
      d.ports.emplace_back(p.name, protocol, static_cast<uint16_t>(p.containerPort));
    }
  }
  if (d.local) {  // names only a local endpoint is rendered with
    d.wepName = escapeNamePart(pod.spec.nodeName) + "-k8s-" + escapeNamePart(pod.metadata.name) + "-eth0";
    d.interfaceName =
        CalcGraph::vethNameForWorkload(config.interfacePrefix, pod.metadata.namespaceName, pod.metadata.name);
  }
  return d;
}

WorkloadData wepData(const model::WorkloadEndpoint& wep, const Config& config, Interner& interner) {
  WorkloadData d;
  d.local = wep.spec.node == config.nodeName;
  d.ns = wep.metadata.namespaceName;
  d.sa = wep.spec.serviceAccountName;
  d.labels = intern(wep.metadata.labels, interner);
  for (const std::string& net : wep.spec.ipNetworks) d.ips.push_back(memberFromNet(net));
  for (const auto& p : wep.spec.ports) {
    if (p.name.empty() || p.port == 0) continue;
    const std::string protocol(lowerProtocol(p.protocol.toString()));
    if (!protocol.empty()) d.ports.emplace_back(p.name, protocol, p.port);
  }
  d.wepName = wep.metadata.name;
  if (!wep.spec.orchestrator.empty()) d.orchestrator = wep.spec.orchestrator;
  if (!wep.spec.endpoint.empty()) d.endpoint = wep.spec.endpoint;
  d.interfaceName = wep.spec.interfaceName;
  d.mac = wep.spec.mac;
  return d;
}

std::string workloadKey(std::string_view ns, std::string_view pod) {
  return std::string(ns) + "/" + std::string(pod);
}

std::string wepPod(const model::WorkloadEndpoint& wep) {
  return !wep.spec.pod.empty() ? wep.spec.pod : wep.metadata.name;
}

// The pod gives labels, service account and node; a WorkloadEndpoint written for it (by the
// CNI plugin) gives the interface, MAC and, when set, the addresses and ports.
std::optional<WorkloadData> merge(const WorkloadSources& src) {
  if (!src.pod && !src.wep) return std::nullopt;
  WorkloadData d = src.pod ? *src.pod : *src.wep;
  if (src.pod && src.wep) {
    const WorkloadData& w = *src.wep;
    if (!w.wepName.empty()) d.wepName = w.wepName;
    if (!w.interfaceName.empty()) d.interfaceName = w.interfaceName;
    d.mac = w.mac;
    d.orchestrator = w.orchestrator;
    d.endpoint = w.endpoint;
    if (!w.ips.empty()) d.ips = w.ips;
    if (d.ports.empty()) d.ports = w.ports;
  }
  return d;
}

}  // namespace

std::string CalcGraph::vethNameForWorkload(std::string_view prefix, std::string_view ns,
                                           std::string_view pod) {
  std::string input = std::string(ns) + "." + std::string(pod);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr);
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < size; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  const std::string_view first = prefix.substr(0, prefix.find(','));
  return std::string(first.empty() ? kDefaultInterfacePrefix : first) + std::string(hex, 11);
}

CalcGraph::Impl::Impl(Config config, DataplaneSink& sink) : config_(std::move(config)), sink_(sink) {
  kNamespaceKey_ = interner_.intern("projectcalico.org/namespace");
  kOrchestratorKey_ = interner_.intern("projectcalico.org/orchestrator");
  kServiceAccountKey_ = interner_.intern("projectcalico.org/serviceaccount");
  kK8s_ = interner_.intern("k8s");
  kTcp_ = interner_.intern("tcp");
  kUdp_ = interner_.intern("udp");
  kSctp_ = interner_.intern("sctp");
}

void CalcGraph::Impl::onUpdate(const model::Resource& resource) {
  std::visit(
      [this](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        const auto& meta = r.metadata;
        if constexpr (std::is_same_v<T, model::KubernetesNamespace>) {
          updateNamespace(meta.name, &meta.labels);
        } else if constexpr (std::is_same_v<T, model::KubernetesServiceAccount>) {
          updateServiceAccount(meta.namespaceName, meta.name, &meta.labels);
        } else if constexpr (std::is_same_v<T, model::KubernetesPod>) {
          // Nearly every pod is another node's and has no WorkloadEndpoint of its own: it only
          // feeds IP sets, and takes the path that builds nothing else.
          if (r.spec.nodeName != config_.nodeName) {
            scratchParentKey_.assign(meta.namespaceName).append("/").append(meta.name);
            if (!workloadSources_.contains(std::string_view(scratchParentKey_))) {
              applyRemotePod(r);
              return;
            }
          }
          const std::string key = workloadKey(meta.namespaceName, meta.name);
          auto data = podData(r, config_, interner_);
          if (auto it = workloadSources_.find(key); it != workloadSources_.end()) {
            it->second.pod = std::move(data);
            updateWorkload(key);
          } else {
            applyWorkload(key, std::move(data));  // a pod alone is kept only as its item
          }
        } else if constexpr (std::is_same_v<T, model::WorkloadEndpoint>) {
          const std::string key = workloadKey(meta.namespaceName, wepPod(r));
          auto [it, inserted] = workloadSources_.try_emplace(key);
          if (inserted) {
            // The pod, if known, lives only as its item: rebuild its data from there.
            const uint32_t id = itemId("w:" + key, false);
            if (id != kNone && items_[id].alive) {
              WorkloadData d;
              const Item& item = items_[id];
              const LabelSet& ls = labelSets_[item.labelSet];
              for (const Label& l : ls.own) {
                if (l.key == kNamespaceKey_ || l.key == kOrchestratorKey_) continue;
                if (l.key == kServiceAccountKey_) continue;
                d.labels.push_back(l);
              }
              d.ns = meta.namespaceName;
              if (ls.sa != kNone) {
                for (const auto& [k, v] : parentsByKey_) {
                  if (v == ls.sa) d.sa = k.substr(k.find('/') + 1);
                }
              }
              for (Member m : item.members) d.ips.push_back(memberText(m, memberStrings_));
              if (item.ports() != kNone) {
                for (const NamedPort& p : portLists_[item.ports()]) {
                  d.ports.emplace_back(interner_.text(p.name), interner_.text(p.protocol), p.port);
                }
              }
              d.local = item.local;
              if (item.local) {
                const LocalInfo& info = *localEndpoints_.at(id).info;
                d.wepName = info.name;
                d.interfaceName = info.interfaceName;
              }
              it->second.pod = std::move(d);
            }
          }
          it->second.wep = wepData(r, config_, interner_);
          wepKeys_[meta.namespaceName + "/" + meta.name] = key;
          updateWorkload(key);
        } else if constexpr (std::is_same_v<T, model::HostEndpoint>) {
          updateHostEndpoint(meta.name, &r);
        } else if constexpr (std::is_same_v<T, model::GlobalNetworkSet>) {
          updateNetworkSet("n:/" + meta.name, &meta.labels, &r.spec.nets, "");
        } else if constexpr (std::is_same_v<T, model::NetworkSet>) {
          updateNetworkSet("n:" + meta.namespaceName + "/" + meta.name, &meta.labels, &r.spec.nets,
                           meta.namespaceName);
        } else if constexpr (std::is_same_v<T, model::GlobalNetworkPolicy>) {
          updatePolicy("gnp:" + meta.name, convertPolicy(r));
        } else if constexpr (std::is_same_v<T, model::NetworkPolicy>) {
          updatePolicy("np:" + meta.namespaceName + "/" + meta.name, convertPolicy(r));
        } else if constexpr (std::is_same_v<T, model::KubernetesNetworkPolicy>) {
          updatePolicy("knp:" + meta.namespaceName + "/" + meta.name,
                       convertPolicy(convertKubernetesPolicy(r)));
        } else if constexpr (std::is_same_v<T, model::KubernetesService>) {
          updateService(meta.namespaceName + "/" + meta.name, true);
        } else if constexpr (std::is_same_v<T, model::KubernetesEndpointSlice>) {
          updateEndpointSlice(meta.namespaceName + "/" + meta.name, &r);
        } else if constexpr (std::is_same_v<T, model::Tier>) {
          updateTier(meta.name, &r);
        } else if constexpr (std::is_same_v<T, model::IPPool>) {
          updatePool(meta.name, &r);
        } else if constexpr (std::is_same_v<T, model::AgentConfiguration>) {
          // Felix reads the cluster-wide "default" (per-node "node.<name>" overrides it).
          if (meta.name == "default" || meta.name == "node." + config_.nodeName) {
            if (!r.spec.interfacePrefix.empty() && agentInterfacePrefix_ != r.spec.interfacePrefix) {
              agentInterfacePrefix_ = r.spec.interfacePrefix;
              configDirty_ = true;
            }
          }
        }
      },
      resource);
}

void CalcGraph::Impl::onRemove(model::Kind kind, std::string_view nsView, std::string_view nameView) {
  const std::string ns(nsView);
  const std::string name(nameView);
  switch (kind) {
    case model::Kind::kKubernetesNamespace:
      updateNamespace(name, nullptr);
      break;
    case model::Kind::kKubernetesServiceAccount:
      updateServiceAccount(ns, name, nullptr);
      break;
    case model::Kind::kKubernetesPod: {
      const std::string key = workloadKey(ns, name);
      if (auto it = workloadSources_.find(key); it != workloadSources_.end()) {
        it->second.pod.reset();
        updateWorkload(key);
        if (!it->second.wep) workloadSources_.erase(it);
      } else {
        applyWorkload(key, std::nullopt);
      }
      break;
    }
    case model::Kind::kWorkloadEndpoint: {
      // Keyed by the pod it describes; found by the WEP's own name.
      auto named = wepKeys_.find(ns + "/" + name);
      if (named == wepKeys_.end()) break;
      const std::string key = named->second;
      wepKeys_.erase(named);
      auto it = workloadSources_.find(key);
      if (it == workloadSources_.end()) break;
      it->second.wep.reset();
      updateWorkload(key);
      if (!workloadSources_[key].pod) workloadSources_.erase(key);
      break;
    }
    case model::Kind::kHostEndpoint:
      updateHostEndpoint(name, nullptr);
      break;
    case model::Kind::kGlobalNetworkSet:
      updateNetworkSet("n:/" + name, nullptr, nullptr, "");
      break;
    case model::Kind::kNetworkSet:
      updateNetworkSet("n:" + ns + "/" + name, nullptr, nullptr, ns);
      break;
    case model::Kind::kGlobalNetworkPolicy:
      updatePolicy("gnp:" + name, std::nullopt);
      break;
    case model::Kind::kNetworkPolicy:
      updatePolicy("np:" + ns + "/" + name, std::nullopt);
      break;
    case model::Kind::kKubernetesNetworkPolicy:
      updatePolicy("knp:" + ns + "/" + name, std::nullopt);
      break;
    case model::Kind::kKubernetesService:
      updateService(ns + "/" + name, false);
      break;
    case model::Kind::kKubernetesEndpointSlice:
      updateEndpointSlice(ns + "/" + name, nullptr);
      break;
    case model::Kind::kTier:
      updateTier(name, nullptr);
      break;
    case model::Kind::kIPPool:
      updatePool(name, nullptr);
      break;
    default:
      break;
  }
}

void CalcGraph::Impl::updateNamespace(const std::string& name, const model::Labels* labels) {
  model::Labels prefixed;
  if (labels != nullptr) {
    for (const auto& [k, v] : *labels) prefixed.emplace(std::string(kNamespacePrefix) + k, v);
    prefixed[std::string(kNamespacePrefix) + std::string(kNameLabel)] = name;
  }
  applyParentChange(parentId(name), internLabels(prefixed), labels != nullptr);
}

void CalcGraph::Impl::updateServiceAccount(const std::string& ns, const std::string& name,
                                           const model::Labels* labels) {
  model::Labels prefixed;
  if (labels != nullptr) {
    for (const auto& [k, v] : *labels) prefixed.emplace(std::string(kServiceAccountPrefix) + k, v);
    prefixed[std::string(kServiceAccountPrefix) + std::string(kNameLabel)] = name;
  }
  applyParentChange(parentId(ns + "/" + name), internLabels(prefixed), labels != nullptr);
}

void CalcGraph::Impl::updateWorkload(const std::string& key) {
  std::optional<WorkloadData> data;
  if (auto it = workloadSources_.find(key); it != workloadSources_.end()) data = merge(it->second);
  applyWorkload(key, std::move(data));
}

void CalcGraph::Impl::applyWorkload(const std::string& key, std::optional<WorkloadData> data) {
  const std::string itemKey = "w:" + key;
  if (!data) {
    const uint32_t id = itemId(itemKey, false);
    if (id == kNone) return;
    setItem(id, std::nullopt, ItemKind::kWorkload, nullptr);
    itemsByKey_.erase(itemKey);
    return;
  }
  // Calico's endpoint labels: the pod's own plus namespace, orchestrator and service account.
  LabelVec& labels = data->labels;
  setLabel(labels, kNamespaceKey_, interner_.intern(data->ns));
  setLabel(labels, kOrchestratorKey_, interner_.intern(data->orchestrator));
  if (!data->sa.empty() && data->sa.size() < 63) {
    setLabel(labels, kServiceAccountKey_, interner_.intern(data->sa));
  }
  ItemSnapshot snap;
  const uint32_t nsParent = parentId(data->ns);
  const uint32_t saParent = data->sa.empty() ? kNone : parentId(data->ns + "/" + data->sa);
  snap.labelSet = internLabelSet(std::move(labels), nsParent, saParent);
  for (const std::string& ip : data->ips) snap.members.push_back(encodeMember(ip, memberStrings_));
  std::vector<NamedPort> ports;
  for (const auto& [name, protocol, port] : data->ports) {
    ports.push_back(NamedPort{interner_.intern(name), interner_.intern(protocol), port});
  }
  snap.ports = internPorts(std::move(ports));
  std::unique_ptr<LocalInfo> local;
  if (data->local) {
    local = std::make_unique<LocalInfo>();
    local->nsName = data->ns;
    local->saName = data->sa;
    local->name = data->wepName;
    local->orchestrator = data->orchestrator;
    local->workloadId = key;
    local->endpointId = data->endpoint;
    local->interfaceName = data->interfaceName;
    local->mac = data->mac;
    for (const std::string& ip : data->ips) {
      local->nets.push_back(ip + (ip.find(':') == std::string::npos ? "/32" : "/128"));
    }
  }
  setItem(itemId(itemKey, true), std::move(snap), ItemKind::kWorkload, std::move(local));
}

// podData + applyWorkload for a pod of another node with no WorkloadEndpoint: the same item,
// built in scratch space (no WorkloadData, no key or label copies unless they are new).
void CalcGraph::Impl::applyRemotePod(const model::KubernetesPod& pod) {
  const model::ObjectMeta& meta = pod.metadata;
  scratchKey_.assign("w:");
  scratchKey_.append(meta.namespaceName).append("/").append(meta.name);
  const std::string& phase = pod.status.phase;
  const bool usable = !pod.spec.hostNetwork && !pod.spec.nodeName.empty() && phase != "Failed" &&
                      phase != "Succeeded" && phase != "Completed" &&
                      (!pod.status.podIPs.empty() || !pod.status.podIP.empty());
  if (!usable) {
    const uint32_t id = itemId(scratchKey_, false);
    if (id == kNone) return;
    setItem(id, std::nullopt, ItemKind::kWorkload, nullptr);
    itemsByKey_.erase(scratchKey_);
    return;
  }
  LabelVec& labels = scratchLabels_;
  labels.clear();
  for (const auto& [k, v] : meta.labels) {
    labels.push_back(Label{internLabelKey(k), interner_.intern(v)});
  }
  std::sort(labels.begin(), labels.end());
  const std::string& ns = meta.namespaceName;
  const std::string& sa = pod.spec.serviceAccountName;
  setLabel(labels, kNamespaceKey_, interner_.intern(ns));
  setLabel(labels, kOrchestratorKey_, kK8s_);
  if (!sa.empty() && sa.size() < 63) setLabel(labels, kServiceAccountKey_, interner_.intern(sa));

  ItemSnapshot snap;
  const uint32_t nsParent = parentId(ns);
  uint32_t saParent = kNone;
  if (!sa.empty()) {
    scratchParentKey_.assign(ns).append("/").append(sa);
    saParent = parentId(scratchParentKey_);
  }
  snap.labelSet = internLabelSet(labels, nsParent, saParent);
  if (!pod.status.podIPs.empty()) {
    for (const auto& ip : pod.status.podIPs) {
      snap.members.push_back(encodeMember(ip.ip, memberStrings_));
    }
  } else {
    snap.members.push_back(encodeMember(pod.status.podIP, memberStrings_));
  }
  scratchPorts_.clear();
  for (const model::Container& c : pod.spec.containers) {
    for (const model::ContainerPort& p : c.ports) {
      if (p.containerPort == 0 || p.name.empty()) continue;
      const std::string_view protocol = lowerProtocol(p.protocol);
      const StrId protocolId = protocol == "tcp"    ? kTcp_
                               : protocol == "udp"  ? kUdp_
                               : protocol == "sctp" ? kSctp_
                                                    : kNoStr;
      if (protocolId == kNoStr) continue;
      scratchPorts_.push_back(
          NamedPort{internLabelKey(p.name), protocolId, static_cast<uint16_t>(p.containerPort)});
    }
  }
  snap.ports = internPorts(scratchPorts_);
  setItem(itemId(scratchKey_, true), std::move(snap), ItemKind::kWorkload, nullptr);
}

void CalcGraph::Impl::updateHostEndpoint(const std::string& name, const model::HostEndpoint* hep) {
  const std::string itemKey = "h:" + name;
  if (hep == nullptr) {
    const uint32_t id = itemId(itemKey, false);
    if (id == kNone) return;
    setItem(id, std::nullopt, ItemKind::kHost, nullptr);
    itemsByKey_.erase(itemKey);
    return;
  }
  ItemSnapshot snap;
  snap.labelSet = internLabelSet(internLabels(hep->metadata.labels), kNone, kNone);
  for (const std::string& ip : hep->spec.expectedIPs) {
    snap.members.push_back(encodeMember(memberFromNet(ip), memberStrings_));
  }
  std::vector<NamedPort> ports;
  for (const auto& p : hep->spec.ports) {
    const std::string protocol(lowerProtocol(p.protocol.toString()));
    if (p.name.empty() || protocol.empty()) continue;
    ports.push_back(NamedPort{interner_.intern(p.name), interner_.intern(protocol), p.port});
  }
  snap.ports = internPorts(std::move(ports));
  std::unique_ptr<LocalInfo> local;
  if (hep->spec.node == config_.nodeName) {
    local = std::make_unique<LocalInfo>();
    local->name = hep->spec.interfaceName;
    local->endpointId = name;
    local->nets = hep->spec.expectedIPs;
    local->profiles = hep->spec.profiles;
  }
  setItem(itemId(itemKey, true), std::move(snap), ItemKind::kHost, std::move(local));
}

void CalcGraph::Impl::updateNetworkSet(const std::string& key, const model::Labels* labels,
                                       const std::vector<std::string>* nets, const std::string& ns) {
  if (labels == nullptr) {
    const uint32_t id = itemId(key, false);
    if (id == kNone) return;
    setItem(id, std::nullopt, ItemKind::kNetworkSet, nullptr);
    itemsByKey_.erase(key);
    return;
  }
  model::Labels all = *labels;
  uint32_t nsParent = kNone;
  if (!ns.empty()) {
    all["projectcalico.org/namespace"] = ns;
    nsParent = parentId(ns);
  }
  ItemSnapshot snap;
  snap.labelSet = internLabelSet(internLabels(all), nsParent, kNone);
  for (const std::string& net : *nets) {
    if (auto n = normaliseCidr(net)) snap.members.push_back(encodeMember(memberFromNet(*n), memberStrings_));
  }
  setItem(itemId(key, true), std::move(snap), ItemKind::kNetworkSet, nullptr);
}

void CalcGraph::Impl::updateTier(const std::string& name, const model::Tier* tier) {
  if (tier == nullptr) {
    tiers_.erase(name);
  } else {
    tiers_[name] = TierState{tier->spec.order, tier->spec.defaultAction.value_or("Deny") == "Pass"};
  }
  for (auto& [item, ep] : localEndpoints_) ep.dirty = true;
}

// Felix's IPAMPoolUpdate: every pool, enabled or not (a disabled pool hands out no new
// addresses, but the pods that have one keep needing outgoing NAT).
void CalcGraph::Impl::updatePool(const std::string& name, const model::IPPool* pool) {
  if (pool == nullptr) {
    poolsDirty_ = pools_.erase(name) != 0 || poolsDirty_;
    return;
  }
  auto cidr = normaliseCidr(pool->spec.cidr);
  if (!cidr) {  // validation refuses it first; never a reason to throw
    log::get("calc")->warn("IPPool {}: cidr '{}' is not a CIDR; left out", name, pool->spec.cidr);
    poolsDirty_ = pools_.erase(name) != 0 || poolsDirty_;
    return;
  }
  pools_[name] = PoolState{std::move(*cidr), pool->spec.natOutgoing};
  poolsDirty_ = true;
}

Stats CalcGraph::Impl::stats() const {
  // Counted as they change (the agent asks after every flush); only the few active sets are
  // walked here.
  Stats s = stats_;
  s.localEndpoints = localEndpoints_.size();
  s.labelSets = labelSetsByHash_.size();
  s.policies = policiesByKey_.size();
  s.activeIpSets = 0;
  s.ipSetMembers = 0;
  for (const SetState& set : sets_) {
    if (set.refs == 0) continue;
    ++s.activeIpSets;
    s.ipSetMembers += set.members.size();
  }
  return s;
}

CalcGraph::CalcGraph(Config config, DataplaneSink& sink)
    : impl_(std::make_unique<Impl>(std::move(config), sink)) {}
CalcGraph::~CalcGraph() = default;
void CalcGraph::onUpdate(const model::Resource& resource) { impl_->onUpdate(resource); }
void CalcGraph::onRemove(model::Kind kind, std::string_view ns, std::string_view name) {
  impl_->onRemove(kind, ns, name);
}
void CalcGraph::onInSync() { impl_->onInSync(); }
void CalcGraph::flush() { impl_->flush(); }
Stats CalcGraph::stats() const { return impl_->stats(); }

}  // namespace tartan::calc
