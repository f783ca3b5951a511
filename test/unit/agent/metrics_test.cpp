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
