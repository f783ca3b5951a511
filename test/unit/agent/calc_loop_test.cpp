// The calc loop: nothing before the first in-sync; then ConfigUpdate, the state and InSync.
#include "calc_loop.hpp"
#include "tartan/common/log.hpp"

#include <catch2/catch.hpp>

using namespace tartan;
using namespace tartan::agent;

namespace {

syncer::Update updateOf(model::Resource resource) {
  syncer::Update u;
  u.key = syncer::keyOf(resource);
  u.kind = model::kindOf(resource);
  u.resource = std::move(resource);
  return u;
}

SyncerBatch batchOf(std::vector<model::Resource> resources, bool inSync) {
  SyncerBatch b;
  for (auto& r : resources) {
    auto u = updateOf(std::move(r));
    b.updates.emplace(u.key, u);
    ++b.received;
  }
  b.inSync = inSync;
  return b;
}

model::KubernetesPod pod(const std::string& ns, const std::string& name, const std::string& ip) {
  model::KubernetesPod p;
  p.metadata.name = name;
  p.metadata.namespaceName = ns;
  p.metadata.labels = {{"app", name}};
  p.spec.nodeName = "node-1";
  p.status.phase = "Running";
  p.status.podIP = ip;
  return p;
}

model::KubernetesNamespace ns(const std::string& name) {
  model::KubernetesNamespace n;
  n.metadata.name = name;
  return n;
}

model::AgentConfiguration agentConfig(const std::string& name, const std::string& prefix) {
  model::AgentConfiguration c;
  c.metadata.name = name;
  c.spec.interfacePrefix = prefix;
  return c;
}

struct Loop {
  MergingQueue<SyncerBatch> in;
  MergingQueue<DataplaneBatch> out;
  Metrics metrics;
  Health health;
  CalcLoop loop{"node-1", {}, in, out, metrics, health};
};

}  // namespace

TEST_CASE("nothing reaches the dataplane before the datastore is in sync") {
  Loop l;
  l.loop.process(batchOf({ns("shop"), pod("shop", "db", "10.65.0.2")}, false));
  CHECK_FALSE(l.out.pop(std::chrono::milliseconds(0)));
}

TEST_CASE(
    "the first batch is ConfigUpdate, the whole state, then InSync; the node's prefix names interfaces") {
  Loop l;
  l.loop.process(batchOf({ns("shop"), pod("shop", "db", "10.65.0.2"), agentConfig("default", "cali"),
                          agentConfig("node.node-1", "veth")},
                         false));
  l.loop.process(batchOf({}, true));
  auto batch = l.out.pop(std::chrono::milliseconds(0));
  REQUIRE(batch);
  REQUIRE(batch->messages.size() >= 3);
  REQUIRE(batch->messages.front().has_config_update());
  CHECK(batch->messages.front().config_update().config().at("interfacePrefix") == "veth");
  CHECK(batch->messages.back().has_in_sync());
  REQUIRE(batch->config);
  CHECK(batch->config->interfacePrefix == "veth");
  bool sawEndpoint = false;
  for (const auto& m : batch->messages) {
    if (!m.has_workload_endpoint_update()) continue;
    sawEndpoint = true;
    CHECK(m.workload_endpoint_update().endpoint().interface_name() ==
          calc::CalcGraph::vethNameForWorkload("veth", "shop", "db"));
    CHECK(m.workload_endpoint_update().endpoint().ipv4_nets(0) == "10.65.0.2/32");
  }
  CHECK(sawEndpoint);
  CHECK(l.metrics.localEndpoints == 1);
  CHECK(l.metrics.datastoreUpdates == 4);
}

TEST_CASE("a configuration change after start sends a ConfigUpdate; a prefix change waits for a restart") {
  Loop l;
  l.loop.process(batchOf({ns("shop"), pod("shop", "db", "10.65.0.2")}, true));
  REQUIRE(l.out.pop(std::chrono::milliseconds(0)));
  model::AgentConfiguration c = agentConfig("default", "tap");
  c.spec.iptablesRefreshInterval = "10s";
  l.loop.process(batchOf({c}, false));
  auto batch = l.out.pop(std::chrono::milliseconds(0));
  REQUIRE(batch);
  REQUIRE(batch->messages.size() == 1);
  const auto& config = batch->messages[0].config_update().config();
  CHECK(config.at("iptablesRefreshInterval") == "10");
  CHECK(config.at("interfacePrefix") == "cali");
}

TEST_CASE("logSeverityScreen in the datastore sets the agent's log level while it runs") {
  Loop l;
  l.loop.process(batchOf({ns("shop"), pod("shop", "db", "10.65.0.2")}, true));
  REQUIRE(l.out.pop(std::chrono::milliseconds(0)));
  model::AgentConfiguration c = agentConfig("default", "cali");
  c.spec.logSeverityScreen = "Error";
  l.loop.process(batchOf({c}, false));
  CHECK(tartan::log::get("agent")->level() == spdlog::level::err);
  c.spec.logSeverityScreen = "Debug";
  l.loop.process(batchOf({c}, false));
  CHECK(tartan::log::get("datastore")->level() == spdlog::level::debug);
  tartan::log::setLevel("info");
}
