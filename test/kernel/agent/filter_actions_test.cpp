// Felix's filter-table settings with the real agent and real traffic: iptablesFilterDenyAction
// Reject makes a denied TCP connect fail at once with "connection refused" (the node answers with
// ICMP port unreachable) where Drop leaves it to time out; chainInsertMode Append puts the agent's
// jump after a rule someone else put in the node's FORWARD, so that rule decides first, and a
// switch at run time moves the jump.
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_node.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <string>

namespace tt = tartan::test;
using namespace std::chrono_literals;

namespace {

constexpr int kDenied = 7070;   // a Deny rule's port
constexpr int kAllowed = 7071;  // allowed by the policy's next rule

struct Outcome {
  int error = 0;  // 0: connected; ETIMEDOUT: no answer within the wait; else the socket's error
  std::chrono::milliseconds took{0};
};

// One TCP connect from `ns`, waiting at most `wait` for an answer.
Outcome connectOutcome(const tt::NetNamespace& ns, const std::string& ip, int port,
                       std::chrono::milliseconds wait) {
  tt::EnterNamespace in(ns);
  sockaddr_storage addr{};
  const socklen_t addrLen = tt::fillAddress(ip, port, addr);
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const auto start = std::chrono::steady_clock::now();
  Outcome out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), addrLen) != 0 && errno != EINPROGRESS) {
    out.error = errno;
  } else {
    pollfd p{fd, POLLOUT, 0};
    socklen_t len = sizeof out.error;
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1)
      out.error = ETIMEDOUT;
    else
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &out.error, &len);
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ::close(fd);
  return out;
}

std::string agentConfiguration(const std::string& extra) {
  return std::string("apiVersion: tartan.dev/v1\nkind: AgentConfiguration\nmetadata:\n  name: default\n") +
         "spec:\n  interfacePrefix: " + tt::AgentNode::kInterfacePrefix + "\n" + extra;
}

const char* kPolicy = R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: deny-7070
spec:
  selector: app == 'server'
  types: [Ingress]
  ingress:
  - action: Deny
    protocol: TCP
    destination:
      ports: [7070]
  - action: Allow
)";

}  // namespace

TEST_CASE("iptablesFilterDenyAction and chainInsertMode in real traffic", "[kernel][agent]") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("fa");
  auto& client = node.pod("apps", "client", "10.65.0.2", "{app: client}");
  auto& server = node.pod("apps", "server", "10.65.0.3", "{app: server}");
  node.applyPods();
  node.apply("policy", kPolicy);
  tt::EchoServer denied(*server.netns, "10.65.0.3", kDenied);
  tt::EchoServer allowed(*server.netns, "10.65.0.3", kAllowed);
  auto filterRules = [&] { return node.node.execOrThrow("iptables-save -t filter"); };

  SECTION("Drop (the default): a denied connect gets no answer and times out") {
    tt::AgentProcess agent(node.node, node.agentOptions());
    REQUIRE(agent.waitReady(60s));
    INFO(node.agentLog());
    REQUIRE(tt::eventually([&] { return tt::canConnect(*client.netns, "10.65.0.3", kAllowed); }, 20s));
    REQUIRE(tt::eventually([&] { return filterRules().find("7070 -j DROP") != std::string::npos; }, 20s));
    const Outcome o = connectOutcome(*client.netns, "10.65.0.3", kDenied, 1500ms);
    CHECK(o.error == ETIMEDOUT);
    CHECK(o.took >= 1400ms);
    CHECK(filterRules().find("-j REJECT") == std::string::npos);
    CHECK(agent.stop() == 0);
  }

  SECTION("Reject: a denied connect is refused at once; switching back to Drop times out again") {
    node.apply("config", agentConfiguration("  iptablesFilterDenyAction: Reject\n"));
    tt::AgentProcess agent(node.node, node.agentOptions());
    REQUIRE(agent.waitReady(60s));
    INFO(node.agentLog());
    REQUIRE(tt::eventually([&] { return tt::canConnect(*client.netns, "10.65.0.3", kAllowed); }, 20s));
    REQUIRE(tt::eventually([&] { return filterRules().find("7070 -j REJECT") != std::string::npos; }, 20s));
    for (int i = 0; i < 3; ++i) {
      const Outcome o = connectOutcome(*client.netns, "10.65.0.3", kDenied, 5000ms);
      CHECK(o.error == ECONNREFUSED);
      CHECK(o.took < 1000ms);
    }
    CHECK(tt::canConnect(*client.netns, "10.65.0.3", kAllowed));  // the allowed port still connects
    // Every other deny of the filter table rejects too: the only DROP left is the workload-to-host
    // default (defaultEndpointToHostAction, a setting of its own, as in Felix).
    {
      std::istringstream saved(filterRules());
      for (std::string line; std::getline(saved, line);)
        if (line.find("-j DROP") != std::string::npos) CHECK(line.starts_with("-A tartan-wl-to-host "));
      const std::string all = filterRules();
      const auto unclaimed = all.find("-A tartan-from-wl-dispatch -i tart+ ");
      REQUIRE(unclaimed != std::string::npos);
      CHECK(all.substr(unclaimed, all.find('\n', unclaimed) - unclaimed).find("-j REJECT") !=
            std::string::npos);
    }

    node.apply("config", agentConfiguration(""));
    REQUIRE(tt::eventually([&] { return filterRules().find("-j REJECT") == std::string::npos; }, 20s));
    const Outcome o = connectOutcome(*client.netns, "10.65.0.3", kDenied, 1500ms);
    CHECK(o.error == ETIMEDOUT);
    CHECK(agent.stop() == 0);
  }

  SECTION("Append: a FORWARD rule put there first decides before the agent's jump; Insert: the agent's") {
    // Someone else's rule: accept this flow outright.
    node.node.execOrThrow("iptables -A FORWARD -d 10.65.0.3/32 -p tcp --dport 7070 -j ACCEPT");
    node.apply("config",
               agentConfiguration("  iptablesFilterDenyAction: Reject\n  chainInsertMode: Append\n"));
    tt::AgentProcess agent(node.node, node.agentOptions());
    REQUIRE(agent.waitReady(60s));
    INFO(node.agentLog());
    REQUIRE(tt::eventually([&] { return filterRules().find("7070 -j REJECT") != std::string::npos; }, 20s));
    auto forward = [&] { return node.node.execOrThrow("iptables -S FORWARD"); };
    auto ourJumpLast = [&] {
      const std::string f = forward();
      const auto accept = f.find("--dport 7070 -j ACCEPT");
      const auto jump = f.find("-j tartan-FORWARD");
      return accept != std::string::npos && jump != std::string::npos && accept < jump;
    };
    CHECK(ourJumpLast());
    INFO(forward());
    CHECK(tt::eventually([&] { return tt::canConnect(*client.netns, "10.65.0.3", kDenied); }, 10s));

    // Insert at run time: the jump moves to the top and the policy's Deny wins.
    node.apply("config",
               agentConfiguration("  iptablesFilterDenyAction: Reject\n  chainInsertMode: Insert\n"));
    REQUIRE(tt::eventually([&] { return !ourJumpLast(); }, 20s));
    CHECK(forward().find("-A FORWARD -m comment") < forward().find("--dport 7070 -j ACCEPT"));
    CHECK(tt::eventually(
        [&] { return connectOutcome(*client.netns, "10.65.0.3", kDenied, 3000ms).error == ECONNREFUSED; },
        10s));

    // And back: one jump of ours, last again.
    node.apply("config",
               agentConfiguration("  iptablesFilterDenyAction: Reject\n  chainInsertMode: Append\n"));
    REQUIRE(tt::eventually(ourJumpLast, 20s));
    const std::string f = forward();
    CHECK(f.find("-j tartan-FORWARD") == f.rfind("-j tartan-FORWARD"));
    CHECK(tt::eventually([&] { return tt::canConnect(*client.netns, "10.65.0.3", kDenied); }, 10s));
    CHECK(agent.stop() == 0);
  }
}
