// The sequencer: what changed since the last flush, as dataplane messages in an order that never
// refers to something the dataplane does not hold. Additions bottom-up (sets, then profiles and
// policies, then endpoints), removals top-down (endpoints, then policies and profiles, then
// sets), as Felix's event sequencer. Policies and endpoints are rendered here, once per flush,
// however many times they changed in between.
#include "graph_state.hpp"
#include "hash.hpp"

#include "tartan/proto/dataplane.pb.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace tartan::calc {
namespace pb = dataplane::proto;

namespace {

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

pb::RuleAction actionOf(const std::string& action) {
  if (action == "Deny") return pb::RULE_ACTION_DENY;
  if (action == "Log") return pb::RULE_ACTION_LOG;
  if (action == "Pass") return pb::RULE_ACTION_PASS;
  return pb::RULE_ACTION_ALLOW;
}

void setProtocol(pb::Protocol* out, const model::Protocol& protocol) {
  if (protocol.isNumber()) {
    out->set_number(std::get<int>(protocol.value));
    return;
  }
  std::string name = protocol.toString();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out->set_name(name);
}

void setIcmp(pb::IcmpMatch* out, const model::ICMPFields& icmp) {
  out->set_type(icmp.type.value_or(0));
  if (icmp.code) out->set_code(*icmp.code);
}

struct TierOrder {
  bool hasOrder;
  double order;
  std::string name;
  bool operator<(const TierOrder& o) const {
    if (hasOrder != o.hasOrder) return hasOrder;  // nil order sorts last
    if (hasOrder && order != o.order) return order < o.order;
    return name < o.name;
  }
};

}  // namespace

void CalcGraph::Impl::send(void* message) {
  auto* m = static_cast<pb::ToDataplane*>(message);
  m->set_sequence_number(++sequence_);
  ++stats_.messagesSent;
  sink_.send(*m);
}

void CalcGraph::Impl::compileRules(const std::vector<RuleDef>& rules, const PolicyState& policy, bool ingress,
                                   void* outVoid) {
  auto* out = static_cast<google::protobuf::RepeatedPtrField<pb::Rule>*>(outVoid);
  uint64_t chain = fnv1a(policy.def.tier + "/" + policy.def.name + (ingress ? "/in" : "/out"));
  auto setId = [&](SetKind kind, const std::string& sel, StrId name, StrId proto) {
    std::string key = kind == SetKind::kSelector ? "s|" + sel
                                                 : "n|" + std::string(interner_.text(proto)) + "|" +
                                                       std::string(interner_.text(name)) + "|" + sel;
    auto it = setsByKey_.find(key);
    return it != setsByKey_.end() ? sets_[it->second].id : setIdFor(kind, sel, name, proto);
  };
  auto setIdOfKey = [&](const std::string& key, std::string fallback) {
    auto it = setsByKey_.find(key);
    return it != setsByKey_.end() ? sets_[it->second].id : fallback;
  };
  for (const RuleDef& r : rules) {
    pb::Rule* rule = out->Add();
    rule->set_action(actionOf(r.action));
    if (r.ipVersion) {
      rule->set_ip_version(*r.ipVersion == 6 ? pb::IP_VERSION_V6 : pb::IP_VERSION_V4);
    }
    if (r.protocol) setProtocol(rule->mutable_protocol(), *r.protocol);
    if (r.notProtocol) setProtocol(rule->mutable_not_protocol(), *r.notProtocol);
    if (r.icmp) setIcmp(rule->mutable_icmp(), *r.icmp);
    if (r.notIcmp) setIcmp(rule->mutable_not_icmp(), *r.notIcmp);
    std::string proto;
    if (r.protocol) {
      proto = r.protocol->toString();
      for (char& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto entity = [&](const EntityDef& e, bool destination, auto* nets, auto* notNets, auto* sets,
                      auto* notSets, auto* ports, auto* notPorts, auto* namedSets, auto* notNamedSets) {
      for (const std::string& n : e.nets) nets->Add(std::string(n));
      for (const std::string& n : e.notNets) notNets->Add(std::string(n));
      if (!e.selector.empty()) sets->Add(setId(SetKind::kSelector, e.selector, 0, 0));
      if (!e.notSelector.empty()) notSets->Add(setId(SetKind::kSelector, e.notSelector, 0, 0));
      const std::string sel = e.selector.empty() ? "all()" : e.selector;
      auto portList = [&](const std::vector<model::Port>& list, auto* numeric, auto* named) {
        for (const model::Port& p : list) {
          if (p.isNamed()) {
            // Without a protocol the set holds the port of that name whatever its protocol.
            named->Add(setId(SetKind::kNamedPort, sel, interner_.intern(p.name), interner_.intern(proto)));
          } else {
            pb::PortRange* range = numeric->Add();
            range->set_first(p.minPort);
            range->set_last(p.maxPort);
          }
        }
      };
      portList(e.ports, ports, namedSets);
      portList(e.notPorts, notPorts, notNamedSets);
      // A Service: as a destination, its (address, protocol, port) members are the rule's
      // ports, matched as a named port's are (the rule has no ports of its own); as a source,
      // its addresses must match as a selector's.
      if (!e.service.empty() && destination) {
        namedSets->Add(setIdOfKey(serviceSetKey(SetKind::kService, e.service),
                                  serviceSetId(SetKind::kService, e.service)));
      } else if (!e.service.empty()) {
        sets->Add(setIdOfKey(serviceSetKey(SetKind::kServiceAddresses, e.service),
                             serviceSetId(SetKind::kServiceAddresses, e.service)));
      }
    };
    entity(r.source, false, rule->mutable_src_net(), rule->mutable_not_src_net(),
           rule->mutable_src_ip_set_ids(), rule->mutable_not_src_ip_set_ids(), rule->mutable_src_ports(),
           rule->mutable_not_src_ports(), rule->mutable_src_named_port_ip_set_ids(),
           rule->mutable_not_src_named_port_ip_set_ids());
    entity(r.destination, true, rule->mutable_dst_net(), rule->mutable_not_dst_net(),
           rule->mutable_dst_ip_set_ids(), rule->mutable_not_dst_ip_set_ids(), rule->mutable_dst_ports(),
           rule->mutable_not_dst_ports(), rule->mutable_dst_named_port_ip_set_ids(),
           rule->mutable_not_dst_named_port_ip_set_ids());
    // A rule's id covers its content and everything before it in the policy (Felix chains
    // the hashes), so an edit rewrites exactly the rules that moved or changed.
    chain = fnv1a(rule->SerializeAsString(), chain);
    rule->set_rule_id(hex16(chain));
  }
}

void CalcGraph::Impl::renderPolicy(const PolicyState& policy, std::string& bytes) {
  PolicyDef body;
  unpackPolicyBody(policy.body, body);
  pb::Policy out;
  compileRules(body.ingress, policy, true, out.mutable_inbound_rules());
  compileRules(body.egress, policy, false, out.mutable_outbound_rules());
  out.set_untracked(policy.def.untracked);
  out.set_pre_dnat(policy.def.preDnat);
  out.set_apply_on_forward(policy.def.applyOnForward);
  bytes = out.SerializeAsString();
}

namespace {

// Calico's built-in profile: allows everything both ways. A HostEndpoint lists it to keep a host
// interface open while policy is rolled out (Calico's auto host endpoints carry it).
constexpr std::string_view kDefaultAllowProfile = "projectcalico-default-allow";

// Profiles whose rules are "allow everything": a namespace's, and the built-in default-allow.
bool allowsEverything(const std::string& name) {
  return name.starts_with("kns.") || name == kDefaultAllowProfile;
}

bool profileExists(const std::string& name, const StringIds& parentsByKey,
                   const std::vector<Parent>& parents) {
  if (name == kDefaultAllowProfile) return true;
  std::string key;
  if (name.starts_with("kns.")) {
    key = name.substr(4);
  } else if (name.starts_with("ksa.")) {
    const std::string rest = name.substr(4);
    const std::size_t dot = rest.find('.');
    if (dot == std::string::npos) return false;
    key = rest.substr(0, dot) + "/" + rest.substr(dot + 1);
  } else {
    return false;
  }
  auto it = parentsByKey.find(key);
  return it != parentsByKey.end() && parents[it->second].exists;
}

}  // namespace

void CalcGraph::Impl::renderEndpoint(uint32_t itemIndex, LocalEndpointState& ep, std::string& key,
                                     std::string& bytes, std::vector<std::string>& profiles) {
  (void)itemIndex;  // everything rendered is in the endpoint's own state
  const LocalInfo& li = *ep.info;

  // Tiers in order, policies within a tier in order then name.
  std::map<TierOrder, std::vector<const PolicyState*>> byTier;
  for (uint32_t p : ep.policies) {
    const PolicyState& policy = policies_[p];
    const std::string& tier = policy.def.tier;
    TierOrder order{false, 0, tier};
    if (auto it = tiers_.find(tier); it != tiers_.end()) {
      order.hasOrder = it->second.order.has_value();
      order.order = it->second.order.value_or(0);
    } else if (tier == model::kDefaultTierName) {
      order = TierOrder{true, model::kDefaultTierOrder, tier};
    }
    byTier[order].push_back(&policy);
  }
  for (auto& [tier, list] : byTier) {
    std::sort(list.begin(), list.end(), [](const PolicyState* a, const PolicyState* b) {
      if (a->def.order.has_value() != b->def.order.has_value()) return a->def.order.has_value();
      if (a->def.order && *a->def.order != *b->def.order) return *a->def.order < *b->def.order;
      return a->def.name < b->def.name;
    });
  }
  // Fills one list of tiers with the policies `want` accepts; a tier with none is left out.
  auto fillTiers = [&](google::protobuf::RepeatedPtrField<pb::TierInfo>* out, auto want, bool egressToo) {
    for (const auto& [tier, list] : byTier) {
      pb::TierInfo info;
      info.set_name(tier.name);
      for (const PolicyState* p : list) {
        if (!want(*p)) continue;
        if (p->def.appliesToIngress) info.add_ingress_policies(p->def.name);
        if (egressToo && p->def.appliesToEgress) info.add_egress_policies(p->def.name);
      }
      if (info.ingress_policies_size() == 0 && info.egress_policies_size() == 0) continue;
      auto t = tiers_.find(tier.name);
      info.set_default_action(t != tiers_.end() && t->second.pass ? pb::TIER_DEFAULT_ACTION_PASS
                                                                  : pb::TIER_DEFAULT_ACTION_DENY);
      *out->Add() = std::move(info);
    }
  };
  auto normal = [](const PolicyState& p) { return !p.def.untracked && !p.def.preDnat; };

  profiles.clear();
  if (!ep.host) {
    pb::WorkloadEndpointID id;
    id.set_orchestrator_id(li.orchestrator);
    id.set_workload_id(li.workloadId);
    id.set_endpoint_id(li.endpointId);
    key = "w" + id.SerializeAsString();
    pb::WorkloadEndpoint out;
    out.set_name(li.name);
    out.set_interface_name(li.interfaceName);
    out.set_mac(li.mac);
    for (const std::string& net : li.nets) {
      if (net.find(':') == std::string::npos) {
        out.add_ipv4_nets(net);
      } else {
        out.add_ipv6_nets(net);
      }
    }
    fillTiers(out.mutable_tiers(), normal, true);
    const std::string ns = "kns." + li.nsName;
    if (profileExists(ns, parentsByKey_, parents_)) profiles.push_back(ns);
    if (!li.saName.empty()) {
      const std::string sa = "ksa." + li.nsName + "." + li.saName;
      if (profileExists(sa, parentsByKey_, parents_)) profiles.push_back(sa);
    }
    for (const std::string& p : profiles) out.add_profile_ids(p);
    out.set_state("active");
    bytes = out.SerializeAsString();
  } else {
    pb::HostEndpointID id;
    id.set_endpoint_id(li.endpointId);
    key = "h" + id.SerializeAsString();
    pb::HostEndpoint out;
    out.set_name(li.name);
    fillTiers(out.mutable_tiers(), normal, true);
    fillTiers(
        out.mutable_untracked_tiers(), [](const PolicyState& p) { return p.def.untracked; }, true);
    fillTiers(
        out.mutable_pre_dnat_tiers(), [](const PolicyState& p) { return p.def.preDnat; }, false);
    fillTiers(
        out.mutable_forward_tiers(), [&](const PolicyState& p) { return normal(p) && p.def.applyOnForward; },
        true);
    for (const std::string& net : li.nets) {
      if (net.find(':') == std::string::npos) {
        out.add_expected_ipv4_addrs(net);
      } else {
        out.add_expected_ipv6_addrs(net);
      }
    }
    for (const std::string& p : li.profiles) {
      if (profileExists(p, parentsByKey_, parents_)) profiles.push_back(p);
    }
    for (const std::string& p : profiles) out.add_profile_ids(p);
    bytes = out.SerializeAsString();
  }
}

void CalcGraph::Impl::flush() {
  if (!inSyncRequested_) return;  // nothing is programmed before the first complete snapshot

  // 0. Configuration first: the contract sends ConfigUpdate before InSync.
  if (configDirty_) {
    configDirty_ = false;
    pb::ToDataplane m;
    (*m.mutable_config_update()->mutable_config())["interfacePrefix"] =
        agentInterfacePrefix_.value_or(config_.interfacePrefix);
    send(&m);
  }

  // 0b. IP pools that are new or changed (nothing refers to them: their order is free).
  if (poolsDirty_) {
    for (const auto& [name, pool] : pools_) {
      auto sent = dataplanePools_.find(name);
      if (sent != dataplanePools_.end() && sent->second == pool) continue;
      pb::ToDataplane m;
      auto* u = m.mutable_ipam_pool_update();
      u->set_id(name);
      u->mutable_pool()->set_cidr(pool.cidr);
      u->mutable_pool()->set_masquerade(pool.masquerade);
      dataplanePools_[name] = pool;
      send(&m);
    }
  }

  // 1. Render dirty endpoints; take their profile references before anything is sent.
  struct EndpointOut {
    uint32_t item;
    std::string key;
    std::string bytes;
  };
  std::vector<EndpointOut> endpointUpdates;
  for (auto& [itemIndex, ep] : localEndpoints_) {
    if (!ep.dirty) continue;
    ep.dirty = false;
    EndpointOut o{itemIndex, {}, {}};
    std::vector<std::string> profiles;
    renderEndpoint(itemIndex, ep, o.key, o.bytes, profiles);
    for (const std::string& p : profiles) ++profileRefs_[p];
    for (const std::string& p : ep.profiles) {
      if (--profileRefs_[p] == 0) profileRefs_.erase(p);
    }
    ep.profiles = std::move(profiles);
    if (ep.sent && o.key == ep.sentKey && o.bytes == ep.sentBytes) continue;
    endpointUpdates.push_back(std::move(o));
  }

  // 2. IP sets: new ones whole, known ones as deltas.
  std::vector<uint32_t> dirtySets(dirtySets_.begin(), dirtySets_.end());
  std::sort(dirtySets.begin(), dirtySets.end(),
            [this](uint32_t a, uint32_t b) { return sets_[a].id < sets_[b].id; });
  dirtySets_.clear();
  std::vector<uint32_t> setsToRemove;
  for (uint32_t s : dirtySets) {
    SetState& set = sets_[s];
    set.dirty = false;
    if (set.refs == 0) {
      setsToRemove.push_back(s);
      continue;
    }
    pb::ToDataplane m;
    if (!set.sent || set.needFull) {
      // A big set goes as one IPSetUpdate and then deltas of at most kMembersPerMessage, so a
      // 250k-member set never exists as 250k strings at once (here or in the driver).
      std::vector<Member> members;
      members.reserve(set.members.size());
      set.members.forEach([&](Member member) { members.push_back(member); });
      std::sort(members.begin(), members.end());
      constexpr std::size_t kMembersPerMessage = 4096;
      for (std::size_t first = 0; first == 0 || first < members.size(); first += kMembersPerMessage) {
        const std::size_t last = std::min(members.size(), first + kMembersPerMessage);
        pb::ToDataplane chunk;
        google::protobuf::RepeatedPtrField<std::string>* out;
        if (first == 0) {
          auto* u = chunk.mutable_ipset_update();
          u->set_id(set.id);
          const bool addresses = set.kind == SetKind::kSelector || set.kind == SetKind::kServiceAddresses;
          u->set_type(addresses ? pb::IP_SET_TYPE_NET : pb::IP_SET_TYPE_IP_AND_PORT);
          out = u->mutable_members();
        } else {
          auto* d = chunk.mutable_ipset_delta_update();
          d->set_id(set.id);
          out = d->mutable_added_members();
        }
        out->Reserve(static_cast<int>(last - first));
        for (std::size_t i = first; i < last; ++i) out->Add(memberText(members[i], memberStrings_));
        send(&chunk);
      }
      set.sent = true;
      set.needFull = false;
      set.added.clear();
      set.removed.clear();
      continue;
    } else if (!set.added.empty() || !set.removed.empty()) {
      auto* d = m.mutable_ipset_delta_update();
      d->set_id(set.id);
      std::vector<Member> added;
      std::vector<Member> removed;
      set.added.forEach([&](Member m) { added.push_back(m); });
      set.removed.forEach([&](Member m) { removed.push_back(m); });
      std::sort(added.begin(), added.end());
      std::sort(removed.begin(), removed.end());
      for (Member a : added) d->add_added_members(memberText(a, memberStrings_));
      for (Member r : removed) d->add_removed_members(memberText(r, memberStrings_));
    } else {
      continue;
    }
    set.sent = true;
    set.needFull = false;
    set.added.clear();
    set.removed.clear();
    send(&m);
  }

  // 3. Profiles now referred to (kns.<ns> allows everything, as Calico's namespace profile, and so
  // does projectcalico-default-allow; ksa.<ns>.<sa> carries only labels, so it has no rules).
  for (const auto& [name, refs] : profileRefs_) {
    if (dataplaneProfiles_.count(name)) continue;
    pb::ToDataplane m;
    auto* u = m.mutable_active_profile_update();
    u->mutable_id()->set_name(name);
    if (allowsEverything(name)) {
      auto* in = u->mutable_profile()->add_inbound_rules();
      in->set_action(pb::RULE_ACTION_ALLOW);
      in->set_rule_id(hex16(fnv1a(name + "/in")));
      auto* out = u->mutable_profile()->add_outbound_rules();
      out->set_action(pb::RULE_ACTION_ALLOW);
      out->set_rule_id(hex16(fnv1a(name + "/out")));
    } else {
      u->mutable_profile();
    }
    dataplaneProfiles_.insert(name);
    send(&m);
  }

  // 4. Active policies that changed.
  std::vector<uint32_t> dirtyPolicies(dirtyPolicies_.begin(), dirtyPolicies_.end());
  std::sort(dirtyPolicies.begin(), dirtyPolicies.end());
  dirtyPolicies_.clear();
  for (uint32_t p : dirtyPolicies) {
    PolicyState& policy = policies_[p];
    if (!policy.alive || !policy.active) continue;
    std::string bytes;
    renderPolicy(policy, bytes);
    const std::string id = policy.def.tier + "\n" + policy.def.name;
    if (policy.sent && bytes == policy.sentBytes && dataplanePolicies_.count(id)) continue;
    pb::ToDataplane m;
    auto* u = m.mutable_active_policy_update();
    u->mutable_id()->set_tier(policy.def.tier);
    u->mutable_id()->set_name(policy.def.name);
    u->mutable_policy()->ParseFromString(bytes);
    policy.sent = true;
    policy.sentBytes = std::move(bytes);
    dataplanePolicies_[id] = p;
    send(&m);
  }

  // 5. Endpoints.
  for (EndpointOut& o : endpointUpdates) {
    LocalEndpointState& ep = localEndpoints_[o.item];
    pb::ToDataplane m;
    if (o.key[0] == 'w') {
      auto* u = m.mutable_workload_endpoint_update();
      u->mutable_id()->ParseFromString(o.key.substr(1));
      u->mutable_endpoint()->ParseFromString(o.bytes);
    } else {
      auto* u = m.mutable_host_endpoint_update();
      u->mutable_id()->ParseFromString(o.key.substr(1));
      u->mutable_endpoint()->ParseFromString(o.bytes);
    }
    ep.sent = true;
    ep.sentKey = o.key;
    ep.sentBytes = std::move(o.bytes);
    dataplaneEndpoints_[o.key] = o.item;
    send(&m);
  }

  // 6. Endpoints gone (or renamed).
  for (auto it = dataplaneEndpoints_.begin(); it != dataplaneEndpoints_.end();) {
    auto ep = localEndpoints_.find(it->second);
    if (ep != localEndpoints_.end() && ep->second.sent && ep->second.sentKey == it->first) {
      ++it;
      continue;
    }
    pb::ToDataplane m;
    if (it->first[0] == 'w') {
      m.mutable_workload_endpoint_remove()->mutable_id()->ParseFromString(it->first.substr(1));
    } else {
      m.mutable_host_endpoint_remove()->mutable_id()->ParseFromString(it->first.substr(1));
    }
    send(&m);
    it = dataplaneEndpoints_.erase(it);
  }

  // 7. Policies no longer active (or deleted), then profiles no longer referred to.
  for (auto it = dataplanePolicies_.begin(); it != dataplanePolicies_.end();) {
    const PolicyState& policy = policies_[it->second];
    if (policy.alive && policy.active && policy.def.tier + "\n" + policy.def.name == it->first) {
      ++it;
      continue;
    }
    if (policy.alive && !policy.active) policies_[it->second].sent = false;
    pb::ToDataplane m;
    auto* r = m.mutable_active_policy_remove();
    const std::size_t nl = it->first.find('\n');
    r->mutable_id()->set_tier(it->first.substr(0, nl));
    r->mutable_id()->set_name(it->first.substr(nl + 1));
    send(&m);
    it = dataplanePolicies_.erase(it);
  }
  for (auto it = dataplaneProfiles_.begin(); it != dataplaneProfiles_.end();) {
    if (profileRefs_.count(*it)) {
      ++it;
      continue;
    }
    pb::ToDataplane m;
    m.mutable_active_profile_remove()->mutable_id()->set_name(*it);
    send(&m);
    it = dataplaneProfiles_.erase(it);
  }

  // 8. Sets no longer referred to.
  for (uint32_t s : setsToRemove) {
    SetState& set = sets_[s];
    if (set.sent) {
      pb::ToDataplane m;
      m.mutable_ipset_remove()->set_id(set.id);
      send(&m);
    }
    setsByKey_.erase(set.key);
    set = SetState{};
    freeSets_.push_back(s);
  }

  // 9. IP pools gone.
  if (poolsDirty_) {
    poolsDirty_ = false;
    for (auto it = dataplanePools_.begin(); it != dataplanePools_.end();) {
      if (pools_.count(it->first) != 0) {
        ++it;
        continue;
      }
      pb::ToDataplane m;
      m.mutable_ipam_pool_remove()->set_id(it->first);
      send(&m);
      it = dataplanePools_.erase(it);
    }
  }

  if (!inSyncSent_) {
    inSyncSent_ = true;
    pb::ToDataplane m;
    m.mutable_in_sync();
    send(&m);
  }
}

}  // namespace tartan::calc
