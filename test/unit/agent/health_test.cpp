// Readiness and the datastore: an outage withdraws readiness and says why; damaged resources
// leave the agent ready (their last valid versions are enforced) and are named; the gauges show both.
#include "health.hpp"
#include "health_server.hpp"
#include "metrics.hpp"

#include <catch2/catch.hpp>

using namespace tartan::agent;

TEST_CASE("a datastore outage withdraws readiness until it is over, and the detail says why") {
  Health health;
  CHECK_FALSE(health.ready());
  health.setReady();
  CHECK(health.ready());
  CHECK(health.readinessDetail().empty());

  health.setDatastoreOutage("/var/lib/tartan/datastore: the datastore is gone");
  CHECK_FALSE(health.ready());
  CHECK(health.readinessDetail() ==
        "datastore unavailable: /var/lib/tartan/datastore: the datastore is gone\n");

  health.setDatastoreOutage(std::nullopt);
  CHECK(health.ready());
  CHECK(health.readinessDetail().empty());
}

TEST_CASE("damaged resources leave the agent ready and are named in the readiness detail") {
  Health health;
  health.setReady();
  health.setDamaged(
      {"/d/networkpolicy/shop/a.yaml: not valid YAML; serving its last valid version (revision 3)",
       "/d/tier/t.yaml: spec.typo: unknown field; no valid version kept: not served"});
  CHECK(health.ready());
  CHECK(health.readinessDetail() ==
        "damaged resource: /d/networkpolicy/shop/a.yaml: not valid YAML; serving its last valid version "
        "(revision 3)\n"
        "damaged resource: /d/tier/t.yaml: spec.typo: unknown field; no valid version kept: not served\n");
  health.setDamaged({});
  CHECK(health.readinessDetail().empty());
}

TEST_CASE("the datastore gauges: available, and how many resources are damaged") {
  Metrics metrics;
  CHECK(metrics.render().find("\ntartan_agent_datastore_available 1\n") != std::string::npos);
  metrics.datastoreAvailable = 0;
  metrics.datastoreDamagedResources = 2;
  const std::string text = metrics.render();
  CHECK(text.find("# TYPE tartan_agent_datastore_available gauge\ntartan_agent_datastore_available 0\n") !=
        std::string::npos);
  CHECK(text.find("\ntartan_agent_datastore_damaged_resources 2\n") != std::string::npos);
}

TEST_CASE("the /readiness body says why the agent is not ready, and what is damaged while it is") {
  Health health;
  Metrics metrics;
  CHECK(respond("/readiness", health, metrics).body == "first sync not programmed yet\n");
  health.setReady();
  CHECK(respond("/readiness", health, metrics).body == "ready\n");
  health.setDatastoreOutage("/d: the datastore is gone");
  const HealthResponse outage = respond("/readiness", health, metrics);
  CHECK(outage.status == 503);
  CHECK(outage.body == "datastore unavailable: /d: the datastore is gone\n");
  health.setDatastoreOutage(std::nullopt);
  health.setDamaged({"/d/tier/t.yaml: spec.typo: unknown field; no valid version kept: not served"});
  const HealthResponse damaged = respond("/readiness", health, metrics);
  CHECK(damaged.status == 200);
  CHECK(damaged.body ==
        "ready\ndamaged resource: /d/tier/t.yaml: spec.typo: unknown field; no valid version kept: not "
        "served\n");
}
