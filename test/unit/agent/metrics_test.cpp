// Prometheus text exposition of the agent's metrics, and what the health paths answer.
#include "metrics.hpp"
#include "health_server.hpp"

#include <tartan/common/http_get.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <sstream>

using namespace tartan::agent;

TEST_CASE("a histogram renders cumulative buckets, +Inf, sum and count") {
  Histogram h;
  h.observe(0.0005);
  h.observe(0.003);
  h.observe(0.003);
  h.observe(30);
  const std::string text = h.render("x");
  CHECK(text.find("x_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(text.find("x_bucket{le=\"0.0025\"} 1\n") != std::string::npos);
  CHECK(text.find("x_bucket{le=\"0.005\"} 3\n") != std::string::npos);
  CHECK(text.find("x_bucket{le=\"5\"} 3\n") != std::string::npos);
  CHECK(text.find("x_bucket{le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(text.find("x_count 4\n") != std::string::npos);
  CHECK(text.find("x_sum 30.006") != std::string::npos);
}

TEST_CASE("every metric has HELP and TYPE lines and a value") {
  Metrics m;
  m.datastoreUpdates = 7;
  m.ipSets = 3;
  m.applyLatency.observe(0.02);
  const std::string text = m.render();
  for (const char* name :
       {"tartan_agent_apply_seconds", "tartan_agent_resyncs_total", "tartan_agent_apply_failures_total",
        "tartan_agent_datastore_updates_total", "tartan_agent_ipsets", "tartan_agent_policy_rules",
        "tartan_agent_iptables_chains", "tartan_agent_in_sync"}) {
    INFO(name);
    CHECK(text.find(std::string("# HELP ") + name + " ") != std::string::npos);
    CHECK(text.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
  CHECK(text.find("\ntartan_agent_datastore_updates_total 7\n") != std::string::npos);
  CHECK(text.find("\ntartan_agent_ipsets 3\n") != std::string::npos);
  CHECK(text.find("# TYPE tartan_agent_apply_seconds histogram\n") != std::string::npos);
  CHECK(text.find("tartan_agent_apply_seconds_count 1\n") != std::string::npos);
  // Every line is a comment or "name[{labels}] value".
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK((line.rfind("# ", 0) == 0 || line.find(' ') != std::string::npos));
  }
}

TEST_CASE("drift repairs are one counter family labelled by kind, each kind present from the start") {
  Metrics m;
  m.jumpRepairs = 2;
  m.setRepairs = 1;
  m.nftablesRechecks = 3;
  const std::string text = m.render();
  CHECK(text.find("# TYPE tartan_agent_dataplane_repairs_total counter\n") != std::string::npos);
  CHECK(text.find("\ntartan_agent_dataplane_repairs_total{kind=\"chain\"} 0\n") != std::string::npos);
  CHECK(text.find("\ntartan_agent_dataplane_repairs_total{kind=\"jump\"} 2\n") != std::string::npos);
  CHECK(text.find("\ntartan_agent_dataplane_repairs_total{kind=\"set\"} 1\n") != std::string::npos);
  CHECK(text.find("\ntartan_agent_nftables_rechecks_total 3\n") != std::string::npos);
}

TEST_CASE("readiness is 503 until the first sync is programmed; liveness needs every loop's heartbeat") {
  Health health;
  Metrics metrics;
  CHECK(respond("/readiness", health, metrics).status == 503);
  CHECK(respond("/liveness", health, metrics).status == 503);  // no loop has run yet
  health.beat(Health::Loop::kCalc);
  CHECK(respond("/liveness", health, metrics).status == 503);
  health.beat(Health::Loop::kDataplane);
  CHECK(respond("/liveness", health, metrics).status == 200);
  CHECK_FALSE(health.live(std::chrono::steady_clock::now() + Health::kStale + std::chrono::seconds(1)));
  health.setReady();
  CHECK(respond("/readiness", health, metrics).status == 200);
  CHECK(respond("/metrics?x=1", health, metrics).contentType.find("version=0.0.4") != std::string::npos);
  CHECK(respond("/nope", health, metrics).status == 404);
}

namespace {

// One HTTP/1.0 GET to 127.0.0.1:<port>; the status code, 0 if nothing answered.
int get(uint16_t port, const std::string& path, std::string* body = nullptr) {
  auto r = tartan::httpGetLocal(port, path, std::chrono::seconds(5));
  if (body) *body = r.body;
  return r.status;
}

}  // namespace

TEST_CASE("the health server answers over HTTP on a port of its choosing") {
  Health health;
  Metrics metrics;
  HealthServer server(health, metrics);
  REQUIRE(server.start("127.0.0.1", 0));
  REQUIRE(server.port() != 0);
  CHECK(get(server.port(), "/readiness") == 503);
  health.setReady();
  CHECK(get(server.port(), "/readiness") == 200);
  std::string body;
  CHECK(get(server.port(), "/metrics", &body) == 200);
  CHECK(body.find("# TYPE tartan_agent_apply_seconds histogram") != std::string::npos);
  CHECK(get(server.port(), "/elsewhere") == 404);
  server.stop();
  CHECK(get(server.port(), "/readiness") == 0);
}

TEST_CASE("the health server reports a bad address or a taken port as an error") {
  Health health;
  Metrics metrics;
  HealthServer first(health, metrics), second(health, metrics), bad(health, metrics);
  CHECK_FALSE(bad.start("not-an-address", 0));
  REQUIRE(first.start("127.0.0.1", 0));
  const auto taken = second.start("127.0.0.1", first.port());
  REQUIRE_FALSE(taken);
  CHECK(taken.error().where == "health server");
}

TEST_CASE("Felix's metric names, types and labels stand beside Tartan's for what both measure") {
  Metrics m;
  m.localEndpoints = 4;
  m.activePolicies = 2;
  m.clusterWorkloadEndpoints = 9;
  m.clusterHostEndpoints = 1;
  m.chainsByTable[tableSlot(4, 2)] = 12;  // filter
  m.rulesByTable[tableSlot(6, 1)] = 30;   // IPv6 mangle
  m.ipSetsByVersion[0] = 5;
  m.applyFailures = 3;
  m.datastoreResyncs = 2;
  m.iptablesRestores = 8;
  m.applyLatency.observe(0.5);
  m.applyLatency.observe(0.25);
  m.calcLatency.observe(0.125);
  const std::string text = m.render();
  struct Expect {
    const char* type;  // the "# TYPE" line
    const char* sample;
  };
  const Expect expected[] = {
      {"felix_active_local_endpoints gauge", "felix_active_local_endpoints 4"},
      {"felix_active_local_policies gauge", "felix_active_local_policies 2"},
      {"felix_cluster_num_workload_endpoints gauge", "felix_cluster_num_workload_endpoints 9"},
      {"felix_cluster_num_host_endpoints gauge", "felix_cluster_num_host_endpoints 1"},
      {"felix_iptables_chains gauge", "felix_iptables_chains{ip_version=\"4\",table=\"filter\"} 12"},
      {"felix_iptables_rules gauge", "felix_iptables_rules{ip_version=\"6\",table=\"mangle\"} 30"},
      {"felix_ipsets_calico gauge", "felix_ipsets_calico{ip_version=\"4\"} 5"},
      {"felix_int_dataplane_failures counter", "felix_int_dataplane_failures 3"},
      {"felix_resyncs_started counter", "felix_resyncs_started 2"},
      {"felix_iptables_restore_calls counter", "felix_iptables_restore_calls 8"},
      {"felix_int_dataplane_apply_time_seconds summary", "felix_int_dataplane_apply_time_seconds_sum 0.75"},
      {"felix_int_dataplane_apply_time_seconds summary", "felix_int_dataplane_apply_time_seconds_count 2"},
      {"felix_calc_graph_update_time_seconds summary", "felix_calc_graph_update_time_seconds_count 1"},
  };
  for (const Expect& e : expected) {
    INFO(e.sample);
    CHECK(text.find(std::string("\n# TYPE ") + e.type + "\n") != std::string::npos);
    CHECK(text.find(std::string("\n") + e.sample + "\n") != std::string::npos);
  }
  // Every label combination is there from the start, zero until measured.
  CHECK(text.find("\nfelix_iptables_chains{ip_version=\"6\",table=\"nat\"} 0\n") != std::string::npos);
  CHECK(text.find("\nfelix_ipsets_calico{ip_version=\"6\"} 0\n") != std::string::npos);
  // A summary without quantiles, as Felix's: no buckets under Felix's name.
  CHECK(text.find("felix_int_dataplane_apply_time_seconds_bucket") == std::string::npos);
  // Felix metrics Tartan does not measure are not made up.
  CHECK(text.find("felix_ipsets_total") == std::string::npos);
  CHECK(text.find("felix_active_local_selectors") == std::string::npos);
}

TEST_CASE("process metrics are there only when enabled, read from /proc/self") {
  Metrics m;
  CHECK(m.render().find("process_") == std::string::npos);
  m.processMetrics = true;
  const std::string text = m.render();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                           "process_max_fds", "process_virtual_memory_bytes", "process_start_time_seconds"}) {
    INFO(name);
    CHECK(text.find(std::string("\n# TYPE ") + name + " ") != std::string::npos);
    CHECK(text.find(std::string("\n") + name + " ") != std::string::npos);
  }
  const auto self = readProcessStats();
  REQUIRE(self);
  CHECK(self->residentBytes > 0);
  CHECK(self->openFds >= 3);  // at least the standard streams
  CHECK(self->startTime > 1.6e9);
}

TEST_CASE("/proc/self/stat is read from the last parenthesis on, whatever the command's name") {
  // Fields 14 and 15 utime/stime (ticks), 22 starttime (ticks after boot), 23 vsize, 24 rss (pages).
  const std::string stat =
      "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 123456789 300 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto p = parseProcessStat(stat, 1.7e9, 100, 4096);
  REQUIRE(p);
  CHECK(p->cpuSeconds == Approx(3.0));
  CHECK(p->startTime == Approx(1.7e9 + 10));
  CHECK(p->virtualBytes == 123456789);
  CHECK(p->residentBytes == 300 * 4096);
  CHECK_FALSE(parseProcessStat("garbage", 0, 100, 4096));
  CHECK_FALSE(parseProcessStat("1 (x) S 1 2", 0, 100, 4096));
}

TEST_CASE("the Prometheus endpoint answers /metrics and nothing else") {
  Metrics metrics;
  CHECK(respondMetrics("/metrics", metrics).status == 200);
  CHECK(respondMetrics("/metrics", metrics).body.find("felix_active_local_endpoints") != std::string::npos);
  CHECK(respondMetrics("/liveness", metrics).status == 404);
  CHECK(respondMetrics("/readiness", metrics).status == 404);
}
