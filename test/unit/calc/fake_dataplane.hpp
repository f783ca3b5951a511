// fake_dataplane.hpp — a dataplane in memory: applies ToDataplane messages the way a driver
// would and checks the sender's contract on every message (nothing refers to a set, policy or
// profile the dataplane does not hold; nothing is removed while referred to; deltas only for
// known sets; InSync once, last). dump() prints the whole state canonically so that two runs
// can be compared byte for byte.
#pragma once

#include "tartan/calc/calc_graph.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tartan::calc::testing {

namespace pb = dataplane::proto;

class FakeDataplane : public DataplaneSink {
 public:
  struct IpSet {
    pb::IPSetType type;
    std::set<std::string> members;
  };

  void send(const pb::ToDataplane& m) override {
    ++messages;
    if (m.sequence_number() <= lastSequence_) violation("sequence number did not increase");
    lastSequence_ = m.sequence_number();
    if (inSyncCount > 0 && firstSnapshotDone_ == false) firstSnapshotDone_ = true;
    switch (m.payload_case()) {
      case pb::ToDataplane::kInSync:
        ++inSyncCount;
        break;
      case pb::ToDataplane::kConfigUpdate:
        if (inSyncCount == 0 && messages != 1) violation("ConfigUpdate is not the first message");
        config = {m.config_update().config().begin(), m.config_update().config().end()};
        break;
      case pb::ToDataplane::kIpsetUpdate: {
        auto& set = sets[m.ipset_update().id()];
        set.type = m.ipset_update().type();
        set.members = {m.ipset_update().members().begin(), m.ipset_update().members().end()};
        break;
      }
      case pb::ToDataplane::kIpsetDeltaUpdate: {
        auto it = sets.find(m.ipset_delta_update().id());
        if (it == sets.end()) {
          violation("delta for unknown set " + m.ipset_delta_update().id());
          break;
        }
        for (const auto& r : m.ipset_delta_update().removed_members()) it->second.members.erase(r);
        for (const auto& a : m.ipset_delta_update().added_members()) it->second.members.insert(a);
        ++deltas;
        break;
      }
      case pb::ToDataplane::kIpsetRemove:
        for (const auto& [id, policy] : policies) {
          if (refersToSet(policy, m.ipset_remove().id())) {
            violation("set " + m.ipset_remove().id() + " removed while policy " + id + " uses it");
          }
        }
        sets.erase(m.ipset_remove().id());
        break;
      case pb::ToDataplane::kActivePolicyUpdate: {
        const auto& u = m.active_policy_update();
        checkSets(u.policy());
        policies[u.id().tier() + "/" + u.id().name()] = u.policy();
        break;
      }
      case pb::ToDataplane::kActivePolicyRemove: {
        const std::string id =
            m.active_policy_remove().id().tier() + "/" + m.active_policy_remove().id().name();
        for (const auto& [key, ep] : workloads) {
          if (refersToPolicy(ep.tiers(), id)) violation("policy " + id + " removed while used by " + key);
        }
        for (const auto& [key, ep] : hosts) {
          for (const auto* tiers :
               {&ep.tiers(), &ep.untracked_tiers(), &ep.pre_dnat_tiers(), &ep.forward_tiers()}) {
            if (refersToPolicy(*tiers, id)) violation("policy " + id + " removed while used by " + key);
          }
        }
        policies.erase(id);
        break;
      }
      case pb::ToDataplane::kActiveProfileUpdate:
        profiles[m.active_profile_update().id().name()] = m.active_profile_update().profile();
        break;
      case pb::ToDataplane::kActiveProfileRemove:
        for (const auto& [key, ep] : workloads) {
          for (const auto& p : ep.profile_ids()) {
            if (p == m.active_profile_remove().id().name()) violation("profile removed while used");
          }
        }
        profiles.erase(m.active_profile_remove().id().name());
        break;
      case pb::ToDataplane::kWorkloadEndpointUpdate: {
        const auto& u = m.workload_endpoint_update();
        checkEndpoint(u.endpoint().tiers(), u.endpoint().profile_ids());
        workloads[u.id().workload_id() + "/" + u.id().endpoint_id()] = u.endpoint();
        break;
      }
      case pb::ToDataplane::kWorkloadEndpointRemove: {
        const auto& id = m.workload_endpoint_remove().id();
        workloads.erase(id.workload_id() + "/" + id.endpoint_id());
        break;
      }
      case pb::ToDataplane::kHostEndpointUpdate: {
        const auto& u = m.host_endpoint_update();
        for (const auto* tiers : {&u.endpoint().tiers(), &u.endpoint().untracked_tiers(),
                                  &u.endpoint().pre_dnat_tiers(), &u.endpoint().forward_tiers()}) {
          checkEndpoint(*tiers, u.endpoint().profile_ids());
        }
        hosts[u.id().endpoint_id()] = u.endpoint();
        break;
      }
      case pb::ToDataplane::kHostEndpointRemove:
        hosts.erase(m.host_endpoint_remove().id().endpoint_id());
        break;
      case pb::ToDataplane::kIpamPoolUpdate:
        pools[m.ipam_pool_update().id()] = m.ipam_pool_update().pool();
        ++poolMessages;
        break;
      case pb::ToDataplane::kIpamPoolRemove:
        if (pools.erase(m.ipam_pool_remove().id()) == 0) violation("removal of unknown pool");
        ++poolMessages;
        break;
      default:
        violation("unexpected message");
    }
  }

  // The whole state, canonically.
  std::string dump() const {
    std::ostringstream out;
    for (const auto& [id, set] : sets) {
      out << "set " << id << " type=" << set.type << ":";
      for (const auto& m : set.members) out << " " << m;
      out << "\n";
    }
    for (const auto& [id, p] : profiles) out << "profile " << id << " " << p.ShortDebugString() << "\n";
    for (const auto& [id, p] : policies) out << "policy " << id << " " << p.ShortDebugString() << "\n";
    for (const auto& [id, e] : workloads) out << "wep " << id << " " << e.ShortDebugString() << "\n";
    for (const auto& [id, e] : hosts) out << "hep " << id << " " << e.ShortDebugString() << "\n";
    for (const auto& [id, p] : pools) out << "pool " << id << " " << p.ShortDebugString() << "\n";
    for (const auto& [k, v] : config) out << "config " << k << "=" << v << "\n";
    out << "insync=" << inSyncCount << "\n";
    return out.str();
  }

  // Members of the set with this id (empty if absent).
  std::set<std::string> members(const std::string& id) const {
    auto it = sets.find(id);
    return it == sets.end() ? std::set<std::string>{} : it->second.members;
  }
  const pb::Policy* policy(const std::string& tierSlashName) const {
    auto it = policies.find(tierSlashName);
    return it == policies.end() ? nullptr : &it->second;
  }
  const pb::WorkloadEndpoint* workload(const std::string& nsPod) const {
    auto it = workloads.find(nsPod + "/eth0");
    return it == workloads.end() ? nullptr : &it->second;
  }

  std::map<std::string, IpSet> sets;
  std::map<std::string, pb::Policy> policies;
  std::map<std::string, pb::Profile> profiles;
  std::map<std::string, pb::WorkloadEndpoint> workloads;
  std::map<std::string, pb::HostEndpoint> hosts;
  std::map<std::string, pb::IPAMPool> pools;
  std::map<std::string, std::string> config;
  std::vector<std::string> violations;
  int inSyncCount = 0;
  int messages = 0;
  int deltas = 0;
  int poolMessages = 0;

 private:
  void violation(const std::string& what) { violations.push_back(what); }

  static bool refersToSet(const pb::Policy& p, const std::string& id) {
    for (const auto* rules : {&p.inbound_rules(), &p.outbound_rules()}) {
      for (const pb::Rule& r : *rules) {
        for (const auto* ids :
             {&r.src_ip_set_ids(), &r.not_src_ip_set_ids(), &r.src_named_port_ip_set_ids(),
              &r.not_src_named_port_ip_set_ids(), &r.dst_ip_set_ids(), &r.not_dst_ip_set_ids(),
              &r.dst_named_port_ip_set_ids(), &r.not_dst_named_port_ip_set_ids()}) {
          for (const auto& s : *ids) {
            if (s == id) return true;
          }
        }
      }
    }
    return false;
  }
  void checkSets(const pb::Policy& p) {
    for (const auto* rules : {&p.inbound_rules(), &p.outbound_rules()}) {
      for (const pb::Rule& r : *rules) {
        for (const auto* ids :
             {&r.src_ip_set_ids(), &r.not_src_ip_set_ids(), &r.src_named_port_ip_set_ids(),
              &r.not_src_named_port_ip_set_ids(), &r.dst_ip_set_ids(), &r.not_dst_ip_set_ids(),
              &r.dst_named_port_ip_set_ids(), &r.not_dst_named_port_ip_set_ids()}) {
          for (const auto& s : *ids) {
            if (!sets.count(s)) violation("policy refers to unknown set " + s);
          }
        }
      }
    }
  }
  static bool refersToPolicy(const google::protobuf::RepeatedPtrField<pb::TierInfo>& tiers,
                             const std::string& id) {
    for (const auto& t : tiers) {
      for (const auto* list : {&t.ingress_policies(), &t.egress_policies()}) {
        for (const auto& name : *list) {
          if (t.name() + "/" + name == id) return true;
        }
      }
    }
    return false;
  }
  void checkEndpoint(const google::protobuf::RepeatedPtrField<pb::TierInfo>& tiers,
                     const google::protobuf::RepeatedPtrField<std::string>& profileIds) {
    for (const auto& t : tiers) {
      for (const auto* list : {&t.ingress_policies(), &t.egress_policies()}) {
        for (const auto& name : *list) {
          if (!policies.count(t.name() + "/" + name)) {
            violation("endpoint refers to unknown policy " + t.name() + "/" + name);
          }
        }
      }
    }
    for (const auto& p : profileIds) {
      if (!profiles.count(p)) violation("endpoint refers to unknown profile " + p);
    }
  }

  uint64_t lastSequence_ = 0;
  bool firstSnapshotDone_ = false;
};

}  // namespace tartan::calc::testing
