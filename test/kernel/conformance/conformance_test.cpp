// NetworkPolicy conformance on the real kernel: the upstream netpol model (x, y, z; a, b, c; 80,
// 81; TCP, UDP) on one dual-stack tartan-lab running the real tartan-agent, each case's full
// matrix against its truth table (over IPv4; the IPv6 cases over IPv6 or both); then SCTP (raw
// INIT), ICMP and ICMPv6, and connections (IPv4 and IPv6) that outlive policy updates and an agent
// restart. One lab serves the whole run; every case leaves it all-open again.
#include "cases.hpp"
#include "lab_harness.hpp"
#include "raw_probes.hpp"
#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <unistd.h>

namespace tt = tartan::test;
using namespace tartan::conformance;
using namespace std::chrono_literals;

namespace {

// The run's one lab, made on first use and taken down at exit (or when a test throws and the
// process unwinds: the Lab destructor runs `tartan-lab down`).
std::unique_ptr<Lab>& labSlot() {
  static std::unique_ptr<Lab> lab;
  return lab;
}

Lab& lab() {
  auto& slot = labSlot();
  if (!slot) {
    slot = std::make_unique<Lab>();
    const std::string settled = slot->await([](const Cell&) { return true; }, 30s, kDualStack);
    if (!settled.empty()) throw std::runtime_error("the fresh lab is not all-open:\n" + settled);
  }
  return *slot;
}

std::vector<std::string> splitDocuments(const std::string& yaml) {
  std::vector<std::string> docs;
  size_t start = 0;
  while (start < yaml.size()) {
    const size_t end = yaml.find("---\n", start);
    const std::string doc = yaml.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (doc.find_first_not_of(" \n") != std::string::npos) docs.push_back(doc);
    if (end == std::string::npos) break;
    start = end + 4;
  }
  return docs;
}

bool skipUnlessRoot(const char* what) {
  if (tt::haveNetAdmin()) return false;
  WARN(std::string(what) + " needs root and network namespaces: SKIPPED, nothing was tested");
  SUCCEED("skipped: not root");
  return true;
}

// Everything the case applied comes out again, the model's pods and namespaces go back, and the
// matrix must be all-open before the next case starts.
void cleanUp(Lab& l, const PolicyCase& c) {
  // A resource applied in several steps is deleted once (tartanctl refuses a file naming one
  // resource twice): documents are told apart by everything before their spec.
  std::map<std::string, std::string> byIdentity;
  bool edited = false;
  for (const auto& step : c.steps) {
    for (const auto& doc : splitDocuments(step.apply)) byIdentity[doc.substr(0, doc.find("\nspec:"))] = doc;
    edited = edited || !step.edit.empty();
  }
  std::string applied;
  for (const auto& [identity, doc] : byIdentity) applied += doc + "---\n";
  if (!applied.empty()) l.remove(applied);
  if (edited) l.restoreModel();
  const std::string reopened = l.await([](const Cell&) { return true; }, 10s, c.families);
  INFO("after removing the case's policies the matrix is not all-open again:\n"
       << reopened << "agent log:\n"
       << l.agentLogTail(10));
  REQUIRE(reopened.empty());
}

void runCase(const PolicyCase& c) {
  Lab& l = lab();
  const auto start = std::chrono::steady_clock::now();
  bool passed = true;
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const Step& step = c.steps[i];
    std::string mismatch;
    try {
      if (!step.edit.empty()) l.apply(step.edit);
      if (!step.apply.empty()) l.apply(step.apply);
      if (!step.remove.empty()) l.remove(step.remove);
      mismatch = l.await(step.expect, 10s, c.families);
    } catch (const std::exception& e) {
      std::printf("FAIL  %s  (step %zu: %s)\n", c.name.c_str(), i + 1, e.what());
      std::fflush(stdout);
      cleanUp(l, c);
      throw;
    }
    INFO("step " << i + 1 << " of " << c.steps.size() << ": the matrix differs from the truth table:\n"
                 << mismatch << "agent log:\n"
                 << l.agentLogTail(8));
    CHECK(mismatch.empty());
    passed = passed && mismatch.empty();
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("%s  %s  (%lld ms)\n", passed ? "PASS" : "FAIL", c.name.c_str(),
              static_cast<long long>(ms.count()));
  std::fflush(stdout);
  cleanUp(l, c);
}

}  // namespace

TEST_CASE("Kubernetes NetworkPolicy conformance: the x/y/z a/b/c model on the real agent",
          "[kernel][netpol]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  for (const auto& c : kubernetesCases()) {
    DYNAMIC_SECTION(c.name) { runCase(c); }
  }
}

TEST_CASE("Tartan/Calico policy semantics on the real agent", "[kernel][calico]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  for (const auto& c : calicoCases()) {
    DYNAMIC_SECTION(c.name) { runCase(c); }
  }
}

TEST_CASE("IPv6 NetworkPolicy semantics on the real agent (dual-stack pods)", "[kernel][ipv6]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  for (const auto& c : ipv6Cases()) {
    DYNAMIC_SECTION(c.name) { runCase(c); }
  }
}

TEST_CASE("ICMPv6 type in a GlobalNetworkPolicy: a type 128 Deny stops ping6, not ping or TCP",
          "[kernel][ipv6]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  Lab& l = lab();
  const PodRef xa{"x", "a"}, xb{"x", "b"}, xc{"x", "c"};
  REQUIRE(pingReplies(l.podNetns(xb), podIp6(xa), 900));
  REQUIRE(pingReplies(l.podNetns(xb), podIp(xa), 900));

  auto policy = [](const std::string& icmp) {
    return tartanPolicy("GlobalNetworkPolicy", "no-ping6", "",
                        R"(  selector: projectcalico.org/namespace == "x" && pod == "a"
  types: [Ingress]
  ingress:
    - action: Deny
      protocol: ICMPv6
      icmp: )" + icmp + R"(
    - action: Allow
)");
  };
  l.apply(policy("{type: 128}"));
  CHECK(l.await([](const Cell&) { return true; }, 10s, kDualStack).empty());  // TCP and UDP flow
  bool blocked = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !blocked && std::chrono::steady_clock::now() < deadline;)
    blocked = !pingReplies(l.podNetns(xb), podIp6(xa), 600);
  CHECK(blocked);
  CHECK(pingReplies(l.podNetns(xb), podIp(xa), 900));   // ICMP (v4) is another protocol
  CHECK(pingReplies(l.podNetns(xb), podIp6(xc), 900));  // x/c is not selected

  l.apply(policy("{type: 128, code: 1}"));  // an echo request has code 0: no match, Allow
  bool reopened = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !reopened && std::chrono::steady_clock::now() < deadline;)
    reopened = pingReplies(l.podNetns(xb), podIp6(xa), 600);
  CHECK(reopened);

  l.remove(policy("{type: 128}"));
  CHECK(l.await([](const Cell&) { return true; }, 10s, kDualStack).empty());
}

namespace {

// Whether the node's conntrack table holds a confirmed TCP flow from srcIp:srcPort to dstIp:port,
// i.e. whether the node forwarded that SYN (a dropped packet's entry is never confirmed).
bool nodeForwarded(Lab& l, const std::string& srcIp, uint16_t srcPort, const std::string& dstIp,
                   uint16_t port) {
  const bool v6 = srcIp.find(':') != std::string::npos;
  const auto r = tt::shell("ip netns exec " + l.nodeNetns() + " conntrack -L -f " + (v6 ? "ipv6" : "ipv4") +
                           " -p tcp -s " + srcIp + " -d " + dstIp + " --sport " + std::to_string(srcPort) +
                           " --dport " + std::to_string(port) + " 2>/dev/null");
  return r.output.find("sport=" + std::to_string(srcPort)) != std::string::npos;
}

// x/c takes only x/a; x/b sends a SYN to x/c with x/a's address as its source. The node must
// drop it as spoofed (IPv4: the agent's rp_filter=1 on the workload interface; IPv6 has no
// rp_filter sysctl, so it needs a raw-table reverse-path check, as Felix renders:
// `-A PREROUTING -i <prefix>+ -m rpfilter --invert -j DROP` in ip6tables' raw table).
void checkSpoofDropped(int family) {
  Lab& l = lab();
  const PodRef xa{"x", "a"}, xb{"x", "b"}, xc{"x", "c"};
  const std::string policy = knp("c-from-a", "x", R"(  podSelector: {matchLabels: {pod: c}}
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: a}}
)");
  l.apply(policy);
  const Families families{family};
  CHECK(l.await([&](const Cell& c) { return c.to.key() != "x/c" || c.from.key() == "x/a"; }, 10s, families)
            .empty());
  const uint16_t port = static_cast<uint16_t>(41000 + family * 100 + ::getpid() % 100);
  spoofedSyn(l.podNetns(xb), podIp(xa, family), port, podIp(xc, family), 80);
  INFO("a SYN from x/b with x/a's IPv" << family << " address was forwarded to x/c");
  CHECK_FALSE(nodeForwarded(l, podIp(xa, family), port, podIp(xc, family), 80));
  l.remove(policy);
  CHECK(l.await([](const Cell&) { return true; }, 10s, families).empty());
}

}  // namespace

TEST_CASE("IPv4 anti-spoofing: a pod cannot send with another pod's address", "[kernel][spoof]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  checkSpoofDropped(4);
}

// IPv6 has no rp_filter sysctl: the driver's reverse-path rule in raw PREROUTING drops it.
TEST_CASE("IPv6 anti-spoofing: a pod cannot send with another pod's address", "[kernel][spoof]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  checkSpoofDropped(6);
}

TEST_CASE("Log action renders a LOG rule and lets traffic continue", "[kernel][calico]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  Lab& l = lab();
  const std::string policy = tartanPolicy("NetworkPolicy", "log-all", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Log
    - action: Allow
)");
  l.apply(policy);
  CHECK(l.await([](const Cell&) { return true; }).empty());
  const std::string rules = l.iptablesSave();
  INFO(rules);
  CHECK(rules.find("-j LOG") != std::string::npos);
  l.remove(policy);
  CHECK(l.await([](const Cell&) { return true; }).empty());
}

TEST_CASE("SCTP: a raw INIT passes or drops by an SCTP port rule", "[kernel][sctp]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  Lab& l = lab();
  const PodRef xa{"x", "a"}, xb{"x", "b"}, xc{"x", "c"};
  auto arrives = [&](const PodRef& from, const PodRef& to, uint16_t port) {
    return sctpInitArrives(l.podNetns(from), podIp(from), l.podNetns(to), podIp(to), port, 600);
  };
  // No policy: an INIT reaches its destination (the probe itself works).
  REQUIRE(arrives(xb, xa, 80));

  const std::string policy = knp("a-sctp-80-from-b", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: b}}
      ports:
        - {protocol: SCTP, port: 80}
)");
  l.apply(policy);
  // x/a is isolated: its TCP and UDP ports close to everyone (the policy names SCTP only).
  const std::string isolated = l.await([](const Cell& c) { return c.to.key() != "x/a"; });
  INFO(isolated);
  CHECK(isolated.empty());
  const std::string rules = l.iptablesSave();
  INFO(rules);
  CHECK(rules.find("-p sctp") != std::string::npos);
  CHECK(arrives(xb, xa, 80));        // the allowed peer, port and protocol
  CHECK_FALSE(arrives(xb, xa, 81));  // another SCTP port
  CHECK_FALSE(arrives(xc, xa, 80));  // another peer
  CHECK(arrives(xa, xc, 80));        // x/c is not selected: open

  // endPort covers SCTP too.
  const std::string range = knp("a-sctp-80-from-b", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: b}}
      ports:
        - {protocol: SCTP, port: 81, endPort: 85}
)");
  l.apply(range);
  bool moved = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !moved && std::chrono::steady_clock::now() < deadline;)
    moved = arrives(xb, xa, 81);
  CHECK(moved);
  CHECK_FALSE(arrives(xb, xa, 80));

  l.remove(policy);
  CHECK(l.await([](const Cell&) { return true; }).empty());
  CHECK(arrives(xc, xa, 80));
}

TEST_CASE("ICMP type and code: a type 8 Deny stops ping, a code that does not match does not",
          "[kernel][calico]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  Lab& l = lab();
  const PodRef xa{"x", "a"}, xb{"x", "b"}, xc{"x", "c"};
  REQUIRE(pingReplies(l.podNetns(xb), podIp(xa), 900));

  auto policy = [](const std::string& icmp) {
    return tartanPolicy("NetworkPolicy", "no-ping", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Deny
      protocol: ICMP
      icmp: )" + icmp + R"(
    - action: Allow
)");
  };
  l.apply(policy("{type: 8}"));
  CHECK(l.await([](const Cell&) { return true; }).empty());  // TCP and UDP still flow
  bool blocked = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !blocked && std::chrono::steady_clock::now() < deadline;)
    blocked = !pingReplies(l.podNetns(xb), podIp(xa), 600);
  CHECK(blocked);
  CHECK(pingReplies(l.podNetns(xb), podIp(xc), 900));  // x/c is not selected

  l.apply(policy("{type: 8, code: 1}"));  // an echo request has code 0: no match, Allow
  bool reopened = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !reopened && std::chrono::steady_clock::now() < deadline;)
    reopened = pingReplies(l.podNetns(xb), podIp(xa), 600);
  CHECK(reopened);

  l.remove(policy("{type: 8}"));
  CHECK(l.await([](const Cell&) { return true; }).empty());
}

TEST_CASE("An established connection survives policy updates that keep it allowed, and an agent restart",
          "[kernel][restart]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  Lab& l = lab();
  HeldConnection held(l.podNetns({"x", "b"}), podIp({"x", "a"}), 80);
  HeldConnection held6(l.podNetns({"x", "b"}), podIp6({"x", "a"}), 80);
  REQUIRE(held.roundTrip(1000));
  REQUIRE(held6.roundTrip(1000));

  auto fromB = [](const Cell& c) { return c.to.key() != "x/a" || c.from.key() == "x/b"; };
  const std::string onlyB = knp("a-keeps-b", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: b}}
)");
  l.apply(onlyB);
  CHECK(l.await(fromB).empty());
  CHECK(held.roundTrip(1000));

  // An update that adds a peer and a port list keeps the held connection allowed.
  const std::string widened = knp("a-keeps-b", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: b}}
        - namespaceSelector: {matchLabels: {ns: y}}
      ports:
        - {protocol: TCP, port: 80}
        - {protocol: TCP, port: 81}
        - {protocol: UDP, port: 80}
        - {protocol: UDP, port: 81}
)");
  l.apply(widened);
  auto fromBOrY = [](const Cell& c) {
    return c.to.key() != "x/a" || c.from.key() == "x/b" || c.from.ns == "y";
  };
  CHECK(l.await(fromBOrY).empty());
  CHECK(held.roundTrip(1000));

  // While the agent is down and starting, a denied cell stays denied: a watcher connects from
  // x/c to x/a over and over and counts any handshake that completes.
  std::atomic<bool> stop{false};
  std::atomic<int> opened{0}, attempts{0};
  std::thread watcher([&] {
    while (!stop) {
      if (tcpConnects(l.podNetns({"x", "c"}), podIp({"x", "a"}), 80, 150)) ++opened;
      if (tcpConnects(l.podNetns({"x", "c"}), podIp6({"x", "a"}), 80, 150)) ++opened;
      attempts += 2;
    }
  });
  const int before = l.agentPid();
  try {
    l.restartAgent();
  } catch (...) {
    stop = true;
    watcher.join();
    throw;
  }
  stop = true;
  watcher.join();
  INFO(attempts << " connects from x/c to x/a during the restart");
  CHECK(attempts > 0);
  CHECK(opened == 0);
  CHECK(l.agentPid() != before);
  CHECK(held.roundTrip(1000));
  CHECK(held6.roundTrip(1000));
  // The new agent took the rules over: the same verdicts, no window of open or closed cells
  // that a probe right after ready would see.
  const std::string afterRestart = l.await(fromBOrY, 3s, kDualStack);
  INFO(afterRestart << l.agentLogTail(10));
  CHECK(afterRestart.empty());
  CHECK(held.roundTrip(1000));

  // And the restarted agent still follows updates.
  l.apply(onlyB);
  CHECK(l.await(fromB).empty());
  CHECK(held.roundTrip(1000));

  l.remove(onlyB);
  CHECK(l.await([](const Cell&) { return true; }).empty());
  CHECK(held.roundTrip(1000));
}

// Informational: how long one round of 288 cells takes, open and closed (never asserted).
TEST_CASE("Probe round timing, all open and all denied", "[kernel][probe]") {
  if (skipUnlessRoot("kernel_conformance")) return;
  Lab& l = lab();
  l.probe(400);
  const auto open = l.lastProbeDuration();
  std::string deny;
  for (const auto& ns : modelNamespaces())
    deny += knp("deny-all-ingress", ns, "  podSelector: {}\n  policyTypes: [Ingress]\n");
  l.apply(deny);
  // A UDP probe that happens to reuse a recent flow's source port rides that flow's conntrack
  // entry (established flows stay allowed, as in Calico): a later round settles it.
  const std::string closedDiff = l.await([](const Cell&) { return false; }, std::chrono::seconds(30));
  INFO(closedDiff << "agent log:\n" << l.agentLogTail(10));
  CHECK(closedDiff.empty());
  l.probe(400);
  const auto closed = l.lastProbeDuration();
  std::printf("probe round (288 cells, --timeout-ms 400): all open %lld ms, all denied %lld ms\n",
              static_cast<long long>(open.count()), static_cast<long long>(closed.count()));
  l.remove(deny);
  CHECK(l.await([](const Cell&) { return true; }).empty());
}
