// Rendering is pure: abstract rules and endpoints to iptables rules, checked line by line and
// against golden files of whole tables.
#include "tartan/dataplane/iptables/render.hpp"
#include "golden.hpp"
#include "scenario.hpp"
#include "support/fake_iptables.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/dataplane/iptables/table.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <catch2/catch.hpp>

using namespace tartan::dataplane::iptables;
namespace pb = tartan::dataplane::proto;
using tartan::test::port;

namespace {
std::vector<std::string> lines(const pb::Rule& rule, IpFamily family = IpFamily::kV4) {
  std::vector<std::string> out;
  for (const auto& r : renderRule(rule, family, RenderConfig{})) out.push_back(r.match + " => " + r.action);
  return out;
}
pb::Rule tcp() {
  pb::Rule r;
  r.set_action(pb::RULE_ACTION_DENY);
  r.mutable_protocol()->set_name("tcp");
  return r;
}
}  // namespace

TEST_CASE("allow sets the accept mark and returns; deny drops; pass marks and returns", "[render]") {
  pb::Rule r;
  r.set_action(pb::RULE_ACTION_ALLOW);
  CHECK(lines(r) == std::vector<std::string>{" => -j MARK --set-xmark 0x10000/0x10000",
                                             "-m mark --mark 0x10000/0x10000 => -j RETURN"});
  r.set_action(pb::RULE_ACTION_DENY);
  CHECK(lines(r) == std::vector<std::string>{" => -j DROP"});
  r.set_action(pb::RULE_ACTION_NEXT_TIER);
  CHECK(lines(r) == std::vector<std::string>{" => -j MARK --set-xmark 0x20000/0x20000",
                                             "-m mark --mark 0x20000/0x20000 => -j RETURN"});
  r.set_action(pb::RULE_ACTION_LOG);
  CHECK(lines(r) == std::vector<std::string>{" => -j LOG --log-prefix \"tartan-packet: \" --log-level 5"});
}

TEST_CASE("nets are alternatives: one iptables rule per source net of the family", "[render]") {
  auto r = tcp();
  r.add_src_net("10.0.0.0/8");
  r.add_src_net("192.168.0.0/16");
  r.add_src_net("fd00::/8");
  r.add_not_src_net("10.1.0.0/16");
  // iptables takes one -s per rule, so the exception goes through the scratch mark bit.
  CHECK(lines(r) == std::vector<std::string>{
                        " => -j MARK --set-xmark 0/0x40000",
                        "-s 10.0.0.0/8 -p tcp => -j MARK --set-xmark 0x40000/0x40000",
                        "-s 192.168.0.0/16 -p tcp => -j MARK --set-xmark 0x40000/0x40000",
                        "-m mark --mark 0x40000/0x40000 -s 10.1.0.0/16 => -j MARK --set-xmark 0/0x40000",
                        "-m mark --mark 0x40000/0x40000 => -j DROP"});
  CHECK(lines(r, IpFamily::kV6) == std::vector<std::string>{"-s fd00::/8 -p tcp => -j DROP"});
}

TEST_CASE("a lone exception fits in the rule; two exceptions, or a net with one, use the scratch mark",
          "[render]") {
  auto r = tcp();
  r.add_not_dst_net("10.1.0.0/16");
  CHECK(lines(r) == std::vector<std::string>{"-p tcp ! -d 10.1.0.0/16 => -j DROP"});
  r.add_not_dst_net("10.2.0.0/16");
  CHECK(lines(r) == std::vector<std::string>{
                        " => -j MARK --set-xmark 0/0x40000", "-p tcp => -j MARK --set-xmark 0x40000/0x40000",
                        "-m mark --mark 0x40000/0x40000 -d 10.1.0.0/16 => -j MARK --set-xmark 0/0x40000",
                        "-m mark --mark 0x40000/0x40000 -d 10.2.0.0/16 => -j MARK --set-xmark 0/0x40000",
                        "-m mark --mark 0x40000/0x40000 => -j DROP"});
  // A source exception and a destination exception are one of each: both fit.
  auto both = tcp();
  both.add_not_src_net("10.3.0.0/16");
  both.add_not_dst_net("10.4.0.0/16");
  CHECK(lines(both) == std::vector<std::string>{"-p tcp ! -s 10.3.0.0/16 ! -d 10.4.0.0/16 => -j DROP"});
}

TEST_CASE("a rule whose nets are all of the other family does not render in this family", "[render]") {
  auto r = tcp();
  r.add_dst_net("fd00::1/128");
  CHECK(lines(r, IpFamily::kV4).empty());
  r.set_ip_version(pb::IP_VERSION_V4);
  CHECK(lines(r, IpFamily::kV6).empty());
}

TEST_CASE("a /0 net is any address of its family; a /0 notNet leaves nothing to match", "[render]") {
  pb::Rule allow;
  allow.set_action(pb::RULE_ACTION_ALLOW);
  allow.add_src_net("0.0.0.0/0");
  const std::vector<std::string> allowAll{" => -j MARK --set-xmark 0x10000/0x10000",
                                          "-m mark --mark 0x10000/0x10000 => -j RETURN"};
  CHECK(lines(allow) == allowAll);
  // The other family's /0 does not open this one.
  CHECK(lines(allow, IpFamily::kV6).empty());
  allow.add_src_net("::/0");
  CHECK(lines(allow, IpFamily::kV6) == allowAll);
  // Beside narrower nets a /0 still means any address: one rule, not one per net.
  allow.add_src_net("10.0.0.0/8");
  allow.add_src_net("10.1.2.3/0");  // a zero-length prefix in any spelling
  CHECK(lines(allow) == allowAll);
  // ipBlock {cidr: 0.0.0.0/0, except: [10.1.0.0/16]}: everyone but the exception.
  pb::Rule except;
  except.set_action(pb::RULE_ACTION_ALLOW);
  except.add_src_net("0.0.0.0/0");
  except.add_not_src_net("10.1.0.0/16");
  CHECK(lines(except) == std::vector<std::string>{"! -s 10.1.0.0/16 => -j MARK --set-xmark 0x10000/0x10000",
                                                  "-m mark --mark 0x10000/0x10000 => -j RETURN"});
  // notNets 0.0.0.0/0 (or an except of the whole cidr) matches nothing in that family only.
  pb::Rule none = tcp();
  none.add_not_dst_net("0.0.0.0/0");
  CHECK(lines(none).empty());
  CHECK(lines(none, IpFamily::kV6) == std::vector<std::string>{"-p tcp => -j DROP"});
}

TEST_CASE("a rule the driver cannot render fails closed: a Deny drops everything, an Allow is left out",
          "[render]") {
  pb::Rule deny = tcp();
  deny.add_src_net("10.0.0.0/33");
  CHECK(lines(deny) == std::vector<std::string>{" => -j DROP"});
  CHECK(lines(deny, IpFamily::kV6) == std::vector<std::string>{" => -j DROP"});
  pb::Rule allow = deny;
  allow.set_action(pb::RULE_ACTION_ALLOW);
  CHECK(lines(allow).empty());
  pb::Rule badPort = tcp();
  badPort.add_dst_ports()->set_first(70000);
  badPort.mutable_dst_ports(0)->set_last(70000);
  CHECK(lines(badPort) == std::vector<std::string>{" => -j DROP"});
}

TEST_CASE("ip sets are all required; not-sets all excluded", "[render]") {
  auto r = tcp();
  r.add_src_ip_set_ids("a");
  r.add_src_ip_set_ids("b");
  r.add_not_dst_ip_set_ids("c");
  const auto out = lines(r);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "-p tcp -m set --match-set " + names::ipSet(IpFamily::kV4, "a") +
                      " src -m set --match-set " + names::ipSet(IpFamily::kV4, "b") +
                      " src -m set ! --match-set " + names::ipSet(IpFamily::kV4, "c") + " dst => -j DROP");
}

TEST_CASE("ports: ranges, multiport split at 15 slots, named ports as a further alternative", "[render]") {
  auto r = tcp();
  for (int p = 1; p <= 14; ++p) *r.add_dst_ports() = port(p);
  *r.add_dst_ports() = port(1000, 2000);  // two slots: does not fit with 14 others
  r.add_dst_named_port_ip_set_ids("np");
  *r.add_not_src_ports() = port(7);
  CHECK(lines(r) ==
        std::vector<std::string>{
            "-p tcp -m multiport ! --source-ports 7 -m multiport --destination-ports "
            "1,2,3,4,5,6,7,8,9,10,11,12,13,14 => -j DROP",
            "-p tcp -m multiport ! --source-ports 7 -m multiport --destination-ports 1000:2000 => -j DROP",
            "-p tcp -m multiport ! --source-ports 7 -m set --match-set " +
                names::ipSet(IpFamily::kV4, "np", true) + " dst,dst => -j DROP"});
}

TEST_CASE("ports without a port protocol never render (iptables would reject the batch)", "[render]") {
  pb::Rule r;
  r.set_action(pb::RULE_ACTION_DENY);
  *r.add_dst_ports() = port(80);
  CHECK(lines(r).empty());
}

TEST_CASE("ICMP type and code per family; ICMP never renders in IPv6 and vice versa", "[render]") {
  pb::Rule r;
  r.set_action(pb::RULE_ACTION_DENY);
  r.mutable_protocol()->set_name("icmp");
  r.mutable_icmp()->set_type(8);
  r.mutable_not_icmp()->set_type(0);
  CHECK(lines(r) ==
        std::vector<std::string>{"-p icmp -m icmp --icmp-type 8 -m icmp ! --icmp-type 0 => -j DROP"});
  CHECK(lines(r, IpFamily::kV6).empty());
  r.mutable_protocol()->set_name("ICMPv6");
  r.mutable_icmp()->set_code(4);
  r.clear_not_icmp();
  CHECK(lines(r, IpFamily::kV6) ==
        std::vector<std::string>{"-p ipv6-icmp -m icmp6 --icmpv6-type 8/4 => -j DROP"});
  CHECK(lines(r, IpFamily::kV4).empty());
}

TEST_CASE("notProtocol by number", "[render]") {
  pb::Rule r;
  r.set_action(pb::RULE_ACTION_DENY);
  r.mutable_not_protocol()->set_number(47);  // GRE: no name of ours, stays a number
  CHECK(lines(r) == std::vector<std::string>{"! -p 47 => -j DROP"});
  r.mutable_not_protocol()->set_number(17);
  CHECK(lines(r) == std::vector<std::string>{"! -p udp => -j DROP"});
}

TEST_CASE("every name fits the kernel's limits", "[render]") {
  const std::string longIf = "tart0123456789a";  // 15, IFNAMSIZ - 1
  for (const auto& name :
       {names::policyChain(true, std::string(300, 't'), std::string(300, 'n')),
        names::profileChain(false, "kns.x"), names::toWorkloadChain(longIf), names::fromWorkloadChain(longIf),
        names::toHostForwardChain(longIf), names::fromHostForwardChain("*"), names::toHostChain("*")})
    CHECK(name.size() <= kMaxChainNameLength);
  for (auto family : {IpFamily::kV4, IpFamily::kV6}) {
    CHECK(names::ipSet(family, std::string(500, 'x')).size() <= kMaxIpSetNameLength);
    CHECK(names::ipSetTemporary(family, "x", true).size() <= kMaxIpSetNameLength);
    CHECK(names::ipSet(family, "x") != names::ipSetTemporary(family, "x"));
    CHECK(names::ipSet(family, "x") != names::ipSet(family, "x", true));
  }
  CHECK(names::ipSet(IpFamily::kV4, "x") != names::ipSet(IpFamily::kV6, "x"));
}

TEST_CASE("the whole scenario renders to the golden tables", "[render][golden]") {
  tartan::test::FakeKernel kernel;
  DriverKernel edges{[&](Backend, int) { return kernel.runner(); }, [&] { return kernel.ipsets(); }};
  Driver driver(edges);
  for (const auto& m : tartan::test::snapshot()) driver.onMessage(m);
  REQUIRE(driver.apply().has_value());
  for (auto [family, tag] : {std::pair{IpFamily::kV4, "v4"}, std::pair{IpFamily::kV6, "v6"}}) {
    std::string all;
    for (const char* table : {"filter", "raw", "mangle"}) all += kernel.save(family, table);
    tartan::test::checkGolden(std::string("scenario_") + tag + ".txt", all);
  }
  std::string sets;
  for (const auto& [name, set] : kernel.sets) {
    sets += name + " " + set.type + (set.family == IpFamily::kV4 ? " inet" : " inet6") + ":";
    for (const auto& m : set.members) sets += " " + m;
    sets += "\n";
  }
  tartan::test::checkGolden("scenario_sets.txt", sets);
}

TEST_CASE("protocols given by number render like the same protocol by name", "[render]") {
  pb::Rule byName;
  byName.set_action(pb::RULE_ACTION_DENY);
  byName.mutable_protocol()->set_name("icmp");
  byName.mutable_icmp()->set_type(3);
  pb::Rule byNumber = byName;
  byNumber.mutable_protocol()->set_number(1);
  CHECK(lines(byNumber) == lines(byName));
  byName.clear_icmp();
  byName.mutable_protocol()->set_name("udp");
  *byName.add_dst_ports() = port(53);
  byNumber = byName;
  byNumber.mutable_protocol()->set_number(17);
  CHECK(lines(byNumber) == lines(byName));
  CHECK_FALSE(lines(byNumber).empty());
}

TEST_CASE("many workloads dispatch through a two-level tree; a few stay flat", "[render][dispatch]") {
  RenderConfig config;
  std::vector<std::string> few{"cali1", "cali2"};
  CHECK(renderWorkloadDispatch(few, config).size() == 2);

  std::vector<std::string> many;
  for (int i = 0; i < 64; ++i) many.push_back(fmt::format("cali{:x}{:03d}", i % 16, i));
  many.push_back("eth7");  // a workload without the prefix is never grouped
  auto chains = renderWorkloadDispatch(many, config);
  REQUIRE(chains.size() == 2 + 2 * 16);
  const Chain& top = chains[0];
  CHECK(top.name == names::kFromWorkloadDispatch);
  CHECK(top.rules.size() == 1 + 16 + 1);  // eth7, sixteen groups, the unclaimed-prefix drop
  CHECK(top.rules.front().match == "-i eth7");
  CHECK(top.rules.back().action == "-j DROP");
  const auto* child = &chains[2];
  CHECK(child->name == names::fromWorkloadDispatchChild("cali0"));
  CHECK(child->rules.size() == 4 + 1);
  CHECK(child->rules.back() == Rule{"", "-j DROP"});
  for (const auto& c : chains) CHECK(c.name.size() <= kMaxChainNameLength);
}

TEST_CASE("the every-interface host endpoint never covers loopback, excluded or workload interfaces",
          "[render][hep]") {
  RenderConfig config;  // interfaceExclude's default: kube-ipvs0
  auto chains = renderHostDispatch({{"*", true, false, false}, {"eth0", false, false, false}}, config);
  const Chain& from = chains.filter[0];
  REQUIRE(from.rules.size() == 5);
  CHECK(from.rules[0] == Rule{"-i eth0", "-g " + names::fromHostChain("eth0")});
  CHECK(from.rules[1] == Rule{"-i lo", "-j RETURN"});
  CHECK(from.rules[2] == Rule{"-i kube-ipvs0", "-j RETURN"});
  CHECK(from.rules[3] == Rule{"-i cali+", "-j RETURN"});
  CHECK(from.rules[4] == Rule{"", "-g tartan-fh-any-interface"});
  const Chain& forward = chains.filter[2];
  CHECK(forward.rules.back() == Rule{"", "-g tartan-fhfw-any-interface"});
  CHECK(forward.rules.size() == 4);  // eth0 has no forward policy
}

namespace {
const Chain& chainNamed(const std::vector<Chain>& chains, std::string_view name) {
  for (const auto& c : chains)
    if (c.name == name) return c;
  FAIL("no chain " << name);
  throw std::logic_error("unreachable");
}
// The position of the first rule equal to `rule`, or -1.
int indexOf(const Chain& chain, const Rule& rule) {
  for (std::size_t i = 0; i < chain.rules.size(); ++i)
    if (chain.rules[i] == rule) return static_cast<int>(i);
  return -1;
}
int indexOfAction(const Chain& chain, std::string_view action) {
  for (std::size_t i = 0; i < chain.rules.size(); ++i)
    if (chain.rules[i].action == action) return static_cast<int>(i);
  return -1;
}
const Rule kAcceptIfAccepted{"-m mark --mark 0x10000/0x10000", "-j ACCEPT"};
const std::string kClearBoth = "-j MARK --set-xmark 0x0/0x30000";
}  // namespace

TEST_CASE("doNotTrack policy does not apply to the every-interface host endpoint, as in Calico",
          "[render][hep]") {
  pb::HostEndpoint endpoint;
  auto* tier = endpoint.add_untracked_tiers();
  tier->set_name("default");
  tier->add_ingress_policies("no-track");
  endpoint.add_tiers()->CopyFrom(*tier);
  const RenderConfig config;
  CHECK(hostDispatchEntry(endpoint, "eth0").hasUntracked);
  CHECK_FALSE(renderHostEndpoint(endpoint, "eth0", IpFamily::kV4, config).raw.empty());
  CHECK_FALSE(hostDispatchEntry(endpoint, "*").hasUntracked);
  const auto all = renderHostEndpoint(endpoint, "*", IpFamily::kV4, config);
  CHECK(all.raw.empty());
  REQUIRE_FALSE(all.filter.empty());
  for (const auto& rule : all.filter[0].rules) CHECK(rule.match.find("UNTRACKED") == std::string::npos);
  const auto dispatch = renderHostDispatch({hostDispatchEntry(endpoint, "*")}, config);
  for (const auto& chain : dispatch.raw) CHECK(chain.rules.empty());
}

TEST_CASE("established workload flows are accepted at the top of tartan-FORWARD, before any dispatch",
          "[render][static]") {
  RenderConfig config;
  const auto chains = renderStaticChains(IpFamily::kV4, config);
  const Chain& forward = chainNamed(chains.filter, names::kFilterForward);
  REQUIRE(forward.rules.size() >= 2);
  CHECK(forward.rules[0] == Rule{"-i cali+ -m conntrack --ctstate RELATED,ESTABLISHED", "-j ACCEPT"});
  CHECK(forward.rules[1] == Rule{"-o cali+ -m conntrack --ctstate RELATED,ESTABLISHED", "-j ACCEPT"});
  // Traffic between host interfaces is not accepted on conntrack alone: it is not ours.
  for (const auto& rule : forward.rules)
    if (rule.match.find("ctstate") != std::string::npos) CHECK(rule.match.find("cali+") != std::string::npos);
  // Every prefix gets the shortcut.
  config.interfacePrefixes = {"cali", "tap"};
  const auto two = chainNamed(renderStaticChains(IpFamily::kV4, config).filter, names::kFilterForward);
  CHECK(indexOf(two, {"-i tap+ -m conntrack --ctstate RELATED,ESTABLISHED", "-j ACCEPT"}) <
        indexOfAction(two, "-j " + std::string(names::kFromHostForwardDispatch)));
}

TEST_CASE("a doNotTrack or preDNAT allow skips the host endpoint's later policies, never workload policy",
          "[render][static][hep]") {
  const auto chains = renderStaticChains(IpFamily::kV4, RenderConfig{});
  // filter INPUT and OUTPUT: the accept bit from raw/mangle is honoured before it is cleared.
  for (auto name : {names::kFilterInput, names::kFilterOutput}) {
    const Chain& chain = chainNamed(chains.filter, name);
    INFO(name);
    const int accept = indexOf(chain, kAcceptIfAccepted);
    REQUIRE(accept >= 0);
    CHECK(accept < indexOfAction(chain, kClearBoth));
  }
  // Workload traffic to the host leaves for its own chain before the accept bit is looked at.
  const Chain& input = chainNamed(chains.filter, names::kFilterInput);
  CHECK(indexOfAction(input, "-g " + std::string(names::kWorkloadToHost)) <
        indexOf(input, kAcceptIfAccepted));
  // FORWARD keeps the bit and skips applyOnForward ingress policy when it is set.
  const Chain& forward = chainNamed(chains.filter, names::kFilterForward);
  CHECK(indexOfAction(forward, kClearBoth) == -1);
  CHECK(indexOf(forward,
                {"-m mark --mark 0x0/0x10000", "-j " + std::string(names::kFromHostForwardDispatch)}) >= 0);
  // Workload endpoint chains clear both bits before their policies.
  pb::WorkloadEndpoint wep;
  wep.set_interface_name("tart1");
  for (const auto& c : renderWorkloadEndpoint(wep, IpFamily::kV4, RenderConfig{}))
    CHECK(indexOfAction(c, kClearBoth) >= 0);
  // mangle: a doNotTrack allow (accept bit from raw) is not subject to preDNAT policy.
  const Chain& mangle = chainNamed(chains.mangle, names::kPrerouting);
  const int accepted = indexOf(mangle, kAcceptIfAccepted);
  REQUIRE(accepted >= 0);
  CHECK(accepted < indexOfAction(mangle, kClearBoth));
  CHECK(accepted < indexOfAction(mangle, "-j " + std::string(names::kFromHostDispatch)));
  // raw clears every bit first, so nothing but our own raw/mangle verdicts can set it.
  for (auto name : {names::kPrerouting, names::kRawOutput})
    CHECK(chainNamed(chains.raw, name).rules.front().action == kClearBoth);
}

TEST_CASE("raw failsafe chains also pass the replies of failsafe connections", "[render][static][hep]") {
  RenderConfig config;
  config.failsafeInbound = {{"tcp", 22}};
  config.failsafeOutbound = {{"tcp", 2379}, {"udp", 53}};
  const auto chains = renderStaticChains(IpFamily::kV4, config);
  const Chain& rawIn = chainNamed(chains.raw, names::kFailsafeIn);
  CHECK(rawIn.rules == std::vector<Rule>{{"-p tcp -m tcp --dport 22", "-j ACCEPT"},
                                         {"-p tcp -m tcp --sport 2379", "-j ACCEPT"},
                                         {"-p udp -m udp --sport 53", "-j ACCEPT"}});
  const Chain& rawOut = chainNamed(chains.raw, names::kFailsafeOut);
  CHECK(rawOut.rules == std::vector<Rule>{{"-p tcp -m tcp --dport 2379", "-j ACCEPT"},
                                          {"-p udp -m udp --dport 53", "-j ACCEPT"},
                                          {"-p tcp -m tcp --sport 22", "-j ACCEPT"}});
  // After conntrack (filter, mangle) only the real direction: conntrack accepts the replies.
  CHECK(chainNamed(chains.filter, names::kFailsafeIn).rules.size() == 1);
  CHECK(chainNamed(chains.filter, names::kFailsafeOut).rules.size() == 2);
  CHECK(chainNamed(chains.mangle, names::kFailsafeIn).rules.size() == 1);
}

TEST_CASE("a policy chain's last Allow or Pass needs no return of its own: the chain's end returns",
          "[render][policy]") {
  pb::PolicyID id;
  id.set_tier("default");
  id.set_name("p");
  pb::Policy policy;
  pb::Rule allow = tcp();
  allow.set_action(pb::RULE_ACTION_ALLOW);
  *policy.add_inbound_rules() = allow;
  auto chains = renderPolicy(id, policy, IpFamily::kV4, RenderConfig{});
  REQUIRE(chains.size() == 2);
  CHECK(chains[0].rules == std::vector<Rule>{{"-p tcp", "-j MARK --set-xmark 0x10000/0x10000"}});
  CHECK(chains[1].rules.empty());
  // Followed by a deny, the allow must return first, or the deny would drop what it allowed.
  *policy.add_inbound_rules() = tcp();
  chains = renderPolicy(id, policy, IpFamily::kV4, RenderConfig{});
  CHECK(chains[0].rules == std::vector<Rule>{{"-p tcp", "-j MARK --set-xmark 0x10000/0x10000"},
                                             {"-m mark --mark 0x10000/0x10000", "-j RETURN"},
                                             {"-p tcp", "-j DROP"}});
  // A trailing Pass likewise.
  pb::Policy pass;
  pb::Rule p = tcp();
  p.set_action(pb::RULE_ACTION_PASS);
  *pass.add_outbound_rules() = p;
  CHECK(renderPolicy(id, pass, IpFamily::kV4, RenderConfig{})[1].rules ==
        std::vector<Rule>{{"-p tcp", "-j MARK --set-xmark 0x20000/0x20000"}});
}

TEST_CASE("failsafe ports are one multiport rule per protocol and fifteen ports", "[render][static][hep]") {
  RenderConfig config;  // Felix's defaults
  config.failsafeInbound = defaultFailsafeInbound();
  const auto chains = renderStaticChains(IpFamily::kV4, config);
  CHECK(chainNamed(chains.filter, names::kFailsafeIn).rules ==
        std::vector<Rule>{{"-p tcp -m multiport --dports 22,179,2379,2380,5473,6443,6666,6667", "-j ACCEPT"},
                          {"-p udp -m udp --dport 68", "-j ACCEPT"}});
  config.failsafeInbound.clear();
  for (int port = 1000; port < 1017; ++port) config.failsafeInbound.push_back({"tcp", port});
  config.failsafeInbound.push_back({"tcp", 1000});  // a duplicate adds nothing
  const auto many = chainNamed(renderStaticChains(IpFamily::kV4, config).filter, names::kFailsafeIn);
  REQUIRE(many.rules.size() == 2);
  CHECK(many.rules[0].match ==
        "-p tcp -m multiport --dports "
        "1000,1001,1002,1003,1004,1005,1006,1007,1008,1009,1010,1011,1012,1013,1014");
  CHECK(many.rules[1].match == "-p tcp -m multiport --dports 1015,1016");
}

TEST_CASE("a tier's policies run only until one decides; the tier returns once if one allowed",
          "[render][endpoint]") {
  pb::WorkloadEndpoint wep;
  wep.set_interface_name("tart1");
  auto* tier = wep.add_tiers();
  tier->set_name("default");
  tier->set_default_action(pb::TIER_DEFAULT_ACTION_DENY);
  for (const char* p : {"a", "b", "c"}) tier->add_ingress_policies(p);
  const auto chains = renderWorkloadEndpoint(wep, IpFamily::kV4, RenderConfig{});
  const Chain& to = chains.at(0);
  REQUIRE(to.name == names::toWorkloadChain("tart1"));
  std::vector<Rule> expected{{"-m conntrack --ctstate RELATED,ESTABLISHED", "-j ACCEPT"},
                             {"-m conntrack --ctstate INVALID", "-j DROP"},
                             {"", kClearBoth}};
  // Neither accept nor pass set: an allow or a pass in "a" skips "b" and "c".
  for (const char* p : {"a", "b", "c"})
    expected.push_back({"-m mark --mark 0x0/0x30000", "-j " + names::policyChain(true, "default", p)});
  expected.push_back({"-m mark --mark 0x10000/0x10000", "-j RETURN"});
  expected.push_back({"-m mark --mark 0x0/0x20000", "-j DROP"});  // the tier's default: no pass, no allow
  expected.push_back({"", "-j DROP"});                            // no profile allowed it
  CHECK(to.rules == expected);
}

TEST_CASE("IPv6 neighbour discovery passes host interfaces before any host endpoint policy",
          "[render][static][hep]") {
  const RenderConfig config;
  const auto v6 = renderStaticChains(IpFamily::kV6, config);
  const Rule solicitation{"-p ipv6-icmp -m icmp6 --icmpv6-type 135", "-j ACCEPT"};
  const Rule advertisement{"-p ipv6-icmp -m icmp6 --icmpv6-type 136", "-j ACCEPT"};
  const Rule routerAdvertisement{"-p ipv6-icmp -m icmp6 --icmpv6-type 134", "-j ACCEPT"};
  struct Hooked {
    const std::vector<Chain>& table;
    std::string_view chain;
    std::string_view dispatch;
  };
  for (const auto& [table, chainName, dispatch] :
       {Hooked{v6.filter, names::kFilterInput, names::kFromHostDispatch},
        Hooked{v6.filter, names::kFilterOutput, names::kToHostDispatch},
        Hooked{v6.raw, names::kPrerouting, names::kFromHostDispatch},
        Hooked{v6.raw, names::kRawOutput, names::kToHostDispatch},
        Hooked{v6.mangle, names::kPrerouting, names::kFromHostDispatch}}) {
    INFO(chainName);
    const Chain& chain = chainNamed(table, chainName);
    const int toEndpoints = indexOfAction(chain, "-j " + std::string(dispatch));
    REQUIRE(toEndpoints >= 0);
    for (const auto& rule : {solicitation, advertisement, routerAdvertisement}) {
      const int at = indexOf(chain, rule);
      CHECK(at >= 0);
      CHECK(at < toEndpoints);
    }
  }
  // Not IPv4's (ARP is not IP), and not before a workload's own chains: workloads get Felix's list.
  const auto v4 = renderStaticChains(IpFamily::kV4, config);
  CHECK(indexOf(chainNamed(v4.filter, names::kFilterInput),
                {"-p ipv6-icmp -m icmp6 --icmpv6-type 135", "-j ACCEPT"}) < 0);
  const Chain& input = chainNamed(v6.filter, names::kFilterInput);
  CHECK(indexOf(input, {"-i cali+", "-g " + std::string(names::kWorkloadToHost)}) <
        indexOf(input, solicitation));
  CHECK(indexOf(chainNamed(v6.filter, names::kWorkloadToHost), routerAdvertisement) < 0);
}

TEST_CASE("a workload's VXLAN and IP-in-IP packets are denied before its egress policy unless allowed",
          "[render][endpoint]") {
  pb::WorkloadEndpoint wep;
  wep.set_interface_name("tart1");
  const Rule vxlan{"-p udp -m udp --dport 4789", "-j DROP"};
  const Rule ipip{"-p 4", "-j DROP"};
  struct Case {
    const char* name;
    bool allowVxlan, allowIpip;
    int vxlanPort;
    const char* deny;
    std::vector<Rule> expected;  // what follows the conntrack rules and the mark clear
  };
  const Case cases[] = {
      {"by default both are dropped, as Felix's", false, false, 4789, "Drop", {vxlan, ipip}},
      {"allowVXLANPacketsFromWorkloads lets VXLAN on to policy", true, false, 4789, "Drop", {ipip}},
      {"allowIPIPPacketsFromWorkloads lets IP-in-IP on to policy", false, true, 4789, "Drop", {vxlan}},
      {"both allowed: nothing singled out", true, true, 4789, "Drop", {}},
      {"vxlanPort moves the VXLAN rule",
       false,
       true,
       8472,
       "Drop",
       {{"-p udp -m udp --dport 8472", "-j DROP"}}},
      {"the filter table's deny action is theirs",
       false,
       false,
       4789,
       "Reject",
       {{vxlan.match, "-j REJECT"}, {ipip.match, "-j REJECT"}}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      RenderConfig config;
      config.allowVxlanFromWorkloads = c.allowVxlan;
      config.allowIpipFromWorkloads = c.allowIpip;
      config.vxlanPort = c.vxlanPort;
      config.filterDeny =
          c.deny == std::string("Reject") ? FilterDenyAction::kReject : FilterDenyAction::kDrop;
      for (auto family : {IpFamily::kV4, IpFamily::kV6}) {
        const auto chains = renderWorkloadEndpoint(wep, family, config);
        const Chain& to = chains.at(0);
        const Chain& from = chains.at(1);
        REQUIRE(from.name == names::fromWorkloadChain("tart1"));
        const auto clear = std::find(from.rules.begin(), from.rules.end(), Rule{"", kClearBoth});
        REQUIRE(clear != from.rules.end());
        // Then the profiles' end (no profile: one deny), so the encapsulation rules are all between.
        CHECK(std::vector<Rule>(clear + 1, from.rules.end() - 1) == c.expected);
        // Traffic to the workload is never singled out, nor its established replies.
        CHECK(std::find_if(to.rules.begin(), to.rules.end(), [](const Rule& r) {
                return r.match.find("4789") != std::string::npos || r.match == "-p 4";
              }) == to.rules.end());
        CHECK(from.rules.front().match == "-m conntrack --ctstate RELATED,ESTABLISHED");
      }
    }
  }
}

TEST_CASE("disableConntrackInvalidCheck leaves INVALID packets to policy in every tracked endpoint chain",
          "[render][endpoint]") {
  pb::WorkloadEndpoint wep;
  wep.set_interface_name("tart1");
  pb::HostEndpoint hep;
  hep.set_name("eth0");
  auto* tier = hep.add_forward_tiers();
  tier->set_name("default");
  tier->add_ingress_policies("fwd");
  const Rule invalid{"-m conntrack --ctstate INVALID", "-j DROP"};
  for (bool disabled : {false, true}) {
    INFO("disableConntrackInvalidCheck " << disabled);
    RenderConfig config;
    config.dropInvalid = !disabled;
    std::vector<Chain> chains = renderWorkloadEndpoint(wep, IpFamily::kV4, config);
    const auto host = renderHostEndpoint(hep, "eth0", IpFamily::kV4, config);
    chains.insert(chains.end(), host.filter.begin(), host.filter.end());
    REQUIRE(chains.size() == 6);  // to/from workload, to/from host, forward to/from host
    for (const Chain& chain : chains) {
      INFO(chain.name);
      CHECK((std::find(chain.rules.begin(), chain.rules.end(), invalid) != chain.rules.end()) == !disabled);
      CHECK(chain.rules.front().match == "-m conntrack --ctstate RELATED,ESTABLISHED");
    }
  }
}

TEST_CASE("serviceLoopPrevention denies forwarded packets to service ranges after every dispatch",
          "[render][static]") {
  const std::vector<std::string> cidrs{"10.96.0.0/12", "fd00:96::/108", "192.0.2.0/24"};
  struct Case {
    const char* name;
    RenderConfig::ServiceLoop mode;
    std::vector<std::string> cidrs;
    std::vector<Rule> v4, v6;  // tartan-cidr-block's rules; none: no chain and no jump
  };
  const Case cases[] = {
      {"Drop (the default), each family its own ranges, sorted",
       RenderConfig::ServiceLoop::kDrop,
       cidrs,
       {{"-d 10.96.0.0/12", "-j DROP"}, {"-d 192.0.2.0/24", "-j DROP"}},
       {{"-d fd00:96::/108", "-j DROP"}}},
      {"Reject",
       RenderConfig::ServiceLoop::kReject,
       {"10.96.0.0/12"},
       {{"-d 10.96.0.0/12", "-j REJECT"}},
       {}},
      {"Disabled: nothing", RenderConfig::ServiceLoop::kDisabled, cidrs, {}, {}},
      {"no service ranges: nothing", RenderConfig::ServiceLoop::kDrop, {}, {}, {}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      RenderConfig config;
      config.serviceLoop = c.mode;
      config.serviceLoopCidrs = c.cidrs;
      for (auto family : {IpFamily::kV4, IpFamily::kV6}) {
        const auto& expected = family == IpFamily::kV4 ? c.v4 : c.v6;
        const auto tables = renderStaticChains(family, config);
        const auto block = std::find_if(tables.filter.begin(), tables.filter.end(),
                                        [](const Chain& ch) { return ch.name == names::kCidrBlock; });
        const auto forward = std::find_if(tables.filter.begin(), tables.filter.end(),
                                          [](const Chain& ch) { return ch.name == names::kFilterForward; });
        REQUIRE(forward != tables.filter.end());
        const Rule jump{"", "-j " + std::string(names::kCidrBlock)};
        const auto at = std::find(forward->rules.begin(), forward->rules.end(), jump);
        if (expected.empty()) {
          CHECK(block == tables.filter.end());
          CHECK(at == forward->rules.end());
          continue;
        }
        REQUIRE(block != tables.filter.end());
        CHECK(block->rules == expected);
        // After the last dispatch, just before the accept of what policy allowed.
        REQUIRE(at != forward->rules.end());
        CHECK(*(at - 1) == Rule{"", "-j " + std::string(names::kToHostForwardDispatch)});
        CHECK(at + 2 == forward->rules.end());
      }
    }
  }
}
