// Calico's etcd v3 layout, as pure functions: each key's place, each place's key, and IPAM values
// in libcalico-go's JSON, both ways.
#include "etcd_layout.hpp"
#include "tartan/datastore/etcd_datastore.hpp"
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace tartan::datastore::etcd {
namespace {

const std::string kV3 = "/calico/resources/v3/projectcalico.org/";
const std::string kIpam = "/calico/ipam/v2/";

TEST_CASE("every kind has Calico's key, and the key reads back as the same resource", "[unit]") {
  struct Row {
    const char* rule;
    Key key;
    std::vector<std::string> paths;  // the written one first
  };
  std::vector<Row> rows = {
      {"a default-tier policy is written default.<name>, its bare name read too",
       {"GlobalNetworkPolicy", "", "allow"},
       {kV3 + "globalnetworkpolicies/default.allow", kV3 + "globalnetworkpolicies/allow"}},
      {"another tier's policy keeps its name",
       {"GlobalNetworkPolicy", "", "sec.allow"},
       {kV3 + "globalnetworkpolicies/sec.allow"}},
      {"a namespaced kind has its namespace in the key",
       {"NetworkPolicy", "prod", "web"},
       {kV3 + "networkpolicies/prod/default.web", kV3 + "networkpolicies/prod/web"}},
      {"AgentConfiguration is Felix's",
       {"AgentConfiguration", "", "default"},
       {kV3 + "felixconfigurations/default"}},
      {"IPPool", {"IPPool", "", "pool-1"}, {kV3 + "ippools/pool-1"}},
      {"Node", {"Node", "", "node-1"}, {kV3 + "nodes/node-1"}},
      {"WorkloadEndpoint",
       {"WorkloadEndpoint", "prod", "node--1-k8s-web-eth0"},
       {kV3 + "workloadendpoints/prod/node--1-k8s-web-eth0"}},
      {"an IPv4 block", {"IPAMBlock", "", "10-65-0-0-26"}, {kIpam + "assignment/ipv4/block/10.65.0.0-26"}},
      {"an IPv6 block", {"IPAMBlock", "", "fd00-1---122"}, {kIpam + "assignment/ipv6/block/fd00:1::-122"}},
      {"a host affinity",
       {"BlockAffinity", "", "node-1-10-65-0-0-26"},
       {kIpam + "host/node-1/ipv4/block/10.65.0.0-26"}},
      {"a handle", {"IPAMHandle", "", "k8s-pod-network.abc"}, {kIpam + "handle/k8s-pod-network.abc"}},
      {"the IPAM configuration", {"IPAMConfiguration", "", "default"}, {kIpam + "config"}},
      {"a Kubernetes kind Calico does not keep in etcd",
       {"KubernetesPod", "prod", "web-0"},
       {"/calico/tartan/v1/kubernetes/pods/prod/web-0"}},
  };
  for (const Row& row : rows) {
    INFO(row.rule);
    auto paths = pathsOf(row.key);
    REQUIRE(paths.has_value());
    CHECK(*paths == row.paths);
    for (const std::string& path : row.paths) CHECK(keyOf(path) == row.key);
  }
}

TEST_CASE("keys that are not resources are not read; bad keys have no place", "[unit]") {
  for (const char* path : {"/calico/felix/v2/no-region/host/node-1/status", "/calico/bgp/v1/global/as_num",
                           "/calico/resources/v3/projectcalico.org/unknowns/x",
                           "/calico/resources/v3/projectcalico.org/networkpolicies/x",
                           "/calico/ipam/v2/host/node-1/ipv4/block/not-a-cidr", "/registry/pods/default/x"}) {
    INFO(path);
    CHECK_FALSE(keyOf(path));
  }
  for (const Key& key : std::vector<Key>{{"NetworkPolicy", "", "x"},
                                         {"GlobalNetworkPolicy", "prod", "x"},
                                         {"GlobalNetworkPolicy", "", "a/b"},
                                         {"IPAMConfiguration", "", "other"},
                                         {"IPAMBlock", "", "not-a-block"},
                                         {"Bogus", "", "x"}}) {
    INFO(key.toString());
    CHECK_FALSE(pathsOf(key).has_value());
  }
  // An IPv6 affinity's node and CIDR cannot be split by its name alone: the store looks.
  CHECK(pathsOf(Key{"BlockAffinity", "", "node-1-fd00-1---122"})->empty());
}

TEST_CASE("IPAM values are libcalico-go's JSON and read back to the same resource", "[unit]") {
  const std::string block = R"(apiVersion: tartan.dev/v1
kind: IPAMBlock
metadata:
  name: 10-65-0-0-30
spec:
  cidr: 10.65.0.0/30
  affinity: host:node-1
  allocations: [0, null, null, null]
  unallocated: [1, 2, 3]
  attributes:
  - handle_id: k8s-pod-network.abc
    secondary:
      node: node-1
  sequenceNumber: 3
  sequenceNumberForAllocation:
    "0": 2
)";
  Key key{"IPAMBlock", "", "10-65-0-0-30"};
  auto value = encodeValue(key, block, nullptr);
  REQUIRE(value);
  auto json = nlohmann::json::parse(*value);
  CHECK(json["cidr"] == "10.65.0.0/30");
  CHECK(json["affinity"] == "host:node-1");
  CHECK(json["allocations"] == nlohmann::json::parse("[0,null,null,null]"));
  CHECK(json["attributes"][0]["handle_id"] == "k8s-pod-network.abc");
  CHECK(json["deleted"] == false);
  CHECK(json["sequenceNumberForAllocation"]["0"] == 2);
  // Go's field order, as libcalico-go writes it.
  CHECK(value->find("\"cidr\"") < value->find("\"affinity\""));
  CHECK(value->find("\"allocations\"") < value->find("\"unallocated\""));

  auto document = decodeValue(key, kIpam + "assignment/ipv4/block/10.65.0.0-30", *value);
  REQUIRE(document);
  auto original = model::decode(block, "original");
  auto back = model::decode(*document, "back");
  REQUIRE(original.ok());
  REQUIRE(back.ok());
  CHECK(back.resources == original.resources);

  CHECK_FALSE(decodeValue(key, kIpam + "assignment/ipv4/block/10.65.0.0-30", "{\"cidr\": 7}").has_value());
  CHECK_FALSE(decodeValue(key, kIpam + "assignment/ipv4/block/10.65.0.0-30", "not json").has_value());
}

TEST_CASE("a new resource gets a uid and creation time; a stored one keeps them", "[unit]") {
  const std::string pool =
      "apiVersion: tartan.dev/v1\nkind: IPPool\nmetadata:\n  name: p\nspec:\n"
      "  cidr: 10.65.0.0/16\n";
  Key key{"IPPool", "", "p"};
  auto fresh = nlohmann::json::parse(encodeValue(key, pool, nullptr).value());
  CHECK(fresh["apiVersion"] == "projectcalico.org/v3");
  CHECK(fresh["metadata"]["uid"].get<std::string>().size() == 36);
  CHECK(fresh["metadata"]["creationTimestamp"].get<std::string>().ends_with("Z"));
  std::string stored = fresh.dump();
  auto again = nlohmann::json::parse(encodeValue(key, pool, &stored).value());
  CHECK(again["metadata"]["uid"] == fresh["metadata"]["uid"]);
  CHECK(again["metadata"]["creationTimestamp"] == fresh["metadata"]["creationTimestamp"]);
  CHECK_FALSE(encodeValue(Key{"IPPool", "", "other"}, pool, nullptr).has_value());
}

TEST_CASE("block names and CIDRs convert both ways", "[unit]") {
  CHECK(cidrFromName("10-65-0-0-26") == "10.65.0.0/26");
  CHECK(cidrFromName("fd00-1---122") == "fd00:1::/122");
  CHECK(nameFromCidr("fd00:1::/122") == "fd00-1---122");
  CHECK_FALSE(cidrFromName("10-65-0-26"));
  CHECK_FALSE(cidrFromName("10-65-0-0-33"));
}

}  // namespace
}  // namespace tartan::datastore::etcd

namespace tartan::datastore::etcd {
namespace {

TEST_CASE("a value is read only under its own key", "[unit]") {
  const std::string pool =
      R"json({"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"p"},"spec":{"cidr":"10.0.0.0/8"}})json";
  const std::string policy =
      R"json({"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"default.x"},"spec":{"selector":"all()"}})json";
  struct Row {
    const char* rule;
    std::string path;
    std::string value;
    bool read;
  };
  std::vector<Row> rows = {
      {"a pool at its key", kV3 + "ippools/p", pool, true},
      {"a pool under another name", kV3 + "ippools/q", pool, false},
      {"a pool under another kind's prefix", kV3 + "globalnetworksets/p", pool, false},
      {"a policy named default.x at default.x", kV3 + "globalnetworkpolicies/default.x", policy, true},
      {"a policy named default.x at its bare name", kV3 + "globalnetworkpolicies/x", policy, true},
      {"a policy named default.x at y", kV3 + "globalnetworkpolicies/default.y", policy, false},
  };
  for (const Row& row : rows) {
    INFO(row.rule);
    auto key = keyOf(row.path);
    REQUIRE(key);
    CHECK(decodeValue(*key, row.path, row.value).has_value() == row.read);
  }
}

}  // namespace
}  // namespace tartan::datastore::etcd

namespace tartan::datastore {
namespace {

TEST_CASE("an etcdv3: spec names endpoints and, as options, TLS files and credentials", "[unit]") {
  auto plain = etcdOptionsFromSpec("etcdv3:http://10.0.0.1:2379, http://10.0.0.2:2379");
  REQUIRE(plain.has_value());
  CHECK(plain->endpoints == std::vector<std::string>{"http://10.0.0.1:2379", "http://10.0.0.2:2379"});
  auto full =
      etcdOptionsFromSpec("etcdv3:https://h:1?ca=/ca.pem&cert=/c.pem&key=/k.pem&username=u&password=p");
  REQUIRE(full.has_value());
  CHECK(full->endpoints == std::vector<std::string>{"https://h:1"});
  CHECK(full->caFile == "/ca.pem");
  CHECK(full->certFile == "/c.pem");
  CHECK(full->keyFile == "/k.pem");
  CHECK(full->username == "u");
  CHECK(full->password == "p");
  for (const char* bad :
       {"etcdv3:", "etcdv3:?ca=/x", "etcdv3:http://h:1?cacert=/x", "etcdv3:http://h:1?ca", "file:/x"}) {
    INFO(bad);
    auto refused = etcdOptionsFromSpec(bad);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().kind == ErrorKind::Invalid);
  }
}

}  // namespace
}  // namespace tartan::datastore
