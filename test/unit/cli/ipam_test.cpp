// tartanctl ipam through its binary, on a file datastore that IPAM itself filled: two nodes, a
// block of /29s, one address borrowed, one leaked, one endpoint address never allocated. Show's
// tables are compared with golden files in calicoctl's layout; check, release and configure
// with what they print and what they leave in the store.
#include "ctl.hpp"

#include "tartan/datastore/datastore.hpp"
#include "tartan/ipam/ipam.hpp"
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>

using namespace tartan;
using namespace tartan::test::cli;

namespace {

template <class T>
void put(datastore::Datastore& store, const T& resource) {
  const datastore::Key key{std::string(model::kindName(T::kKind)), resource.metadata.namespaceName,
                           resource.metadata.name};
  REQUIRE(store.apply(key, model::encodeYaml(model::Resource{resource})));
}

void putPool(datastore::Datastore& store, const std::string& name, const std::string& cidr, int blockSize) {
  model::IPPool pool;
  pool.metadata.name = name;
  pool.spec.cidr = cidr;
  pool.spec.blockSize = blockSize;
  model::Resource r{pool};
  model::applyDefaults(r);
  put(store, std::get<model::IPPool>(r));
}

void putEndpoint(datastore::Datastore& store, const std::string& pod, std::vector<std::string> nets) {
  model::WorkloadEndpoint w;
  w.metadata.name = "node-k8s-" + pod + "-eth0";
  w.metadata.namespaceName = "default";
  w.spec.orchestrator = "k8s";
  w.spec.node = "node";
  w.spec.pod = pod;
  w.spec.endpoint = "eth0";
  w.spec.interfaceName = "cali" + pod;
  w.spec.ipNetworks = std::move(nets);
  put(store, w);
}

std::string assign(ipam::Ipam& client, const std::string& node, const std::string& pod, bool v6 = false) {
  ipam::AutoAssignArgs args;
  args.num4 = 1;
  args.num6 = v6 ? 1 : 0;
  args.handleID = ipam::podHandleID(pod);
  args.hostname = node;
  args.attributes = {{"namespace", "default"}, {"pod", pod}, {"node", node}};
  auto r = client.autoAssign(args);
  REQUIRE(r.has_value());
  return r->ipv4.at(0) + (v6 ? " " + r->ipv6.at(0) : "");
}

// node-a: a1 (and an IPv6 address), a2, a3 in 10.65.0.0/29; node-b, one block at most: b1..b8
// fill 10.65.0.8/29 and b9 borrows 10.65.0.3 from node-a. Every pod has its endpoint but a3;
// "stray" has an endpoint whose address was never allocated.
void populate(const Ctl& ctl) {
  auto opened = datastore::open("file:" + ctl.store().string());
  REQUIRE(opened.has_value());
  datastore::Datastore& store = **opened;
  putPool(store, "v4", "10.65.0.0/24", 29);
  putPool(store, "v6", "fd00:10::/64", 122);
  model::IPAMConfiguration config;
  config.metadata.name = "default";
  config.spec.maxBlocksPerHost = 1;
  put(store, config);
  ipam::Ipam client(store);
  CHECK(assign(client, "node-a", "a1", true) == "10.65.0.0 fd00:10::");
  CHECK(assign(client, "node-a", "a2") == "10.65.0.1");
  CHECK(assign(client, "node-a", "a3") == "10.65.0.2");
  for (int i = 1; i <= 9; ++i) {
    const std::string pod = "b" + std::to_string(i);
    const std::string ip = assign(client, "node-b", pod);
    CHECK(ip == (i <= 8 ? "10.65.0." + std::to_string(7 + i) : "10.65.0.3"));
    putEndpoint(store, pod, {ip + "/32"});
  }
  putEndpoint(store, "a1", {"10.65.0.0/32", "fd00:10::/128"});
  putEndpoint(store, "a2", {"10.65.0.1/32"});
  putEndpoint(store, "stray", {"10.65.0.200/32"});
}

// The golden file's text; with TARTAN_UPDATE_GOLDENS set, `actual` is written there first (and
// is then looked over before it is committed).
std::string golden(const std::string& name, const std::string& actual) {
  const std::string path = source("test/unit/cli/testdata/ipam/" + name);
  if (std::getenv("TARTAN_UPDATE_GOLDENS") != nullptr) std::ofstream(path) << actual;
  return slurp(path);
}

std::string lastLine(const std::string& text) {
  const auto end = text.find_last_not_of('\n');
  const auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

TEST_CASE("ipam show prints calicoctl's usage tables", "[unit][cli]") {
  Ctl ctl("tartanctl-ipam");
  populate(ctl);
  const std::pair<const char*, const char*> rows[] = {
      {"ipam show", "show.txt"},
      {"ipam show --show-blocks", "show-blocks.txt"},
      {"ipam show --show-borrowed", "show-borrowed.txt"},
      {"ipam show --show-configuration", "show-configuration.txt"},
  };
  for (const auto& [args, file] : rows) {
    INFO(args);
    Run run = ctl(args);
    CHECK(run.status == 0);
    CHECK(run.err.empty());
    CHECK(run.out == golden(file, run.out));
  }
}

TEST_CASE("ipam show --ip says what holds an address", "[unit][cli]") {
  Ctl ctl("tartanctl-ipam");
  populate(ctl);
  Run held = ctl("ipam show --ip=10.65.0.3");
  CHECK(held.status == 0);
  CHECK(held.out ==
        "IP 10.65.0.3 is in use\nHandle ID: k8s-pod-network.b9\nActive Owner Attributes:\n"
        "  namespace: default\n  node: node-b\n  pod: b9\n");
  Run free = ctl("ipam show --ip=10.65.0.77");
  CHECK(free.status == 0);
  CHECK(free.out == "10.65.0.77 is not assigned\n");
  Run bad = ctl("ipam show --ip=10.65.0");
  CHECK(bad.status == 1);
  CHECK(bad.err == "tartanctl: --ip \"10.65.0\": not an IP address\n");
}

TEST_CASE("ipam check reports the leaked and the unallocated address, and exits 0 as calicoctl",
          "[unit][cli]") {
  Ctl ctl("tartanctl-ipam");
  populate(ctl);
  Run run = ctl("ipam check --show-problem-ips -o " + (ctl.dir() / "report.json").string());
  CHECK(run.status == 0);
  CHECK(run.out == golden("check.txt", run.out));
  auto report = nlohmann::json::parse(slurp(ctl.dir() / "report.json"));
  CHECK(report["version"] == "0.1.0");
  CHECK(report["allocations"].size() == 13);
  CHECK(report["allocations"]["10.65.0.2"][0]["inUse"] == false);
  CHECK(report["allocations"]["10.65.0.2"][0]["handle"] == "k8s-pod-network.a3");
  CHECK(report["allocations"]["10.65.0.3"][0]["borrowed"] == true);
  CHECK(report["allocations"]["10.65.0.3"][0]["owners"][0] == "Workload(default/node-k8s-b9-eth0)");
  CHECK_FALSE(report.contains("leakedHandles"));

  Run all = ctl("ipam check --show-all-ips");
  CHECK(all.status == 0);
  CHECK(all.out == golden("check-all.txt", all.out));
}

TEST_CASE("ipam release frees one address, or what a report found leaked when the store is locked",
          "[unit][cli]") {
  Ctl ctl("tartanctl-ipam");
  populate(ctl);
  const std::string report = (ctl.dir() / "report.json").string();

  SECTION("one address") {
    Run released = ctl("ipam release --ip=10.65.0.2");
    CHECK(released.status == 0);
    CHECK(released.out == "Successfully released IP address 10.65.0.2\n");
    Run again = ctl("ipam release --ip=10.65.0.2");
    CHECK(again.status == 1);
    CHECK(again.err == "tartanctl: IP address 10.65.0.2 is not assigned\n");
    CHECK(lastLine(ctl("ipam check").out) == "Check complete; found 1 problems.");
    CHECK(ctl("ipam release").status == 1);
  }

  SECTION("from a report, with --force while the store is not locked") {
    REQUIRE(ctl("ipam check -o " + report).status == 0);
    Run refused = ctl("ipam release --from-report=" + report);
    CHECK(refused.status == 1);
    CHECK(refused.err ==
          "tartanctl: data store is not locked. Either lock the data store, or re-run with --force\n");
    Run forced = ctl("ipam release --from-report=" + report + " --force");
    CHECK(forced.status == 0);
    CHECK(forced.out ==
          "WARNING: Data store is not locked. Ignoring due to --force option\n"
          "Releasing 1 old IPs...\nReleased 1 IPs successfully\n"
          "Report didn't contain any handles to clean up.\nYou may now unlock the data store.\n");
    Run after = ctl("ipam check");
    CHECK(lastLine(after.out) == "Check complete; found 1 problems.");
    CHECK(ctl("ipam show --ip=10.65.0.2").out == "10.65.0.2 is not assigned\n");
  }

  SECTION("from a report of a locked store, refused when stale or another cluster's") {
    const std::string locked =
        "apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\n"
        "spec:\n  clusterGUID: 4a1c2b\n  datastoreReady: false\n";
    REQUIRE(ctl("apply -f -", locked).status == 0);
    REQUIRE(ctl("ipam check -o " + report).status == 0);
    // Re-applied: a new revision of ClusterInformation, so the report is stale.
    REQUIRE(ctl("apply -f -", locked + "  clusterType: k8s\n").status == 0);
    Run stale = ctl("ipam release --from-report=" + report);
    CHECK(stale.status == 1);
    CHECK(stale.err.find("the provided reports are all stale") != std::string::npos);
    REQUIRE(ctl("ipam check -o " + report).status == 0);
    Run released = ctl("ipam release --from-report=" + report);
    CHECK(released.status == 0);
    CHECK(released.out.find("Released 1 IPs successfully\n") != std::string::npos);
    REQUIRE(ctl("apply -f -",
                "apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\n"
                "spec:\n  clusterGUID: other\n  datastoreReady: false\n")
                .status == 0);
    Run other = ctl("ipam release --from-report=" + report + " --force");
    CHECK(other.status == 1);
    CHECK(other.err == "tartanctl: cluster does not match the provided report (" + report +
                           "): mismatched cluster GUID. Refusing to release\n");
    ctl.file("broken.json", "{\"allocations\": []}");
    Run broken = ctl("ipam release --from-report=" + (ctl.dir() / "broken.json").string());
    CHECK(broken.status == 1);
    CHECK(broken.err ==
          "tartanctl: " + (ctl.dir() / "broken.json").string() + ": allocations: not an object\n");
  }
}

TEST_CASE("ipam configure sets strictAffinity and maxBlocksPerHost, refusing what calicoctl refuses",
          "[unit][cli]") {
  Ctl ctl("tartanctl-ipam");
  Run set = ctl("ipam configure --strictaffinity=true --max-blocks-per-host=4");
  CHECK(set.status == 0);
  CHECK(set.out == "Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 4\n");
  Run shown = ctl("ipam show --show-configuration");
  CHECK(shown.out.find("| StrictAffinity     | true  |") != std::string::npos);
  CHECK(shown.out.find("| MaxBlocksPerHost   | 4     |") != std::string::npos);
  CHECK(ctl("ipam configure --strictaffinity=F").out == "Successfully set StrictAffinity to: false\n");
  CHECK(ctl("get ipamconfigurations default -o yaml").out.find("maxBlocksPerHost: 4") != std::string::npos);

  const std::pair<const char*, const char*> refused[] = {
      {"ipam configure", "tartanctl: at least one configuration option must be specified\n"},
      {"ipam configure --strictaffinity=yes",
       "tartanctl: --strictaffinity \"yes\": invalid value. Use true or false to set strictaffinity\n"},
      {"ipam configure --max-blocks-per-host=four",
       "tartanctl: --max-blocks-per-host \"four\": invalid value for maxblockhost. Use a valid number\n"},
      {"ipam configure --max-blocks-per-host=-1",
       "tartanctl: Invalid: IPAMConfiguration/default: maxBlocksPerHost must not be negative\n"},
  };
  for (const auto& [args, error] : refused) {
    INFO(args);
    Run run = ctl(args);
    CHECK(run.status == 1);
    CHECK(run.err == error);
  }
}
