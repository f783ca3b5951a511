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

TEST_CASE(
    "logs, health and Prometheus go to onOperations at the first in-sync and on change, never to the "
    "dataplane") {
  Loop l;
  std::vector<OperationsConfig> applied;
  l.loop.setCommandLine({{"healthPort", "0"}});
  l.loop.onOperations([&](const OperationsConfig& o) { applied.push_back(o); });
  model::AgentConfiguration c = agentConfig("default", "cali");
  c.spec.healthPort = 9199;  // the flag beats it
  c.spec.prometheusMetricsEnabled = true;
  l.loop.process(batchOf({ns("shop"), pod("shop", "db", "10.65.0.2"), c}, true));
  REQUIRE(l.out.pop(std::chrono::milliseconds(0)));
  REQUIRE(applied.size() == 1);
  CHECK(applied[0].healthPort == 0);
  CHECK(applied[0].prometheusMetricsEnabled);

  c.spec.logSeverityScreen = "Error";
  c.spec.prometheusMetricsPort = 9192;
  l.loop.process(batchOf({c}, false));
  REQUIRE(applied.size() == 2);
  CHECK(applied[1].logSeverityScreen == "Error");
  CHECK(applied[1].prometheusMetricsPort == 9192);
  // Only operational settings changed: no ConfigUpdate for the driver.
  auto batch = l.out.pop(std::chrono::milliseconds(0));
  if (batch) {
    for (const auto& m : batch->messages) CHECK_FALSE(m.has_config_update());
  }
  l.loop.process(batchOf({c}, false));  // the same again: nothing to apply
  CHECK(applied.size() == 2);
}

TEST_CASE("cluster-wide endpoint counts tell host endpoints from workloads") {
  Loop l;
  model::HostEndpoint hep;
  hep.metadata.name = "node-2-eth0";
  hep.spec.node = "node-2";
  hep.spec.interfaceName = "eth0";
  l.loop.process(
      batchOf({ns("shop"), pod("shop", "db", "10.65.0.2"), pod("shop", "web", "10.65.0.3"), hep}, true));
  CHECK(l.metrics.clusterWorkloadEndpoints == 2);
  CHECK(l.metrics.clusterHostEndpoints == 1);
  syncer::Update gone;
  gone.key = syncer::keyOf(model::Resource(hep));
  gone.kind = model::Kind::kHostEndpoint;
  SyncerBatch removal;
  removal.updates.emplace(gone.key, gone);
  l.loop.process(std::move(removal));
  CHECK(l.metrics.clusterHostEndpoints == 0);
  CHECK(l.metrics.clusterWorkloadEndpoints == 2);
  CHECK(l.metrics.calcLatency.renderSummary("x").find("x_count 1\n") != std::string::npos);
}
