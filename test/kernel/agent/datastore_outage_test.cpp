// The real tartan-agent when its file datastore fails: a policy damaged by hand across an agent
// restart, and the store's folder moved away and put back (its state first, or its YAML first).
// Security fails closed: a denied flow stays denied, an allowed established flow never drops,
// readiness says what is wrong, and what is applied once the store is back is enforced.
// Every expectation is polled with a deadline, never slept for. Needs root (CTest skip otherwise).
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_node.hpp"
#include "support/eventually.hpp"
#include "support/trusted_policies.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace tt = tartan::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tt::eventually;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Moves every entry of `from` whose name is (or, with `stateDir` false, is not) ".tartan" into `to`.
void moveEntries(const fs::path& from, const fs::path& to, bool stateDir) {
  fs::create_directories(to);
  for (const auto& entry : fs::directory_iterator(from)) {
    if ((entry.path().filename() == ".tartan") == stateDir)
      fs::rename(entry.path(), to / entry.path().filename());
  }
}

using tt::kAllowOther;
using tt::kAllowTrustedOnly;

int metric(const tt::AgentProcess& agent, const std::string& name) {
  std::string body;
  if (agent.httpGet("/metrics", &body) != 200) return -1;
  const auto at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::atoi(body.c_str() + at + name.size() + 2);
}

struct DumpLogOnFailure {
  const tt::AgentNode& n;
  ~DumpLogOnFailure() {
    if (std::uncaught_exceptions() > 0) std::cerr << "---- agent log ----\n" << n.agentLog() << "----\n";
  }
};

}  // namespace

TEST_CASE("a policy damaged by hand stays enforced across an agent restart, reported until repaired") {
  // Without root, haveNetAdmin() marks the run skipped: CTest reports SKIPPED, never a pass.
  if (!tt::haveNetAdmin()) {
    WARN("SKIPPED: kernel_agent_datastore needs root and network namespaces; nothing was tested");
    return;
  }
  tt::AgentNode n("ds");
  tt::AgentPod& trusted = n.pod("front", "trusted", "10.67.0.2", "{role: trusted}");
  tt::AgentPod& other = n.pod("front", "other", "10.67.0.3", "{role: other}");
  tt::AgentPod& server = n.pod("shop", "server", "10.67.0.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);
  n.applyPods();
  n.apply("policy", kAllowTrustedOnly);

  auto agent = std::make_unique<tt::AgentProcess>(n.node, n.agentOptions());
  DumpLogOnFailure dump{n};
  REQUIRE(agent->waitReady(90s));
  REQUIRE(eventually([&] { return tt::canConnect(*trusted.netns, server.ip, 8080); }));
  REQUIRE(eventually([&] { return !tt::canConnect(*other.netns, server.ip, 8080); }));

  // Valid YAML, invalid policy, written while the agent is down.
  CHECK(agent->stop(SIGTERM) == 0);
  const fs::path file = n.store / "networkpolicy" / "shop" / "allow-trusted-only.yaml";
  const std::string original = slurp(file);
  const auto field = original.find("ports:");
  REQUIRE(field != std::string::npos);
  std::string damaged = original;
  damaged.replace(field, 6, "portz:");  // an unknown field: the strict decode refuses it
  std::ofstream(file, std::ios::trunc) << damaged;

  agent = std::make_unique<tt::AgentProcess>(n.node, n.agentOptions());
  REQUIRE(agent->waitReady(90s));
  CHECK(metric(*agent, "tartan_agent_datastore_damaged_resources") == 1);
  CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));  // the last valid version is enforced
  CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));
  CHECK(n.agentLog().find("damaged: " + file.string()) != std::string::npos);
  auto got = n.ctl("get networkpolicy -n shop");
  CHECK(got.exitCode == 1);
  CHECK(got.output.find("damaged: " + file.string()) != std::string::npos);
  std::string readiness;
  CHECK(agent->httpGet("/readiness", &readiness) == 200);  // damage is reported, not an outage
  CHECK(readiness.find("damaged resource: " + file.string()) != std::string::npos);

  // Exactly the original bytes back: noticed, and the report clears; verdicts unchanged.
  std::ofstream(file, std::ios::trunc) << original;
  CHECK(eventually([&] { return metric(*agent, "tartan_agent_datastore_damaged_resources") == 0; }));
  CHECK(n.ctl("get networkpolicy -n shop").exitCode == 0);
  CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));
  CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));
  CHECK(agent->stop(SIGTERM) == 0);
}

TEST_CASE("the store moved away and put back, state first or YAML first: nothing opens, nothing drops") {
  // Without root, haveNetAdmin() marks the run skipped: CTest reports SKIPPED, never a pass.
  if (!tt::haveNetAdmin()) {
    WARN("SKIPPED: kernel_agent_datastore needs root and network namespaces; nothing was tested");
    return;
  }
  tt::AgentNode n("ds");
  tt::AgentPod& trusted = n.pod("front", "trusted", "10.67.1.2", "{role: trusted}");
  tt::AgentPod& other = n.pod("front", "other", "10.67.1.3", "{role: other}");
  tt::AgentPod& server = n.pod("shop", "server", "10.67.1.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);
  n.applyPods();
  n.apply("policy", kAllowTrustedOnly);

  tt::AgentProcess agent(n.node, n.agentOptions());
  DumpLogOnFailure dump{n};
  REQUIRE(agent.waitReady(90s));
  REQUIRE(eventually([&] { return !tt::canConnect(*other.netns, server.ip, 8080); }));
  const int established = tt::connectFrom(*trusted.netns, server.ip, 8080);
  REQUIRE(established >= 0);
  REQUIRE(tt::echoes(established));

  // What must hold at every step: the denied flow denied, the established allowed flow alive.
  auto holds = [&] {
    CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));
    CHECK(tt::echoes(established));
  };

  const fs::path away = n.dir / "away";
  for (const bool stateFirst : {true, false}) {
    INFO((stateFirst ? "state first" : "YAML first"));
    fs::rename(n.store, away);
    REQUIRE(eventually([&] { return agent.httpGet("/readiness") == 503; }));
    CHECK(metric(agent, "tartan_agent_datastore_available") == 0);
    std::string why;
    CHECK(agent.httpGet("/readiness", &why) == 503);
    CHECK_THAT(why, Catch::StartsWith("datastore unavailable: "));
    holds();

    if (stateFirst) {
      moveEntries(away, n.store, true);
      // The state lists files that are not back: still out, and the log says why.
      CHECK(eventually([&] { return n.agentLog().find("being restored") != std::string::npos; }));
      CHECK(agent.httpGet("/readiness") == 503);
      holds();
      moveEntries(away, n.store, false);
    } else {
      moveEntries(away, n.store, false);
      CHECK(agent.httpGet("/readiness") == 503);
      holds();
      moveEntries(away, n.store, true);
    }
    fs::remove(away);
    REQUIRE(eventually([&] { return agent.httpGet("/readiness") == 200; }));
    CHECK(metric(agent, "tartan_agent_datastore_available") == 1);
    holds();

    // Applied after the restore: enforced; and taken back.
    n.apply("allow-other", kAllowOther);
    CHECK(eventually([&] { return tt::canConnect(*other.netns, server.ip, 8080); }));
    REQUIRE(n.ctl("delete networkpolicy allow-other -n shop").exitCode == 0);
    CHECK(eventually([&] { return !tt::canConnect(*other.netns, server.ip, 8080); }));
    holds();
  }
  CHECK(n.agentLog().find("datastore unavailable") != std::string::npos);
  ::close(established);
  CHECK(agent.stop(SIGTERM) == 0);
}

TEST_CASE("an agent restarted while its store is away waits for it: the rules in place stay, not ready") {
  // Without root, haveNetAdmin() marks the run skipped: CTest reports SKIPPED, never a pass.
  if (!tt::haveNetAdmin()) {
    WARN("SKIPPED: kernel_agent_datastore needs root and network namespaces; nothing was tested");
    return;
  }
  tt::AgentNode n("ds");
  tt::AgentPod& trusted = n.pod("front", "trusted", "10.67.2.2", "{role: trusted}");
  tt::AgentPod& other = n.pod("front", "other", "10.67.2.3", "{role: other}");
  tt::AgentPod& server = n.pod("shop", "server", "10.67.2.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);
  n.applyPods();
  n.apply("policy", kAllowTrustedOnly);

  auto agent = std::make_unique<tt::AgentProcess>(n.node, n.agentOptions());
  DumpLogOnFailure dump{n};
  REQUIRE(agent->waitReady(90s));
  REQUIRE(eventually([&] { return !tt::canConnect(*other.netns, server.ip, 8080); }));
  const int established = tt::connectFrom(*trusted.netns, server.ip, 8080);
  REQUIRE(established >= 0);

  CHECK(agent->stop(SIGTERM) == 0);
  const fs::path away = n.dir / "away";
  fs::rename(n.store, away);
  agent = std::make_unique<tt::AgentProcess>(n.node, n.agentOptions());
  // Up (it answers) but not ready, and it made no new, empty store in the missing one's place.
  REQUIRE(eventually([&] { return agent->httpGet("/readiness") == 503; }));
  CHECK(eventually([&] { return metric(*agent, "tartan_agent_datastore_available") == 0; }));
  CHECK_FALSE(fs::exists(n.store));
  CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));
  CHECK(tt::echoes(established));
  CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));

  fs::rename(away, n.store);
  REQUIRE(agent->waitReady(90s));
  CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));
  CHECK(tt::echoes(established));
  ::close(established);
  CHECK(agent->stop(SIGTERM) == 0);
}
