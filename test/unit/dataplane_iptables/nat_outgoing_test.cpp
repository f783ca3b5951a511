// Outgoing NAT in the iptables driver, as Felix's cali-nat-outgoing: rendering (golden), the
// configuration keys, and the driver against the fake kernel — sets as deltas, the rule written
// only when it changes, nothing before InSync, take-over, repair and removal with the last pool.
#include "nat_outgoing.hpp"
#include "golden.hpp"
#include "scenario.hpp"
#include "support/fake_iptables.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/dataplane/iptables/render.hpp"

#include <catch2/catch.hpp>

using namespace tartan::dataplane::iptables;
namespace pb = tartan::dataplane::proto;
namespace tt = tartan::test;

namespace {

pb::ToDataplane pool(const std::string& id, const std::string& cidr, bool masquerade) {
  pb::ToDataplane m;
  auto* u = m.mutable_ipam_pool_update();
  u->set_id(id);
  u->mutable_pool()->set_cidr(cidr);
  u->mutable_pool()->set_masquerade(masquerade);
  return m;
}
pb::ToDataplane poolRemove(const std::string& id) {
  pb::ToDataplane m;
  m.mutable_ipam_pool_remove()->set_id(id);
  return m;
}

std::string print(const TableChains& chains) {
  std::string out;
  for (const auto& chain : chains.nat) {
    out += ":" + chain.name + "\n";
    for (const auto& rule : chain.rules)
      out += "-A " + chain.name + (rule.match.empty() ? "" : " " + rule.match) + " " + rule.action + "\n";
  }
  return out;
}

struct Harness {
  tt::FakeKernel kernel;
  std::unique_ptr<Driver> driver;
  Harness() { restart(); }
  void restart() {
    driver = std::make_unique<Driver>(
        DriverKernel{[this](Backend, int) { return kernel.runner(); }, [this] { return kernel.ipsets(); }});
  }
  void send(const std::vector<pb::ToDataplane>& messages) {
    for (const auto& m : messages) driver->onMessage(m);
  }
  void applyOk() {
    auto r = driver->apply();
    INFO((r ? std::string() : r.error().toString()));
    REQUIRE(r.has_value());
  }
  std::vector<std::string> chain(IpFamily family, const std::string& name) {
    auto& t = kernel.table(family, "nat");
    auto it = t.chains.find(name);
    return it == t.chains.end() ? std::vector<std::string>{"(absent)"} : it->second;
  }
  std::set<std::string> members(const std::string& set) {
    auto it = kernel.sets.find(set);
    return it == kernel.sets.end() ? std::set<std::string>{"(absent)"} : it->second.members;
  }
  // The rules without their hash comments ("-m comment --comment \"tartan:<hash>\" " first).
  std::vector<std::string> rules(IpFamily family, const std::string& name) {
    std::vector<std::string> out;
    for (std::string r : chain(family, name)) {
      if (r.starts_with("-m comment --comment \"tartan:")) r.erase(0, r.find("\" ") + 2);
      out.push_back(r);
    }
    return out;
  }
  std::string dump() {
    std::string out;
    for (const auto& [key, table] : kernel.tables) {
      out += (key.first == IpFamily::kV4 ? "*v4 " : "*v6 ") + key.second + "\n";
      for (const auto& [chain, rules] : table.chains)
        for (const auto& rule : rules) out += "-A " + chain + " " + rule + "\n";
    }
    for (const auto& [name, set] : kernel.sets)
      for (const auto& m : set.members) out += name + " " + m + "\n";
    return out;
  }
};

}  // namespace

TEST_CASE("outgoing NAT renders as Felix's cali-nat-outgoing, for each configuration", "[nat]") {
  struct Case {
    const char* name;
    IpFamily family;
    RenderConfig config;
  };
  auto with = [](auto change) {
    RenderConfig c;
    change(c);
    return c;
  };
  const std::vector<Case> cases{
      {"IPv4 masquerade", IpFamily::kV4, RenderConfig{}},
      {"IPv4 masquerade, --random-fully where supported", IpFamily::kV4,
       with([](auto& c) { c.randomFully = true; })},
      {"IPv4 SNAT to natOutgoingAddress", IpFamily::kV4, with([](auto& c) {
         c.natOutgoingAddress = "192.0.2.10";
         c.randomFully = true;
       })},
      {"IPv4 natPortRange: TCP and UDP get the ports, the rest the plain rule", IpFamily::kV4,
       with([](auto& c) {
         c.natPortMin = 32768;
         c.natPortMax = 65535;
       })},
      {"IPv4 SNAT with natPortRange", IpFamily::kV4, with([](auto& c) {
         c.natOutgoingAddress = "192.0.2.10";
         c.natPortMin = 40000;
         c.natPortMax = 40100;
       })},
      {"interface filter", IpFamily::kV4, with([](auto& c) { c.natInterfaceFilter = "eth+"; })},
      {"IPv6 masquerades even with natOutgoingAddress set", IpFamily::kV6, with([](auto& c) {
         c.natOutgoingAddress = "192.0.2.10";
         c.randomFully = true;
       })},
  };
  std::string all;
  for (const auto& c : cases)
    all += "## " + std::string(c.name) + "\n" + print(renderNatOutgoing(true, c.family, c.config));
  tt::checkGolden("nat_outgoing.txt", all);
  CHECK(renderNatOutgoing(false, IpFamily::kV4, RenderConfig{}).nat.empty());
}

TEST_CASE("outgoing NAT configuration values are checked, and a bad one keeps the last", "[nat]") {
  struct Case {
    const char* key;
    const char* value;
    bool ok;
  };
  const std::vector<Case> cases{
      {"natOutgoingAddress", "192.0.2.10", true},
      {"natOutgoingAddress", "", true},
      {"natOutgoingAddress", "fd00::1", false},
      {"natOutgoingAddress", "192.0.2.0/24", false},
      {"natOutgoingAddress", "not-an-ip", false},
      {"natPortRange", "32768:65535", true},
      {"natPortRange", "40000", true},
      {"natPortRange", "1-2", true},
      {"natPortRange", "", true},
      {"natPortRange", "65535:1", false},
      {"natPortRange", "0:100", false},
      {"natPortRange", "http", false},
      {"natPortRange", "1:70000", false},
      {"iptablesNATOutgoingInterfaceFilter", "eth+", true},
      {"iptablesNATOutgoingInterfaceFilter", "eth0", true},
      {"iptablesNATOutgoingInterfaceFilter", "+", false},
      {"iptablesNATOutgoingInterfaceFilter", "a b", false},
  };
  for (const auto& c : cases) {
    INFO(c.key << "=" << c.value);
    CHECK(isNatConfigKey(c.key));
    RenderConfig config;
    config.natOutgoingAddress = "198.51.100.1";
    config.natPortMin = 1000;
    config.natPortMax = 2000;
    config.natInterfaceFilter = "lo";
    const RenderConfig before = config;
    auto r = setNatConfig(c.key, c.value, config);
    CHECK(r.has_value() == c.ok);
    if (!c.ok) {
      CHECK(config == before);
      CHECK(r.error().toString().find(c.key) != std::string::npos);
    }
  }
  RenderConfig config;
  REQUIRE(setNatConfig("natPortRange", "40000", config));
  CHECK((config.natPortMin == 40000 && config.natPortMax == 40000));
  CHECK_FALSE(isNatConfigKey("interfacePrefix"));
}

TEST_CASE("pools become two sets per family and a POSTROUTING rule, written after InSync only",
          "[nat][driver]") {
  Harness h;
  h.send({pool("v4", "10.65.0.0/16", true), pool("v4-internal", "10.66.0.0/16", false),
          pool("v6", "fd00:65::/48", true)});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.empty());
  CHECK(h.kernel.sets.empty());
  h.send({tt::inSync()});
  h.applyOk();
  CHECK(h.members("tartan-all-ipam-pools") == std::set<std::string>{"10.65.0.0/16", "10.66.0.0/16"});
  CHECK(h.members("tartan-masq-ipam-pools") == std::set<std::string>{"10.65.0.0/16"});
  CHECK(h.members("tartan6-all-ipam-pools") == std::set<std::string>{"fd00:65::/48"});
  CHECK(h.members("tartan6-masq-ipam-pools") == std::set<std::string>{"fd00:65::/48"});
  for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
    const std::string v = f == IpFamily::kV4 ? "tartan-" : "tartan6-";
    CHECK(h.rules(f, "POSTROUTING") == std::vector<std::string>{"-j tartan-POSTROUTING"});
    CHECK(h.rules(f, "tartan-POSTROUTING") == std::vector<std::string>{"-j tartan-nat-outgoing"});
    CHECK(h.rules(f, "tartan-nat-outgoing") ==
          std::vector<std::string>{"-m set --match-set " + v + "masq-ipam-pools src -m set ! --match-set " +
                                   v + "all-ipam-pools dst -j MASQUERADE"});
  }
}

TEST_CASE("pool changes are set deltas; the rule is rewritten only when it changes", "[nat][driver]") {
  Harness h;
  h.send({pool("a", "10.65.0.0/16", true), tt::inSync()});
  h.applyOk();
  const auto restores = h.kernel.restoreInputs.size();
  const auto adds = h.kernel.setOps.adds;

  // Another pool, not masquerading: one member more in the all-pools set, no transaction.
  h.send({pool("b", "10.66.0.0/16", false)});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == restores);
  CHECK(h.kernel.setOps.adds == adds + 1);
  CHECK(h.kernel.setOps.creates == 2);

  // An update that changes nothing costs nothing.
  h.send({pool("b", "10.66.0.0/16", false)});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == restores);
  CHECK(h.kernel.setOps.adds == adds + 1);

  // natOutgoingAddress changes the rule: one transaction, the nat table only.
  h.send({tt::config({{"natOutgoingAddress", "192.0.2.10"}})});
  h.applyOk();
  REQUIRE(h.kernel.restoreInputs.size() == restores + 1);
  CHECK(h.kernel.restoreInputs.back().find("*nat") != std::string::npos);
  CHECK(h.kernel.restoreInputs.back().find("*filter") == std::string::npos);
  CHECK(h.rules(IpFamily::kV4, "tartan-nat-outgoing").back().ends_with("-j SNAT --to-source 192.0.2.10"));

  // A bad value is reported and the last good one kept: nothing to write.
  h.send({tt::config({{"natOutgoingAddress", "fd00::1"}})});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == restores + 1);
}

TEST_CASE("natOutgoing true then false, then the pool deleted: the rule, jump and sets go", "[nat][driver]") {
  Harness h;
  h.send({pool("a", "10.65.0.0/16", true), pool("b", "10.66.0.0/16", false), tt::inSync()});
  h.applyOk();
  REQUIRE(h.chain(IpFamily::kV4, "tartan-nat-outgoing").size() == 1);

  h.send({pool("a", "10.65.0.0/16", false)});
  h.applyOk();
  CHECK(h.chain(IpFamily::kV4, "tartan-nat-outgoing") == std::vector<std::string>{"(absent)"});
  CHECK(h.chain(IpFamily::kV4, "tartan-POSTROUTING") == std::vector<std::string>{"(absent)"});
  CHECK(h.chain(IpFamily::kV4, "POSTROUTING").empty());
  CHECK(h.members("tartan-all-ipam-pools") == std::set<std::string>{"(absent)"});
  CHECK(h.members("tartan-masq-ipam-pools") == std::set<std::string>{"(absent)"});

  h.send({pool("a", "10.65.0.0/16", true)});
  h.applyOk();
  CHECK(h.chain(IpFamily::kV4, "tartan-nat-outgoing").size() == 1);
  h.send({poolRemove("a"), poolRemove("b")});
  h.applyOk();
  CHECK(h.chain(IpFamily::kV4, "tartan-nat-outgoing") == std::vector<std::string>{"(absent)"});
  CHECK(h.chain(IpFamily::kV4, "POSTROUTING").empty());
  CHECK(h.kernel.sets.empty());
}

TEST_CASE("a restart takes the NAT rules over in place; a stale jump of a past run is removed",
          "[nat][driver]") {
  Harness h;
  h.send({pool("a", "10.65.0.0/16", true), tt::inSync()});
  h.applyOk();
  const auto restores = h.kernel.restoreInputs.size();
  h.restart();
  h.send({pool("a", "10.65.0.0/16", true), tt::inSync()});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == restores);  // nothing rewritten
  CHECK(h.kernel.setOps.destroys == 0);

  // The pool was deleted while the agent was down: the next run removes what the last one left.
  h.kernel.appendForeignRule(IpFamily::kV4, "nat", "POSTROUTING", "-j KUBE-POSTROUTING");
  h.kernel.appendForeignRule(IpFamily::kV4, "nat", "KUBE-POSTROUTING", "-j RETURN");
  h.restart();
  h.send({tt::inSync()});
  h.applyOk();
  CHECK(h.chain(IpFamily::kV4, "POSTROUTING") == std::vector<std::string>{"-j KUBE-POSTROUTING"});
  CHECK(h.chain(IpFamily::kV4, "tartan-nat-outgoing") == std::vector<std::string>{"(absent)"});
  CHECK(h.kernel.sets.empty());
}

TEST_CASE("refresh repairs a flushed NAT chain, a removed jump and a set emptied by hand", "[nat][driver]") {
  Harness h;
  h.send({pool("a", "10.65.0.0/16", true), tt::inSync()});
  h.applyOk();
  const std::string want = h.dump();
  h.kernel.table(IpFamily::kV4, "nat").chains["tartan-nat-outgoing"].clear();
  h.kernel.table(IpFamily::kV4, "nat").chains["POSTROUTING"].clear();
  h.kernel.sets["tartan-masq-ipam-pools"].members.clear();
  REQUIRE(h.driver->refresh());
  CHECK(h.dump() == want);
  CHECK(h.driver->stats().chainRepairs == 1);
  CHECK(h.driver->stats().jumpRepairs == 1);
  CHECK(h.driver->stats().setRepairs == 1);
}

TEST_CASE("the driver's own set ids cannot be taken by an IPSetUpdate; a bad pool CIDR is left out",
          "[nat][driver]") {
  Harness h;
  h.send({tt::setUpdate("masq-ipam-pools", {"0.0.0.0/0"}), pool("bad", "10.65.0.0/33", true),
          pool("good", "10.65.0.0/16", true), tt::inSync()});
  h.applyOk();
  CHECK(h.members("tartan-masq-ipam-pools") == std::set<std::string>{"10.65.0.0/16"});
  h.send({poolRemove("good")});
  h.applyOk();
  CHECK(h.kernel.sets.empty());
}

TEST_CASE("--random-fully is used where the runner says it is supported", "[nat][driver]") {
  Harness h;
  h.kernel.randomFully = true;
  h.send({pool("a", "10.65.0.0/16", true), tt::inSync()});
  h.applyOk();
  CHECK(h.rules(IpFamily::kV4, "tartan-nat-outgoing").back().ends_with("-j MASQUERADE --random-fully"));
}

TEST_CASE("a kernel without a nat table is still policed while no pool masquerades", "[nat][driver]") {
  Harness h;
  h.kernel.unreadableTables = {"nat"};
  h.send({pool("internal", "10.66.0.0/16", false), tt::inSync()});
  h.applyOk();
  CHECK(h.kernel.restoreInputs.size() == 2);  // the filter, raw and mangle tables of each family
  // A pool that masquerades needs the nat table: the apply fails, and says why.
  h.send({pool("internal", "10.66.0.0/16", true)});
  auto refreshed = h.driver->refresh();
  REQUIRE_FALSE(refreshed.has_value());
  CHECK(refreshed.error().toString().find("Table does not exist") != std::string::npos);
}
