// The pure core of tartan-cni: the environment and network configuration a runtime hands over,
// the JSON the plugin answers with, and Calico's names.
#include <tartan/cni/cni.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>

using namespace tartan::cni;
using nlohmann::json;

namespace {

using Vars = std::map<std::string, std::string>;

CniResult<Environment> parseVars(const Vars& vars) {
  return parseEnvironment([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

Vars addVars() {
  return {{"CNI_COMMAND", "ADD"},
          {"CNI_CONTAINERID", "abc123"},
          {"CNI_NETNS", "/run/netns/pod"},
          {"CNI_IFNAME", "eth0"},
          {"CNI_PATH", "/opt/cni/bin"},
          {"CNI_ARGS",
           "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc123"}};
}

const char* kConf = R"({
  "cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "calico",
  "nodename": "node-a", "mtu": 1440, "datastore": "file:/tmp/store",
  "ipam": {"type": "calico-ipam", "assign_ipv4": "true", "assign_ipv6": true,
           "ipv4_pools": ["10.65.0.0/16", "default-pool"], "ipv6_pools": ["fd00:65::/48"]}
})";

}  // namespace

TEST_CASE("the environment of an ADD names the container, namespace, interface and pod") {
  auto env = parseVars(addVars());
  REQUIRE(env.has_value());
  CHECK(env->command == Command::kAdd);
  CHECK(env->containerID == "abc123");
  CHECK(env->netns == "/run/netns/pod");
  CHECK(env->ifName == "eth0");
  CHECK(env->podNamespace == "default");
  CHECK(env->podName == "web-0");
  CHECK(env->infraContainerID == "abc123");
  CHECK(env->args.at("IgnoreUnknown") == "1");
}

TEST_CASE("a missing or malformed environment variable is error 7") {
  struct Case {
    const char* rule;
    std::string var;
    std::optional<std::string> value;  // nullopt: unset
  };
  const Case cases[] = {
      {"CNI_COMMAND is required", "CNI_COMMAND", std::nullopt},
      {"an unknown command is refused", "CNI_COMMAND", "FROB"},
      {"CNI_CONTAINERID is required", "CNI_CONTAINERID", std::nullopt},
      {"a container ID starts with a letter or digit", "CNI_CONTAINERID", "-abc"},
      {"a container ID has no '/'", "CNI_CONTAINERID", "a/b"},
      {"CNI_NETNS is required for ADD", "CNI_NETNS", std::nullopt},
      {"CNI_NETNS is an absolute path", "CNI_NETNS", "run/netns/x"},
      {"CNI_IFNAME is required", "CNI_IFNAME", std::nullopt},
      {"an interface name fits 15 characters", "CNI_IFNAME", "eth0123456789012"},
      {"an interface name has no '/'", "CNI_IFNAME", "eth/0"},
      {"an interface name is not '..'", "CNI_IFNAME", ".."},
      {"CNI_ARGS pairs are KEY=VALUE", "CNI_ARGS", "K8S_POD_NAMESPACE=default;junk"},
      {"ADD needs the pod's namespace and name", "CNI_ARGS", "K8S_POD_NAMESPACE=default"},
  };
  for (const auto& c : cases) {
    SECTION(c.rule) {
      Vars vars = addVars();
      if (c.value)
        vars[c.var] = *c.value;
      else
        vars.erase(c.var);
      auto env = parseVars(vars);
      REQUIRE_FALSE(env.has_value());
      CHECK(env.error().code == kInvalidEnvironment);
      CHECK_FALSE(env.error().msg.empty());
    }
  }
}

TEST_CASE("DEL needs no namespace and no pod; VERSION needs nothing but the command") {
  Vars vars = addVars();
  vars["CNI_COMMAND"] = "DEL";
  vars.erase("CNI_NETNS");
  vars.erase("CNI_ARGS");
  auto env = parseVars(vars);
  REQUIRE(env.has_value());
  CHECK(env->command == Command::kDel);
  CHECK(env->netns.empty());
  auto version = parseVars({{"CNI_COMMAND", "VERSION"}});
  REQUIRE(version.has_value());
  CHECK(version->command == Command::kVersion);
  auto status = parseVars({{"CNI_COMMAND", "STATUS"}});
  REQUIRE(status.has_value());
  CHECK(status->command == Command::kStatus);
  auto gc = parseVars({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/opt/cni/bin"}});
  REQUIRE(gc.has_value());
  CHECK(gc->command == Command::kGc);
}

TEST_CASE("GC reads the runtime's valid attachments, under either name libcni has used") {
  for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    SECTION(key) {
      json j = json::parse(R"({"cniVersion":"1.1.0","name":"n","type":"t","ipam":{"type":"tartan-ipam"}})");
      j[key] = json::parse(R"([{"containerID":"a","ifname":"eth0"},{"containerID":"b"}])");
      auto conf = parseNetConf(j.dump());
      REQUIRE(conf.has_value());
      REQUIRE(conf->validAttachments);
      CHECK(*conf->validAttachments == std::vector<NetConf::Attachment>{{"a", "eth0"}, {"b", ""}});
    }
  }
  auto none = parseNetConf(R"({"cniVersion":"1.1.0","name":"n","type":"t","ipam":{"type":"tartan-ipam"}})");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->validAttachments);
  auto bad = parseNetConf(
      R"({"cniVersion":"1.1.0","name":"n","type":"t","ipam":{"type":"tartan-ipam"},"cni.dev/valid-attachments":[{"ifname":"eth0"}]})");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == kInvalidNetworkConfig);
}

TEST_CASE("a Calico network configuration is read field for field") {
  auto conf = parseNetConf(kConf);
  REQUIRE(conf.has_value());
  CHECK(conf->cniVersion == "1.0.0");
  CHECK(conf->name == "k8s-pod-network");
  CHECK(conf->type == "calico");
  CHECK(conf->ipamType == "calico-ipam");
  CHECK(conf->assignIpv4);
  CHECK(conf->assignIpv6);
  CHECK(conf->ipv4Pools == std::vector<std::string>{"10.65.0.0/16", "default-pool"});
  CHECK(conf->ipv6Pools == std::vector<std::string>{"fd00:65::/48"});
  CHECK(conf->mtu == 1440);
  CHECK(conf->nodename == "node-a");
  CHECK(conf->datastore == "file:/tmp/store");
  CHECK_FALSE(conf->prevResult);
}

TEST_CASE("the Kubernetes and etcd datastores, named as Tartan does or as Calico's CNI configuration does") {
  struct Case {
    const char* json;
    const char* datastore;
  };
  const Case cases[] = {
      {R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore":"kubernetes","ipam":{"type":"tartan-ipam"}})",
       "kubernetes"},
      {R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore":"kubernetes:/etc/k","ipam":{"type":"tartan-ipam"}})",
       "kubernetes:/etc/k"},
      {R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore_type":"kubernetes","ipam":{"type":"tartan-ipam"}})",
       "kubernetes"},
      {R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore_type":"kubernetes",
           "kubernetes":{"kubeconfig":"/etc/cni/net.d/calico-kubeconfig"},"ipam":{"type":"calico-ipam"}})",
       "kubernetes:/etc/cni/net.d/calico-kubeconfig"},
      {R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore":"etcdv3:http://10.0.0.1:2379","ipam":{"type":"tartan-ipam"}})",
       "etcdv3:http://10.0.0.1:2379"},
      {R"({"cniVersion":"1.0.0","name":"n","type":"t","etcd_endpoints":"http://10.0.0.1:2379","ipam":{"type":"calico-ipam"}})",
       "etcdv3:http://10.0.0.1:2379"},
      {R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore_type":"etcdv3","etcd_endpoints":"https://10.0.0.1:2379",
           "etcd_ca_cert_file":"/etc/calico/ca.pem","etcd_cert_file":"/etc/calico/c.pem","etcd_key_file":"/etc/calico/k.pem",
           "ipam":{"type":"calico-ipam"}})",
       "etcdv3:https://10.0.0.1:2379?ca=/etc/calico/ca.pem&cert=/etc/calico/c.pem&key=/etc/calico/k.pem"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    auto conf = parseNetConf(c.json);
    REQUIRE(conf.has_value());
    CHECK(conf->datastore == c.datastore);
  }
}

TEST_CASE("defaults: IPv4 only, the kernel's MTU, the default datastore") {
  auto conf = parseNetConf(
      R"({"cniVersion":"0.3.1","name":"net","type":"tartan-cni","ipam":{"type":"tartan-ipam"}})");
  REQUIRE(conf.has_value());
  CHECK(conf->assignIpv4);
  CHECK_FALSE(conf->assignIpv6);
  CHECK(conf->mtu == 0);
  CHECK(conf->datastore.empty());
}

TEST_CASE("a bad network configuration is refused with the spec's code") {
  struct Case {
    const char* rule;
    const char* json;
    int code;
  };
  const Case cases[] = {
      {"not JSON", "{", kDecodeFailure},
      {"not an object", "[]", kInvalidNetworkConfig},
      {"cniVersion is required", R"({"name":"n","type":"t","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"an unknown cniVersion is incompatible",
       R"({"cniVersion":"2.0.0","name":"n","type":"t","ipam":{"type":"tartan-ipam"}})", kIncompatibleVersion},
      {"name is required", R"({"cniVersion":"1.0.0","type":"t","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"a name is alphanumeric, '_', '.', '-'",
       R"({"cniVersion":"1.0.0","name":"a b","type":"t","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"type is required", R"({"cniVersion":"1.0.0","name":"n","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"ipam is required", R"({"cniVersion":"1.0.0","name":"n","type":"t"})", kInvalidNetworkConfig},
      {"only our IPAM", R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"host-local"}})",
       kInvalidNetworkConfig},
      {"assign_ipv4 is a boolean",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"tartan-ipam","assign_ipv4":"yes"}})",
       kInvalidNetworkConfig},
      {"some address is assigned",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"tartan-ipam","assign_ipv4":false}})",
       kInvalidNetworkConfig},
      {"an IPv4 pool CIDR is IPv4",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"tartan-ipam","ipv4_pools":["fd00::/64"]}})",
       kInvalidNetworkConfig},
      {"a pool CIDR parses",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"tartan-ipam","ipv4_pools":["10.0.0.1/24"]}})",
       kInvalidNetworkConfig},
      {"pools are a list",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"tartan-ipam","ipv4_pools":"p"}})",
       kInvalidNetworkConfig},
      {"mtu is in range",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","mtu":20,"ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"mtu is a number",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","mtu":"1500","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"only file, etcd and kubernetes datastores",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore":"consul:x","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"datastore_type etcdv3 needs etcd_endpoints",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore_type":"etcdv3","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"etcd_endpoints is for etcdv3",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore_type":"kubernetes","etcd_endpoints":"http://h:1","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"datastore_type is kubernetes",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore_type":"consul","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"datastore and datastore_type are not both set",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore":"file:/x","datastore_type":"kubernetes","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"kubernetes is an object",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","datastore_type":"kubernetes","kubernetes":"x","ipam":{"type":"tartan-ipam"}})",
       kInvalidNetworkConfig},
      {"prevResult ips name an interface of the result",
       R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"tartan-ipam"},"prevResult":{"ips":[{"address":"10.0.0.1/32","interface":2}]}})",
       kInvalidNetworkConfig},
  };
  for (const auto& c : cases) {
    SECTION(c.rule) {
      auto conf = parseNetConf(c.json);
      REQUIRE_FALSE(conf.has_value());
      CHECK(conf.error().code == c.code);
    }
  }
}

TEST_CASE("a result is CNI 1.0 JSON and reads back as prevResult") {
  AddResult result;
  result.cniVersion = "1.0.0";
  result.interfaces = {{"cali1234567890a", "ee:ee:ee:ee:ee:ee", ""},
                       {"eth0", "02:00:00:00:00:01", "/run/netns/p"}};
  result.ips = {{"10.65.0.1/32", "", 1}, {"fd00:65::1/128", "", 1}};
  result.routes = {{"0.0.0.0/0", "169.254.1.1"}, {"::/0", "fe80::ecee:eeff:feee:eeee"}};
  json j = json::parse(resultJson(result));
  CHECK(j["cniVersion"] == "1.0.0");
  CHECK(j["interfaces"][0] == json{{"name", "cali1234567890a"}, {"mac", "ee:ee:ee:ee:ee:ee"}});
  CHECK(j["interfaces"][1]["sandbox"] == "/run/netns/p");
  CHECK(j["ips"][0] == json{{"address", "10.65.0.1/32"}, {"interface", 1}});
  CHECK(j["routes"][1] == json{{"dst", "::/0"}, {"gw", "fe80::ecee:eeff:feee:eeee"}});
  CHECK(j["dns"] == json::object());
  auto back = parseResult(resultJson(result));
  REQUIRE(back.has_value());
  CHECK(*back == result);
}

TEST_CASE("0.3.x and 0.4.0 results carry each IP's version") {
  AddResult result;
  result.cniVersion = "0.3.1";
  result.interfaces = {{"eth0", "", "/run/netns/p"}};
  result.ips = {{"10.65.0.1/32", "", 0}, {"fd00::1/128", "", 0}};
  json j = json::parse(resultJson(result));
  CHECK(j["ips"][0]["version"] == "4");
  CHECK(j["ips"][1]["version"] == "6");
}

TEST_CASE("errors and VERSION are the spec's JSON") {
  json error = json::parse(errorJson("0.4.0", CniError{kTryAgainLater, "datastore away", "file:/x: gone"}));
  CHECK(error ==
        json{{"cniVersion", "0.4.0"}, {"code", 11}, {"msg", "datastore away"}, {"details", "file:/x: gone"}});
  json version = json::parse(versionJson("1.0.0"));
  CHECK(version["supportedVersions"] == json{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"});
}

TEST_CASE("names are Calico's") {
  // Calico: "cali" + sha1("default.web-0")[:11].
  std::string veth = hostVethName("default", "web-0");
  CHECK(veth.size() == 15);
  CHECK(veth.rfind("cali", 0) == 0);
  CHECK(hostVethName("default", "web-0") == veth);
  CHECK(hostVethName("default", "web-1") != veth);
  CHECK(workloadEndpointName("node-a", "web-0", "eth0") == "node--a-k8s-web--0-eth0");
  CHECK(workloadEndpointName("n", "p", "eth0") == "n-k8s-p-eth0");
}

TEST_CASE("the WorkloadEndpoint carries the pod, its addresses, profile and labels") {
  EndpointInput in;
  in.node = "node-a";
  in.env = parseVars(addVars()).value();
  in.hostVeth = "cali0123456789a";
  in.mac = "02:00:00:00:00:01";
  in.ipNetworks = {"10.65.0.1/32"};
  in.podLabels = {{"app", "web"}};
  in.serviceAccount = "sa";
  auto wep = makeWorkloadEndpoint(in);
  CHECK(wep.metadata.name == "node--a-k8s-web--0-eth0");
  CHECK(wep.metadata.namespaceName == "default");
  CHECK(wep.metadata.labels.at("app") == "web");
  CHECK(wep.metadata.labels.at("projectcalico.org/namespace") == "default");
  CHECK(wep.metadata.labels.at("projectcalico.org/orchestrator") == "k8s");
  CHECK(wep.metadata.labels.at("projectcalico.org/serviceaccount") == "sa");
  CHECK(wep.spec.orchestrator == "k8s");
  CHECK(wep.spec.node == "node-a");
  CHECK(wep.spec.pod == "web-0");
  CHECK(wep.spec.endpoint == "eth0");
  CHECK(wep.spec.containerID == "abc123");
  CHECK(wep.spec.interfaceName == "cali0123456789a");
  CHECK(wep.spec.mac == "02:00:00:00:00:01");
  CHECK(wep.spec.ipNetworks == std::vector<std::string>{"10.65.0.1/32"});
  CHECK(wep.spec.profiles == std::vector<std::string>{"kns.default", "ksa.default.sa"});
}

TEST_CASE("Calico's pool annotations are a JSON list of pool names or CIDRs") {
  auto pools = parsePoolsAnnotation(kIpv4PoolsAnnotation, R"(["pool-a", "10.70.0.0/24"])");
  REQUIRE(pools.has_value());
  CHECK(*pools == std::vector<std::string>{"pool-a", "10.70.0.0/24"});
  for (const char* bad : {"pool-a", "[]", "[1]", R"([""])", R"({"a":1})"}) {
    SECTION(bad) {
      auto refused = parsePoolsAnnotation(kIpv4PoolsAnnotation, bad);
      REQUIRE_FALSE(refused.has_value());
      CHECK(refused.error().code == kInvalidNetworkConfig);
      CHECK(refused.error().msg.find("cni.projectcalico.org/ipv4pools") != std::string::npos);
    }
  }
}

TEST_CASE("CNI_ARGS is read as libcni reads it for Calico's plugin") {
  struct Case {
    const char* rule;
    const char* args;
    bool accepted;
  };
  const Case cases[] = {
      {"the keys kubelet sends are known",
       "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u", true},
      {"an unknown key is refused", "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;FOO=bar", false},
      {"IgnoreUnknown=1 lets an unknown key pass",
       "IgnoreUnknown=1;K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;FOO=bar", true},
      {"IgnoreUnknown=true (any case) lets it pass",
       "IgnoreUnknown=True;K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;FOO=b", true},
      {"IgnoreUnknown=0 does not", "IgnoreUnknown=0;K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;FOO=bar", false},
      {"IgnoreUnknown is a boolean", "IgnoreUnknown=yes;K8S_POD_NAMESPACE=d;K8S_POD_NAME=p", false},
      {"a pair has exactly one '='", "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p=q", false},
      {"a key is not empty", "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;=x", false},
      {"IP is an address", "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;IP=10.65.0.300", false},
      {"IP may be IPv6", "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;IP=fd00:65::7", true},
      {"empty pairs are skipped", "K8S_POD_NAMESPACE=d;;K8S_POD_NAME=p;", true},
  };
  for (const auto& c : cases) {
    SECTION(c.rule) {
      Vars vars = addVars();
      vars["CNI_ARGS"] = c.args;
      auto env = parseVars(vars);
      CHECK(env.has_value() == c.accepted);
      if (!env) CHECK(env.error().code == kInvalidEnvironment);
    }
  }
  SECTION("the pod's UID and the IP asked for are kept, the address normalised") {
    Vars vars = addVars();
    vars["CNI_ARGS"] = "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;K8S_POD_UID=u-1;IP=fd00:65:0::7";
    auto env = parseVars(vars);
    REQUIRE(env.has_value());
    CHECK(env->podUid == "u-1");
    CHECK(env->requestedIp == "fd00:65::7");
  }
}

TEST_CASE(
    "runtimeConfig ips and ipam_lock_file are read; anything else in runtimeConfig is another plugin's") {
  const std::string head = R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"type":"calico-ipam"})";
  auto conf = parseNetConf(head + R"(,"ipam_lock_file":"/run/x/ipam.lock","runtimeConfig":{
      "ips":["10.65.0.7/24","fd00:65::7"],"portMappings":[{"hostPort":80}],"bandwidth":{"ingressRate":1}}})");
  REQUIRE(conf.has_value());
  CHECK(conf->runtimeIps == std::vector<std::string>{"10.65.0.7", "fd00:65::7"});
  CHECK(conf->ipamLockFile == "/run/x/ipam.lock");
  auto defaults = parseNetConf(head + "}");
  REQUIRE(defaults.has_value());
  CHECK(defaults->runtimeIps.empty());
  CHECK(defaults->ipamLockFile == kDefaultIpamLockFile);
  for (const char* bad :
       {R"("runtimeConfig":[])", R"("runtimeConfig":{"ips":"10.65.0.7"})",
        R"("runtimeConfig":{"ips":["10.65.0.7","10.65.0.8"]})", R"("runtimeConfig":{"ips":["not-an-ip"]})",
        R"("runtimeConfig":{"ips":[7]})", R"("ipam_lock_file":"relative.lock")", R"("ipam_lock_file":3)"}) {
    SECTION(bad) {
      auto refused = parseNetConf(head + "," + bad + "}");
      REQUIRE_FALSE(refused.has_value());
      CHECK(refused.error().code == kInvalidNetworkConfig);
    }
  }
}

TEST_CASE("an error quoting bytes that are not UTF-8 still prints as JSON") {
  Vars vars = addVars();
  vars["CNI_ARGS"] = "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p;\xff\xfe";
  auto env = parseVars(vars);
  REQUIRE_FALSE(env.has_value());
  json error = json::parse(errorJson("1.0.0", env.error()), nullptr, false);
  REQUIRE_FALSE(error.is_discarded());
  CHECK(error["code"] == kInvalidEnvironment);
}
