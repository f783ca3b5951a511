// tartan-cni as a runtime runs it (see cluster.hpp): Calico's layout in the kernel and the store
// after ADD, traffic between two pods through the node, CHECK, DEL leaving nothing (twice), a
// failure at any step leaving nothing behind, IPv6-only pods and Calico's pool annotations.
// Chaining with the standard plugins is in cni_chain_kernel_test.cpp, 100 pods at once in
// cni_scale_kernel_test.cpp.
#include "cluster.hpp"

using namespace cni_kernel;

TEST_CASE("ADD gives two pods Calico's layout and they talk through the node; DEL leaves nothing") {
  REQUIRE_NET_ADMIN();
  Cluster cluster(kPools);
  cluster.apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: default, labels: {app: web}}
spec: {serviceAccountName: web-sa}
)");
  NetNamespace podA("cni-a");
  NetNamespace podB("cni-b");
  const std::string conf = cluster.conf(R"(,"assign_ipv6":"true")", R"("mtu":1400,)");

  auto addA = cluster.run("ADD", "ctr-a", podA.path(), "web-0", conf);
  INFO(addA);
  REQUIRE(addA.exitCode == 0);
  auto addB = cluster.run("ADD", "ctr-b", podB.path(), "web-1", conf);
  INFO(addB);
  REQUIRE(addB.exitCode == 0);

  json result = addA.output();
  const std::string vethA = tartan::cni::hostVethName("default", "web-0");
  const std::string ipA = addressOf(result, '4');
  const std::string ip6A = addressOf(result, '6');
  const std::string ipB = addressOf(addB.output(), '4');
  const std::string ip6B = addressOf(addB.output(), '6');
  REQUIRE_FALSE(ipA.empty());
  REQUIRE_FALSE(ip6A.empty());

  SECTION("the result is CNI 1.0: both ends, the addresses on the pod's, the gateway routes") {
    CHECK(result["cniVersion"] == "1.0.0");
    CHECK(result["interfaces"][0] == json{{"name", vethA}, {"mac", "ee:ee:ee:ee:ee:ee"}});
    CHECK(result["interfaces"][1]["name"] == "eth0");
    CHECK(result["interfaces"][1]["sandbox"] == podA.path());
    CHECK(result["ips"][0]["interface"] == 1);
    CHECK(result["routes"] == json::parse(R"([{"dst":"0.0.0.0/0","gw":"169.254.1.1"},
                                             {"dst":"::/0","gw":"fe80::ecee:eeff:feee:eeee"}])"));
  }

  SECTION("the pod has its /32 and /128, a link route to 169.254.1.1 and default routes") {
    std::string addr = podA.execOrThrow("ip addr show dev eth0");
    CHECK(addr.find("inet " + ipA + "/32") != std::string::npos);
    CHECK(addr.find("inet6 " + ip6A + "/128") != std::string::npos);
    std::string routes = podA.execOrThrow("ip route");
    CHECK(routes.find("default via 169.254.1.1 dev eth0") != std::string::npos);
    CHECK(routes.find("169.254.1.1 dev eth0 scope link") != std::string::npos);
    CHECK(podA.execOrThrow("ip -6 route").find("default via fe80::ecee:eeff:feee:eeee dev eth0") !=
          std::string::npos);
  }

  SECTION("the host has the veth (MAC, up), the sysctls and the routes to the pod") {
    std::string link = cluster.node.execOrThrow("ip link show dev " + vethA);
    CHECK(link.find("ee:ee:ee:ee:ee:ee") != std::string::npos);
    CHECK(link.find("mtu 1400") != std::string::npos);
    CHECK(podA.execOrThrow("ip link show dev eth0").find("mtu 1400") != std::string::npos);
    CHECK(link.find(",UP") != std::string::npos);
    CHECK(cluster.sysctl("ipv4/conf/" + vethA + "/proxy_arp") == "1");
    CHECK(cluster.sysctl("ipv4/neigh/" + vethA + "/proxy_delay") == "0");
    CHECK(cluster.sysctl("ipv4/conf/" + vethA + "/forwarding") == "1");
    CHECK(cluster.sysctl("ipv6/conf/" + vethA + "/accept_ra") == "0");
    CHECK(cluster.sysctl("ipv6/conf/" + vethA + "/forwarding") == "1");
    CHECK(cluster.node.execOrThrow("ip route show " + ipA).find("dev " + vethA + " scope link") !=
          std::string::npos);
    CHECK(cluster.node.execOrThrow("ip -6 route show " + ip6A).find("dev " + vethA) != std::string::npos);
  }

  SECTION("the WorkloadEndpoint and the allocation are in the store") {
    auto wep = cluster.endpoint("node--a-k8s-web--0-eth0");
    REQUIRE(wep);
    CHECK(wep->spec.containerID == "ctr-a");
    CHECK(wep->spec.node == "node-a");
    CHECK(wep->spec.interfaceName == vethA);
    CHECK(wep->spec.ipNetworks == std::vector<std::string>{ipA + "/32", ip6A + "/128"});
    CHECK(wep->spec.mac == result["interfaces"][1]["mac"]);
    CHECK(wep->metadata.labels.at("app") == "web");  // from the Pod in the store
    CHECK(wep->spec.profiles == std::vector<std::string>{"kns.default", "ksa.default.web-sa"});
    CHECK(cluster.allocated("ctr-a") == std::vector<std::string>{ipA, ip6A});
  }

  SECTION("pods reach each other through the node over TCP, IPv4 and IPv6") {
    CHECK(tcpReaches(podA, podB, ipB, 8080));
    // The host end's link-local (the pods' IPv6 gateway) may still be in DAD: tcpReaches retries.
    CHECK(tcpReaches(podA, podB, ip6B, 8081));
    CHECK(tcpReaches(podB, podA, ipA, 8082));
  }

  SECTION("an ADD repeated for the same container answers the same result and changes nothing") {
    auto again = cluster.run("ADD", "ctr-a", podA.path(), "web-0", conf);
    INFO(again);
    REQUIRE(again.exitCode == 0);
    CHECK(again.output() == result);
    CHECK(cluster.allocated("ctr-a") == std::vector<std::string>{ipA, ip6A});
    CHECK(tcpReaches(podB, podA, ipA, 8083));
  }

  SECTION("CHECK agrees with prevResult, and fails when the pod's address is gone") {
    std::string withPrev =
        cluster.conf(R"(,"assign_ipv6":"true")", R"("prevResult":)" + addA.stdoutText + ",");
    auto check = cluster.run("CHECK", "ctr-a", podA.path(), "web-0", withPrev);
    INFO(check);
    CHECK(check.exitCode == 0);
    podA.execOrThrow("ip addr del " + ipA + "/32 dev eth0");
    auto broken = cluster.run("CHECK", "ctr-a", podA.path(), "web-0", withPrev);
    CHECK(broken.exitCode != 0);
    CHECK(broken.output()["code"] == 999);
  }

  SECTION(
      "CNI 1.1: STATUS is ready with the store; GC takes what the runtime no longer has, on this node only") {
    auto ready = cluster.run("STATUS", "", "", "", conf);
    INFO(ready);
    CHECK(ready.exitCode == 0);
    CHECK(ready.stdoutText.empty());
    // Another node's pod, assigned straight through IPAM: GC on node-a must not free it.
    tartan::ipam::Ipam ipam(*cluster.store);
    tartan::ipam::AutoAssignArgs other;
    other.num4 = 1;
    other.handleID = tartan::ipam::podHandleID("ctr-elsewhere");
    other.hostname = "node-b";
    other.attributes = {{"node", "node-b"}};
    REQUIRE(ipam.autoAssign(other).has_value());

    std::string gcConf =
        cluster.conf("", R"("cni.dev/valid-attachments":[{"containerID":"ctr-a","ifname":"eth0"}],)");
    auto gc = cluster.run("GC", "", "", "", gcConf);
    INFO(gc);
    CHECK(gc.exitCode == 0);
    CHECK(cluster.endpoint("node--a-k8s-web--0-eth0"));
    CHECK(cluster.allocated("ctr-a") == std::vector<std::string>{ipA, ip6A});
    CHECK(cluster.hasLink(cluster.node.name(), vethA));
    CHECK_FALSE(cluster.endpoint("node--a-k8s-web--1-eth0"));
    CHECK(cluster.allocated("ctr-b").empty());
    CHECK_FALSE(cluster.hasLink(cluster.node.name(), tartan::cni::hostVethName("default", "web-1")));
    CHECK(cluster.allocated("ctr-elsewhere").size() == 1);

    auto noList = cluster.run("GC", "", "", "", conf);
    CHECK(noList.exitCode != 0);
    CHECK(noList.output()["code"] == 4);
    fs::rename(cluster.storeDir, cluster.storeDir + ".away");
    auto away = cluster.run("STATUS", "", "", "", conf);
    fs::rename(cluster.storeDir + ".away", cluster.storeDir);
    INFO(away);
    CHECK(away.exitCode != 0);
    CHECK(away.output()["code"] == 50);
  }

  SECTION("DEL of another container keeps the pod; DEL removes everything; DEL again succeeds") {
    auto other = cluster.run("DEL", "ctr-old", "", "web-0", conf);
    INFO(other);
    CHECK(other.exitCode == 0);
    CHECK(cluster.endpoint("node--a-k8s-web--0-eth0"));
    CHECK(cluster.hasLink(cluster.node.name(), vethA));

    auto del = cluster.run("DEL", "ctr-a", podA.path(), "web-0", conf);
    INFO(del);
    CHECK(del.exitCode == 0);
    CHECK_FALSE(cluster.hasLink(cluster.node.name(), vethA));
    CHECK_FALSE(cluster.hasLink(podA.name(), "eth0"));
    CHECK_FALSE(cluster.endpoint("node--a-k8s-web--0-eth0"));
    CHECK(cluster.allocated("ctr-a").empty());
    CHECK(cluster.node.execOrThrow("ip route show " + ipA).empty());

    auto again = cluster.run("DEL", "ctr-a", podA.path(), "web-0", conf);
    INFO(again);
    CHECK(again.exitCode == 0);
    auto gone = cluster.run("DEL", "ctr-a", "/run/netns/tt-no-such-namespace", "web-0", conf);
    INFO(gone);
    CHECK(gone.exitCode == 0);
    // The other pod is untouched.
    CHECK(cluster.endpoint("node--a-k8s-web--1-eth0"));
    CHECK(podB.exec("ip addr show dev eth0").output.find(ipB) != std::string::npos);
  }
}

TEST_CASE("a failed ADD leaves nothing behind") {
  REQUIRE_NET_ADMIN();
  Cluster cluster(kPools + std::string(R"(
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: tiny}
spec: {cidr: 10.66.0.0/32, blockSize: 32, assignmentMode: Manual}
)"));
  NetNamespace pod("cni-f");
  const std::string veth = tartan::cni::hostVethName("default", "fail-0");
  auto nothingLeft = [&](const std::string& containerID) {
    CHECK_FALSE(cluster.hasLink(cluster.node.name(), veth));
    CHECK(cluster.caliLinks().empty());
    CHECK_FALSE(cluster.hasLink(pod.name(), "eth0"));
    CHECK_FALSE(cluster.endpoint("node--a-k8s-fail--0-eth0"));
    CHECK(cluster.allocated(containerID).empty());
    CHECK(cluster.node.execOrThrow("ip route show; ip -6 route show").find("cali") == std::string::npos);
  };

  SECTION("a CNI_NETNS that does not exist") {
    auto add = cluster.run("ADD", "ctr-f", "/run/netns/tt-no-such-namespace", "fail-0", cluster.conf());
    INFO(add);
    CHECK(add.exitCode != 0);
    CHECK(add.output()["code"] == 3);
    nothingLeft("ctr-f");
  }

  SECTION("CNI_NETNS naming the host's own namespace: refused, and DEL deletes none of its interfaces") {
    // /proc/self/ns/net of the plugin is the node namespace it runs in.
    auto add = cluster.run("ADD", "ctr-f", "/proc/self/ns/net", "fail-0", cluster.conf());
    INFO(add);
    CHECK(add.exitCode != 0);
    CHECK(add.output()["code"] == 7);
    auto del = cluster.run("DEL", "ctr-f", "/proc/self/ns/net", "fail-0", cluster.conf(), "uplink");
    INFO(del);
    CHECK(del.exitCode != 0);
    CHECK(del.output()["code"] == 7);
    CHECK(cluster.hasLink(cluster.node.name(), "uplink"));
    nothingLeft("ctr-f");
  }

  SECTION("the pod already has an interface of that name: the veth cannot be made") {
    pod.execOrThrow("ip link add eth0 type veth peer name eth0-peer");
    auto add = cluster.run("ADD", "ctr-f", pod.path(), "fail-0", cluster.conf());
    INFO(add);
    CHECK(add.exitCode != 0);
    CHECK(add.output()["code"] == 999);
    CHECK(cluster.caliLinks().empty());
    CHECK(cluster.allocated("ctr-f").empty());
    CHECK_FALSE(cluster.endpoint("node--a-k8s-fail--0-eth0"));
  }

  SECTION("the host already routes the pod's address elsewhere: undone after veth, addresses and routes") {
    cluster.node.execOrThrow(
        "ip link add blocker type veth peer name blocker-peer && ip link set blocker up && "
        "ip route add 10.66.0.0/32 dev blocker");
    auto add = cluster.run("ADD", "ctr-f", pod.path(), "fail-0", cluster.conf(R"(,"ipv4_pools":["tiny"])"));
    INFO(add);
    CHECK(add.exitCode != 0);
    CHECK(add.output()["code"] == 999);
    cluster.node.execOrThrow("ip link del blocker");
    nothingLeft("ctr-f");
  }

  SECTION("the pool is exhausted") {
    NetNamespace first("cni-g");
    auto taken =
        cluster.run("ADD", "ctr-g", first.path(), "fill-0", cluster.conf(R"(,"ipv4_pools":["tiny"])"));
    INFO(taken);
    REQUIRE(taken.exitCode == 0);
    auto add = cluster.run("ADD", "ctr-f", pod.path(), "fail-0", cluster.conf(R"(,"ipv4_pools":["tiny"])"));
    INFO(add);
    CHECK(add.exitCode != 0);
    CHECK(add.output()["code"] == 999);
    CHECK_FALSE(cluster.hasLink(cluster.node.name(), veth));
    CHECK_FALSE(cluster.hasLink(pod.name(), "eth0"));
    CHECK(cluster.allocated("ctr-f").empty());
    CHECK(cluster.run("DEL", "ctr-g", first.path(), "fill-0", cluster.conf()).exitCode == 0);
    nothingLeft("ctr-f");
  }

  SECTION("bad input is refused before anything is done, with the spec's codes") {
    auto noIfname = cluster.run("ADD", "ctr-f", pod.path(), "fail-0", cluster.conf(), "");
    CHECK(noIfname.exitCode != 0);
    CHECK(noIfname.output()["code"] == 7);
    auto badConf = cluster.run("ADD", "ctr-f", pod.path(), "fail-0", R"({"cniVersion":"1.0.0","name":"n"})");
    CHECK(badConf.exitCode != 0);
    CHECK(badConf.output()["code"] == 4);
    auto version = cluster.run("VERSION", "", "", "", R"({"cniVersion":"1.0.0"})");
    CHECK(version.exitCode == 0);
    CHECK(version.output()["supportedVersions"] == json{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"});
    nothingLeft("ctr-f");
  }
}

TEST_CASE("an IPv6-only pod: a /128, a default route via the host end's link-local, no IPv4") {
  REQUIRE_NET_ADMIN();
  Cluster cluster(kPools);
  NetNamespace podA("cni-6a");
  NetNamespace podB("cni-6b");
  const std::string conf = cluster.conf(R"(,"assign_ipv4":"false","assign_ipv6":"true")");
  auto addA = cluster.run("ADD", "ctr-6a", podA.path(), "v6-0", conf);
  INFO(addA);
  REQUIRE(addA.exitCode == 0);
  auto addB = cluster.run("ADD", "ctr-6b", podB.path(), "v6-1", conf);
  INFO(addB);
  REQUIRE(addB.exitCode == 0);
  CHECK(addA.output()["ips"].size() == 1);
  CHECK(addressOf(addA.output(), '4').empty());
  CHECK(addA.output()["routes"] == json::parse(R"([{"dst":"::/0","gw":"fe80::ecee:eeff:feee:eeee"}])"));
  CHECK(podA.execOrThrow("ip -4 addr show dev eth0").find("inet ") == std::string::npos);
  CHECK(podA.execOrThrow("ip -4 route").empty());
  const std::string ip6B = addressOf(addB.output(), '6');
  CHECK(tcpReaches(podA, podB, ip6B, 8090));
  CHECK(cluster.run("DEL", "ctr-6a", podA.path(), "v6-0", conf).exitCode == 0);
  CHECK(cluster.run("DEL", "ctr-6b", podB.path(), "v6-1", conf).exitCode == 0);
  CHECK(cluster.caliLinks().empty());
  CHECK(cluster.allocated("ctr-6a").empty());
}

TEST_CASE(
    "Calico's pool annotations choose the pool: the Pod's over its Namespace's over the configuration") {
  REQUIRE_NET_ADMIN();
  Cluster cluster(kPools + std::string(R"(
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: ns-pool}
spec: {cidr: 10.70.0.0/24, assignmentMode: Manual}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pod-pool}
spec: {cidr: 10.71.0.0/24, assignmentMode: Manual}
---
apiVersion: v1
kind: Namespace
metadata:
  name: default
  annotations: {cni.projectcalico.org/ipv4pools: '["ns-pool"]'}
---
apiVersion: v1
kind: Pod
metadata:
  name: pinned-0
  namespace: default
  annotations: {cni.projectcalico.org/ipv4pools: '["pod-pool"]'}
---
apiVersion: v1
kind: Pod
metadata:
  name: broken-0
  namespace: default
  annotations: {cni.projectcalico.org/ipv4pools: 'pod-pool'}
)"));
  NetNamespace pinned("cni-an");
  NetNamespace plain("cni-ao");
  NetNamespace broken("cni-ab");
  const std::string conf = cluster.conf(R"(,"ipv4_pools":["pool4"])");
  auto fromPod = cluster.run("ADD", "ctr-pin", pinned.path(), "pinned-0", conf);
  INFO(fromPod);
  REQUIRE(fromPod.exitCode == 0);
  CHECK(addressOf(fromPod.output(), '4').rfind("10.71.0.", 0) == 0);
  auto fromNamespace = cluster.run("ADD", "ctr-plain", plain.path(), "plain-0", conf);
  INFO(fromNamespace);
  REQUIRE(fromNamespace.exitCode == 0);
  CHECK(addressOf(fromNamespace.output(), '4').rfind("10.70.0.", 0) == 0);
  auto refused = cluster.run("ADD", "ctr-broken", broken.path(), "broken-0", conf);
  INFO(refused);
  CHECK(refused.exitCode != 0);
  CHECK(refused.output()["code"] == 4);
  CHECK_FALSE(cluster.hasLink(broken.name(), "eth0"));
  CHECK(cluster.run("DEL", "ctr-pin", pinned.path(), "pinned-0", conf).exitCode == 0);
  CHECK(cluster.run("DEL", "ctr-plain", plain.path(), "plain-0", conf).exitCode == 0);
  CHECK(cluster.caliLinks().empty());
}
