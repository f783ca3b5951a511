// The driver against the fake kernel: incremental writes, take-over at start, drift repair,
// set deltas and sequencing, and Felix's habit of replaying inputs in different shapes and
// demanding the same final kernel.
#include "tartan/dataplane/iptables/driver.hpp"
#include "scenario.hpp"
#include "support/fake_iptables.hpp"
#include "tartan/dataplane/iptables/ip_sets.hpp"
#include "tartan/dataplane/iptables/table.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

using namespace tartan::dataplane::iptables;
namespace pb = tartan::dataplane::proto;
namespace tt = tartan::test;

namespace {

struct Harness {
  tt::FakeKernel kernel;
  std::vector<pb::FromDataplane> reports;
  std::unique_ptr<Driver> driver;

  Harness() { restart(); }
  void restart() {
    driver = std::make_unique<Driver>(
        DriverKernel{[this](Backend, int) { return kernel.runner(); }, [this] { return kernel.ipsets(); }},
        [this](const pb::FromDataplane& m) { reports.push_back(m); });
  }
  void send(const std::vector<pb::ToDataplane>& messages) {
    for (const auto& m : messages) driver->onMessage(m);
  }
  void applyOk() {
    auto r = driver->apply();
    INFO((r ? std::string() : r.error().toString()));
    REQUIRE(r.has_value());
  }
  // The kernel's content, independent of the order in which chains were created.
  std::string dump() {
    std::string out;
    for (const auto& [key, table] : kernel.tables) {
      out += (key.first == IpFamily::kV4 ? "*v4 " : "*v6 ") + key.second + "\n";
      for (const auto& [chain, rules] : table.chains) {
        out += ":" + chain + "\n";
        for (const auto& rule : rules) out += "-A " + chain + " " + rule + "\n";
      }
    }
    for (const auto& [name, set] : kernel.sets) {
      out += name + " " + set.type + ":";
      for (const auto& m : set.members) out += " " + m;
      out += "\n";
    }
    return out;
  }
};

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("nothing is written before InSync", "[driver]") {
  Harness h;
  auto messages = tt::snapshot();
  messages.pop_back();  // no InSync
  h.send(messages);
  h.applyOk();
  CHECK(h.kernel.restoreInputs.empty());
  CHECK(h.kernel.sets.empty());
  CHECK(h.kernel.saves == 0);
  h.send({tt::inSync()});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == 2);  // one transaction per family
}

TEST_CASE("an unchanged model writes nothing; a changed policy rewrites only its chain", "[driver]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  const auto restores = h.kernel.restoreInputs.size();
  h.applyOk();
  h.send({tt::allowWebPolicy()});  // same content again
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == restores);

  auto changed = tt::allowWebPolicy();
  changed.mutable_active_policy_update()
      ->mutable_policy()
      ->mutable_inbound_rules(0)
      ->mutable_dst_ports(0)
      ->set_first(81);
  changed.mutable_active_policy_update()
      ->mutable_policy()
      ->mutable_inbound_rules(0)
      ->mutable_dst_ports(0)
      ->set_last(81);
  h.send({changed});
  h.applyOk();
  REQUIRE(h.kernel.restoreInputs.size() == restores + 2);  // one per family: the rule has no family
  const std::string& input = h.kernel.restoreInputs[restores];
  const auto chain = names::policyChain(true, "default", "allow-web");
  CHECK(input.find(":" + chain + " - [0:0]") != std::string::npos);
  CHECK(count(input, "\n:") == 1);  // exactly one chain declared
  CHECK(input.find("-I ") == std::string::npos);
  CHECK(input.find("-X ") == std::string::npos);
}

TEST_CASE("a restarted driver takes over the kernel without rewriting or flushing anything", "[driver]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  const std::string before = h.dump();
  const auto restores = h.kernel.restoreInputs.size();
  const auto setOps = h.kernel.setOps.adds + h.kernel.setOps.creates;
  h.restart();
  h.send(tt::snapshot());
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == restores);
  CHECK(h.kernel.setOps.adds + h.kernel.setOps.creates == setOps);
  CHECK(h.dump() == before);
}

TEST_CASE("take-over keeps foreign rules and chains, and removes stale tartan chains", "[driver]") {
  Harness h;
  h.kernel.appendForeignRule(IpFamily::kV4, "filter", "INPUT", "-p tcp --dport 10250 -j ACCEPT");
  h.kernel.appendForeignRule(IpFamily::kV4, "filter", "KUBE-SERVICES", "-j RETURN");
  h.kernel.appendForeignRule(IpFamily::kV4, "filter", "tartan-pi-stale", "-j DROP");
  h.kernel.appendForeignRule(IpFamily::kV4, "filter", "INPUT",
                             "-m comment --comment \"tartan:oldhookhash\" -j tartan-pi-stale");
  h.send(tt::snapshot());
  h.applyOk();
  const auto saved = h.kernel.save(IpFamily::kV4, "filter");
  CHECK(saved.find("-A INPUT -p tcp --dport 10250 -j ACCEPT") != std::string::npos);
  CHECK(saved.find("-A KUBE-SERVICES -j RETURN") != std::string::npos);
  CHECK(saved.find("tartan-pi-stale") == std::string::npos);
  // Our hook is first in INPUT, exactly once.
  const auto& input = h.kernel.tables[{IpFamily::kV4, "filter"}].chains["INPUT"];
  REQUIRE(input.size() == 2);
  CHECK(input[0].find("-j tartan-INPUT") != std::string::npos);
}

TEST_CASE("refresh repairs a deleted chain, a moved hook and a deleted set", "[driver]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  const std::string good = h.dump();
  auto& filter = h.kernel.tables[{IpFamily::kV4, "filter"}];
  // Someone flushes a workload chain, deletes our hook and puts a rule in front of us.
  filter.chains[names::toWorkloadChain("tart1234567890a")].clear();
  filter.chains["FORWARD"].clear();
  filter.chains["INPUT"].insert(filter.chains["INPUT"].begin(), "-j ACCEPT");
  h.kernel.sets.begin()->second.members.clear();
  h.applyOk();
  CHECK(h.dump() != good);  // apply alone trusts its model
  REQUIRE(h.driver->refresh().has_value());
  const auto& input = h.kernel.tables[{IpFamily::kV4, "filter"}].chains["INPUT"];
  REQUIRE(input.size() == 2);
  CHECK(input[0].find("-j tartan-INPUT") != std::string::npos);
  CHECK(input[1] == "-j ACCEPT");
  // Same chains and sets as before, apart from the foreign rule.
  filter.chains["INPUT"].pop_back();
  CHECK(h.dump() == good);
  // Each repair is counted by kind: the flushed chain, the two jumps, the set.
  const auto& stats = h.driver->stats();
  CHECK(stats.chainRepairs == 1);
  CHECK(stats.jumpRepairs == 2);
  CHECK(stats.setRepairs == 1);
  // Nothing left to repair: a second refresh counts nothing more.
  REQUIRE(h.driver->refresh().has_value());
  CHECK(h.driver->stats().chainRepairs + h.driver->stats().jumpRepairs + h.driver->stats().setRepairs == 4);
}

TEST_CASE("our own pending changes written by a refresh are not counted as repairs", "[driver]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  const auto restores = h.kernel.restoreInputs.size();
  auto policy = tt::allowWebPolicy();
  policy.mutable_active_policy_update()
      ->mutable_policy()
      ->mutable_inbound_rules(0)
      ->mutable_protocol()
      ->set_name("udp");
  h.send({policy, tt::setDelta("web-clients", {"10.65.3.3"}, {})});
  REQUIRE(h.driver->refresh().has_value());
  CHECK(h.kernel.restoreInputs.size() > restores);  // the change is written
  CHECK(h.driver->stats().chainRepairs == 0);
  CHECK(h.driver->stats().jumpRepairs == 0);
  CHECK(h.driver->stats().setRepairs == 0);
}

TEST_CASE("a foreign member in one of our sets is removed by the IP set check, between refreshes",
          "[driver][ipsets]") {
  Harness h;
  h.send({tt::config({{"iptablesRefreshInterval", "90"}})});
  h.send(tt::snapshot());
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(h.driver->tick(t0).has_value());
  const std::string good = h.dump();
  auto& set = h.kernel.sets[names::ipSet(IpFamily::kV4, "web-clients")];
  set.members.insert("192.0.2.66");
  const int saves = h.kernel.saves;
  REQUIRE(h.driver->tick(t0 + std::chrono::seconds(2)).has_value());
  CHECK(h.dump() == good);
  CHECK(h.kernel.saves == saves);  // the sets alone: no iptables-save
  CHECK(h.driver->stats().setRepairs == 1);
  CHECK(h.driver->stats().ipSetChecks >= 1);
}

TEST_CASE("tick() reads back when the refresh interval has passed", "[driver]") {
  Harness h;
  h.send({tt::config({{"iptablesRefreshInterval", "30"}})});
  h.send(tt::snapshot());
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(h.driver->tick(t0).has_value());
  const int saves = h.kernel.saves;
  REQUIRE(h.driver->tick(t0 + std::chrono::seconds(10)).has_value());
  CHECK(h.kernel.saves == saves);
  REQUIRE(h.driver->tick(t0 + std::chrono::seconds(31)).has_value());
  CHECK(h.kernel.saves > saves);
}

TEST_CASE("set deltas change single members; bulk changes are swapped in", "[driver][ipsets]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  const auto ops = h.kernel.setOps;
  const auto restores = h.kernel.restoreInputs.size();
  h.send({tt::setDelta("web-clients", {"10.65.3.3"}, {"10.65.2.7"})});
  h.applyOk();
  CHECK(h.kernel.setOps.adds == ops.adds + 1);
  CHECK(h.kernel.setOps.dels == ops.dels + 1);
  CHECK(h.kernel.restoreInputs.size() == restores);  // no iptables change for a member change
  const auto& set = h.kernel.sets[names::ipSet(IpFamily::kV4, "web-clients")];
  CHECK(set.members == std::set<std::string>{"10.65.1.0/24", "10.65.3.3"});

  std::vector<std::string> many;
  for (int i = 0; i < 600; ++i)
    many.push_back("10.70." + std::to_string(i / 200) + "." + std::to_string(i % 200));
  h.send({tt::setUpdate("web-clients", many)});
  h.applyOk();
  CHECK(h.kernel.setOps.swaps == ops.swaps + 1);
  CHECK(h.kernel.sets[names::ipSet(IpFamily::kV4, "web-clients")].members.size() == 600);
  CHECK(h.kernel.sets.count(names::ipSetTemporary(IpFamily::kV4, "web-clients")) == 0);
}

TEST_CASE("a set is created before the rule that uses it and destroyed after the last one",
          "[driver][ipsets]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  // The fake rejects a rule naming a missing set and destroying a set in use: removing the
  // policy, its set and its endpoint in one batch must still succeed.
  h.send({tt::workloadRemove("web-1")});
  pb::ToDataplane rm;
  rm.mutable_active_policy_remove()->mutable_id()->set_tier("security");
  rm.mutable_active_policy_remove()->mutable_id()->set_name("log-and-pass");
  pb::ToDataplane rmSet;
  rmSet.mutable_ipset_remove()->set_id("named-http");
  h.send({rm, rmSet});
  h.applyOk();
  CHECK(h.kernel.sets.count(names::ipSet(IpFamily::kV4, "named-http", true)) == 0);
  CHECK(h.kernel.save(IpFamily::kV4, "filter").find("tart1234567890a") == std::string::npos);
}

TEST_CASE("a set's type change moves rules to a new set in one transaction", "[driver][ipsets]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  h.send({tt::setUpdate("web-clients", {"10.65.1.1,tcp:80"}, pb::IP_SET_TYPE_IP_AND_PORT)});
  h.applyOk();
  // Still referenced as a plain set by allow-web: kept as an empty hash:net placeholder.
  CHECK(h.kernel.sets[names::ipSet(IpFamily::kV4, "web-clients")].members.empty());
  CHECK(h.kernel.sets[names::ipSet(IpFamily::kV4, "web-clients", true)].members.size() == 1);
}

TEST_CASE("an endpoint naming an unknown policy gets an empty chain, not a failed batch", "[driver]") {
  Harness h;
  auto messages = tt::snapshot();
  messages.erase(messages.begin() + 3);  // allow-web never sent
  h.send(messages);
  h.applyOk();
  const auto chain = names::policyChain(true, "default", "allow-web");
  const auto saved = h.kernel.save(IpFamily::kV4, "filter");
  CHECK(saved.find(":" + chain + " - [0:0]") != std::string::npos);
  CHECK(saved.find("-A " + chain + " ") == std::string::npos);
  // When it arrives, it fills the chain.
  h.send({tt::allowWebPolicy()});
  h.applyOk();
  CHECK(h.kernel.save(IpFamily::kV4, "filter").find("-A " + chain + " ") != std::string::npos);
}

TEST_CASE("a failed restore is retried after a read-back, and endpoints report error then up", "[driver]") {
  Harness h;
  h.send(tt::snapshot());
  h.kernel.failRestores = 1;
  auto r = h.driver->apply();
  CHECK_FALSE(r.has_value());
  bool sawError = false;
  for (const auto& m : h.reports)
    if (m.has_workload_endpoint_status_update() &&
        m.workload_endpoint_status_update().status().status() == "error")
      sawError = true;
  CHECK(sawError);
  h.reports.clear();
  h.applyOk();
  int up = 0;
  for (const auto& m : h.reports)
    if (m.has_workload_endpoint_status_update() &&
        m.workload_endpoint_status_update().status().status() == "up")
      ++up;
  CHECK(up == 2);
  CHECK(h.reports.back().process_status_update().in_sync());
  Harness fresh;
  fresh.send(tt::snapshot());
  fresh.applyOk();
  CHECK(fresh.dump() == h.dump());
}

TEST_CASE("removing an endpoint removes its chains and dispatch entries, and reports the removal",
          "[driver]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  h.reports.clear();
  h.send({tt::workloadRemove("open-1")});
  h.applyOk();
  const auto saved = h.kernel.save(IpFamily::kV4, "filter");
  CHECK(saved.find("tartopen") == std::string::npos);
  CHECK(h.reports.front().has_workload_endpoint_status_remove());
  CHECK(h.reports.front().workload_endpoint_status_remove().id().workload_id() == "default/open-1");
}

// Felix's calc-graph habit applied to the driver: the same final state however the input is
// batched, repeated or interleaved with applies.
TEST_CASE("the final kernel state does not depend on batching or repetition", "[driver][replay]") {
  const auto messages = tt::snapshot();
  std::vector<pb::ToDataplane> churn = {
      tt::workload("web-2", "tartweb2", true), tt::setDelta("web-clients", {"10.65.9.9"}, {}),
      tt::workloadRemove("web-2"), tt::setDelta("web-clients", {}, {"10.65.9.9", "10.65.1.0/24"}),
      tt::setDelta("web-clients", {"10.65.1.0/24"}, {})};
  Harness squashed;
  squashed.send(messages);
  squashed.send(churn);
  squashed.applyOk();
  const std::string expected = squashed.dump();

  Harness each;
  each.send(messages);
  each.applyOk();
  for (const auto& m : churn) {
    each.send({m});
    each.applyOk();
  }
  CHECK(each.dump() == expected);

  Harness duplicated;
  for (const auto& m : messages) duplicated.send({m, m});
  duplicated.applyOk();
  for (const auto& m : churn) duplicated.send({m, m});
  duplicated.applyOk();
  CHECK(duplicated.dump() == expected);

  Harness restarted;
  restarted.send(messages);
  restarted.applyOk();
  restarted.send(churn);
  restarted.restart();  // a crash before applying the churn
  restarted.send(messages);
  restarted.send(churn);
  restarted.applyOk();
  CHECK(restarted.dump() == expected);
}

TEST_CASE("the backend and other configuration reach the kernel edges", "[driver]") {
  tt::FakeKernel kernel;
  Backend seen = Backend::kAuto;
  int lock = 0;
  Driver driver(DriverKernel{[&](Backend b, int l) {
                               seen = b;
                               lock = l;
                               return kernel.runner();
                             },
                             [&] { return kernel.ipsets(); }});
  driver.onMessage(
      tt::config({{"iptablesBackend", "Legacy"}, {"iptablesLockTimeout", "3"}, {"ipv6Support", "false"}}));
  driver.onMessage(tt::inSync());
  REQUIRE(driver.apply().has_value());
  CHECK(seen == Backend::kLegacy);
  CHECK(lock == 3);
  CHECK(kernel.tables.count({IpFamily::kV6, "filter"}) == 0);
}

TEST_CASE("a host endpoint given by expected IPs covers the interfaces that hold them", "[driver][hep]") {
  tt::FakeKernel kernel;
  InterfaceAddresses addresses{{"eth1", {"192.0.2.10"}}, {"eth2", {"198.51.100.1", "fe80::1"}}};
  Driver driver(DriverKernel{[&](Backend, int) { return kernel.runner(); }, [&] { return kernel.ipsets(); },
                             [&] { return addresses; }});
  for (const auto& m : tt::snapshot()) driver.onMessage(m);
  pb::ToDataplane hep;
  auto* u = hep.mutable_host_endpoint_update();
  u->mutable_id()->set_endpoint_id("node1-by-ip");
  u->mutable_endpoint()->add_expected_ipv4_addrs("192.0.2.10");
  auto* tier = u->mutable_endpoint()->add_tiers();
  tier->set_name("default");
  tier->add_ingress_policies("allow-web");
  driver.onMessage(hep);
  REQUIRE(driver.apply().has_value());
  auto saved = kernel.save(IpFamily::kV4, "filter");
  CHECK(saved.find("-i eth1 -g tartan-fh-eth1") != std::string::npos);
  CHECK(saved.find("tartan-fh-eth2") == std::string::npos);
  // The address moves to eth2: the next read-back follows it.
  addresses = {{"eth2", {"192.0.2.10"}}};
  REQUIRE(driver.refresh().has_value());
  saved = kernel.save(IpFamily::kV4, "filter");
  CHECK(saved.find("tartan-fh-eth1") == std::string::npos);
  CHECK(saved.find("-i eth2 -g tartan-fh-eth2") != std::string::npos);
}

TEST_CASE("malformed input is left out and reported, and never blocks the rest of the batch",
          "[driver][robust]") {
  Harness h;
  auto messages = tt::snapshot();
  messages.insert(messages.end() - 1, tt::workload("bad-1", "tart with space", false));
  auto badPolicy = tt::allowWebPolicy();
  auto* rule = badPolicy.mutable_active_policy_update()->mutable_policy()->add_inbound_rules();
  rule->set_action(pb::RULE_ACTION_ALLOW);
  rule->add_src_net("10.0.0.0/33");
  auto* ports = badPolicy.mutable_active_policy_update()->mutable_policy()->add_inbound_rules();
  ports->set_action(pb::RULE_ACTION_DENY);
  ports->mutable_protocol()->set_name("tcp");
  *ports->add_dst_ports() = tt::port(90, 80);
  messages.insert(messages.end() - 1, badPolicy);
  h.send(messages);
  h.applyOk();
  // The good rules of the policy are there, the bad ones not; the bad endpoint is not dispatched.
  const auto saved = h.kernel.save(IpFamily::kV4, "filter");
  CHECK(saved.find("--destination-ports 80 ") != std::string::npos);
  CHECK(saved.find("/33") == std::string::npos);
  CHECK(saved.find("90:80") == std::string::npos);
  CHECK(saved.find("tart with space") == std::string::npos);
  std::string detail;
  for (const auto& m : h.reports)
    if (m.has_workload_endpoint_status_update() &&
        m.workload_endpoint_status_update().id().workload_id() == "default/bad-1")
      detail = m.workload_endpoint_status_update().status().status() + ": " +
               m.workload_endpoint_status_update().status().detail();
  CHECK(detail == "error: interface name 'tart with space' is not valid");
}

TEST_CASE("a member added and removed between applies costs no kernel call", "[driver][ipsets]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  const auto ops = h.kernel.setOps;
  h.send({tt::setDelta("web-clients", {"10.1.1.1"}, {}), tt::setDelta("web-clients", {}, {"10.1.1.1"}),
          tt::setDelta("web-clients", {"10.65.2.7"}, {})});  // already a member
  h.applyOk();
  CHECK(h.kernel.setOps.adds == ops.adds);
  CHECK(h.kernel.setOps.dels == ops.dels);
}

// Beyond the contract: even in orders the calc graph must not send (an endpoint before its
// policy, a policy before its sets), every intermediate apply is a valid kernel state and the
// final one is the same.
TEST_CASE("any order and any split of the snapshot converge to the same kernel", "[driver][replay]") {
  Harness reference;
  reference.send(tt::snapshot());
  reference.applyOk();
  const std::string expected = reference.dump();

  auto body = tt::snapshot();
  const auto config = body.front();
  body.erase(body.begin());  // configuration first, as the contract says
  body.pop_back();           // InSync

  SECTION("reversed, in one batch") {
    Harness h;
    h.send({config});
    h.send({body.rbegin(), body.rend()});
    h.send({tt::inSync()});
    h.applyOk();
    CHECK(h.dump() == expected);
  }
  SECTION("shuffled, applied after every message") {
    std::mt19937 random(7);
    for (int round = 0; round < 5; ++round) {
      auto order = body;
      std::shuffle(order.begin(), order.end(), random);
      Harness h;
      h.send({config, tt::inSync()});
      h.applyOk();
      for (const auto& m : order) {
        h.send({m});
        h.applyOk();
      }
      CHECK(h.dump() == expected);
    }
  }
}

TEST_CASE("chainInsertMode Append puts the hooks last and does not fight for the top", "[driver]") {
  Harness h;
  h.kernel.appendForeignRule(IpFamily::kV4, "filter", "FORWARD", "-j KUBE-FORWARD");
  h.kernel.appendForeignRule(IpFamily::kV4, "filter", "KUBE-FORWARD", "-j RETURN");
  auto messages = tt::snapshot();
  (*messages.front().mutable_config_update()->mutable_config())["chainInsertMode"] = "Append";
  h.send(messages);
  h.applyOk();
  auto& forward = h.kernel.tables[{IpFamily::kV4, "filter"}].chains["FORWARD"];
  REQUIRE(forward.size() == 2);
  CHECK(forward[0] == "-j KUBE-FORWARD");
  CHECK(forward[1].find("-j tartan-FORWARD") != std::string::npos);
  // Someone else appends after us: present once is enough, nothing is rewritten.
  forward.push_back("-j ACCEPT");
  const auto restores = h.kernel.restoreInputs.size();
  REQUIRE(h.driver->refresh().has_value());
  CHECK(h.kernel.restoreInputs.size() == restores);
}

TEST_CASE("a chain the kernel refuses is quarantined as a DROP and no longer blocks the table",
          "[driver][robust]") {
  Harness h;
  h.send(tt::snapshot());
  h.applyOk();
  const auto chain = names::policyChain(true, "default", "allow-web");
  auto refused = tt::allowWebPolicy();
  auto* ports =
      refused.mutable_active_policy_update()->mutable_policy()->mutable_inbound_rules(0)->mutable_dst_ports(
          0);
  ports->set_first(8989);
  ports->set_last(8989);
  h.kernel.refuseToken = "8989";
  h.send({refused});
  CHECK_FALSE(h.driver->apply().has_value());  // the kernel says which line; the chain is named
  CHECK(h.driver->stats().quarantined == 2);   // the chain of each family
  const Table* filter = h.driver->table(IpFamily::kV4, "filter");
  REQUIRE(filter->quarantined().count(chain) == 1);
  CHECK(filter->quarantined().at(chain).find("line") != std::string::npos);

  // A later change elsewhere lands; the refused chain is a single DROP.
  const auto other = names::policyChain(true, "security", "log-and-pass");
  const auto otherBefore = h.kernel.tables[{IpFamily::kV4, "filter"}].chains[other];
  auto changed = tt::securityPolicy();
  changed.mutable_active_policy_update()
      ->mutable_policy()
      ->mutable_inbound_rules(0)
      ->mutable_icmp()
      ->set_type(0);
  h.send({changed});
  h.applyOk();
  CHECK(h.kernel.tables[{IpFamily::kV4, "filter"}].chains[other] != otherBefore);
  h.applyOk();  // and stays put: nothing to rewrite
  auto& rules = h.kernel.tables[{IpFamily::kV4, "filter"}].chains[chain];
  REQUIRE(rules.size() == 1);
  CHECK(rules[0].find("-j DROP") != std::string::npos);

  // The same content again keeps the quarantine; new content lifts it.
  const auto restores = h.kernel.restoreInputs.size();
  h.send({refused});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == restores);
  h.kernel.refuseToken.clear();
  h.send({tt::allowWebPolicy()});
  h.applyOk();
  CHECK(filter->quarantined().empty());
  CHECK(h.kernel.tables[{IpFamily::kV4, "filter"}].chains[chain].size() > 1);
}
