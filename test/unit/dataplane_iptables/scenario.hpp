// A small cluster's worth of dataplane API messages, shared by the driver's unit tests.
#pragma once

#include "tartan/proto/dataplane.pb.h"

#include <string>
#include <vector>

namespace tartan::test {

namespace pb = tartan::dataplane::proto;

inline pb::PortRange port(int first, int last = -1) {
  pb::PortRange p;
  p.set_first(first);
  p.set_last(last < 0 ? first : last);
  return p;
}

inline pb::ToDataplane setUpdate(const std::string& id, std::vector<std::string> members,
                                 pb::IPSetType type = pb::IP_SET_TYPE_NET) {
  pb::ToDataplane m;
  auto* u = m.mutable_ipset_update();
  u->set_id(id);
  u->set_type(type);
  for (auto& x : members) u->add_members(x);
  return m;
}

inline pb::ToDataplane setDelta(const std::string& id, std::vector<std::string> added,
                                std::vector<std::string> removed) {
  pb::ToDataplane m;
  auto* u = m.mutable_ipset_delta_update();
  u->set_id(id);
  for (auto& x : added) u->add_added_members(x);
  for (auto& x : removed) u->add_removed_members(x);
  return m;
}

inline pb::ToDataplane inSync() {
  pb::ToDataplane m;
  m.mutable_in_sync();
  return m;
}

inline pb::ToDataplane config(std::vector<std::pair<std::string, std::string>> values) {
  pb::ToDataplane m;
  for (auto& [k, v] : values) (*m.mutable_config_update()->mutable_config())[k] = v;
  return m;
}

// default/allow-web: allow TCP 80 from set "web-clients", deny everything else from 10.9.0.0/16.
inline pb::ToDataplane allowWebPolicy() {
  pb::ToDataplane m;
  auto* u = m.mutable_active_policy_update();
  u->mutable_id()->set_tier("default");
  u->mutable_id()->set_name("allow-web");
  auto* r = u->mutable_policy()->add_inbound_rules();
  r->set_action(pb::RULE_ACTION_ALLOW);
  r->mutable_protocol()->set_name("tcp");
  r->add_src_ip_set_ids("web-clients");
  *r->add_dst_ports() = port(80);
  r->set_rule_id("r0");
  auto* d = u->mutable_policy()->add_inbound_rules();
  d->set_action(pb::RULE_ACTION_DENY);
  d->add_src_net("10.9.0.0/16");
  d->add_src_net("fd00:9::/64");
  d->set_rule_id("r1");
  auto* e = u->mutable_policy()->add_outbound_rules();
  e->set_action(pb::RULE_ACTION_ALLOW);
  e->set_rule_id("r2");
  return m;
}

// security/log-and-pass: log ICMP echo, pass named-port traffic to the next tier.
inline pb::ToDataplane securityPolicy() {
  pb::ToDataplane m;
  auto* u = m.mutable_active_policy_update();
  u->mutable_id()->set_tier("security");
  u->mutable_id()->set_name("log-and-pass");
  auto* l = u->mutable_policy()->add_inbound_rules();
  l->set_action(pb::RULE_ACTION_LOG);
  l->mutable_protocol()->set_name("icmp");
  l->mutable_icmp()->set_type(8);
  l->mutable_icmp()->set_code(0);
  auto* p = u->mutable_policy()->add_inbound_rules();
  p->set_action(pb::RULE_ACTION_PASS);
  p->mutable_protocol()->set_name("tcp");
  p->add_dst_named_port_ip_set_ids("named-http");
  return m;
}

inline pb::ToDataplane allowAllProfile(const std::string& name) {
  pb::ToDataplane m;
  auto* u = m.mutable_active_profile_update();
  u->mutable_id()->set_name(name);
  u->mutable_profile()->add_inbound_rules()->set_action(pb::RULE_ACTION_ALLOW);
  u->mutable_profile()->add_outbound_rules()->set_action(pb::RULE_ACTION_ALLOW);
  return m;
}

inline pb::ToDataplane workload(const std::string& pod, const std::string& ifname, bool isolated) {
  pb::ToDataplane m;
  auto* u = m.mutable_workload_endpoint_update();
  u->mutable_id()->set_orchestrator_id("k8s");
  u->mutable_id()->set_workload_id("default/" + pod);
  u->mutable_id()->set_endpoint_id("eth0");
  auto* e = u->mutable_endpoint();
  e->set_name(pod);
  e->set_interface_name(ifname);
  e->set_state("active");
  e->add_ipv4_nets("10.65.0.2/32");
  if (isolated) {
    auto* sec = e->add_tiers();
    sec->set_name("security");
    sec->add_ingress_policies("log-and-pass");
    sec->set_default_action(pb::TIER_DEFAULT_ACTION_PASS);
    auto* def = e->add_tiers();
    def->set_name("default");
    def->add_ingress_policies("allow-web");
    def->add_egress_policies("allow-web");
  }
  e->add_profile_ids("kns.default");
  return m;
}

inline pb::ToDataplane workloadRemove(const std::string& pod) {
  pb::ToDataplane m;
  auto* id = m.mutable_workload_endpoint_remove()->mutable_id();
  id->set_orchestrator_id("k8s");
  id->set_workload_id("default/" + pod);
  id->set_endpoint_id("eth0");
  return m;
}

inline pb::ToDataplane hostEndpoint() {
  pb::ToDataplane m;
  auto* u = m.mutable_host_endpoint_update();
  u->mutable_id()->set_endpoint_id("node1-eth0");
  auto* e = u->mutable_endpoint();
  e->set_name("eth0");
  auto* t = e->add_tiers();
  t->set_name("default");
  t->add_ingress_policies("allow-web");
  auto* un = e->add_untracked_tiers();
  un->set_name("default");
  un->add_ingress_policies("no-track");
  return m;
}

inline pb::ToDataplane untrackedPolicy() {
  pb::ToDataplane m;
  auto* u = m.mutable_active_policy_update();
  u->mutable_id()->set_tier("default");
  u->mutable_id()->set_name("no-track");
  u->mutable_policy()->set_untracked(true);
  auto* r = u->mutable_policy()->add_inbound_rules();
  r->set_action(pb::RULE_ACTION_ALLOW);
  r->mutable_protocol()->set_name("udp");
  *r->add_dst_ports() = port(5000, 5010);
  return m;
}

// The whole snapshot, in the order the calc graph must send it.
inline std::vector<pb::ToDataplane> snapshot() {
  return {config({{"interfacePrefix", "tart"},
                  {"failsafeInboundHostPorts", "tcp:22"},
                  {"failsafeOutboundHostPorts", "udp:53"}}),
          setUpdate("web-clients", {"10.65.1.0/24", "10.65.2.7", "fd00:1::5"}),
          setUpdate("named-http", {"10.65.0.2,tcp:8080"}, pb::IP_SET_TYPE_IP_AND_PORT),
          allowWebPolicy(),
          securityPolicy(),
          untrackedPolicy(),
          allowAllProfile("kns.default"),
          workload("web-1", "tart1234567890a", true),
          workload("open-1", "tartopen", false),
          hostEndpoint(),
          inSync()};
}

}  // namespace tartan::test
