// The driver against the real kernel, inside namespaces of its own: a node namespace with three
// pod namespaces joined by veths (Calico's layout: /32 routes, proxy ARP, 169.254.1.1 gateway).
// The driver's iptables-restore processes and its libipset socket run in the node namespace;
// verdicts are proven with real TCP connections.
#include "support/netns.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/dataplane/iptables/table.hpp"
#include "tartan/dataplane/stream_codec.hpp"
#include "tartan/proto/dataplane.pb.h"
#include "traffic.hpp"
#include "unit/dataplane_iptables/scenario.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

using namespace tartan::dataplane::iptables;
using tartan::Result;
namespace pb = tartan::dataplane::proto;
namespace tt = tartan::test;

namespace {

struct Pod {
  std::unique_ptr<tt::NetNamespace> ns;
  std::string hostIf;
  std::string ip;
  std::string ip6;
};

struct Cluster {
  tt::NetNamespace node{"node"};
  Pod a, b, server;

  Cluster() {
    // Proxy ARP answers for 169.254.1.1 only if the node has a route to it elsewhere: give the
    // node namespace a default route out of an uplink (a veth whose peer stays in the node), as a real node
    // has.
    node.execOrThrow(
        "sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv6.conf.all.forwarding=1 && "
        "ip link add uplink type veth peer name uplink-peer && "
        "ip link set uplink up && ip link set uplink-peer up && "
        "ip route add default dev uplink");
    a = pod("pa", "10.77.0.1", "fd00:77::1");
    b = pod("pb", "10.77.0.2", "fd00:77::2");
    server = pod("ps", "10.77.0.3", "fd00:77::3");
  }
  Pod pod(const std::string& tag, const std::string& ip, const std::string& ip6) {
    Pod p{std::make_unique<tt::NetNamespace>(tag), "cali" + tag.substr(1) + tt::uniqueSuffix(), ip, ip6};
    tt::vethPair(node, p.hostIf, *p.ns, "eth0");
    p.ns->execOrThrow("ip addr add " + ip +
                      "/32 dev eth0 && ip route add 169.254.1.1 dev eth0 scope link && "
                      "ip route add default via 169.254.1.1 dev eth0");
    node.execOrThrow("sysctl -qw net.ipv4.conf." + p.hostIf + ".proxy_arp=1 && sysctl -qw net.ipv4.neigh." +
                     p.hostIf + ".proxy_delay=0 && ip route add " + ip + "/32 dev " + p.hostIf);
    // IPv6: the host end answers as fe80::1, the pod's gateway; a /128 route per pod.
    node.execOrThrow("ip -6 addr add fe80::1/64 dev " + p.hostIf + " nodad && ip -6 route add " + ip6 +
                     "/128 dev " + p.hostIf);
    p.ns->execOrThrow("ip -6 addr add " + ip6 +
                      "/128 dev eth0 nodad && ip -6 route add default via fe80::1 dev eth0");
    return p;
  }
};

pb::ToDataplane workload(const Pod& p, const std::string& name, bool isolated) {
  pb::ToDataplane m;
  auto* u = m.mutable_workload_endpoint_update();
  u->mutable_id()->set_orchestrator_id("k8s");
  u->mutable_id()->set_workload_id("default/" + name);
  u->mutable_id()->set_endpoint_id("eth0");
  auto* e = u->mutable_endpoint();
  e->set_name(name);
  e->set_interface_name(p.hostIf);
  e->set_state("active");
  e->add_ipv4_nets(p.ip + "/32");
  e->add_ipv6_nets(p.ip6 + "/128");
  if (isolated) {
    auto* tier = e->add_tiers();
    tier->set_name("default");
    tier->add_ingress_policies("allow-80-from-a");
  }
  e->add_profile_ids("kns.default");
  return m;
}

std::vector<pb::ToDataplane> snapshot(const Cluster& c, const std::string& backend) {
  std::vector<pb::ToDataplane> out;
  pb::ToDataplane config;
  (*config.mutable_config_update()->mutable_config())["iptablesBackend"] = backend;
  out.push_back(config);
  pb::ToDataplane set;
  set.mutable_ipset_update()->set_id("set-a");
  set.mutable_ipset_update()->set_type(pb::IP_SET_TYPE_NET);
  set.mutable_ipset_update()->add_members(c.a.ip);
  set.mutable_ipset_update()->add_members(c.a.ip6);
  out.push_back(set);
  pb::ToDataplane policy;
  auto* pu = policy.mutable_active_policy_update();
  pu->mutable_id()->set_tier("default");
  pu->mutable_id()->set_name("allow-80-from-a");
  auto* rule = pu->mutable_policy()->add_inbound_rules();
  rule->set_action(pb::RULE_ACTION_ALLOW);
  rule->mutable_protocol()->set_name("tcp");
  rule->add_src_ip_set_ids("set-a");
  auto* port = rule->add_dst_ports();
  port->set_first(80);
  port->set_last(80);
  out.push_back(policy);
  pb::ToDataplane profile;
  profile.mutable_active_profile_update()->mutable_id()->set_name("kns.default");
  profile.mutable_active_profile_update()->mutable_profile()->add_inbound_rules()->set_action(
      pb::RULE_ACTION_ALLOW);
  profile.mutable_active_profile_update()->mutable_profile()->add_outbound_rules()->set_action(
      pb::RULE_ACTION_ALLOW);
  out.push_back(profile);
  out.push_back(workload(c.a, "a", false));
  out.push_back(workload(c.b, "b", false));
  out.push_back(workload(c.server, "server", true));
  pb::ToDataplane sync;
  sync.mutable_in_sync();
  out.push_back(sync);
  return out;
}

// Runs f on this thread while it is inside the node namespace.
template <class F>
auto inNode(const Cluster& c, F&& f) {
  tt::EnterNamespace in(c.node);
  return f();
}

// The real runner, except that the port 8989 is written with an option iptables does not know, so
// that the real iptables-restore refuses that one rule with its own message and line number.
class RefusingRunner final : public RestoreRunner {
 public:
  explicit RefusingRunner(std::unique_ptr<RestoreRunner> real) : real_(std::move(real)) {}
  Result<std::string> save(IpFamily family, std::string_view table) override {
    return real_->save(family, table);
  }
  Result<void> restore(IpFamily family, std::string_view input) override {
    return real_->restore(family, poison(input));
  }
  std::vector<Result<void>> restoreEach(const std::vector<Input>& inputs) override {
    std::vector<std::string> texts;
    for (const auto& input : inputs) texts.push_back(poison(input.text));
    std::vector<Input> poisoned;
    for (std::size_t i = 0; i < inputs.size(); ++i) poisoned.push_back({inputs[i].family, texts[i]});
    return real_->restoreEach(poisoned);
  }

 private:
  static std::string poison(std::string_view input) {
    std::string out(input);
    for (auto at = out.find("8989"); at != std::string::npos; at = out.find("8989", at + 30))
      out.insert(at + 4, " --no-such-option");
    return out;
  }
  std::unique_ptr<RestoreRunner> real_;
};

pb::ToDataplane allow80FromA(bool with8989) {
  pb::ToDataplane policy;
  auto* pu = policy.mutable_active_policy_update();
  pu->mutable_id()->set_tier("default");
  pu->mutable_id()->set_name("allow-80-from-a");
  for (int port : with8989 ? std::vector<int>{80, 8989} : std::vector<int>{80}) {
    auto* rule = pu->mutable_policy()->add_inbound_rules();
    rule->set_action(pb::RULE_ACTION_ALLOW);
    rule->mutable_protocol()->set_name("tcp");
    rule->add_src_ip_set_ids("set-a");
    rule->add_dst_ports()->set_first(port);
    rule->mutable_dst_ports(0)->set_last(port);
  }
  return policy;
}

void applyOk(const Cluster& c, Driver& driver) {
  auto r = inNode(c, [&] { return driver.apply(); });
  INFO((r ? std::string() : r.error().toString()));
  REQUIRE(r.has_value());
}

}  // namespace

TEST_CASE("policy verdicts, set deltas, drift repair and restart on a real kernel", "[kernel]") {
  if (!tt::haveNetAdmin()) {
    WARN("needs root and network namespaces: skipped");
    return;
  }
  const std::string backend = GENERATE(as<std::string>{}, "NFT", "Legacy");
  const std::string save = backend == "NFT" ? "iptables-nft-save" : "iptables-legacy-save";
  INFO("backend " << backend);
  Cluster c;
  tt::EchoServer echo80(*c.server.ns, c.server.ip, 80);
  tt::EchoServer echo81(*c.server.ns, c.server.ip, 81);
  REQUIRE(tt::canConnect(*c.a.ns, c.server.ip, 80));  // the network works before any policy

  // A rule of someone else's, which must survive everything below.
  c.node.execOrThrow(save.substr(0, save.size() - 5) + " -N KUBE-TEST && " + save.substr(0, save.size() - 5) +
                     " -A FORWARD -p udp --dport 9999 -j KUBE-TEST");

  auto driver = std::make_unique<Driver>();
  for (const auto& m : snapshot(c, backend)) driver->onMessage(m);
  applyOk(c, *driver);

  SECTION("allow TCP 80 from set A, deny the rest") {
    CHECK(tt::canConnect(*c.a.ns, c.server.ip, 80));
    CHECK_FALSE(tt::canConnect(*c.a.ns, c.server.ip, 81));
    CHECK_FALSE(tt::canConnect(*c.b.ns, c.server.ip, 80));
    CHECK(tt::canConnect(*c.b.ns, c.a.ip, 80) == false);  // nothing listens on A: refused, not hung
    CHECK(c.node.execOrThrow("ipset list -n").find(names::ipSet(IpFamily::kV4, "set-a")) !=
          std::string::npos);
  }

  SECTION("the same policy holds over IPv6, through ip6tables and the IPv6 set") {
    tt::EchoServer echo6(*c.server.ns, c.server.ip6, 80);
    CHECK(tt::canConnect(*c.a.ns, c.server.ip6, 80));
    CHECK_FALSE(tt::canConnect(*c.b.ns, c.server.ip6, 80));
    CHECK(c.node.execOrThrow("ipset list -n").find(names::ipSet(IpFamily::kV6, "set-a")) !=
          std::string::npos);
  }

  SECTION("a set delta flips the verdict; established connections stay up") {
    int established = tt::connectFrom(*c.a.ns, c.server.ip, 80);
    REQUIRE(established >= 0);
    pb::ToDataplane delta;
    delta.mutable_ipset_delta_update()->set_id("set-a");
    delta.mutable_ipset_delta_update()->add_added_members(c.b.ip);
    delta.mutable_ipset_delta_update()->add_removed_members(c.a.ip);
    const auto restores = driver->stats().restores;
    driver->onMessage(delta);
    applyOk(c, *driver);
    CHECK(driver->stats().restores == restores);  // members only: no iptables write
    CHECK(tt::canConnect(*c.b.ns, c.server.ip, 80));
    CHECK_FALSE(tt::canConnect(*c.a.ns, c.server.ip, 80));
    CHECK(tt::echoes(established));  // conntrack keeps the allowed flow
    ::close(established);
  }

  SECTION("a chain removed by hand is repaired by the refresh") {
    c.node.execOrThrow(save.substr(0, save.size() - 5) + " -F tartan-to-wl-dispatch && " +
                       save.substr(0, save.size() - 5) + " -F " + names::toWorkloadChain(c.server.hostIf) +
                       " && " + save.substr(0, save.size() - 5) + " -X " +
                       names::toWorkloadChain(c.server.hostIf));
    CHECK(tt::canConnect(*c.b.ns, c.server.ip, 80));  // drift: the server is open
    auto r = inNode(c, [&] { return driver->refresh(); });
    REQUIRE(r.has_value());
    CHECK_FALSE(tt::canConnect(*c.b.ns, c.server.ip, 80));
    CHECK(tt::canConnect(*c.a.ns, c.server.ip, 80));
  }

  SECTION("a chain the kernel refuses is quarantined as a DROP; the rest of the change lands") {
    DriverKernel kernel;
    kernel.restoreRunner = [](Backend b, int timeout) {
      return std::make_unique<RefusingRunner>(makeExecRestoreRunner(b, timeout));
    };
    driver = std::make_unique<Driver>(kernel);
    for (const auto& m : snapshot(c, backend)) driver->onMessage(m);
    applyOk(c, *driver);  // takes over what the first driver wrote
    tt::EchoServer echoB(*c.b.ns, c.b.ip, 80);
    REQUIRE(tt::canConnect(*c.a.ns, c.b.ip, 80));  // B is not isolated yet
    // One batch: the policy gains a rule the kernel refuses, and B's endpoint is isolated by it.
    driver->onMessage(allow80FromA(true));
    pb::ToDataplane isolateB = workload(c.b, "b", true);
    driver->onMessage(isolateB);
    auto failed = inNode(c, [&] { return driver->apply(); });
    CHECK_FALSE(failed.has_value());
    CHECK(driver->stats().quarantined == 2);  // the chain of each family
    applyOk(c, *driver);                      // everything else, with the policy's chain closed
    const Table* filter = driver->table(IpFamily::kV4, "filter");
    REQUIRE(filter->quarantined().size() == 1);
    CHECK(filter->quarantined().begin()->first == names::policyChain(true, "default", "allow-80-from-a"));
    CHECK_FALSE(tt::canConnect(*c.a.ns, c.server.ip, 80));  // closed, not open
    CHECK_FALSE(tt::canConnect(*c.a.ns, c.b.ip, 80));       // B's isolation landed with it
    // The policy as it was: the quarantine lifts and A reaches the server again.
    driver->onMessage(allow80FromA(false));
    applyOk(c, *driver);
    CHECK(filter->quarantined().empty());
    CHECK(tt::canConnect(*c.a.ns, c.server.ip, 80));
    CHECK(tt::canConnect(*c.a.ns, c.b.ip, 80));
  }

  SECTION("a restarted driver takes over in place: nothing rewritten, flows survive") {
    int established = tt::connectFrom(*c.a.ns, c.server.ip, 80);
    REQUIRE(established >= 0);
    const std::string before = c.node.execOrThrow(save + " | grep -v '^#' | sed 's/\\[[0-9:]*\\]//'");
    driver.reset();
    driver = std::make_unique<Driver>();
    for (const auto& m : snapshot(c, backend)) driver->onMessage(m);
    applyOk(c, *driver);
    CHECK(driver->stats().restores == 0);
    CHECK(c.node.execOrThrow(save + " | grep -v '^#' | sed 's/\\[[0-9:]*\\]//'") == before);
    CHECK(tt::echoes(established));
    CHECK_FALSE(tt::canConnect(*c.b.ns, c.server.ip, 80));
    ::close(established);
  }

  // Whatever happened above, the foreign rule and chain are still there.
  const std::string after = c.node.execOrThrow(save + " -t filter");
  CHECK(after.find("-A FORWARD -p udp -m udp --dport 9999 -j KUBE-TEST") != std::string::npos);
  CHECK(after.find(":KUBE-TEST") != std::string::npos);
}

TEST_CASE("the driver runs out of process, fed frames over a pipe", "[kernel][stream]") {
  if (!tt::haveNetAdmin()) {
    WARN("needs root and network namespaces: skipped");
    return;
  }
  const char* bin = std::getenv("TARTAN_BINARY_DIR");
  REQUIRE(bin != nullptr);
  Cluster c;
  tt::EchoServer echo80(*c.server.ns, c.server.ip, 80);
  std::string frames;
  for (const auto& m : snapshot(c, "Auto")) tartan::dataplane::appendFrame(m, frames);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tartan-dp-stream-" + tt::uniqueSuffix())).string();
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/in", std::ios::binary) << frames; }
  tt::shellOrThrow("cat " + dir + "/in | ip netns exec " + c.node.name() + " " + bin +
                   "/dataplane-iptables/tartan-dataplane-iptables --log-level warn > " + dir + "/out");
  std::ifstream outFile(dir + "/out", std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(outFile)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);

  tartan::dataplane::FrameDecoder decoder;
  decoder.feed(out);
  int up = 0;
  bool processInSync = false;
  pb::FromDataplane report;
  while (*decoder.next(report)) {
    if (report.has_workload_endpoint_status_update() &&
        report.workload_endpoint_status_update().status().status() == "up")
      ++up;
    if (report.has_process_status_update()) processInSync = report.process_status_update().in_sync();
  }
  CHECK(up == 3);
  CHECK(processInSync);
  // The rules stay after the process exits: the verdicts hold.
  CHECK(tt::canConnect(*c.a.ns, c.server.ip, 80));
  CHECK_FALSE(tt::canConnect(*c.b.ns, c.server.ip, 80));
  // IPv6 was programmed too, through ip6tables.
  CHECK(c.node.execOrThrow("ip6tables-nft-save -t filter").find(":tartan-FORWARD") != std::string::npos);
}

// Every kind of rule the renderer produces (multiport, set matches, named ports, ICMP and
// ICMPv6, LOG, CT --notrack, goto dispatch, host endpoints in raw and mangle) must be accepted by
// the real iptables and ip6tables of both backends, and must read back with the same hashes.
TEST_CASE("the full unit-test scenario programs and reads back on the real kernel", "[kernel][scenario]") {
  if (!tt::haveNetAdmin()) {
    WARN("needs root and network namespaces: skipped");
    return;
  }
  const std::string backend = GENERATE(as<std::string>{}, "NFT", "Legacy");
  INFO("backend " << backend);
  tt::NetNamespace node("scen");
  tt::EnterNamespace in(node);
  auto messages = tt::snapshot();
  (*messages.front().mutable_config_update()->mutable_config())["iptablesBackend"] = backend;
  Driver first;
  for (const auto& m : messages) first.onMessage(m);
  auto r = first.apply();
  INFO((r ? std::string() : r.error().toString()));
  REQUIRE(r.has_value());
  CHECK(first.stats().restores == 2);
  Driver second;
  for (const auto& m : messages) second.onMessage(m);
  REQUIRE(second.apply().has_value());
  CHECK(second.stats().restores == 0);  // every hash read back equal
}
