// tartanctl's calicoctl verbs beyond apply and get: label selectors, custom columns and JSONPath,
// --export, Calico's API group on output, patch, label, version and node checksystem. Driven
// through the binary against a file datastore in a fresh temporary folder.
#include "ctl.hpp"

#include "tartan/datastore/datastore.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace tartan::test::cli;

namespace {

std::string withoutLinesContaining(const std::string& text, const std::string& needle) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.find(needle) == std::string::npos) out += line + "\n";
  return out;
}

const char* kPolicies = R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  order: 10
  selector: app == "web"
  ingress: [{action: Allow}]
---
apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: db
  labels: {app: db}
spec:
  order: 20
  selector: app == "db"
---
apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: plain
spec:
  selector: all()
)";

}  // namespace

TEST_CASE("get -l keeps what a Calico selector or Kubernetes' k=v form matches") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  struct Case {
    std::string selector, names;
  };
  for (const auto& c : std::vector<Case>{
           {"app == 'web'", "web"},
           {"has(app) && app != 'web'", "db"},
           {"!has(app)", "plain"},
           {"app in {'web', 'db'}", "db web"},
           {"app=web", "web"},
           {"app==web", "web"},
           {"app!=web", "db plain"},  // as in Kubernetes and Calico, an absent label is not equal
           {"app", "db web"},
           {"!app", "plain"},
           {"app in (db, web),tier notin (front)", "db"},
           {"app=web,tier=front", "web"},
       }) {
    auto got = ctl("get gnp -l \"" + c.selector + "\" -o 'jsonpath={.items[*].metadata.name}'");
    INFO(c.selector << ": " << got.err);
    CHECK(got.status == 0);
    CHECK(got.out == c.names);
  }
  // Written as Calico (quotes, &&, has()...): never read again as Kubernetes' form.
  auto bad = ctl("get gnp -l \"app == 'web' &&\"");
  CHECK(bad.status == 1);
  CHECK(bad.err.rfind("tartanctl: -l \"app == 'web' &&\": not a selector: column ", 0) == 0);
  CHECK(bad.err.find("k=v") == std::string::npos);
  CHECK(bad.err.find('\n') == bad.err.size() - 1);
  auto badTerm = ctl("get gnp -l 'app=web,=x'");
  CHECK(badTerm.status == 1);
  CHECK(badTerm.err.find("as k=v,k2!=v: \"=x\" is not KEY=VALUE or KEY!=VALUE") != std::string::npos);
}

TEST_CASE("-o custom-columns prints a column per path, <none> where there is nothing") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  auto got =
      ctl("get gnp -o custom-columns=NAME:.metadata.name,ORDER:{.spec.order},APP:metadata.labels.app,"
          "ACTIONS:.spec.ingress[*].action");
  INFO(got.err);
  REQUIRE(got.status == 0);
  CHECK(got.out ==
        "NAME    ORDER    APP      ACTIONS\n"
        "db      20       db       <none>\n"
        "plain   <none>   <none>   <none>\n"
        "web     10       web      Allow\n");
  for (const auto& [spec, expect] : std::vector<std::pair<std::string, std::string>>{
           {"NAME", "-o custom-columns: column 1 \"NAME\": is not HEADER:PATH"},
           {"NAME:.metadata.name,X:.spec.ingress[?(@.action)]",
            "column 2 \"X:.spec.ingress[?(@.action)]\": column 14: filters"},
           {"X:.a[1:2]", "slices"},
       }) {
    auto refused = ctl("get gnp -o 'custom-columns=" + spec + "'");
    INFO(spec);
    CHECK(refused.status == 1);
    CHECK(refused.out.empty());
    CHECK(refused.err.find(expect) != std::string::npos);
  }
}

TEST_CASE("-o jsonpath renders paths, text and range over a list or one named resource") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  struct Case {
    std::string args, out;
  };
  for (const auto& c : std::vector<Case>{
           {"gnp web -o 'jsonpath={.metadata.name} {.spec.order}'", "web 10"},
           {"gnp web -o 'jsonpath={$.spec.ingress[0].action}'", "Allow"},
           {"gnp web -o \"jsonpath={.metadata.labels['app']}\"", "web"},
           {"gnp web -o 'jsonpath={.metadata.labels}'", "{\"app\":\"web\",\"tier\":\"front\"}"},
           {"gnp web -o 'jsonpath={.spec.nothing}'", ""},
           {"gnp -o 'jsonpath={.kind}'", "GlobalNetworkPolicyList"},
           {"gnp -o 'jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.spec.selector}{\"\\n\"}{end}'",
            "db\tapp == \"db\"\nplain\tall()\nweb\tapp == \"web\"\n"},
           {"gnp -o 'jsonpath={range .items}[{.metadata.name}]{end}'", "[db][plain][web]"},
       }) {
    auto got = ctl("get " + c.args);
    INFO(c.args << ": " << got.err);
    CHECK(got.status == 0);
    CHECK(got.out == c.out);
  }
  for (const auto& [expression, expect] : std::vector<std::pair<std::string, std::string>>{
           {"{..name}", "column 2: recursive descent (..) is not supported"},
           {"{.items[-1]}", "column 8: negative indices"},
           {"{.items[0,1]}", "unions"},
           {"{range .items[*]}{.metadata.name}", "column 2: {range} has no {end}"},
           {"{end}", "{end} without {range}"},
           {"{.metadata.name", "column 1: \"{\" is not closed"},
           {"{len(.items)}", "a path starts with ., @ or $"},
       }) {
    auto refused = ctl("get gnp -o 'jsonpath=" + expression + "'");
    INFO(expression);
    CHECK(refused.status == 1);
    CHECK(refused.out.empty());
    CHECK(refused.err.rfind("tartanctl: -o jsonpath: ", 0) == 0);
    CHECK(refused.err.find(expect) != std::string::npos);
  }
  CHECK(ctl("get gnp -o jsonpath").err.find("unknown output format") != std::string::npos);
}

TEST_CASE("--export leaves out uid, resourceVersion and creationTimestamp, and applies back") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  auto full = ctl("get gnp web -o yaml");
  auto exported = ctl("get gnp web -o yaml --export");
  REQUIRE(exported.status == 0);
  for (const char* field : {"uid:", "resourceVersion:", "creationTimestamp:"}) {
    CHECK(full.out.find(field) != std::string::npos);
    CHECK(exported.out.find(field) == std::string::npos);
  }
  CHECK(exported.out ==
        withoutLinesContaining(
            withoutLinesContaining(withoutLinesContaining(full.out, "uid:"), "resourceVersion:"),
            "creationTimestamp:"));
  auto json = ctl("get gnp -o json --export");
  CHECK(json.out.find("\"uid\"") == std::string::npos);
  CHECK(ctl("delete gnp web").status == 0);
  CHECK(ctl("apply -f -", exported.out).status == 0);
  CHECK(ctl("get gnp web --export").err ==
        "tartanctl: --export needs -o yaml, json, custom-columns or jsonpath\n");
}

TEST_CASE("output in Calico's group: projectcalico.org/v3 and FelixConfiguration, and it applies back") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f " + source("test/unit/cli/testdata/calico-all.yaml")).status == 0);
  for (const std::string kind : {"tier", "gnp", "np", "gns", "netset", "hep", "ippool", "bgpconfig",
                                 "bgppeer", "bgpfilter", "node", "felixconfiguration"}) {
    for (const std::string& how :
         {kind + ".projectcalico.org -A", kind + " -A --api-version projectcalico.org/v3"}) {
      auto calico = ctl("get " + how + " -o yaml");
      INFO(how << ": " << calico.err);
      REQUIRE(calico.status == 0);
      CHECK(calico.out.rfind("apiVersion: projectcalico.org/v3\nkind: ", 0) == 0);
      CHECK(calico.out.find("tartan.dev") == std::string::npos);
      auto file = ctl.file("calico.yaml", calico.out);
      auto applied = ctl("apply -f " + file.string());
      INFO(applied.err);
      CHECK(applied.status == 0);
      CHECK(withoutLinesContaining(ctl("get " + how + " -o yaml").out, "resourceVersion") ==
            withoutLinesContaining(calico.out, "resourceVersion"));
    }
  }
  auto felix = ctl("get felixconfigurations.projectcalico.org default -o json");
  CHECK(felix.out.find("\"kind\": \"FelixConfiguration\"") != std::string::npos);
  auto list = ctl("get felixconfiguration --api-version projectcalico.org/v3 -o json");
  CHECK(list.out.find("\"kind\": \"FelixConfigurationList\"") != std::string::npos);
  // KIND/NAME, in either group.
  CHECK(ctl("get globalnetworkpolicies.projectcalico.org/platform.allow-dns -o yaml")
            .out.rfind("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n", 0) == 0);
  CHECK(ctl("get gnp.tartan.dev/platform.allow-dns -o yaml").out.rfind("apiVersion: tartan.dev/v1\n", 0) ==
        0);
  // The default stays Tartan's.
  CHECK(ctl("get felixconfiguration default -o yaml")
            .out.rfind("apiVersion: tartan.dev/v1\nkind: AgentConfiguration\n", 0) == 0);

  CHECK(ctl("get gnp --api-version v9").err ==
        "tartanctl: --api-version \"v9\": not projectcalico.org/v3 or tartan.dev/v1\n");
  CHECK(ctl("get gnp.tartan.dev --api-version projectcalico.org/v3").status == 1);
  CHECK(ctl("get pods.projectcalico.org").err.find("Pod is a Kubernetes kind") != std::string::npos);
}

TEST_CASE("patch merges (RFC 7386) and the result is decoded as strictly as apply") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  auto patched =
      ctl("patch gnp web -p "
          "'{\"spec\":{\"order\":15,\"ingress\":null},\"metadata\":{\"labels\":{\"tier\":null}}}'");
  INFO(patched.err);
  REQUIRE(patched.status == 0);
  CHECK(patched.out == "Successfully patched GlobalNetworkPolicy \"web\"\n");
  auto after = ctl("get gnp web -o yaml");
  CHECK(after.out.find("order: 15") != std::string::npos);
  CHECK(after.out.find("ingress") == std::string::npos);
  CHECK(after.out.find("tier: front") == std::string::npos);
  CHECK(after.out.find("uid:") != std::string::npos);

  CHECK(ctl("patch gnp/web -p '{\"spec\":{\"order\":15}}'").out ==
        "Successfully patched GlobalNetworkPolicy \"web\" (no change)\n");

  struct Case {
    std::string name, args, err;
  };
  for (const auto& c : std::vector<Case>{
           {"unknown field", "gnp web -p '{\"spec\":{\"colour\":\"blue\"}}'",
            "tartanctl: patched GlobalNetworkPolicy/web:"},
           {"invalid value", "gnp web -p '{\"spec\":{\"selector\":\"app ==\"}}'", "spec.selector"},
           {"not JSON", "gnp web -p '{spec'", "tartanctl: -p: not JSON: parse error at line 1, column 2"},
           {"not an object", "gnp web -p '[1]'", "a merge patch (RFC 7386) is a JSON object"},
           {"rename", "gnp web -p '{\"metadata\":{\"name\":\"other\"}}'",
            "changes metadata.name from \"web\" to \"other\""},
           {"missing", "gnp nothing -p '{}'", "tartanctl: GlobalNetworkPolicy \"nothing\" not found\n"},
           {"no name", "gnp -p '{}'", "\"gnp\" needs a NAME"},
           {"strategic", "gnp web --type strategic -p '{}'",
            "merge or json (strategic merge is not supported)"},
           {"stale resourceVersion",
            "gnp web -p '{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"order\":3}}'",
            "tartanctl: conflict: "},
       }) {
    auto result = ctl("patch " + c.args);
    INFO(c.name << ": " << result.err);
    CHECK(result.status == 1);
    CHECK(result.err.find(c.err) != std::string::npos);
  }
  CHECK(withoutLinesContaining(ctl("get gnp web -o yaml").out, "resourceVersion") ==
        withoutLinesContaining(after.out, "resourceVersion"));
}

TEST_CASE("patch --type json applies RFC 6902 operations in order, all or nothing") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  auto patched = ctl(R"(patch gnp web --type json -p '[
      {"op": "test", "path": "/spec/order", "value": 10},
      {"op": "replace", "path": "/spec/order", "value": 11},
      {"op": "add", "path": "/spec/ingress/-", "value": {"action": "Deny"}},
      {"op": "remove", "path": "/metadata/labels/tier"},
      {"op": "copy", "from": "/metadata/labels/app", "path": "/metadata/labels/role"}]')");
  INFO(patched.err);
  REQUIRE(patched.status == 0);
  auto after = ctl("get gnp web -o 'jsonpath={.spec.order} {.spec.ingress[*].action} {.metadata.labels}'");
  CHECK(after.out == "11 Allow Deny {\"app\":\"web\",\"role\":\"web\"}");

  struct Case {
    std::string name, patch, err;
  };
  for (
      const auto& c : std::vector<Case>{
          {"test fails",
           R"([{"op":"replace","path":"/spec/order","value":1},{"op":"test","path":"/spec/order","value":10}])",
           "tartanctl: -p: operation 1 (test /spec/order): failed: it is 1, not 10; nothing was written\n"},
          {"nothing to remove", R"([{"op":"remove","path":"/spec/types/5"}])",
           "-p: operation 0 (remove /spec/types/5): "},
          {"unknown op", R"([{"op":"frobnicate","path":"/spec"}])",
           "\"op\" must be add, remove, replace, move, copy or test"},
          {"no value", R"([{"op":"add","path":"/spec/order"}])", "(add /spec/order): \"value\" is missing"},
          {"not a list", R"({"op":"add"})", "a JSON patch (--type json) is a list of operations"},
          {"invalid result", R"([{"op":"replace","path":"/spec/order","value":"high"}])", "spec.order"},
      }) {
    auto result = ctl("patch gnp web --type json -p '" + c.patch + "'");
    INFO(c.name << ": " << result.err);
    CHECK(result.status == 1);
    CHECK(result.err.find(c.err) != std::string::npos);
  }
  CHECK(ctl("get gnp web -o 'jsonpath={.spec.order}'").out == "11");
}

TEST_CASE("patch and label of a namespaced resource use -n") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f " + source("examples/policy")).status == 0);
  CHECK(ctl("patch np default-deny -p '{\"spec\":{\"order\":5}}'").err ==
        "tartanctl: NetworkPolicy \"default-deny\" in namespace \"default\" not found\n");
  CHECK(ctl("patch np default-deny -n shop -p '{\"spec\":{\"order\":5}}'").status == 0);
  CHECK(ctl("label np default-deny -n shop team=shop").status == 0);
  CHECK(ctl("get np -n shop -l team=shop -o 'jsonpath={.items[*].spec.order}'").out == "5");
}

TEST_CASE("label sets and removes labels, and changes one only with --overwrite") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  auto labelled = ctl("label gnp plain team=net env=prod");
  INFO(labelled.err);
  REQUIRE(labelled.status == 0);
  CHECK(labelled.out == "Successfully labelled GlobalNetworkPolicy \"plain\"\n");
  CHECK(ctl("get gnp plain -o 'jsonpath={.metadata.labels}'").out == "{\"env\":\"prod\",\"team\":\"net\"}");

  auto refused = ctl("label gnp plain team=web");
  CHECK(refused.status == 1);
  CHECK(refused.err ==
        "tartanctl: label \"team\" is already \"net\"; give --overwrite to change it; nothing was written\n");
  CHECK(ctl("label gnp plain team=net").out ==
        "Successfully labelled GlobalNetworkPolicy \"plain\" (no change)\n");
  CHECK(ctl("label gnp/plain team=web env- --overwrite").status == 0);
  CHECK(ctl("get gnp plain -o 'jsonpath={.metadata.labels}'").out == "{\"team\":\"web\"}");
  auto absent = ctl("label gnp plain nothing-");
  CHECK(absent.status == 0);
  CHECK(absent.err == "tartanctl: warning: label \"nothing\" is not set\n");

  for (const auto& [args, err] : std::vector<std::pair<std::string, std::string>>{
           {"gnp plain", "label needs KEY=VALUE or KEY- after KIND NAME"},
           {"gnp plain justakey", "label \"justakey\": not KEY=VALUE or KEY- (to remove KEY)"},
           {"gnp plain a=1 a-", "label \"a\" is given twice"},
           {"gnp plain =1", "label \"=1\": the key is empty"},
           {"gnp plain 'bad key=1'", "metadata.labels[bad key]: invalid label key"},
           {"gnp plain 'ok=bad value'", "metadata.labels[ok]"},
           {"gnp nothing a=1", "GlobalNetworkPolicy \"nothing\" not found"},
       }) {
    auto result = ctl("label " + args);
    INFO(args << ": " << result.err);
    CHECK(result.status == 1);
    CHECK(result.err.find(err) != std::string::npos);
  }
  CHECK(ctl("get gnp plain -o 'jsonpath={.metadata.labels}'").out == "{\"team\":\"web\"}");
}

TEST_CASE("concurrent labels of one resource all land: a lost compare-and-swap reads again") {
  Ctl ctl("tartanctl-verbs");
  REQUIRE(ctl("apply -f -", kPolicies).status == 0);
  std::string command = "(";
  for (int i = 0; i < 4; ++i) {
    command += ctl.binary() + " --datastore file:" + ctl.store().string() + " label gnp plain k" +
               std::to_string(i) + "=v >/dev/null 2>" + (ctl.dir() / ("err" + std::to_string(i))).string() +
               " || echo failed & ";
  }
  command += "wait)";
  auto result = tartan::test::shell(command);
  INFO(result.output);
  CHECK(result.output.find("failed") == std::string::npos);
  CHECK(ctl("get gnp plain -o 'jsonpath={.metadata.labels}'").out ==
        "{\"k0\":\"v\",\"k1\":\"v\",\"k2\":\"v\",\"k3\":\"v\"}");
}

TEST_CASE("version prints the client's and the cluster's version, unknown without ClusterInformation") {
  Ctl ctl("tartanctl-verbs");
  auto bare = ctl("version");
  CHECK(bare.status == 0);
  CHECK(bare.out == "Client Version:    0.1.0\nCluster Version:   unknown\n");
  CHECK_FALSE(fs::exists(ctl.store()));  // version does not make a store

  auto store = tartan::datastore::open("file:" + ctl.store().string());
  REQUIRE(store);
  REQUIRE((*store)->apply(
      {"ClusterInformation", "", "default"},
      "apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\n"
      "spec:\n  calicoVersion: v3.27.0\n  clusterType: k8s,bgp\n"));
  auto known = ctl("version");
  CHECK(known.status == 0);
  CHECK(known.out == "Client Version:    0.1.0\nCluster Version:   v3.27.0\nCluster Type:      k8s,bgp\n");
}

TEST_CASE(
    "node checksystem reads modules, kernel config and tools under --root, and fails on what is missing") {
  Ctl ctl("tartanctl-verbs");
  const std::string root = (ctl.dir() / "host").string();
  ctl.file("host/proc/sys/kernel/osrelease", "9.9.9-test\n");
  ctl.file("host/proc/modules", "ip_set 61440 1 xt_set, Live 0x0\nx_tables 53248 3 - Live 0x0\n");
  ctl.file("host/lib/modules/9.9.9-test/modules.dep",
           "kernel/net/netfilter/xt_set.ko.zst: kernel/net/netfilter/ipset/ip_set.ko.zst\n"
           "kernel/net/netfilter/nf_conntrack_netlink.ko:\n");
  ctl.file("host/lib/modules/9.9.9-test/modules.builtin", "kernel/net/netfilter/xt_conntrack.ko\n");
  ctl.file("host/boot/config-9.9.9-test",
           "CONFIG_NETFILTER_XT_MARK=y\nCONFIG_NETFILTER_XT_MATCH_MULTIPORT=m\n");
  fs::create_directories(root + "/sys/module/ip_tables");
  ctl.file("host/proc/sys/net/ipv4/ip_forward", "1\n");
  auto tool = ctl.file("host/usr/sbin/iptables-restore", "#!/bin/sh\n");
  fs::permissions(tool, fs::perms::owner_all);

  auto checked = ctl("node checksystem --root " + root);
  CHECK(checked.status == 1);
  CHECK(
      checked.out ==
      "OK       kernel module ip_tables or nf_tables: ip_tables in the kernel\n"
      "OK       kernel module ip_set: loaded\n"
      "OK       kernel module xt_set: loadable from /lib/modules/9.9.9-test (not loaded yet)\n"
      "OK       kernel module xt_conntrack: built in\n"
      "MISSING  kernel module xt_multiport: not loaded, not built in, not in "
      "/lib/modules/9.9.9-test/modules.dep\n"
      "OK       kernel module xt_mark: built in (CONFIG_NETFILTER_XT_MARK=y)\n"
      "OK       kernel module nf_conntrack_netlink: loadable from /lib/modules/9.9.9-test (not loaded yet)\n"
      "OK       tool iptables-restore: /usr/sbin/iptables-restore\n"
      "MISSING  tool ipset: not found in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin or "
      "/bin\n"
      "OK       /proc/sys/net/ipv4/ip_forward: readable (1)\n");
  CHECK(checked.err == "tartanctl: 2 required check(s) failed: the agent cannot run on this node\n");

  ctl.file("host/proc/modules", "ip_set 61440 1 xt_set, Live 0x0\nxt_multiport 16384 0 - Live 0x0\n");
  auto ipset = ctl.file("host/sbin/ipset", "#!/bin/sh\n");
  fs::permissions(ipset, fs::perms::owner_all);
  auto passed = ctl("node checksystem --root " + root + "/");
  CHECK(passed.status == 0);
  CHECK(passed.out.find("OK       kernel module xt_multiport: loaded\n") != std::string::npos);
  CHECK(passed.out.find("OK       tool ipset: /sbin/ipset\n") != std::string::npos);
  CHECK(passed.out.ends_with("This node has what the agent needs\n"));

  auto notThere = ctl("node checksystem --root " + root + "/nothing");
  CHECK(notThere.status == 1);
  CHECK(notThere.err == "tartanctl: --root " + root + "/nothing: not a folder\n");
}
