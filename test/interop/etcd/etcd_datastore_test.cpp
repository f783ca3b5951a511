// The etcd backend against a real etcd: CRUD and compare-and-swap, transactions, and Calico's
// layout checked with etcdctl both ways (keys and values written by Tartan read with etcdctl;
// values written with etcdctl in Calico's JSON read back field for field).
#include "tartan/datastore/etcd_datastore.hpp"
#include "etcd_server.hpp"
#include "support/skip.hpp"
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace tartan::datastore {
namespace {

using Json = nlohmann::json;
using test::etcd::EtcdServer;

const char* kPolicy = R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
spec:
  order: 10
  selector: role == 'db'
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
)";

std::string policyWithOrder(int order) {
  std::string text = kPolicy;
  text.replace(text.find("order: 10"), 9, "order: " + std::to_string(order));
  return text;
}

model::Resource decodeOne(const std::string& text) {
  auto decoded = model::decode(text, "test");
  INFO(text);
  REQUIRE(decoded.ok());
  REQUIRE(decoded.resources.size() == 1);
  return decoded.resources.front();
}

struct Fixture {
  EtcdServer etcd;
  std::unique_ptr<Datastore> store;

  Fixture() {
    etcd.start();
    REQUIRE(etcd.waitHealthy());
    auto opened = open("etcdv3:" + etcd.endpoint());
    REQUIRE(opened);
    store = std::move(*opened);
  }

  // etcdctl's view of one key: its value and mod_revision; nothing if absent.
  std::optional<std::pair<std::string, int64_t>> etcdctlGet(const std::string& key) {
    auto got = etcd.ctl({"get", key, "-w", "json"});
    REQUIRE(got.status == 0);
    Json reply = Json::parse(got.out);
    if (!reply.contains("kvs")) return std::nullopt;
    const Json& kv = reply["kvs"][0];
    auto base64 = [](const std::string& in) {
      static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string out;
      int bits = 0;
      unsigned value = 0;
      for (char c : in) {
        if (c == '=') break;
        value = (value << 6) | static_cast<unsigned>(chars.find(c));
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          out.push_back(static_cast<char>((value >> bits) & 0xff));
        }
      }
      return out;
    };
    return std::pair{base64(kv["value"].get<std::string>()), kv["mod_revision"].get<int64_t>()};
  }

  void etcdctlPut(const std::string& key, const std::string& value) {
    auto put = etcd.ctl({"put", key, value});
    INFO(put.out);
    REQUIRE(put.status == 0);
  }
};

#define SKIP_WITHOUT_ETCD()                               \
  if (!test::etcd::haveEtcd()) {                          \
    WARN("etcd is not installed (scripts/install-deps)"); \
    test::markSkipped();                                  \
    return;                                               \
  }

TEST_CASE("a resource is stored at Calico's key as v3 JSON, its revision the key's mod_revision",
          "[interop]") {
  SKIP_WITHOUT_ETCD();
  Fixture f;
  Key key{"GlobalNetworkPolicy", "", "allow-dns"};
  auto created = f.store->create(key, kPolicy);
  REQUIRE(created);
  auto stored =
      f.etcdctlGet("/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.allow-dns");
  REQUIRE(stored);
  CHECK(stored->second == created->revision);
  Json value = Json::parse(stored->first);
  CHECK(value["apiVersion"] == "projectcalico.org/v3");
  CHECK(value["kind"] == "GlobalNetworkPolicy");
  CHECK(value["metadata"]["name"] == "allow-dns");
  CHECK(value["metadata"]["uid"].get<std::string>().size() == 36);
  CHECK(value["metadata"].contains("creationTimestamp"));
  CHECK_FALSE(value["metadata"].contains("resourceVersion"));
  CHECK(value["spec"]["selector"] == "role == 'db'");
  CHECK(value["spec"]["egress"][0]["destination"]["ports"][0] == 53);

  // What get returns is the stored resource, uid included, at the same revision.
  auto got = f.store->get(key);
  REQUIRE(got);
  CHECK(got->revision == created->revision);
  CHECK(model::metadata(decodeOne(got->value)).uid == value["metadata"]["uid"]);
}

TEST_CASE("create, update and remove are compare-and-swap; NotFound is told from Conflict", "[interop]") {
  SKIP_WITHOUT_ETCD();
  Fixture f;
  Key key{"GlobalNetworkPolicy", "", "allow-dns"};
  Key missing{"GlobalNetworkPolicy", "", "nobody"};
  auto created = f.store->create(key, kPolicy);
  REQUIRE(created);
  std::string uid = model::metadata(decodeOne(created->value)).uid;

  struct Row {
    const char* rule;
    std::function<ErrorKind()> attempt;
    ErrorKind expected;
  };
  int64_t stale = created->revision - 1;
  std::vector<Row> rows = {
      {"create of a stored key", [&] { return f.store->create(key, kPolicy).error().kind; },
       ErrorKind::AlreadyExists},
      {"update at a stale revision",
       [&] { return f.store->update(key, policyWithOrder(2), stale).error().kind; }, ErrorKind::Conflict},
      {"update of a missing key",
       [&] { return f.store->update(missing, kPolicy, created->revision).error().kind; },
       ErrorKind::NotFound},
      {"remove at a stale revision", [&] { return f.store->remove(key, stale).error().kind; },
       ErrorKind::Conflict},
      {"remove of a missing key", [&] { return f.store->remove(missing).error().kind; }, ErrorKind::NotFound},
      {"get of a missing key", [&] { return f.store->get(missing).error().kind; }, ErrorKind::NotFound},
  };
  for (const Row& row : rows) {
    INFO(row.rule);
    CHECK(row.attempt() == row.expected);
  }

  auto updated = f.store->update(key, policyWithOrder(20), created->revision);
  REQUIRE(updated);
  CHECK(updated->revision > created->revision);
  // The uid and creation time Calico gave it are kept by an update that does not carry them.
  CHECK(model::metadata(decodeOne(updated->value)).uid == uid);
  auto applied = f.store->apply(key, policyWithOrder(30));
  REQUIRE(applied);
  CHECK(std::get<model::GlobalNetworkPolicy>(decodeOne(applied->value)).spec.order == 30);

  auto removed = f.store->remove(key, applied->revision);
  REQUIRE(removed);
  CHECK(*removed > applied->revision);
  CHECK_FALSE(f.etcdctlGet("/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.allow-dns"));
  CHECK(f.store->get(key).error().kind == ErrorKind::NotFound);
}

TEST_CASE("a transaction is one Txn: every write at one revision, or none with the failing op named",
          "[interop]") {
  SKIP_WITHOUT_ETCD();
  Fixture f;
  Key a{"GlobalNetworkPolicy", "", "a"};
  Key b{"GlobalNetworkPolicy", "", "b"};
  auto doc = [](const std::string& name) {
    std::string text = kPolicy;
    text.replace(text.find("allow-dns"), 9, name);
    return text;
  };
  auto first = f.store->create(a, doc("a"));
  REQUIRE(first);

  auto failed = f.store->transaction({Op::create(b, doc("b")), Op::update(a, doc("a"), first->revision + 5)});
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == ErrorKind::Conflict);
  CHECK(failed.error().error.where.find("op 1") != std::string::npos);
  CHECK(f.store->get(b).error().kind == ErrorKind::NotFound);

  auto done = f.store->transaction({Op::create(b, doc("b")), Op::update(a, doc("a"), first->revision)});
  REQUIRE(done);
  REQUIRE(done->results.size() == 2);
  CHECK(done->results[0].revision == done->revision);
  CHECK(done->results[1].revision == done->revision);
  CHECK(f.etcdctlGet("/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.b")->second ==
        done->revision);

  auto listed = f.store->list("GlobalNetworkPolicy");
  REQUIRE(listed);
  CHECK(listed->revision >= done->revision);
  REQUIRE(listed->items.size() == 2);
  CHECK(listed->items[0].key.name == "a");
  CHECK(listed->items[1].key.name == "b");
}

TEST_CASE("resources written with etcdctl in Calico's layout are read back field for field", "[interop]") {
  SKIP_WITHOUT_ETCD();
  Fixture f;
  const std::string v3 = "/calico/resources/v3/projectcalico.org/";
  // A default-tier policy under Calico's older "default." name, and one under its bare name.
  f.etcdctlPut(
      v3 + "globalnetworkpolicies/default.deny-all",
      R"json({"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"default.deny-all","uid":"0b2d9e4e-0000-4000-8000-000000000001","creationTimestamp":"2024-01-02T03:04:05Z"},"spec":{"tier":"default","order":100,"selector":"all()","types":["Ingress"]}})json");
  f.etcdctlPut(
      v3 + "networkpolicies/prod/allow-web",
      R"json({"kind":"NetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"allow-web","namespace":"prod","uid":"0b2d9e4e-0000-4000-8000-000000000002","creationTimestamp":"2024-01-02T03:04:05Z","labels":{"team":"web"}},"spec":{"order":5,"selector":"app == 'web'","ingress":[{"action":"Allow","protocol":"TCP","destination":{"ports":[80,443]}}],"types":["Ingress"]}})json");
  f.etcdctlPut(
      v3 + "ippools/default-ipv4-ippool",
      R"json({"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"default-ipv4-ippool","uid":"0b2d9e4e-0000-4000-8000-000000000003","creationTimestamp":"2024-01-02T03:04:05Z"},"spec":{"cidr":"10.65.0.0/16","blockSize":26,"ipipMode":"Always","natOutgoing":true,"nodeSelector":"all()"}})json");

  auto deny = f.store->get(Key{"GlobalNetworkPolicy", "", "deny-all"});
  REQUIRE(deny);
  auto denyPolicy = std::get<model::GlobalNetworkPolicy>(decodeOne(deny->value));
  CHECK(denyPolicy.metadata.name == "deny-all");
  CHECK(denyPolicy.metadata.uid == "0b2d9e4e-0000-4000-8000-000000000001");
  CHECK(denyPolicy.spec.order == 100);
  CHECK(denyPolicy.spec.selector == "all()");
  CHECK(deny->revision == f.etcdctlGet(v3 + "globalnetworkpolicies/default.deny-all")->second);

  auto web = f.store->get(Key{"NetworkPolicy", "prod", "allow-web"});
  REQUIRE(web);
  auto webPolicy = std::get<model::NetworkPolicy>(decodeOne(web->value));
  CHECK(webPolicy.metadata.namespaceName == "prod");
  CHECK(webPolicy.metadata.labels.at("team") == "web");
  CHECK(webPolicy.spec.order == 5);
  REQUIRE(webPolicy.spec.ingress.size() == 1);
  CHECK(webPolicy.spec.ingress[0].destination.ports.size() == 2);

  auto pools = f.store->list("IPPool");
  REQUIRE(pools);
  REQUIRE(pools->items.size() == 1);
  auto pool = std::get<model::IPPool>(decodeOne(pools->items[0].value));
  CHECK(pool.spec.cidr == "10.65.0.0/16");
  CHECK(pool.spec.blockSize == 26);
  CHECK(pool.spec.natOutgoing);

  CHECK(f.store->list("NetworkPolicy", "prod")->items.size() == 1);
  CHECK(f.store->list("NetworkPolicy", "dev")->items.empty());
  // An update keeps the key Calico wrote.
  REQUIRE(f.store->update(Key{"GlobalNetworkPolicy", "", "deny-all"}, deny->value, deny->revision));
  CHECK(f.etcdctlGet(v3 + "globalnetworkpolicies/default.deny-all"));
}

TEST_CASE("IPAM keys and values are libcalico-go's, both ways", "[interop]") {
  SKIP_WITHOUT_ETCD();
  Fixture f;
  const std::string ipam = "/calico/ipam/v2/";
  f.etcdctlPut(
      ipam + "assignment/ipv4/block/10.65.0.0-30",
      R"json({"cidr":"10.65.0.0/30","affinity":"host:node-1","strictAffinity":false,"allocations":[0,null,1,null],"unallocated":[1,3],"attributes":[{"handle_id":"k8s-pod-network.abc","secondary":{"namespace":"prod","node":"node-1","pod":"web-0"}},{"handle_id":"ipip-tunnel-addr-node-1","secondary":null}],"deleted":false,"sequenceNumber":7,"sequenceNumberForAllocation":{"0":5,"2":6}})json");
  f.etcdctlPut(ipam + "host/node-1/ipv4/block/10.65.0.0-30",
               R"json({"state":"confirmed","deleted":false})json");
  f.etcdctlPut(ipam + "handle/k8s-pod-network.abc",
               R"json({"block":{"10.65.0.0/30":1},"deleted":false})json");
  f.etcdctlPut(ipam + "config", R"json({"strict_affinity":true,"maxBlocksPerHost":4})json");

  auto block = f.store->get(Key{"IPAMBlock", "", "10-65-0-0-30"});
  REQUIRE(block);
  auto b = std::get<model::IPAMBlock>(decodeOne(block->value)).spec;
  CHECK(b.cidr == "10.65.0.0/30");
  CHECK(b.affinity == "host:node-1");
  CHECK(b.allocations == std::vector<std::optional<int>>{0, std::nullopt, 1, std::nullopt});
  CHECK(b.unallocated == std::vector<int>{1, 3});
  REQUIRE(b.attributes.size() == 2);
  CHECK(b.attributes[0].handleID == "k8s-pod-network.abc");
  CHECK(b.attributes[0].secondary.at("pod") == "web-0");
  CHECK(b.attributes[1].secondary.empty());
  CHECK(b.sequenceNumber == 7);
  CHECK(b.sequenceNumberForAllocation.at("2") == 6);

  auto affinities = f.store->list("BlockAffinity");
  REQUIRE(affinities);
  REQUIRE(affinities->items.size() == 1);
  CHECK(affinities->items[0].key.name == "node-1-10-65-0-0-30");
  auto a = std::get<model::BlockAffinity>(decodeOne(affinities->items[0].value)).spec;
  CHECK(a.node == "node-1");
  CHECK(a.cidr == "10.65.0.0/30");
  CHECK(a.state == "confirmed");
  CHECK(a.deleted == "false");

  auto handle = std::get<model::IPAMHandle>(
      decodeOne(f.store->get(Key{"IPAMHandle", "", "k8s-pod-network.abc"})->value));
  CHECK(handle.spec.handleID == "k8s-pod-network.abc");
  CHECK(handle.spec.block.at("10.65.0.0/30") == 1);

  auto config = std::get<model::IPAMConfiguration>(
      decodeOne(f.store->get(Key{"IPAMConfiguration", "", "default"})->value));
  CHECK(config.spec.strictAffinity);
  CHECK_FALSE(config.spec.autoAllocateBlocks);  // left out by Calico's omitempty: false
  CHECK(config.spec.maxBlocksPerHost == 4);

  // Written by Tartan: the same keys and Calico's field names.
  auto released = f.store->get(Key{"IPAMBlock", "", "10-65-0-0-30"});
  std::string text = released->value;
  text.replace(text.find("deleted: false"), 14, "deleted: true");
  REQUIRE(f.store->update(Key{"IPAMBlock", "", "10-65-0-0-30"}, text, released->revision));
  Json written = Json::parse(f.etcdctlGet(ipam + "assignment/ipv4/block/10.65.0.0-30")->first);
  CHECK(written["deleted"] == true);
  CHECK(written["attributes"][0]["handle_id"] == "k8s-pod-network.abc");
  CHECK(written["allocations"][1].is_null());
  CHECK(written["sequenceNumberForAllocation"]["0"] == 5);
  REQUIRE(f.store->remove(Key{"BlockAffinity", "", "node-1-10-65-0-0-30"}));
  CHECK_FALSE(f.etcdctlGet(ipam + "host/node-1/ipv4/block/10.65.0.0-30"));
}

TEST_CASE("etcd is chosen as Calico users choose it, and bad settings are one-line errors", "[interop]") {
  SKIP_WITHOUT_ETCD();
  Fixture f;
  ::setenv("DATASTORE_TYPE", "etcdv3", 1);
  ::setenv("ETCD_ENDPOINTS", f.etcd.endpoint().c_str(), 1);
  auto chosen = open("");
  ::unsetenv("DATASTORE_TYPE");
  ::unsetenv("ETCD_ENDPOINTS");
  REQUIRE(chosen);
  CHECK((*chosen)->create(Key{"GlobalNetworkPolicy", "", "allow-dns"}, kPolicy));
  CHECK(f.etcdctlGet("/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.allow-dns"));

  struct Row {
    std::string spec;
    ErrorKind kind;
  };
  for (const Row& row : std::vector<Row>{{"etcdv3:", ErrorKind::Invalid},
                                         {"etcdv3:127.0.0.1:2379", ErrorKind::Invalid},
                                         {"etcdv3:http://127.0.0.1:99999", ErrorKind::Invalid},
                                         {"etcdv3:http://::1:2379", ErrorKind::Invalid}}) {
    INFO(row.spec);
    auto opened = open(row.spec);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().kind == row.kind);
  }
  // An etcd that is not there is an outage, named as one.
  int deadPort = test::etcd::freePort();
  EtcdOptions options;
  options.endpoints = {"http://127.0.0.1:" + std::to_string(deadPort)};
  options.callTimeout = std::chrono::milliseconds(500);
  auto dead = openEtcdDatastore(options);
  REQUIRE(dead);
  CHECK((*dead)->list("IPPool").error().kind == ErrorKind::Unavailable);
}

}  // namespace
}  // namespace tartan::datastore

namespace tartan::datastore {
namespace {

TEST_CASE("a transaction of 128 new policies fits etcd's limit of 128 operations per Txn", "[interop]") {
  SKIP_WITHOUT_ETCD();
  Fixture f;
  std::vector<Op> ops;
  for (int i = 0; i < 128; ++i) {
    std::string name = "p-" + std::to_string(i);
    std::string text = kPolicy;
    text.replace(text.find("allow-dns"), 9, name);
    ops.push_back(Op::create(Key{"GlobalNetworkPolicy", "", name}, text));
  }
  auto done = f.store->transaction(ops);
  INFO((done ? std::string() : done.error().toString()));
  REQUIRE(done.has_value());
  CHECK(f.store->list("GlobalNetworkPolicy")->items.size() == 128);
  // All of them again: the first already stored is named.
  auto again = f.store->transaction(ops);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().kind == ErrorKind::AlreadyExists);
  CHECK(again.error().error.where.find("op 0") != std::string::npos);
}

}  // namespace
}  // namespace tartan::datastore
