// Felix's filter-table verdict settings as specifications: iptablesFilterDenyAction (Drop |
// Reject) and chainInsertMode (Insert | Append), rendered through the whole driver into the fake
// kernel and checked rule by rule and against golden tables.
#include "golden.hpp"
#include "scenario.hpp"
#include "support/fake_iptables.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/dataplane/iptables/render.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <sstream>

using namespace tartan::dataplane::iptables;
namespace pb = tartan::dataplane::proto;
namespace tt = tartan::test;

namespace {

struct Node {
  tt::FakeKernel kernel;
  Driver driver{
      DriverKernel{[this](Backend, int) { return kernel.runner(); }, [this] { return kernel.ipsets(); }}};
  void send(const std::vector<pb::ToDataplane>& messages) {
    for (const auto& m : messages) driver.onMessage(m);
  }
  void applyOk() {
    auto r = driver.apply();
    INFO((r ? std::string() : r.error().toString()));
    REQUIRE(r.has_value());
  }
  std::string save(IpFamily family, const char* table) { return kernel.save(family, table); }
};

// A Deny in a doNotTrack (raw) and in a preDNAT (mangle) policy, beside the snapshot's filter ones.
pb::ToDataplane denyPolicy(const std::string& name, bool untracked) {
  pb::ToDataplane m;
  auto* u = m.mutable_active_policy_update();
  u->mutable_id()->set_tier("default");
  u->mutable_id()->set_name(name);
  (untracked ? u->mutable_policy()->set_untracked(true) : u->mutable_policy()->set_pre_dnat(true));
  auto* r = u->mutable_policy()->add_inbound_rules();
  r->set_action(pb::RULE_ACTION_DENY);
  r->mutable_protocol()->set_name("tcp");
  *r->add_dst_ports() = tt::port(7777);
  return m;
}

std::vector<pb::ToDataplane> scenario(const std::string& denyAction) {
  auto messages = tt::snapshot();
  if (!denyAction.empty())
    (*messages.front().mutable_config_update()->mutable_config())["iptablesFilterDenyAction"] = denyAction;
  messages.insert(messages.end() - 1, {denyPolicy("raw-deny", true), denyPolicy("mangle-deny", false)});
  return messages;
}

// The rules of a saved table whose target is `target`, with the rule hash comment left out.
std::vector<std::string> rulesWith(const std::string& saved, const std::string& target) {
  std::vector<std::string> out;
  std::istringstream in(saved);
  for (std::string line; std::getline(in, line);) {
    if (!line.ends_with(" " + target)) continue;
    const auto comment = line.find(" -m comment --comment \"");
    if (comment != std::string::npos) line.erase(comment, line.find('"', comment + 23) + 1 - comment);
    out.push_back(line.substr(0, line.size() - target.size()));
  }
  return out;
}

// The filter table's denies: every DROP but the workload-to-host default, which is
// defaultEndpointToHostAction's (a setting of its own, in Felix too).
std::vector<std::string> filterDenies(const std::string& saved, const std::string& target) {
  auto out = rulesWith(saved, target);
  std::erase_if(out, [](const std::string& rule) { return rule.starts_with("-A tartan-wl-to-host "); });
  return out;
}

}  // namespace

TEST_CASE("iptablesFilterDenyAction Reject: every filter-table drop rejects; raw and mangle still drop",
          "[driver][deny-action]") {
  Node drop, reject;
  drop.send(scenario(""));
  drop.applyOk();
  reject.send(scenario("Reject"));
  reject.applyOk();
  for (const IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    const std::string dropFilter = drop.save(family, "filter");
    const std::string rejectFilter = reject.save(family, "filter");
    INFO(rejectFilter);
    // The same rules at the same places, only the verdict differs: a policy's Deny, the end of a
    // tier and of the profiles, INVALID packets, unclaimed workload interfaces.
    CHECK(filterDenies(rejectFilter, "-j DROP").empty());
    CHECK(rulesWith(rejectFilter, "-j DROP") == std::vector<std::string>{"-A tartan-wl-to-host "});
    CHECK(rulesWith(rejectFilter, "-j REJECT") == filterDenies(dropFilter, "-j DROP"));
    CHECK(rulesWith(rejectFilter, "-j REJECT").size() >= 15);
    // REJECT is not valid in raw or mangle: doNotTrack and preDNAT denies drop whatever is set.
    for (const char* table : {"raw", "mangle"}) {
      CHECK(reject.save(family, table).find("-j REJECT") == std::string::npos);
      CHECK(rulesWith(reject.save(family, table), "-j DROP") ==
            rulesWith(drop.save(family, table), "-j DROP"));
      CHECK_FALSE(rulesWith(reject.save(family, table), "-j DROP").empty());
    }
  }
  // The default is Drop: the snapshot without the key renders as with "Drop".
  Node explicitDrop;
  explicitDrop.send(scenario("Drop"));
  explicitDrop.applyOk();
  CHECK(explicitDrop.save(IpFamily::kV4, "filter") == drop.save(IpFamily::kV4, "filter"));

  std::string all;
  for (const char* table : {"filter", "raw", "mangle"}) all += reject.save(IpFamily::kV4, table);
  tt::checkGolden("scenario_reject_v4.txt", all);
}

TEST_CASE("iptablesFilterDenyAction changed at run time rewrites the denies, and back",
          "[driver][deny-action]") {
  Node node;
  node.send(scenario(""));
  node.applyOk();
  const std::string before = node.save(IpFamily::kV4, "filter");
  node.send({tt::config({{"iptablesFilterDenyAction", "Reject"}})});
  node.applyOk();
  CHECK(rulesWith(node.save(IpFamily::kV4, "filter"), "-j REJECT") == filterDenies(before, "-j DROP"));
  node.send({tt::config({{"iptablesFilterDenyAction", "Drop"}})});
  node.applyOk();
  CHECK(node.save(IpFamily::kV4, "filter") == before);
}

TEST_CASE("a Deny rule renders the configured filter verdict; a rule that cannot render fails closed with it",
          "[render][deny-action]") {
  struct Case {
    const char* name;
    FilterDenyAction action;
    bool valid;
    const char* want;
  };
  const Case cases[] = {
      {"Drop, a valid rule", FilterDenyAction::kDrop, true, "-j DROP"},
      {"Reject, a valid rule", FilterDenyAction::kReject, true, "-j REJECT"},
      {"Drop, a rule with a bad CIDR", FilterDenyAction::kDrop, false, "-j DROP"},
      {"Reject, a rule with a bad CIDR", FilterDenyAction::kReject, false, "-j REJECT"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      pb::Rule rule;
      rule.set_action(pb::RULE_ACTION_DENY);
      rule.mutable_protocol()->set_name("tcp");
      rule.add_src_net(c.valid ? "10.9.0.0/16" : "10.9.0.0/99");
      RenderConfig config;
      config.filterDeny = c.action;
      const auto rules = renderRule(rule, IpFamily::kV4, config);
      REQUIRE(rules.size() == 1);
      CHECK(rules[0].action == c.want);
    }
  }
}

TEST_CASE("chainInsertMode: Append puts the jumps last, Insert first; a switch at run time moves them",
          "[driver][insert-mode]") {
  Node node;
  node.kernel.appendForeignRule(IpFamily::kV4, "filter", "FORWARD", "-j ACCEPT");
  node.kernel.appendForeignRule(IpFamily::kV4, "filter", "INPUT", "-p tcp --dport 22 -j ACCEPT");
  auto forward = [&] { return node.kernel.tables[{IpFamily::kV4, "filter"}].chains["FORWARD"]; };
  auto input = [&] { return node.kernel.tables[{IpFamily::kV4, "filter"}].chains["INPUT"]; };
  auto isJump = [](const std::string& rule, const char* target) {
    return rule.find(std::string("-j ") + target) != std::string::npos &&
           rule.find("tartan:") != std::string::npos;
  };
  auto messages = tt::snapshot();
  (*messages.front().mutable_config_update()->mutable_config())["chainInsertMode"] = "Append";
  node.send(messages);
  node.applyOk();
  REQUIRE(forward().size() == 2);
  CHECK(forward()[0] == "-j ACCEPT");
  CHECK(isJump(forward()[1], "tartan-FORWARD"));
  REQUIRE(input().size() == 2);
  CHECK(isJump(input()[1], "tartan-INPUT"));

  // Insert: moved to the top, the old jump gone.
  node.send({tt::config({{"chainInsertMode", "Insert"}})});
  node.applyOk();
  REQUIRE(forward().size() == 2);
  CHECK(isJump(forward()[0], "tartan-FORWARD"));
  CHECK(forward()[1] == "-j ACCEPT");
  CHECK(isJump(input()[0], "tartan-INPUT"));

  // And back to the end, though first would still be "present".
  node.send({tt::config({{"chainInsertMode", "Append"}})});
  node.applyOk();
  REQUIRE(forward().size() == 2);
  CHECK(forward()[0] == "-j ACCEPT");
  CHECK(isJump(forward()[1], "tartan-FORWARD"));

  // A restarted driver in either mode takes over the jump where it stands or moves it once.
  for (const char* mode : {"Append", "Insert"}) {
    Node restarted;
    restarted.kernel = node.kernel;
    auto again = tt::snapshot();
    (*again.front().mutable_config_update()->mutable_config())["chainInsertMode"] = mode;
    restarted.send(again);
    restarted.applyOk();
    const auto& rules = restarted.kernel.tables[{IpFamily::kV4, "filter"}].chains["FORWARD"];
    REQUIRE(rules.size() == 2);
    CHECK(isJump(rules[std::string(mode) == "Append" ? 1 : 0], "tartan-FORWARD"));
  }
}

namespace {

// The scenario's v4 and v6 tables (filter, raw, mangle) under the given ConfigUpdate values.
struct Rendered {
  std::map<std::string, std::string> tables;  // "v4 filter" -> iptables-save text
};
Rendered render(std::vector<std::pair<std::string, std::string>> values) {
  Node node;
  auto messages = scenario("");
  for (const auto& [key, value] : values)
    (*messages.front().mutable_config_update()->mutable_config())[key] = value;
  node.send(messages);
  node.applyOk();
  Rendered out;
  for (auto [family, tag] : {std::pair{IpFamily::kV4, "v4 "}, std::pair{IpFamily::kV6, "v6 "}})
    for (const char* table : {"filter", "raw", "mangle"})
      out.tables[tag + std::string(table)] = node.save(family, table);
  return out;
}

}  // namespace

TEST_CASE(
    "iptablesFilterAllowAction and iptablesMangleAllowAction Return: our chains end where they accepted",
    "[driver][allow-action]") {
  const Rendered accept = render({});
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> values;
    std::set<std::string> changedTables;  // of "filter", "raw", "mangle"
  };
  const Case cases[] = {
      {"filter Return", {{"iptablesFilterAllowAction", "Return"}}, {"filter"}},
      {"mangle Return", {{"iptablesMangleAllowAction", "Return"}}, {"mangle"}},
      {"both Return",
       {{"iptablesFilterAllowAction", "Return"}, {"iptablesMangleAllowAction", "Return"}},
       {"filter", "mangle"}},
      {"both Accept (the default)",
       {{"iptablesFilterAllowAction", "Accept"}, {"iptablesMangleAllowAction", "Accept"}},
       {}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const Rendered r = render(c.values);
      for (const auto& [key, saved] : r.tables) {
        INFO(key << "\n" << saved);
        const std::string table = key.substr(3);
        const auto accepts = rulesWith(accept.tables.at(key), "-j ACCEPT");
        if (c.changedTables.count(table) == 0) {
          CHECK(saved == accept.tables.at(key));
          continue;
        }
        // Every ACCEPT left is a failsafe port's (those always accept, as in Felix) ...
        for (const auto& rule : rulesWith(saved, "-j ACCEPT"))
          CHECK(rule.find("failsafe") != std::string::npos);
        // ... and every other one became a RETURN, those of endpoint chains after setting the
        // accept bit so that the top-level chain still knows the packet was allowed.
        std::size_t nonFailsafe = 0;
        for (const auto& rule : accepts)
          if (rule.find("failsafe") == std::string::npos) ++nonFailsafe;
        CHECK(nonFailsafe > 0);
        CHECK(rulesWith(saved, "-j RETURN").size() ==
              rulesWith(accept.tables.at(key), "-j RETURN").size() + nonFailsafe);
        if (table == "filter")
          for (const auto& rule : rulesWith(saved, "-j RETURN"))
            if (rule.find("--ctstate RELATED,ESTABLISHED") != std::string::npos &&
                rule.find("-A tartan-FORWARD") == std::string::npos)
              CHECK(std::find(rulesWith(saved, "-j MARK --set-xmark 0x10000/0x10000").begin(),
                              rulesWith(saved, "-j MARK --set-xmark 0x10000/0x10000").end(),
                              rule) != rulesWith(saved, "-j MARK --set-xmark 0x10000/0x10000").end());
      }
    }
  }
  std::string all;
  const Rendered both =
      render({{"iptablesFilterAllowAction", "Return"}, {"iptablesMangleAllowAction", "Return"}});
  for (const char* table : {"filter", "raw", "mangle"}) all += both.tables.at(std::string("v4 ") + table);
  tt::checkGolden("scenario_allow_return_v4.txt", all);
}

TEST_CASE("interfaceExclude: names and /regex/ entries, as Felix reads them", "[render][interface-exclude]") {
  struct Case {
    const char* text;
    bool ok;
    std::vector<std::string> excluded, kept;
  };
  const Case cases[] = {
      {"kube-ipvs0", true, {"kube-ipvs0"}, {"kube-ipvs1", "eth0", "xkube-ipvs0"}},
      {"kube-ipvs0,/^docker/", true, {"kube-ipvs0", "docker0", "docker_gwbridge"}, {"eth0", "mydocker"}},
      {"/veth/", true, {"veth1", "myveth"}, {"eth0"}},  // unanchored, as Go's MatchString
      {"", true, {}, {"kube-ipvs0", "eth0"}},
      {"/([/", false, {}, {}},
      {"a name far too long", false, {}, {}},
      {"eth0,,eth1", false, {}, {}},
  };
  for (const auto& c : cases) {
    INFO("'" << c.text << "'");
    const auto parsed = parseInterfaceExclude(c.text);
    REQUIRE(parsed.has_value() == c.ok);
    if (!c.ok) {
      CHECK(parsed.error().toString().find("interfaceExclude") != std::string::npos);
      continue;
    }
    for (const auto& name : c.excluded) CHECK(isExcludedInterface(*parsed, name));
    for (const auto& name : c.kept) CHECK_FALSE(isExcludedInterface(*parsed, name));
  }
}

TEST_CASE("interfaceExclude: an excluded interface is no host endpoint's, by name, by address or under *",
          "[driver][interface-exclude]") {
  tt::FakeKernel kernel;
  InterfaceAddresses interfaces{
      {"eth0", {"192.0.2.1"}}, {"docker0", {"192.0.2.1", "172.17.0.1"}}, {"kube-ipvs0", {"10.96.0.1"}}};
  DriverKernel edges{[&](Backend, int) { return kernel.runner(); }, [&] { return kernel.ipsets(); }};
  edges.interfaceAddresses = [&] { return interfaces; };
  Driver driver(edges);
  auto hep = [](const std::string& id, const std::string& name, std::vector<std::string> ips) {
    pb::ToDataplane m = tt::hostEndpoint();
    auto* u = m.mutable_host_endpoint_update();
    u->mutable_id()->set_endpoint_id(id);
    u->mutable_endpoint()->set_name(name);
    u->mutable_endpoint()->clear_expected_ipv4_addrs();
    for (const auto& ip : ips) u->mutable_endpoint()->add_expected_ipv4_addrs(ip);
    return m;
  };
  for (const auto& m :
       {tt::config({{"interfacePrefix", "tart"}, {"interfaceExclude", "kube-ipvs0,/^docker/"}}),
        hep("by-name", "kube-ipvs0", {}), hep("by-ip", "", {"192.0.2.1"}), hep("all", "*", {}), tt::inSync()})
    driver.onMessage(m);
  REQUIRE(driver.apply().has_value());
  const std::string filter = kernel.save(IpFamily::kV4, "filter");
  INFO(filter);
  // By address: eth0 only, though docker0 holds the same address.
  CHECK(filter.find(":tartan-fh-eth0 ") != std::string::npos);
  CHECK(filter.find("tartan-fh-docker0") == std::string::npos);
  // By name: left out.
  CHECK(filter.find("tartan-fh-kube-ipvs0") == std::string::npos);
  // Under "*": both pass by, as loopback does, before the goto to the * chain.
  CHECK(filter.find("-i kube-ipvs0") != std::string::npos);
  CHECK(filter.find("-i docker0") != std::string::npos);
}
