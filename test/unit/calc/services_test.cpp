// A rule that names a Service: a destination Service matches its EndpointSlices' addresses with
// their ports and protocols, a source Service its addresses; slices come, change and go as
// deltas; a Service without slices, or gone, matches nothing. Every scenario is replayed in
// every order (replay.hpp).
#include "builders.hpp"
#include "fake_dataplane.hpp"
#include "replay.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <catch2/catch.hpp>

namespace tartan::calc::testing {
namespace {

// The one set a rule's list refers to, with its type checked.
Set serviceSet(const FakeDataplane& dp, const google::protobuf::RepeatedPtrField<std::string>& ids,
               pb::IPSetType type) {
  REQUIRE(ids.size() == 1);
  REQUIRE(dp.sets.count(ids[0]) == 1);
  CHECK(dp.sets.at(ids[0]).type == type);
  return dp.members(ids[0]);
}

// A client pod on this node, its namespace, and the Service "web" in "shop".
std::vector<Step> base() {
  return {up(ns("shop")), up(ns("other")), up(pod("shop", "client", kNode, "10.0.0.1", {{"app", "client"}})),
          up(service("shop", "web"))};
}

std::vector<Step> with(std::vector<Step> steps, std::initializer_list<Step> more) {
  steps.insert(steps.end(), more.begin(), more.end());
  return steps;
}

const pb::Rule& egressRule(const FakeDataplane& dp) { return ruleOf(dp, "default/shop/to-web", false, 0); }
const pb::Rule& ingressRule(const FakeDataplane& dp) { return ruleOf(dp, "default/from-web", true, 0); }

std::vector<Scenario> scenarios() {
  const auto toWeb = npRules("shop", "to-web", "app == 'client'", {}, {serviceRule("Allow", true, "web")});
  const auto fromWeb =
      gnp("from-web", "default", 10, "app == 'client'", {serviceRule("Allow", false, "web", "shop")});
  std::vector<Scenario> all;

  all.push_back(Scenario{
      "a destination Service: every address of its slices with each slice port and protocol; a "
      "port without a number adds nothing",
      with(base(),
           {up(slice("shop", "web-a", "web", {"10.0.1.1", "10.0.1.2"},
                     {{8080, "TCP", "http"}, {9090, "UDP", "metrics"}, {std::nullopt, "TCP", "all"}})),
            up(slice("shop", "web-b", "web", {"fd00::5"}, {{8080, "TCP", "http"}, {7000, "SCTP", "s"}},
                     "IPv6")),
            up(toWeb)}),
      [](const FakeDataplane& dp) {
        const pb::Rule& rule = egressRule(dp);
        CHECK(serviceSet(dp, rule.dst_named_port_ip_set_ids(), pb::IP_SET_TYPE_IP_AND_PORT) ==
              Set{"10.0.1.1,tcp:8080", "10.0.1.1,udp:9090", "10.0.1.2,tcp:8080", "10.0.1.2,udp:9090",
                  "fd00::5,tcp:8080", "fd00::5,sctp:7000"});
        CHECK(rule.dst_named_port_ip_set_ids(0).starts_with("svc:"));
        // The Service is the rule's whole destination: no other address or port constraint.
        CHECK(rule.dst_ports_size() == 0);
        CHECK(rule.dst_ip_set_ids_size() == 0);
        CHECK(rule.dst_net_size() == 0);
        CHECK(rule.src_ip_set_ids_size() == 0);
      }});

  all.push_back(
      Scenario{"a source Service: the addresses of its slices, whatever their ports",
               with(base(), {up(slice("shop", "web-a", "web", {"10.0.1.1", "10.0.1.2"}, {{8080}})),
                             up(slice("shop", "web-b", "web", {"fd00::5"}, {}, "IPv6")), up(fromWeb)}),
               [](const FakeDataplane& dp) {
                 const pb::Rule& rule = ingressRule(dp);
                 CHECK(serviceSet(dp, rule.src_ip_set_ids(), pb::IP_SET_TYPE_NET) ==
                       Set{"10.0.1.1", "10.0.1.2", "fd00::5"});
                 CHECK(rule.src_ip_set_ids(0).starts_with("svcnoport:"));
                 CHECK(rule.src_named_port_ip_set_ids_size() == 0);
                 CHECK(rule.dst_named_port_ip_set_ids_size() == 0);
               }});

  all.push_back(Scenario{
      "slices change: addresses come and go, an address two slices give stays while either does, a "
      "slice relabelled to another Service leaves this one",
      with(base(),
           {up(toWeb), up(fromWeb), up(slice("shop", "web-a", "web", {"10.0.1.1", "10.0.1.2"}, {{8080}})),
            up(slice("shop", "web-b", "web", {"10.0.1.2"}, {{8080}})),
            up(slice("shop", "web-c", "web", {"10.0.1.9"}, {{8080}})),
            up(slice("shop", "web-a", "web", {"10.0.1.1", "10.0.1.3"}, {{8080}, {8443}})),
            up(slice("shop", "web-c", "api", {"10.0.1.9"}, {{8080}})),
            rm(K::kKubernetesEndpointSlice, "shop", "web-b"),
            up(slice("shop", "web-b", "web", {"10.0.1.4"}, {{8080}}))}),
      [](const FakeDataplane& dp) {
        CHECK(serviceSet(dp, egressRule(dp).dst_named_port_ip_set_ids(), pb::IP_SET_TYPE_IP_AND_PORT) ==
              Set{"10.0.1.1,tcp:8080", "10.0.1.1,tcp:8443", "10.0.1.3,tcp:8080", "10.0.1.3,tcp:8443",
                  "10.0.1.4,tcp:8080"});
        CHECK(serviceSet(dp, ingressRule(dp).src_ip_set_ids(), pb::IP_SET_TYPE_NET) ==
              Set{"10.0.1.1", "10.0.1.3", "10.0.1.4"});
      }});

  all.push_back(Scenario{
      "a Service with no slices matches nothing; nor does one that was deleted, though its slices "
      "are left behind",
      with(base(),
           {up(toWeb), up(fromWeb), up(slice("shop", "web-a", "web", {"10.0.1.1"}, {{8080}})),
            rm(K::kKubernetesService, "shop", "web"), up(service("shop", "empty")),
            up(npRules("shop", "to-empty", "app == 'client'", {}, {serviceRule("Allow", true, "empty")}))}),
      [](const FakeDataplane& dp) {
        CHECK(serviceSet(dp, egressRule(dp).dst_named_port_ip_set_ids(), pb::IP_SET_TYPE_IP_AND_PORT) ==
              Set{});
        CHECK(serviceSet(dp, ingressRule(dp).src_ip_set_ids(), pb::IP_SET_TYPE_NET) == Set{});
        const pb::Rule& empty = ruleOf(dp, "default/shop/to-empty", false, 0);
        CHECK(serviceSet(dp, empty.dst_named_port_ip_set_ids(), pb::IP_SET_TYPE_IP_AND_PORT) == Set{});
      }});

  all.push_back(Scenario{
      "a slice belongs to the Service its label names in its own namespace; a rule's Service "
      "without a namespace is in the policy's; FQDN slices and unlabelled ones give nothing",
      with(base(), {up(service("other", "web")), up(slice("other", "web-x", "web", {"10.0.2.1"}, {{8080}})),
                    up(slice("shop", "web-a", "web", {"10.0.1.1"}, {{8080}})),
                    up(slice("shop", "loose", "", {"10.0.1.7"}, {{8080}})),
                    up(slice("shop", "web-f", "web", {"web.example.com"}, {{8080}}, "FQDN")), up(toWeb),
                    up(gnp("from-web", "default", 10, "app == 'client'",
                           {serviceRule("Allow", false, "web", "other")}))}),
      [](const FakeDataplane& dp) {
        CHECK(serviceSet(dp, egressRule(dp).dst_named_port_ip_set_ids(), pb::IP_SET_TYPE_IP_AND_PORT) ==
              Set{"10.0.1.1,tcp:8080"});
        CHECK(serviceSet(dp, ingressRule(dp).src_ip_set_ids(), pb::IP_SET_TYPE_NET) == Set{"10.0.2.1"});
      }});

  all.push_back(
      Scenario{"rules that name a Service beside a protocol and source ports keep them; a Deny names one too",
               with(base(), {up(slice("shop", "web-a", "web", {"10.0.1.1"}, {{53, "UDP"}, {53, "TCP"}})),
                             [] {
                               model::Rule deny = serviceRule("Deny", true, "web");
                               deny.protocol = model::Protocol::fromName("UDP");
                               model::Rule allow = serviceRule("Allow", false, "web", "shop");
                               allow.protocol = model::Protocol::fromName("TCP");
                               allow.source.ports = {model::Port::range(1024, 65535)};
                               return up(npRules("shop", "mixed", "app == 'client'", {allow}, {deny}));
                             }()}),
               [](const FakeDataplane& dp) {
                 const pb::Rule& deny = ruleOf(dp, "default/shop/mixed", false, 0);
                 CHECK(deny.action() == pb::RULE_ACTION_DENY);
                 CHECK(deny.protocol().name() == "udp");
                 CHECK(serviceSet(dp, deny.dst_named_port_ip_set_ids(), pb::IP_SET_TYPE_IP_AND_PORT) ==
                       Set{"10.0.1.1,udp:53", "10.0.1.1,tcp:53"});
                 const pb::Rule& allow = ruleOf(dp, "default/shop/mixed", true, 0);
                 CHECK(allow.src_ports_size() == 1);
                 CHECK(serviceSet(dp, allow.src_ip_set_ids(), pb::IP_SET_TYPE_NET) == Set{"10.0.1.1"});
               }});

  return all;
}

TEST_CASE("a rule naming a Service matches its EndpointSlices, in every replay") {
  checkReplays(scenarios());
}

TEST_CASE("a slice's change reaches the dataplane as a delta of exactly what changed") {
  FakeDataplane dp;
  CalcGraph graph(Config{kNode, "tart"}, dp);
  for (const Step& s : base()) apply(graph, s);
  graph.onUpdate(slice("shop", "web-a", "web", {"10.0.1.1", "10.0.1.2"}, {{8080}}));
  graph.onUpdate(npRules("shop", "to-web", "app == 'client'", {}, {serviceRule("Allow", true, "web")}));
  graph.onInSync();
  graph.flush();
  const int messages = dp.messages;
  const int deltas = dp.deltas;

  graph.onUpdate(slice("shop", "web-a", "web", {"10.0.1.2", "10.0.1.3"}, {{8080}}));
  graph.flush();
  CHECK(dp.messages == messages + 1);
  CHECK(dp.deltas == deltas + 1);
  CHECK(dp.members(egressRule(dp).dst_named_port_ip_set_ids(0)) ==
        Set{"10.0.1.2,tcp:8080", "10.0.1.3,tcp:8080"});

  // The Service gone: its members go, as one delta; back again: they return.
  graph.onRemove(model::Kind::kKubernetesService, "shop", "web");
  graph.flush();
  CHECK(dp.deltas == deltas + 2);
  CHECK(dp.members(egressRule(dp).dst_named_port_ip_set_ids(0)).empty());
  graph.onUpdate(service("shop", "web"));
  graph.flush();
  CHECK(dp.members(egressRule(dp).dst_named_port_ip_set_ids(0)) ==
        Set{"10.0.1.2,tcp:8080", "10.0.1.3,tcp:8080"});

  // A slice that changes nothing the sets hold (a condition) sends nothing.
  auto notReady = slice("shop", "web-a", "web", {"10.0.1.2", "10.0.1.3"}, {{8080}});
  notReady.endpoints[0].conditions.ready = false;
  const int before = dp.messages;
  graph.onUpdate(notReady);
  graph.flush();
  CHECK(dp.messages == before);
  CHECK(dp.violations.empty());
}

TEST_CASE("a policy's Service sets go when the policy goes; the Service's slices stay known") {
  FakeDataplane dp;
  CalcGraph graph(Config{kNode, "tart"}, dp);
  for (const Step& s : base()) apply(graph, s);
  graph.onUpdate(slice("shop", "web-a", "web", {"10.0.1.1"}, {{8080}}));
  graph.onUpdate(npRules("shop", "to-web", "app == 'client'", {}, {serviceRule("Allow", true, "web")}));
  graph.onInSync();
  graph.flush();
  CHECK(dp.sets.size() == 1);
  graph.onRemove(model::Kind::kNetworkPolicy, "shop", "to-web");
  graph.flush();
  CHECK(dp.sets.empty());
  CHECK(graph.stats().activeIpSets == 0);
  graph.onUpdate(npRules("shop", "to-web", "app == 'client'", {}, {serviceRule("Allow", true, "web")}));
  graph.flush();
  REQUIRE(dp.sets.size() == 1);
  CHECK(dp.sets.begin()->second.members == Set{"10.0.1.1,tcp:8080"});
  CHECK(dp.violations.empty());
}

}  // namespace
}  // namespace tartan::calc::testing
