// Debian's kubectl applies crds/ to the test API server, then Calico-shaped custom resources of
// two of those kinds, and reads them back by plural and by short name: the CRDs are ones kubectl
// and an API server accept, and they serve the kinds as Calico names them.
#include "support/kube_test_client.hpp"
#include "support/kube_test_server.hpp"
#include "support/skip.hpp"
#include "tartan/crds/crds.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tartan::crds {
namespace {

using Json = nlohmann::json;

using tartan::test::kKubectl;
using Scratch = tartan::test::ScratchDir;
using Run = tartan::test::KubectlRun;

Run kubectl(const Scratch& dir, const std::vector<std::string>& args) {
  return tartan::test::runKubectl(dir, args);
}

Json getJson(const Scratch& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"get", "-o", "json"});
  const Run run = kubectl(dir, args);
  INFO(run.output);
  REQUIRE(run.status == 0);
  Json parsed = Json::parse(run.output, nullptr, false);
  REQUIRE(parsed.is_object());
  return parsed;
}

// As a Calico cluster has them: a policy of the default tier stored as default.<name>, with ports
// as numbers, ranges and names and a protocol by name; a pool with Calico's defaults written out.
const char* kResources = R"(apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata:
  name: default.allow-web
  annotations:
    projectcalico.org/metadata: '{"creationTimestamp":null}'
spec:
  tier: default
  order: 100
  selector: role == 'web'
  types: [Ingress, Egress]
  ingress:
  - action: Allow
    protocol: TCP
    source:
      nets: [10.0.0.0/8]
    destination:
      ports: [80, "8000:8080", http]
  egress:
  - action: Allow
    protocol: 17
    destination:
      ports: [53]
---
apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
  blockSize: 26
  ipipMode: Never
  vxlanMode: Always
  natOutgoing: true
  nodeSelector: all()
  allowedUses: [Workload, Tunnel]
)";

TEST_CASE("kubectl applies crds/, then Calico-shaped resources it reads back", "[crds][kubectl]") {
  if (::access(kKubectl, X_OK) != 0) {
    WARN("kubectl is not installed (scripts/install-deps installs kubernetes-client)");
    test::markSkipped();
    return;
  }
  test::KubeTestServer server;
  Scratch dir;
  server.writeKubeconfig(dir.file("kubeconfig"), "test-token");

  Run run = kubectl(dir, {"apply", "-f", std::string(TARTAN_SOURCE_DIR) + "/crds/"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  auto files = generateCrds();
  REQUIRE(files.has_value());
  for (const CrdFile& file : *files) {
    // crd.projectcalico.org_<plural>.yaml holds <plural>.crd.projectcalico.org
    const std::string plural =
        file.name.substr(file.name.find('_') + 1, file.name.size() - file.name.find('_') - 6);
    CHECK_THAT(run.output, Catch::Contains("customresourcedefinition.apiextensions.k8s.io/" + plural +
                                           ".crd.projectcalico.org created"));
  }
  // Applied again, nothing changes.
  run = kubectl(dir, {"apply", "-f", std::string(TARTAN_SOURCE_DIR) + "/crds/"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("ippools.crd.projectcalico.org unchanged"));

  const Json crds = getJson(dir, {"customresourcedefinitions"});
  CHECK(crds["items"].size() == files->size());

  run = kubectl(dir, {"apply", "-f", dir.write("resources.yaml", kResources)});
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output,
             Catch::Contains("globalnetworkpolicy.crd.projectcalico.org/default.allow-web created"));
  CHECK_THAT(run.output, Catch::Contains("ippool.crd.projectcalico.org/default-ipv4-ippool created"));

  // By the short name the CRD gives, as a person types it.
  const Json gnp = getJson(dir, {"gnp", "default.allow-web"});
  CHECK(gnp["apiVersion"] == "crd.projectcalico.org/v1");
  CHECK(gnp["spec"]["selector"] == "role == 'web'");
  CHECK(gnp["spec"]["order"] == 100);
  CHECK(gnp["spec"]["ingress"][0]["destination"]["ports"] == Json::parse(R"([80, "8000:8080", "http"])"));
  CHECK(gnp["spec"]["egress"][0]["protocol"] == 17);
  CHECK(gnp["metadata"]["annotations"]["projectcalico.org/metadata"] == R"({"creationTimestamp":null})");

  const Json pools = getJson(dir, {"ippools.crd.projectcalico.org"});
  REQUIRE(pools["items"].size() == 1);
  const Json& pool = pools["items"][0];
  CHECK(pool["metadata"]["name"] == "default-ipv4-ippool");
  CHECK(pool["spec"]["cidr"] == "192.168.0.0/16");
  CHECK(pool["spec"]["blockSize"] == 26);
  CHECK(pool["spec"]["natOutgoing"] == true);
  CHECK(pool["spec"]["allowedUses"] == Json::parse(R"(["Workload", "Tunnel"])"));

  // kubectl get shows the printer columns (an unset one empty), wide ones with -o wide.
  run = kubectl(dir, {"get", "ippools"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output, Catch::Matches("NAME +CIDR +BLOCK SIZE +NAT +DISABLED +AGE\n"
                                        "default-ipv4-ippool +192\\.168\\.0\\.0/16 +26 +true +[0-9]+s\n",
                                        Catch::CaseSensitive::Yes));
  run = kubectl(dir, {"get", "gnp", "-o", "wide"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("TIER"));
  CHECK_THAT(run.output, Catch::Contains("SELECTOR"));
  CHECK_THAT(run.output, Catch::Contains("role == 'web'"));

  // The server holds custom resources to the CRD's schema: a value outside an enum, a string
  // for a number and a field the kind does not have are refused, as the API server refuses them.
  const std::string bad = R"(apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata:
  name: default.bad
spec:
  order: high
  ingress:
  - action: Allw
)";
  run = kubectl(dir, {"apply", "-f", dir.write("bad.yaml", bad)});
  INFO(run.output);
  CHECK(run.status != 0);
  CHECK_THAT(run.output, Catch::Contains("spec.ingress[0].action: Unsupported value: \"Allw\""));
  CHECK_THAT(run.output, Catch::Contains("spec.order in body must be of type number"));
  run =
      kubectl(dir, {"apply", "-f",
                    dir.write("unknown.yaml",
                              "apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata:\n  name: extra\n"
                              "spec:\n  cidr: 10.9.0.0/16\n  colour: blue\n")});
  INFO(run.output);
  CHECK(run.status != 0);
  CHECK_THAT(run.output, Catch::Contains("unknown field \"spec.colour\""));
  CHECK(getJson(dir, {"gnp"})["items"].size() == 1);

  // The group's kinds are discoverable as kubectl lists them.
  run = kubectl(dir, {"api-resources", "--api-group=crd.projectcalico.org", "-o", "name"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("felixconfigurations.crd.projectcalico.org"));
  CHECK_THAT(run.output, Catch::Contains("ipamconfigs.crd.projectcalico.org"));
}

}  // namespace
}  // namespace tartan::crds
