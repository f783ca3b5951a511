// The Kubernetes datastore against the test API server: CRUD of every Calico kind as Calico's
// custom resources, hand-written Calico CRs read back, Kubernetes objects and what is derived from
// them (WorkloadEndpoints from Pods, Calico's Node from the Kubernetes Node), transactions.
#include "calico_samples.hpp"
#include "kubernetes_fixture.hpp"

using namespace tartan;
using namespace tartan::test;
using datastore::ErrorKind;
using datastore::Key;
namespace calico = datastore::calico;

namespace {

Key keyOf(const model::Resource& resource) {
  const auto& layout = *calico::layoutOf(model::kindOf(resource));
  const auto& meta = model::metadata(resource);
  return Key{std::string(layout.storageKind), layout.namespaced ? meta.namespaceName : "",
             calico::keyName(layout, meta.name)};
}

// The resource as the store gives it back: server fields (uid, creationTimestamp) are the server's.
model::Resource withoutServerFields(model::Resource r) {
  auto& meta = model::metadata(r);
  meta.uid.clear();
  meta.creationTimestamp.clear();
  meta.resourceVersion.clear();
  return r;
}

}  // namespace

TEST_CASE("every Calico kind is created, read, updated and removed as its custom resource",
          "[kubernetes-datastore]") {
  KubeFixture f;
  f.createNamespace("prod");
  auto& store = *f.store;
  for (const Sample& sample : samples()) {
    const auto& layout = *calico::layoutOf(sample.kind);
    INFO(layout.storageKind);
    model::Resource original = decodeDocument(sample.document);
    const Key key = keyOf(original);
    const std::string document = model::encodeYaml(original);

    auto created = store.create(key, document);
    INFO((created ? std::string() : created.error().toString()));
    REQUIRE(created);
    CHECK(created->key == key);
    CHECK(created->revision > 0);
    model::Resource expected = original;
    if (layout.tiered) model::metadata(expected).name = key.name;
    CHECK(withoutServerFields(decodeDocument(created->value)) == withoutServerFields(expected));

    // On the server: Calico's custom resource.
    const std::string crName = layout.tiered ? calico::backendPolicyName(key.name) : key.name;
    auto cr = f.raw->get(
        kube::resources::calico(std::string(layout.plural), std::string(layout.crdKind), layout.namespaced),
        key.namespace_, crName);
    REQUIRE(cr);
    CHECK((*cr)["metadata"]["annotations"].contains("projectcalico.org/metadata"));
    CHECK((*cr)["spec"] == nlohmann::json::parse(model::encodeJson(original))["spec"]);
    CHECK(std::to_string(created->revision) == (*cr)["metadata"]["resourceVersion"].get<std::string>());

    auto got = store.get(key);
    REQUIRE(got);
    CHECK(*got == *created);

    auto again = store.create(key, document);
    REQUIRE(!again);
    CHECK(again.error().kind == ErrorKind::AlreadyExists);

    // Compare-and-swap: a stale revision is a Conflict; the stored one writes.
    model::Resource changed = original;
    model::metadata(changed).labels["changed"] = "yes";
    const std::string changedDocument = model::encodeYaml(changed);
    auto stale = store.update(key, changedDocument, created->revision - 1);
    REQUIRE(!stale);
    CHECK(stale.error().kind == ErrorKind::Conflict);
    auto updated = store.update(key, changedDocument, created->revision);
    INFO((updated ? std::string() : updated.error().toString()));
    REQUIRE(updated);
    CHECK(updated->revision > created->revision);
    CHECK(model::metadata(decodeDocument(updated->value)).labels.at("changed") == "yes");
    auto lost = store.update(key, document, created->revision);
    REQUIRE(!lost);
    CHECK(lost.error().kind == ErrorKind::Conflict);

    auto listed = store.list(key.kind);
    REQUIRE(listed);
    REQUIRE(listed->items.size() == 1);
    CHECK(listed->items[0] == *updated);
    CHECK(listed->revision >= updated->revision);

    auto applied = store.apply(key, document);
    REQUIRE(applied);
    CHECK(model::metadata(decodeDocument(applied->value)).labels.count("changed") == 0);

    auto staleRemove = store.remove(key, updated->revision);
    REQUIRE(!staleRemove);
    CHECK(staleRemove.error().kind == ErrorKind::Conflict);
    auto removed = store.remove(key, applied->revision);
    REQUIRE(removed);
    CHECK(*removed >= applied->revision);
    auto gone = store.get(key);
    REQUIRE(!gone);
    CHECK(gone.error().kind == ErrorKind::NotFound);
    auto goneAgain = store.remove(key);
    REQUIRE(!goneAgain);
    CHECK(goneAgain.error().kind == ErrorKind::NotFound);
    auto notThere = store.update(key, document, applied->revision);
    REQUIRE(!notThere);
    CHECK(notThere.error().kind == ErrorKind::NotFound);

    // apply creates as well.
    auto made = store.apply(key, document);
    REQUIRE(made);
    REQUIRE(store.remove(key));
  }
}

TEST_CASE("custom resources a Calico cluster wrote read back field for field", "[kubernetes-datastore]") {
  KubeFixture f;
  f.createNamespace("prod");
  auto gnps = kube::resources::calico("globalnetworkpolicies", "GlobalNetworkPolicy", false);
  auto nps = kube::resources::calico("networkpolicies", "NetworkPolicy", true);
  auto blocks = kube::resources::calico("ipamblocks", "IPAMBlock", false);
  auto felix = kube::resources::calico("felixconfigurations", "FelixConfiguration", false);
  REQUIRE(f.raw->create(gnps, Json::parse(R"j({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
    "metadata": {"name": "default.allow-dns", "labels": {"projectcalico.org/tier": "default"},
      "annotations": {"projectcalico.org/metadata": "{\"creationTimestamp\":\"2024-03-01T09:59:59Z\"}"}},
    "spec": {"tier": "default", "order": 100, "selector": "all()", "types": ["Egress"],
             "egress": [{"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}}]}})j")));
  // The newer unprefixed form, and another tier's policy.
  REQUIRE(f.raw->create(nps, Json::parse(R"j({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "web", "namespace": "prod"},
    "spec": {"selector": "app == 'web'", "ingress": [{"action": "Allow"}]}})j")));
  REQUIRE(f.raw->create(blocks, Json::parse(R"j({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock", "metadata": {"name": "10-244-1-0-30"},
    "spec": {"cidr": "10.244.1.0/30", "affinity": "host:node-1", "strictAffinity": false,
             "allocations": [0, null, null, null], "unallocated": [1, 2, 3],
             "attributes": [{"handle_id": "k8s-pod-network.0123", "secondary": {"node": "node-1", "pod": "web-0"}}],
             "deleted": false}})j")));
  REQUIRE(f.raw->create(felix, Json::parse(R"j({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "FelixConfiguration", "metadata": {"name": "default"},
    "spec": {"logSeverityScreen": "Info", "reportingInterval": "0s", "bpfLogLevel": ""}})j")));

  auto gnp = f.store->get(Key{"GlobalNetworkPolicy", "", "allow-dns"});
  INFO((gnp ? std::string() : gnp.error().toString()));
  REQUIRE(gnp);
  auto policy = std::get<model::GlobalNetworkPolicy>(decodeDocument(gnp->value));
  CHECK(policy.metadata.name == "allow-dns");
  CHECK(policy.metadata.creationTimestamp == "2024-03-01T09:59:59Z");
  CHECK(policy.metadata.labels == model::Labels{{"projectcalico.org/tier", "default"}});
  CHECK(policy.spec.order == std::optional<double>(100));
  REQUIRE(policy.spec.egress.size() == 1);

  auto np = f.store->get(Key{"NetworkPolicy", "prod", "web"});
  REQUIRE(np);
  CHECK(std::get<model::NetworkPolicy>(decodeDocument(np->value)).spec.selector == "app == 'web'");

  // Listing: the keys are the v3 names.
  auto listed = f.store->list("GlobalNetworkPolicy");
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0].key.name == "allow-dns");

  auto block = f.store->get(Key{"IPAMBlock", "", "10-244-1-0-30"});
  REQUIRE(block);
  auto b = std::get<model::IPAMBlock>(decodeDocument(block->value));
  CHECK(b.spec.attributes.at(0).handleID == std::optional<std::string>("k8s-pod-network.0123"));
  CHECK(b.spec.allocations == std::vector<std::optional<int>>{0, std::nullopt, std::nullopt, std::nullopt});

  auto agent = f.store->get(Key{"AgentConfiguration", "", "default"});
  INFO((agent ? std::string() : agent.error().toString()));
  REQUIRE(agent);

  // Written back through the store, the policy keeps Calico's name and shape.
  auto rewritten = f.store->update(gnp->key, gnp->value, gnp->revision);
  REQUIRE(rewritten);
  auto raw = f.raw->get(gnps, "", "default.allow-dns");
  REQUIRE(raw);
  CHECK((*raw)["spec"]["order"] == 100);
  CHECK((*raw)["metadata"]["annotations"]["projectcalico.org/metadata"] ==
        R"({"creationTimestamp":"2024-03-01T09:59:59Z"})");

  // A hand edit the model refuses is not served, and is reported.
  REQUIRE(f.raw->create(gnps, Json::parse(R"j({
    "apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy", "metadata": {"name": "default.broken"},
    "spec": {"selector": "all(", "ingress": [{"action": "Allow"}]}})j")));
  auto withBroken = f.store->list("GlobalNetworkPolicy");
  REQUIRE(withBroken);
  CHECK(withBroken->items.size() == 1);
  auto damage = f.store->damaged();
  REQUIRE(damage.size() == 1);
  CHECK(damage[0].path == "globalnetworkpolicies/default.broken");
  auto broken = f.store->get(Key{"GlobalNetworkPolicy", "", "broken"});
  REQUIRE(!broken);
  CHECK(broken.error().kind == ErrorKind::Invalid);
}

TEST_CASE("Kubernetes objects are read as served; Pods give WorkloadEndpoints as Calico derives them",
          "[kubernetes-datastore]") {
  KubeFixture f;
  f.createNamespace("prod", {{"team", "a"}});
  REQUIRE(f.raw->create(kube::resources::serviceAccounts(),
                        Json{{"apiVersion", "v1"},
                             {"kind", "ServiceAccount"},
                             {"metadata", {{"name", "web-sa"}, {"namespace", "prod"}}}}));
  auto pod = [](const std::string& name, const std::string& node, Json status, bool hostNetwork = false) {
    Json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "prod"}, {"labels", {{"app", "web"}}}}},
              {"spec",
               {{"nodeName", node},
                {"serviceAccountName", "web-sa"},
                {"containers",
                 Json::array({{{"name", "c"},
                               {"image", "nginx"},
                               {"ports", Json::array({{{"name", "http"}, {"containerPort", 80}}})}}})}}},
              {"status", status}};
    if (hostNetwork) p["spec"]["hostNetwork"] = true;
    return p;
  };
  auto pods = kube::resources::pods();
  // Status is the kubelet's: written through the status subresource, as it does.
  auto running = [&](const Json& p) {
    auto made = f.raw->create(pods, p);
    REQUIRE(made);
    (*made)["status"] = p["status"];
    REQUIRE(f.raw->updateStatus(pods, *made));
  };
  running(pod("web-0", "node-a",
              {{"phase", "Running"},
               {"podIP", "10.65.0.5"},
               {"podIPs", Json::array({{{"ip", "10.65.0.5"}}, {{"ip", "fd00::5"}}})}}));
  Json annotated = pod("my-pod", "node-b", {{"phase", "Pending"}});
  annotated["metadata"]["annotations"] = {{"cni.projectcalico.org/podIPs", "10.65.1.7/32"},
                                          {"cni.projectcalico.org/containerID", "abc123"}};
  REQUIRE(f.raw->create(pods, annotated));
  running(pod("host", "node-a", {{"phase", "Running"}, {"podIP", "10.0.0.1"}}, true));
  REQUIRE(f.raw->create(pods, pod("pending", "", {{"phase", "Pending"}})));

  auto k8sPods = f.store->list("KubernetesPod");
  REQUIRE(k8sPods);
  CHECK(k8sPods->items.size() == 4);
  auto ns = f.store->get(Key{"KubernetesNamespace", "", "prod"});
  REQUIRE(ns);
  CHECK(model::metadata(decodeDocument(ns->value)).labels.at("team") == "a");
  auto sa = f.store->list("KubernetesServiceAccount", "prod");
  REQUIRE(sa);
  CHECK(sa->items.size() == 1);

  // Services and EndpointSlices, as a rule naming a Service needs them.
  REQUIRE(f.raw->create(kube::resources::services(), Json::parse(R"j({
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "prod"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
             "clusterIP": "10.96.0.10", "type": "ClusterIP"}})j")));
  REQUIRE(f.raw->create(kube::resources::endpointSlices(), Json::parse(R"j({
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": "web-abc", "namespace": "prod", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4", "endpoints": [{"addresses": ["10.65.0.5"], "conditions": {"ready": true}}],
    "ports": [{"port": 8080, "protocol": "TCP", "name": ""}]})j")));
  auto services = f.store->list("KubernetesService", "prod");
  REQUIRE(services);
  REQUIRE(services->items.size() == 1);
  CHECK(std::get<model::KubernetesService>(decodeDocument(services->items[0].value)).spec.clusterIP ==
        "10.96.0.10");
  auto slices = f.store->list("KubernetesEndpointSlice");
  REQUIRE(slices);
  REQUIRE(slices->items.size() == 1);
  auto slice = std::get<model::KubernetesEndpointSlice>(decodeDocument(slices->items[0].value));
  REQUIRE(slice.endpoints.size() == 1);
  CHECK(slice.endpoints[0].addresses == std::vector<std::string>{"10.65.0.5"});
  CHECK(f.store->damaged().empty());

  auto weps = f.store->list("WorkloadEndpoint", "prod");
  REQUIRE(weps);
  REQUIRE(weps->items.size() == 2);  // not the host-network pod, not the unscheduled one
  struct Case {
    std::string name;
    std::string pod;
    std::vector<std::string> nets;
    std::string containerID;
  };
  const Case cases[] = {
      {"node--a-k8s-web--0-eth0", "web-0", {"10.65.0.5/32", "fd00::5/128"}, ""},
      {"node--b-k8s-my--pod-eth0", "my-pod", {"10.65.1.7/32"}, "abc123"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto kv = f.store->get(Key{"WorkloadEndpoint", "prod", c.name});
    INFO((kv ? std::string() : kv.error().toString()));
    REQUIRE(kv);
    auto wep = std::get<model::WorkloadEndpoint>(decodeDocument(kv->value));
    CHECK(wep.spec.pod == c.pod);
    CHECK(wep.spec.orchestrator == "k8s");
    CHECK(wep.spec.endpoint == "eth0");
    CHECK(wep.spec.ipNetworks == c.nets);
    CHECK(wep.spec.containerID == c.containerID);
    CHECK(wep.spec.interfaceName == datastore::workloadInterfaceName("cali", "prod", c.pod));
    CHECK(wep.spec.profiles == std::vector<std::string>{"kns.prod", "ksa.prod.web-sa"});
    CHECK(wep.metadata.labels.at("app") == "web");
    CHECK(wep.metadata.labels.at("projectcalico.org/namespace") == "prod");
    CHECK(wep.metadata.labels.at("projectcalico.org/orchestrator") == "k8s");
    CHECK(wep.metadata.labels.at("projectcalico.org/serviceaccount") == "web-sa");
    REQUIRE(wep.spec.ports.size() == 1);
    CHECK(wep.spec.ports[0].name == "http");
    CHECK(wep.spec.ports[0].port == 80);
  }
  // Calico's interface name for a known pod: cali + 11 hex of SHA-1("default.nginx").
  CHECK(datastore::workloadInterfaceName("cali", "default", "nginx").size() == 15);
  CHECK(datastore::workloadEndpointName("node-1", "a-b") == "node--1-k8s-a--b-eth0");

  // Read-only here.
  auto write = f.store->apply(Key{"KubernetesPod", "prod", "web-0"}, "x");
  REQUIRE(!write);
  CHECK(write.error().kind == ErrorKind::Unsupported);

  // A WorkloadEndpoint is written as Calico's CNI plugin records a pod's addresses: the pod's
  // cni.projectcalico.org annotations, with the pod's resourceVersion as the compare-and-swap.
  REQUIRE(f.raw->create(pods, pod("fresh", "node-a", Json::object())));
  const Key wepKey{"WorkloadEndpoint", "prod", "node--a-k8s-fresh-eth0"};
  auto before = f.store->get(wepKey);
  REQUIRE(before);
  auto wep = std::get<model::WorkloadEndpoint>(decodeDocument(before->value));
  CHECK(wep.spec.ipNetworks.empty());
  wep.spec.ipNetworks = {"10.65.2.9/32", "fd00::9/128"};
  wep.spec.containerID = "cid-1";
  auto recorded = f.store->update(wepKey, model::encodeYaml(model::Resource(wep)), before->revision);
  INFO((recorded ? std::string() : recorded.error().toString()));
  REQUIRE(recorded);
  auto rawPod = f.raw->get(pods, "prod", "fresh");
  REQUIRE(rawPod);
  const Json& podAnnotations = (*rawPod)["metadata"]["annotations"];
  CHECK(podAnnotations["cni.projectcalico.org/podIP"] == "10.65.2.9/32");
  CHECK(podAnnotations["cni.projectcalico.org/podIPs"] == "10.65.2.9/32,fd00::9/128");
  CHECK(podAnnotations["cni.projectcalico.org/containerID"] == "cid-1");
  CHECK(std::get<model::WorkloadEndpoint>(decodeDocument(recorded->value)).spec.ipNetworks ==
        wep.spec.ipNetworks);
  auto stale = f.store->update(wepKey, model::encodeYaml(model::Resource(wep)), before->revision);
  REQUIRE(!stale);
  CHECK(stale.error().kind == ErrorKind::Conflict);
  auto twice = f.store->create(wepKey, model::encodeYaml(model::Resource(wep)));
  REQUIRE(!twice);
  CHECK(twice.error().kind == ErrorKind::AlreadyExists);
  auto misnamed = f.store->apply(Key{"WorkloadEndpoint", "prod", "node--b-k8s-fresh-eth0"},
                                 model::encodeYaml(model::Resource(wep)));
  REQUIRE(!misnamed);
  CHECK(misnamed.error().kind == ErrorKind::Invalid);
  // Removed: the annotations go, the pod stays (and so does its endpoint, with no address).
  REQUIRE(f.store->remove(wepKey, recorded->revision));
  rawPod = f.raw->get(pods, "prod", "fresh");
  REQUIRE(rawPod);
  CHECK(!(*rawPod)["metadata"].value("annotations", Json::object()).contains("cni.projectcalico.org/podIP"));
  auto after = f.store->get(wepKey);
  REQUIRE(after);
  CHECK(std::get<model::WorkloadEndpoint>(decodeDocument(after->value)).spec.ipNetworks.empty());
}

TEST_CASE("Calico's Node is the Kubernetes Node and its projectcalico.org annotations",
          "[kubernetes-datastore]") {
  KubeFixture f;
  REQUIRE(f.raw->create(kube::resources::nodes(), Json::parse(R"j({
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"},
                 "annotations": {"projectcalico.org/IPv4Address": "10.0.0.1/24", "projectcalico.org/ASNumber": "64512",
                                 "projectcalico.org/RouteReflectorClusterID": "224.0.0.1"}},
    "spec": {"podCIDRs": ["10.244.1.0/24"]},
    "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "node-1"}]}})j")));
  auto got = f.store->get(Key{"Node", "", "node-1"});
  INFO((got ? std::string() : got.error().toString()));
  REQUIRE(got);
  auto node = std::get<model::Node>(decodeDocument(got->value));
  REQUIRE(node.spec.bgp);
  CHECK(node.spec.bgp->ipv4Address == "10.0.0.1/24");
  CHECK(node.spec.bgp->routeReflectorClusterID == "224.0.0.1");
  REQUIRE(node.spec.bgp->asNumber);
  CHECK(node.spec.orchRefs == std::vector<model::OrchRef>{{"node-1", "k8s"}});
  CHECK(node.metadata.labels.at("kubernetes.io/hostname") == "node-1");
  auto k8sNode = f.store->get(Key{"KubernetesNode", "", "node-1"});
  REQUIRE(k8sNode);

  // Written back: the annotations change, the kubelet's labels stay.
  node.spec.bgp->ipv6Address = "fd00::1/64";
  node.spec.bgp->routeReflectorClusterID.clear();
  auto written = f.store->update(got->key, model::encodeYaml(model::Resource(node)), got->revision);
  INFO((written ? std::string() : written.error().toString()));
  REQUIRE(written);
  auto raw = f.raw->get(kube::resources::nodes(), "", "node-1");
  REQUIRE(raw);
  const Json& annotations = (*raw)["metadata"]["annotations"];
  CHECK(annotations["projectcalico.org/IPv6Address"] == "fd00::1/64");
  CHECK(annotations["projectcalico.org/IPv4Address"] == "10.0.0.1/24");
  CHECK(!annotations.contains("projectcalico.org/RouteReflectorClusterID"));
  CHECK((*raw)["metadata"]["labels"]["kubernetes.io/hostname"] == "node-1");
  auto stale = f.store->update(got->key, model::encodeYaml(model::Resource(node)), got->revision);
  REQUIRE(!stale);
  CHECK(stale.error().kind == ErrorKind::Conflict);
  auto missing = f.store->apply(Key{"Node", "", "node-9"}, model::encodeYaml(model::Resource(node)));
  REQUIRE(!missing);
}

TEST_CASE("a transaction of several writes is checked, applied in order, and undone on failure",
          "[kubernetes-datastore]") {
  KubeFixture f;
  auto& store = *f.store;
  auto doc = [](const std::string& name, const std::string& net) {
    return "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: " + name +
           "}\nspec: {nets: [" + net + "]}\n";
  };
  auto key = [](const std::string& name) { return Key{"GlobalNetworkSet", "", name}; };
  auto first = store.create(key("a"), doc("a", "10.0.0.0/8"));
  REQUIRE(first);

  // All ops succeed.
  auto done = store.transaction({datastore::Op::create(key("b"), doc("b", "10.1.0.0/16")),
                                 datastore::Op::update(key("a"), doc("a", "10.2.0.0/16"), first->revision)});
  INFO((done ? std::string() : done.error().toString()));
  REQUIRE(done);
  CHECK(done->results.size() == 2);
  auto a = store.get(key("a"));
  REQUIRE(a);

  // One op's precheck fails: nothing is written.
  auto refused =
      store.transaction({datastore::Op::create(key("c"), doc("c", "10.3.0.0/16")),
                         datastore::Op::update(key("a"), doc("a", "10.4.0.0/16"), first->revision)});
  REQUIRE(!refused);
  CHECK(refused.error().kind == ErrorKind::Conflict);
  CHECK(refused.error().error.where.starts_with("transaction op 1"));
  CHECK(store.get(key("c")).error().kind == ErrorKind::NotFound);

  // A writer comes in between the check and the write of the second op: the first is undone.
  std::atomic<bool> interfere{true};
  f.server.onRequest([&](const std::string& request) {
    if (request.starts_with("PUT ") && request.find("/globalnetworksets/a") != std::string::npos &&
        interfere.exchange(false)) {
      auto current =
          f.raw->get(kube::resources::calico("globalnetworksets", "GlobalNetworkSet", false), "", "a");
      if (current) {
        (*current)["metadata"]["labels"] = {{"by", "someone-else"}};
        (void)f.raw->update(kube::resources::calico("globalnetworksets", "GlobalNetworkSet", false),
                            *current);
      }
    }
  });
  auto raced = store.transaction({datastore::Op::create(key("d"), doc("d", "10.5.0.0/16")),
                                  datastore::Op::apply(key("a"), doc("a", "10.6.0.0/16"))});
  f.server.onRequest(nullptr);
  REQUIRE(!raced);
  CHECK(raced.error().kind == ErrorKind::Conflict);
  CHECK(store.get(key("d")).error().kind == ErrorKind::NotFound);  // undone
  auto after = store.get(key("a"));
  REQUIRE(after);
  CHECK(model::metadata(decodeDocument(after->value)).labels.at("by") == "someone-else");

  // A key twice is refused.
  auto twice = store.transaction({datastore::Op::remove(key("a")), datastore::Op::remove(key("a"))});
  REQUIRE(!twice);
  CHECK(twice.error().kind == ErrorKind::Invalid);
}
