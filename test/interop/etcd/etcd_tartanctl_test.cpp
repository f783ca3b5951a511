// tartanctl against an etcd that Calico's tools wrote: resources put with etcdctl in Calico's
// layout are listed and shown by tartanctl, chosen by --datastore or by Calico's variables; what
// tartanctl applies is read back with etcdctl at Calico's key.
#include "etcd_server.hpp"
#include "support/skip.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

namespace tartan::datastore {
namespace {

using test::etcd::EtcdServer;
using test::etcd::run;

std::string built(const std::string& relative) {
  const char* dir = std::getenv("TARTAN_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/" + relative;
}
std::string tartanctl() { return built("src/cli/tartanctl"); }

TEST_CASE("tartanctl reads and writes a Calico-layout etcd", "[interop]") {
  if (!test::etcd::haveEtcd() || ::access(tartanctl().c_str(), X_OK) != 0) {
    WARN("etcd (scripts/install-deps) or tartanctl (TARTAN_BINARY_DIR) is missing");
    test::markSkipped();
    return;
  }
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  const std::string v3 = "/calico/resources/v3/projectcalico.org/";
  REQUIRE(
      etcd.ctl(
              {"put", v3 + "globalnetworkpolicies/default.deny-all",
               R"json({"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"default.deny-all","uid":"8d3e1c1e-0000-4000-8000-000000000001","creationTimestamp":"2024-01-02T03:04:05Z"},"spec":{"tier":"default","order":100,"selector":"all()","types":["Ingress","Egress"]}})json"})
          .status == 0);
  REQUIRE(
      etcd.ctl(
              {"put", v3 + "ippools/default-ipv4-ippool",
               R"json({"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"default-ipv4-ippool","uid":"8d3e1c1e-0000-4000-8000-000000000002","creationTimestamp":"2024-01-02T03:04:05Z"},"spec":{"cidr":"192.168.0.0/16","blockSize":26,"ipipMode":"Always","natOutgoing":true,"nodeSelector":"all()"}})json"})
          .status == 0);

  auto policies = run({tartanctl(), "--datastore", "etcdv3:" + etcd.endpoint(), "get",
                       "globalnetworkpolicies", "-o", "yaml"});
  INFO(policies.out);
  CHECK(policies.status == 0);
  CHECK(policies.out.find("name: deny-all") != std::string::npos);
  CHECK(policies.out.find("order: 100") != std::string::npos);

  auto pools = run({tartanctl(), "get", "ippools", "-o", "yaml"},
                   {"DATASTORE_TYPE=etcdv3", "ETCD_ENDPOINTS=" + etcd.endpoint()});
  INFO(pools.out);
  CHECK(pools.status == 0);
  CHECK(pools.out.find("cidr: \"192.168.0.0/16\"") != std::string::npos);
  CHECK(pools.out.find("natOutgoing: true") != std::string::npos);

  const std::string file = etcd.dir() + "/set.yaml";
  std::ofstream(file)
      << "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: outside\n"
         "  labels: {zone: outside}\nspec:\n  nets: [198.51.100.0/24]\n";
  auto applied = run({tartanctl(), "--datastore", "etcdv3:" + etcd.endpoint(), "apply", "-f", file});
  INFO(applied.out);
  CHECK(applied.status == 0);
  auto stored = etcd.ctl({"get", v3 + "globalnetworksets/outside", "--print-value-only"});
  CHECK(stored.out.find("\"198.51.100.0/24\"") != std::string::npos);
  CHECK(stored.out.find("\"projectcalico.org/v3\"") != std::string::npos);
}

TEST_CASE("tartan-cni takes Calico's etcd configuration: STATUS sees the pools, and the outage",
          "[interop]") {
  if (!test::etcd::haveEtcd() || ::access(built("src/cni/tartan-cni").c_str(), X_OK) != 0) {
    WARN("etcd (scripts/install-deps) or tartan-cni (TARTAN_BINARY_DIR) is missing");
    test::markSkipped();
    return;
  }
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  const std::string conf = etcd.dir() + "/calico.conf";
  std::ofstream(conf) << R"({"cniVersion":"1.1.0","name":"k8s-pod-network","type":"tartan-cni",)"
                      << R"("datastore_type":"etcdv3","etcd_endpoints":")" << etcd.endpoint()
                      << R"(","nodename":"node-1","ipam":{"type":"calico-ipam"}})";
  auto status = [&] {
    return run({"/bin/sh", "-c", "CNI_COMMAND=STATUS " + built("src/cni/tartan-cni") + " < " + conf});
  };
  auto empty = status();
  CHECK(empty.status != 0);
  CHECK(empty.out.find("holds no IPPool") != std::string::npos);
  REQUIRE(
      etcd.ctl(
              {"put", "/calico/resources/v3/projectcalico.org/ippools/p",
               R"json({"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"p"},"spec":{"cidr":"10.70.0.0/16"}})json"})
          .status == 0);
  auto ready = status();
  INFO(ready.out);
  CHECK(ready.status == 0);
  etcd.kill();
  auto away = status();
  CHECK(away.status != 0);
  CHECK(away.out.find("not available") != std::string::npos);
}

}  // namespace
}  // namespace tartan::datastore
