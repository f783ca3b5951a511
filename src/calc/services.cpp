// Services and EndpointSlices: the sets behind a rule's `services` match, as Felix's
// ServiceIndex keeps them. A destination Service matches its slices' addresses with their ports
// and protocols ("10.65.0.7,tcp:8080", the shape of a named-port member); a source Service its
// addresses alone. A slice belongs to the Service its kubernetes.io/service-name label names in
// its own namespace, and counts only while that Service exists: a rule naming a Service that is
// gone, or has no slices, matches nothing. Each slice's members are computed once per update and
// moved in and out of its Service's sets by reference count, so two slices (or two endpoints)
// giving one address never remove it early, and a slice update is a delta.
#include "graph_state.hpp"
#include "hash.hpp"

#include <cstdio>

namespace tartan::calc {
namespace {

int sliceProtocol(const std::optional<std::string>& protocol) {
  if (!protocol || *protocol == "TCP") return protocolCode("tcp");
  if (*protocol == "UDP") return protocolCode("udp");
  if (*protocol == "SCTP") return protocolCode("sctp");
  return 0;  // validation refuses any other
}

SliceState sliceState(const model::KubernetesEndpointSlice& slice, Interner& memberStrings) {
  SliceState out;
  if (auto label = slice.metadata.labels.find(model::kServiceNameLabel);
      label != slice.metadata.labels.end()) {
    out.service = slice.metadata.namespaceName + "/" + label->second;
  }
  if (slice.addressType != "IPv4" && slice.addressType != "IPv6") return out;  // FQDN: no addresses
  for (const model::EndpointSliceEndpoint& endpoint : slice.endpoints) {
    for (const std::string& address : endpoint.addresses) {
      const auto net = normaliseCidr(address);
      if (!net) continue;  // validated; never here
      const Member member = encodeMember(memberFromNet(*net), memberStrings);
      out.addresses.push_back(member);
      for (const model::EndpointSlicePort& port : slice.ports) {
        // A port without a number means "all ports" to Kubernetes; a rule cannot match that,
        // so (as in Felix) it adds nothing.
        const int protocol = sliceProtocol(port.protocol);
        if (!port.port || protocol == 0) continue;
        out.addressPorts.push_back(
            withPort(member, protocol, static_cast<uint16_t>(*port.port), memberStrings));
      }
    }
  }
  return out;
}

}  // namespace

std::string serviceSetKey(SetKind kind, std::string_view service) {
  return (kind == SetKind::kService ? "v|" : "a|") + std::string(service);
}

std::string serviceSetId(SetKind kind, std::string_view service) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(service)));
  return (kind == SetKind::kService ? "svc:" : "svcnoport:") + std::string(buf);
}

void CalcGraph::Impl::contributeSlice(uint32_t s, const SliceState& slice, bool add) {
  const auto& members = sets_[s].kind == SetKind::kService ? slice.addressPorts : slice.addresses;
  for (Member m : members) add ? addMember(s, m) : removeMember(s, m);
}

void CalcGraph::Impl::updateService(const std::string& key, bool exists) {
  auto it = services_.find(key);
  if (it == services_.end()) {
    if (!exists) return;
    it = services_.emplace(key, ServiceState{}).first;
  }
  ServiceState& service = it->second;
  if (service.exists != exists) {
    service.exists = exists;
    for (uint32_t s : service.sets) {
      for (const std::string& slice : service.slices) contributeSlice(s, slices_.at(slice), exists);
    }
  }
  if (!service.exists && service.slices.empty() && service.sets.empty()) services_.erase(it);
}

void CalcGraph::Impl::updateEndpointSlice(const std::string& key,
                                          const model::KubernetesEndpointSlice* slice) {
  std::optional<SliceState> next;
  if (slice != nullptr) next = sliceState(*slice, memberStrings_);
  std::optional<SliceState> before;
  if (auto it = slices_.find(key); it != slices_.end()) {
    before = std::move(it->second);
    slices_.erase(it);
  }
  // The new members first, then the old ones out: an address in both is never removed and
  // re-added, so the dataplane sees only what changed.
  if (next && !next->service.empty()) {
    slices_[key] = *next;
    ServiceState& service = services_[next->service];
    service.slices.insert(key);
    if (service.exists) {
      for (uint32_t s : service.sets) contributeSlice(s, *next, true);
    }
  }
  if (before && !before->service.empty()) {
    auto it = services_.find(before->service);
    if (it != services_.end()) {
      ServiceState& service = it->second;
      if (service.exists) {
        for (uint32_t s : service.sets) contributeSlice(s, *before, false);
      }
      if (!next || next->service != before->service) service.slices.erase(key);
      if (!service.exists && service.slices.empty() && service.sets.empty()) services_.erase(it);
    }
  }
}

uint32_t CalcGraph::Impl::acquireServiceSet(SetKind kind, const std::string& serviceKey) {
  auto [s, live] = claimSetSlot(serviceSetKey(kind, serviceKey), [&](SetState& set) {
    set.kind = kind;
    set.service = serviceKey;
    set.id = serviceSetId(kind, serviceKey);
  });
  if (live) return s;
  SetState& set = sets_[s];
  ServiceState& service = services_[serviceKey];
  service.sets.push_back(s);
  if (service.exists) {
    for (const std::string& slice : service.slices) contributeSlice(s, slices_.at(slice), true);
  }
  if (!set.dirty) {
    set.dirty = true;
    dirtySets_.insert(s);
  }
  return s;
}

void CalcGraph::Impl::releaseServiceSet(uint32_t s) {
  auto it = services_.find(sets_[s].service);
  if (it == services_.end()) return;
  ServiceState& service = it->second;
  std::erase(service.sets, s);
  if (!service.exists && service.slices.empty() && service.sets.empty()) services_.erase(it);
}

}  // namespace tartan::calc
