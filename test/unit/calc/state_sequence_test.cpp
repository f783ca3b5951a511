// State-sequence tests, Felix's habit: every scenario's input sequence is replayed as given,
// batched, split, squashed to its final state, squashed and reversed, and duplicated; each
// replay must leave the dataplane in the same state, that state must be the expected one, and
// no message may ever refer to something the dataplane does not hold.
#include "builders.hpp"
#include "fake_dataplane.hpp"
#include "replay.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

namespace tartan::calc::testing {
namespace {

std::vector<Scenario> scenarios() {
  std::vector<Scenario> all;

  all.push_back(Scenario{
      "pods come, change labels and go; only this node's pods become endpoints",
      {up(ns("prod")), up(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}})),
       up(pod("prod", "fe1", "node2", "10.0.1.1", {{"role", "fe"}})),
       up(pod("prod", "fe2", "node2", "10.0.1.2", {{"role", "fe"}})),
       up(pod("prod", "fe3", kNode, "10.0.0.3", {{"role", "fe"}})),
       up(knpIngress("prod", "allow-fe", match({{"app", "web"}}), {podPeer(match({{"role", "fe"}}))},
                     {port(80)})),
       up(pod("prod", "fe2", "node2", "10.0.1.2", {{"role", "be"}})), rm(K::kKubernetesPod, "prod", "fe1")},
      [](const FakeDataplane& dp) {
        CHECK(dp.workloads.size() == 2);
        const auto* web = dp.workload("prod/web");
        REQUIRE(web != nullptr);
        REQUIRE(dp.workload("prod/fe3") != nullptr);
        CHECK(dp.workload("prod/fe3")->tiers_size() == 0);
        CHECK(tierNames(web->tiers()) == Names{"default"});
        CHECK(listOf(web->tiers(0).ingress_policies()) == Names{"prod/knp.default.allow-fe"});
        CHECK(web->tiers(0).egress_policies_size() == 0);
        CHECK(listOf(web->profile_ids()) == Names{"kns.prod"});
        CHECK(listOf(web->ipv4_nets()) == Names{"10.0.0.1/32"});
        const auto& rule = ruleOf(dp, "default/prod/knp.default.allow-fe", true, 0);
        CHECK(rule.action() == pb::RULE_ACTION_ALLOW);
        CHECK(rule.protocol().name() == "tcp");
        REQUIRE(rule.dst_ports_size() == 1);
        CHECK(rule.dst_ports(0).first() == 80);
        CHECK(setMembers(dp, rule.src_ip_set_ids()) == Set{"10.0.0.3"});
      }});

  all.push_back(
      Scenario{"a namespace's labels flip which pods a namespaceSelector admits",
               {up(ns("a", {{"team", "x"}})), up(ns("b", {{"team", "y"}})), up(ns("c")),
                up(pod("a", "pa", "node2", "10.1.0.1", {{"app", "db"}})),
                up(pod("b", "pb", "node2", "10.2.0.1", {{"app", "db"}})),
                up(pod("c", "srv", kNode, "10.3.0.1", {{"app", "srv"}})),
                up(knpIngress("c", "from-team-x", match({{"app", "srv"}}), {nsPeer(match({{"team", "x"}}))})),
                up(ns("b", {{"team", "x"}})), up(ns("a", {{"team", "z"}}))},
               [](const FakeDataplane& dp) {
                 const auto& rule = ruleOf(dp, "default/c/knp.default.from-team-x", true, 0);
                 CHECK(!rule.has_protocol());
                 CHECK(setMembers(dp, rule.src_ip_set_ids()) == Set{"10.2.0.1"});
               }});

  all.push_back(Scenario{"tiers by order, policies by order then name; edits and removals re-order",
                         {up(tier("security", 100, "Pass")), up(tier("platform", 200)), up(ns("default")),
                          up(pod("default", "app1", kNode, "10.0.0.10", {{"app", "a"}})),
                          up(gnp("sec-b", "security", 20, "app == 'a'", {allowFrom("role == 'x'")})),
                          up(gnp("sec-a", "security", 10, "all()", {allowFrom("")})),
                          up(gnp("plat", "platform", std::nullopt, "has(app)", {allowFrom("")})),
                          up(gnp("def1", "default", 5, "app == 'a'", {allowFrom("")})),
                          up(gnp("sec-b", "security", 5, "app == 'a'", {allowFrom("role == 'x'")})),
                          up(gnp("gone", "platform", 1, "all()", {allowFrom("")})),
                          rm(K::kGlobalNetworkPolicy, "", "gone"), up(tier("platform", 50))},
                         [](const FakeDataplane& dp) {
                           const auto* ep = dp.workload("default/app1");
                           REQUIRE(ep != nullptr);
                           CHECK(tierNames(ep->tiers()) == Names{"platform", "security", "default"});
                           CHECK(listOf(ep->tiers(0).ingress_policies()) == Names{"plat"});
                           CHECK(listOf(ep->tiers(1).ingress_policies()) == Names{"sec-b", "sec-a"});
                           CHECK(ep->tiers(1).default_action() == pb::TIER_DEFAULT_ACTION_PASS);
                           CHECK(ep->tiers(0).default_action() == pb::TIER_DEFAULT_ACTION_DENY);
                           CHECK(listOf(ep->tiers(2).ingress_policies()) == Names{"def1"});
                           CHECK(dp.policy("platform/gone") == nullptr);
                           CHECK(dp.policies.size() == 4);
                         }});

  all.push_back(Scenario{
      "ipBlock with except becomes nets and notNets, one rule per peer",
      {up(ns("prod")), up(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}})),
       up(knpEgress("prod", "to-net", match({{"app", "web"}}),
                    {ipBlock("10.0.0.0/8", {"10.1.0.0/16"}), ipBlock("192.168.1.7/24")}, {port(443)}))},
      [](const FakeDataplane& dp) {
        const auto* ep = dp.workload("prod/web");
        REQUIRE(ep != nullptr);
        REQUIRE(ep->tiers_size() == 1);
        CHECK(ep->tiers(0).ingress_policies_size() == 0);
        CHECK(listOf(ep->tiers(0).egress_policies()) == Names{"prod/knp.default.to-net"});
        const auto& r0 = ruleOf(dp, "default/prod/knp.default.to-net", false, 0);
        CHECK(listOf(r0.dst_net()) == Names{"10.0.0.0/8"});
        CHECK(listOf(r0.not_dst_net()) == Names{"10.1.0.0/16"});
        CHECK(r0.dst_ports(0).first() == 443);
        const auto& r1 = ruleOf(dp, "default/prod/knp.default.to-net", false, 1);
        CHECK(listOf(r1.dst_net()) == Names{"192.168.1.0/24"});
        CHECK(r1.dst_ip_set_ids_size() == 0);
      }});

  all.push_back(Scenario{
      "named ports resolve per pod; endPort ranges merge with adjacent ports",
      {up(ns("prod")), up(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}}, "", {{"http", 8080}})),
       up(pod("prod", "web2", "node2", "10.0.1.1", {{"app", "web"}}, "", {{"http", 8081}})),
       up(pod("prod", "other", "node2", "10.0.1.2", {{"app", "o"}}, "", {{"metrics", 9090}})),
       up(knpIngress("prod", "ports", match({{"app", "web"}}), {},
                     {namedPort("http"), port(9000, 9100), port(9101), port(53, {}, "UDP")})),
       up(pod("prod", "web3", "node2", "10.0.1.3", {{"app", "web"}}, "", {{"http", 80, "UDP"}}))},
      [](const FakeDataplane& dp) {
        const auto& tcp = ruleOf(dp, "default/prod/knp.default.ports", true, 0);
        CHECK(tcp.protocol().name() == "tcp");
        REQUIRE(tcp.dst_ports_size() == 1);
        CHECK(tcp.dst_ports(0).first() == 9000);
        CHECK(tcp.dst_ports(0).last() == 9101);
        CHECK(tcp.src_ip_set_ids_size() == 0);
        CHECK(setMembers(dp, tcp.dst_named_port_ip_set_ids()) ==
              Set{"10.0.0.1,tcp:8080", "10.0.1.1,tcp:8081"});
        CHECK(dp.sets.at(tcp.dst_named_port_ip_set_ids(0)).type == pb::IP_SET_TYPE_IP_AND_PORT);
        const auto& udp = ruleOf(dp, "default/prod/knp.default.ports", true, 1);
        CHECK(udp.protocol().name() == "udp");
        CHECK(udp.dst_ports(0).first() == 53);
      }});

  model::Rule toDb;
  toDb.action = "Allow";
  toDb.destination.selector = "role == 'db'";
  all.push_back(Scenario{
      "network sets contribute their nets to the sets their labels match",
      {up(ns("prod")), up(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}})),
       up(gns("external-db", {{"role", "db"}}, {"198.51.100.0/24", "203.0.113.5"})),
       up(netset("prod", "local-db", {{"role", "db"}}, {"192.0.2.0/28"})),
       up(pod("prod", "db1", "node2", "10.0.1.5", {{"role", "db"}})),
       up(gnp("to-db", "default", 10, "app == 'web'", {}, {toDb})),
       up(gns("external-db", {{"role", "db"}}, {"198.51.100.0/24"}))},
      [](const FakeDataplane& dp) {
        const auto& rule = ruleOf(dp, "default/to-db", false, 0);
        CHECK(setMembers(dp, rule.dst_ip_set_ids()) == Set{"10.0.1.5", "192.0.2.0/28", "198.51.100.0/24"});
        const auto* ep = dp.workload("prod/web");
        REQUIRE(ep != nullptr);
        CHECK(listOf(ep->tiers(0).egress_policies()) == Names{"to-db"});
        CHECK(ep->tiers(0).ingress_policies_size() == 0);
      }});

  auto untracked = gnp("untracked", "default", 20, "role == 'node'", {allowFrom("")});
  untracked.spec.doNotTrack = true;
  untracked.spec.applyOnForward = true;
  auto forward = gnp("fwd", "default", 30, "role == 'node'", {allowFrom("")});
  forward.spec.applyOnForward = true;
  all.push_back(
      Scenario{"host endpoints: this node's get tiers by kind; every one's addresses fill sets",
               {up(hep("h1-eth0", kNode, "eth0", {"192.168.0.1"}, {{"role", "node"}})),
                up(hep("h2-eth0", "node2", "eth0", {"192.168.0.2"}, {{"role", "node"}})),
                up(gnp("node-ingress", "default", 10, "role == 'node'", {allowFrom("role == 'node'")})),
                up(untracked), up(forward)},
               [](const FakeDataplane& dp) {
                 REQUIRE(dp.hosts.size() == 1);
                 const auto& h = dp.hosts.at("h1-eth0");
                 CHECK(h.name() == "eth0");
                 CHECK(listOf(h.expected_ipv4_addrs()) == Names{"192.168.0.1"});
                 REQUIRE(h.tiers_size() == 1);
                 CHECK(listOf(h.tiers(0).ingress_policies()) == Names{"node-ingress", "fwd"});
                 REQUIRE(h.untracked_tiers_size() == 1);
                 CHECK(listOf(h.untracked_tiers(0).ingress_policies()) == Names{"untracked"});
                 REQUIRE(h.forward_tiers_size() == 1);
                 CHECK(listOf(h.forward_tiers(0).ingress_policies()) == Names{"fwd"});
                 const auto& rule = ruleOf(dp, "default/node-ingress", true, 0);
                 CHECK(setMembers(dp, rule.src_ip_set_ids()) == Set{"192.168.0.1", "192.168.0.2"});
                 CHECK(dp.policy("default/untracked")->untracked());
               }});

  // A Tartan rule naming a port without a protocol: the port of that name, whatever its protocol.
  model::Rule anyProtocol;
  anyProtocol.action = "Allow";
  anyProtocol.destination.ports = {model::Port::named("dns")};
  all.push_back(Scenario{
      "a named port without a protocol resolves to that name's port of every protocol the pod gives it",
      {up(ns("prod")), up(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}})),
       up(pod("prod", "resolver", "node2", "10.0.1.9", {{"app", "dns"}}, {},
              {{"dns", 53, "UDP"}, {"dns", 53, "TCP"}, {"metrics", 9153, "TCP"}})),
       up(gnp("to-dns", "default", 10, "app == 'web'", {}, {anyProtocol}))},
      [](const FakeDataplane& dp) {
        const auto& rule = ruleOf(dp, "default/to-dns", false, 0);
        CHECK_FALSE(rule.has_protocol());
        CHECK(setMembers(dp, rule.dst_named_port_ip_set_ids()) == Set{"10.0.1.9,udp:53", "10.0.1.9,tcp:53"});
      }});

  auto withDefaultAllow = hep("h1-eth1", kNode, "eth1", {"192.168.1.1"}, {});
  withDefaultAllow.spec.profiles = {"projectcalico-default-allow", "no-such-profile"};
  all.push_back(
      Scenario{"a host endpoint listing projectcalico-default-allow gets Calico's built-in allow-all profile",
               {up(withDefaultAllow)},
               [](const FakeDataplane& dp) {
                 REQUIRE(dp.hosts.count("h1-eth1") == 1);
                 CHECK(listOf(dp.hosts.at("h1-eth1").profile_ids()) == Names{"projectcalico-default-allow"});
                 REQUIRE(dp.profiles.count("projectcalico-default-allow") == 1);
                 const auto& profile = dp.profiles.at("projectcalico-default-allow");
                 REQUIRE(profile.inbound_rules_size() == 1);
                 REQUIRE(profile.outbound_rules_size() == 1);
                 CHECK(profile.inbound_rules(0).action() == pb::RULE_ACTION_ALLOW);
                 CHECK(profile.outbound_rules(0).action() == pb::RULE_ACTION_ALLOW);
                 CHECK(profile.inbound_rules(0).src_net_size() == 0);
               }});

  model::Rule byName;
  byName.action = "Allow";
  byName.source.serviceAccounts = model::ServiceAccountMatch{{"web"}, ""};
  model::Rule bySelector;
  bySelector.action = "Allow";
  bySelector.source.serviceAccounts = model::ServiceAccountMatch{{}, "tier == 'backend'"};
  all.push_back(Scenario{
      "service accounts: names and labels select pods, and label edits follow",
      {up(ns("prod")), up(sa("prod", "api", {{"tier", "backend"}})),
       up(sa("prod", "web", {{"tier", "frontend"}})),
       up(pod("prod", "srv", kNode, "10.0.0.1", {{"app", "srv"}}, "api")),
       up(pod("prod", "c1", "node2", "10.0.1.1", {}, "web")),
       up(pod("prod", "c2", "node2", "10.0.1.2", {}, "api")),
       up(np("prod", "by-sa", "app == 'srv'", {byName})), up(np("prod", "by-sa-sel", "all()", {bySelector})),
       up(sa("prod", "web", {{"tier", "backend"}}))},
      [](const FakeDataplane& dp) {
        const auto* ep = dp.workload("prod/srv");
        REQUIRE(ep != nullptr);
        CHECK(listOf(ep->profile_ids()) == Names{"kns.prod", "ksa.prod.api"});
        CHECK(listOf(ep->tiers(0).ingress_policies()) == Names{"prod/by-sa", "prod/by-sa-sel"});
        CHECK(setMembers(dp, ruleOf(dp, "default/prod/by-sa", true, 0).src_ip_set_ids()) == Set{"10.0.1.1"});
        CHECK(setMembers(dp, ruleOf(dp, "default/prod/by-sa-sel", true, 0).src_ip_set_ids()) ==
              Set{"10.0.0.1", "10.0.1.1", "10.0.1.2"});
        CHECK(dp.profiles.count("ksa.prod.api") == 1);
        CHECK(dp.profiles.at("kns.prod").inbound_rules_size() == 1);
      }});

  all.push_back(
      Scenario{"policies that select only other nodes' pods stay inactive: nothing is sent",
               {up(ns("prod")), up(pod("prod", "a", "node2", "10.0.1.1", {{"app", "a"}})),
                up(knpIngress("prod", "pa", match({{"app", "a"}}), {podPeer(match({}))})),
                up(pod("prod", "b", kNode, "10.0.0.2", {{"app", "b"}})), rm(K::kKubernetesPod, "prod", "b")},
               [](const FakeDataplane& dp) {
                 CHECK(dp.policies.empty());
                 CHECK(dp.sets.empty());
                 CHECK(dp.workloads.empty());
                 CHECK(dp.profiles.empty());
                 CHECK(dp.inSyncCount == 1);
               }});

  // Other nodes' pods take a path of their own (they only feed sets): the same rules as for
  // this node's must hold there.
  model::KubernetesPod hostNet = pod("prod", "db3", "node2", "10.0.1.3", {{"role", "db"}});
  hostNet.spec.hostNetwork = true;
  model::KubernetesPod dual = pod("prod", "db2", "node2", "10.0.1.2", {{"role", "db"}}, {}, {{"pg", 5432}});
  dual.status.podIPs.push_back(model::PodIP{"fd00::2"});
  model::KubernetesPod finished = pod("prod", "db4", "node2", "10.0.1.4", {{"role", "db"}});
  finished.status.phase = "Succeeded";
  model::KubernetesPod unscheduled = pod("prod", "db6", "", "10.0.1.6", {{"role", "db"}});
  all.push_back(Scenario{
      "other nodes' pods: host-networked, finished and unscheduled ones give nothing; every "
      "address of a dual-stack one counts; a WorkloadEndpoint's addresses win",
      {up(ns("prod")), up(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}})),
       up(knpEgress("prod", "to-db", match({{"app", "web"}}), {podPeer(match({{"role", "db"}}))},
                    {namedPort("pg")})),
       up(pod("prod", "db1", "node2", "10.0.1.1", {{"role", "db"}}, {}, {{"pg", 5432}})), up(dual),
       up(hostNet), up(pod("prod", "db4", "node2", "10.0.1.4", {{"role", "db"}})), up(finished),
       up(unscheduled), up(pod("prod", "db5", "node2", "10.0.1.5", {{"role", "db"}}, {}, {{"pg", 6432}})),
       up(wep("prod", "db5", "node2", "tartdb5", "10.0.9.5/32")),
       up(pod("prod", "db7", "node2", "10.0.1.7", {{"role", "db"}})),
       up(pod("prod", "db7", "node2", "10.0.1.7", {{"role", "cache"}}))},
      [](const FakeDataplane& dp) {
        CHECK(dp.workloads.size() == 1);
        const auto& rule = ruleOf(dp, "default/prod/knp.default.to-db", false, 0);
        CHECK(setMembers(dp, rule.dst_named_port_ip_set_ids()) ==
              Set{"10.0.1.1,tcp:5432", "10.0.1.2,tcp:5432", "fd00::2,tcp:5432", "10.0.9.5,tcp:6432"});
        CHECK(setMembers(dp, rule.dst_ip_set_ids()) == Set{"10.0.1.1", "10.0.1.2", "fd00::2", "10.0.9.5"});
      }});

  all.push_back(Scenario{
      "a WorkloadEndpoint names its interface; a bare pod gets Calico's veth hash",
      {up(ns("prod")), up(pod("prod", "web", kNode, "10.0.0.1")), up(pod("prod", "plain", kNode, "10.0.0.2")),
       up(wep("prod", "web", kNode, "tartcustom0", "10.0.0.1/32")),
       up(pod("prod", "gone", kNode, "10.0.0.3")), up(wep("prod", "gone", kNode, "tartgone0", "10.0.0.3/32")),
       rm(K::kKubernetesPod, "prod", "gone"),
       rm(K::kWorkloadEndpoint, "prod", std::string(kNode) + "-k8s-gone-eth0")},
      [](const FakeDataplane& dp) {
        CHECK(dp.workloads.size() == 2);
        const auto* web = dp.workload("prod/web");
        REQUIRE(web != nullptr);
        CHECK(web->interface_name() == "tartcustom0");
        CHECK(web->mac() == "ee:ee:ee:ee:ee:ee");
        const auto* plain = dp.workload("prod/plain");
        REQUIRE(plain != nullptr);
        CHECK(plain->interface_name() == CalcGraph::vethNameForWorkload("tart", "prod", "plain"));
        CHECK(plain->name() == "node1-k8s-plain-eth0");
      }});

  return all;
}

TEST_CASE("every replay of a scenario reaches the same, expected dataplane state") {
  checkReplays(scenarios());
}

TEST_CASE("nothing is sent before in sync; the first flush after it sends InSync last") {
  FakeDataplane dp;
  CalcGraph graph(Config{kNode, "tart"}, dp);
  graph.onUpdate(ns("prod"));
  graph.onUpdate(pod("prod", "web", kNode, "10.0.0.1"));
  graph.flush();
  CHECK(dp.messages == 0);
  graph.onInSync();
  graph.flush();
  CHECK(dp.inSyncCount == 1);
  CHECK(dp.workloads.size() == 1);
  CHECK(dp.config.at("interfacePrefix") == "tart");
  CHECK(dp.violations.empty());
  graph.flush();
  CHECK(dp.inSyncCount == 1);
  model::AgentConfiguration agent;
  agent.metadata.name = "default";
  agent.spec.interfacePrefix = "cali";
  graph.onUpdate(agent);
  graph.flush();
  CHECK(dp.config.at("interfacePrefix") == "cali");
}

TEST_CASE("set changes after the first send travel as deltas") {
  FakeDataplane dp;
  CalcGraph graph(Config{kNode, "tart"}, dp);
  graph.onUpdate(ns("prod"));
  graph.onUpdate(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}}));
  graph.onUpdate(knpIngress("prod", "p", match({{"app", "web"}}), {podPeer(match({{"role", "fe"}}))}));
  graph.onInSync();
  graph.flush();
  const int deltas = dp.deltas;
  graph.onUpdate(pod("prod", "fe", "node2", "10.0.1.1", {{"role", "fe"}}));
  graph.flush();
  CHECK(dp.deltas == deltas + 1);
  graph.onRemove(model::Kind::kKubernetesPod, "prod", "fe");
  graph.onUpdate(pod("prod", "fe", "node2", "10.0.1.1", {{"role", "fe"}}));
  const int messages = dp.messages;
  graph.flush();
  CHECK(dp.messages == messages);  // a remove and re-add within one batch cancel out
}

}  // namespace
}  // namespace tartan::calc::testing

namespace tartan::calc::testing {
namespace {

TEST_CASE("a set bigger than one message arrives whole, as an update and then deltas") {
  FakeDataplane dp;
  CalcGraph graph(Config{kNode, "tart"}, dp);
  graph.onUpdate(ns("big"));
  graph.onUpdate(pod("big", "srv", kNode, "10.0.0.1", {{"app", "srv"}}));
  graph.onUpdate(knpIngress("big", "p", match({{"app", "srv"}}), {podPeer(match({{"role", "c"}}))}));
  for (int i = 0; i < 5000; ++i) {
    graph.onUpdate(pod("big", "c" + std::to_string(i), "node2",
                       "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), {{"role", "c"}}));
  }
  graph.onInSync();
  graph.flush();
  CHECK(dp.violations.empty());
  const auto& rule = dp.policy("default/big/knp.default.p")->inbound_rules(0);
  CHECK(dp.members(rule.src_ip_set_ids(0)).size() == 5000);
  CHECK(dp.deltas >= 1);
}

}  // namespace
}  // namespace tartan::calc::testing

namespace tartan::calc::testing {
namespace {

TEST_CASE("stats follow endpoints and active policies through edits and removals") {
  FakeDataplane dp;
  CalcGraph graph(Config{kNode, "tart"}, dp);
  graph.onUpdate(ns("prod"));
  graph.onUpdate(pod("prod", "web", kNode, "10.0.0.1", {{"app", "web"}}));
  graph.onUpdate(pod("prod", "db", "node2", "10.0.1.1", {{"app", "db"}}));
  graph.onUpdate(gns("ext", {{"role", "x"}}, {"192.0.2.0/24"}));
  graph.onUpdate(knpIngress("prod", "p", match({{"app", "web"}}), {podPeer(match({{"app", "db"}}))}));
  graph.onUpdate(knpIngress("prod", "q", match({{"app", "db"}}), {}));
  CHECK(graph.stats().endpoints == 2);
  CHECK(graph.stats().localEndpoints == 1);
  CHECK(graph.stats().policies == 2);
  CHECK(graph.stats().activePolicies == 1);
  CHECK(graph.stats().activeIpSets == 1);
  CHECK(graph.stats().ipSetMembers == 1);
  // An edit of an active policy keeps it counted once.
  graph.onUpdate(knpIngress("prod", "p", match({{"app", "web"}}), {podPeer(match({{"app", "x"}}))}));
  CHECK(graph.stats().activePolicies == 1);
  CHECK(graph.stats().ipSetMembers == 0);
  graph.onRemove(model::Kind::kKubernetesPod, "prod", "web");
  CHECK(graph.stats().activePolicies == 0);
  CHECK(graph.stats().endpoints == 1);
  CHECK(graph.stats().localEndpoints == 0);
}

}  // namespace
}  // namespace tartan::calc::testing
