// The Kubernetes datastore's watch against the test API server: the Datastore contract's order,
// a broken stream, a 410 relist, a restarted server, a rotated token and a vanished server.
#include "kubernetes_fixture.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace tartan;
using namespace tartan::test;
using datastore::ErrorKind;
using datastore::EventType;
using datastore::Key;

namespace {

std::string netset(const std::string& name, const std::string& net) {
  return "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: " + name +
         "}\nspec: {nets: [" + net + "]}\n";
}
Key netsetKey(const std::string& name) { return Key{"GlobalNetworkSet", "", name}; }

void requireOrdered(const std::vector<datastore::WatchEvent>& events) {
  int64_t last = 0;
  for (const auto& e : events) {
    INFO(e.kv.key.toString());
    CHECK(e.revision >= last);
    last = e.revision;
  }
}

}  // namespace

TEST_CASE("a watch of every kind: the snapshot as Added, in sync once, then live events in order",
          "[kubernetes-watch]") {
  KubeFixture f;
  f.createNamespace("prod");
  REQUIRE(f.store->create(netsetKey("a"), netset("a", "10.0.0.0/8")));
  Recorder r;
  auto watch = f.store->watch({}, r.callbacks());
  REQUIRE(watch);
  REQUIRE(eventually([&] { return r.synced(); }));
  CHECK(r.saw(EventType::Added, "a"));
  CHECK(r.saw(EventType::Added, "prod"));  // the Namespace
  const size_t snapshot = r.count();

  auto b = f.store->create(netsetKey("b"), netset("b", "10.1.0.0/16"));
  REQUIRE(b);
  REQUIRE(eventually([&] { return r.saw(EventType::Added, "b", snapshot); }));
  REQUIRE(f.store->update(netsetKey("b"), netset("b", "10.2.0.0/16"), b->revision));
  REQUIRE(eventually([&] { return r.saw(EventType::Modified, "b", snapshot); }));
  REQUIRE(f.store->remove(netsetKey("a")));
  REQUIRE(eventually([&] { return r.saw(EventType::Deleted, "a", snapshot); }));
  (*watch)->stop();
  requireOrdered(r.snapshot());
  CHECK(r.inSyncs.size() == 1);
  CHECK(r.failures().empty());

  // A watch from a revision is answered Compacted at once: the consumer lists again.
  datastore::WatchOptions from;
  from.fromRevision = b->revision;
  auto resumed = f.store->watch(from, Recorder().callbacks());
  REQUIRE(!resumed);
  CHECK(resumed.error().kind == ErrorKind::Compacted);
}

TEST_CASE("a broken stream and a 410 relist deliver only what changed, never a spurious removal",
          "[kubernetes-watch]") {
  KubeFixture f;
  for (const char* name : {"keep", "change", "drop"})
    REQUIRE(f.store->create(netsetKey(name), netset(name, "10.0.0.0/8")));
  Recorder r;
  datastore::WatchOptions options;
  options.kind = "GlobalNetworkSet";
  auto watch = f.store->watch(options, r.callbacks());
  REQUIRE(watch);
  REQUIRE(eventually([&] { return r.synced(); }));
  CHECK(r.count() == 3);

  // Broken mid-stream: resumed from the last resourceVersion; nothing repeated.
  f.server.breakWatches();
  REQUIRE(f.store->create(netsetKey("after-break"), netset("after-break", "10.9.0.0/16")));
  REQUIRE(eventually([&] { return r.saw(EventType::Added, "after-break"); }));
  CHECK(r.count() == 4);

  // History compacted while the stream is cut: 410, a relist, and only the differences.
  const size_t before = r.count();
  f.server.onRequest([&](const std::string& request) {
    if (request.find("watch=") != std::string::npos) f.server.compact();
  });
  auto change = f.store->get(netsetKey("change"));
  REQUIRE(change);
  f.server.breakWatches();
  REQUIRE(f.store->update(netsetKey("change"), netset("change", "10.3.0.0/16"), change->revision));
  REQUIRE(f.store->remove(netsetKey("drop")));
  REQUIRE(eventually([&] { return r.saw(EventType::Deleted, "drop", before); }));
  REQUIRE(eventually([&] { return r.saw(EventType::Modified, "change", before); }));
  f.server.onRequest(nullptr);
  auto events = r.snapshot();
  CHECK(events.size() == before + 2);  // "keep" and "after-break" are not delivered again
  CHECK(r.deletions() == 1);
  requireOrdered(events);
  (*watch)->stop();
}

TEST_CASE("a restarted API server and a rotated token leave nothing stale", "[kubernetes-watch]") {
  KubeTestServer::Options serverOptions;
  serverOptions.tokens = {"token-1"};
  KubeTestServer server(serverOptions);
  char dir[] = "/tmp/tartan-kdd-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string tokenFile = std::string(dir) + "/token";
  std::ofstream(tokenFile) << "token-1";
  auto raw = kube::Client::create(kubeConfigFor(server, "token-1"));
  REQUIRE(raw);
  for (const auto& layout : datastore::calico::kinds()) {
    if (layout.kind == model::Kind::kGlobalNetworkSet) {
      REQUIRE((*raw)->create(kube::resources::customResourceDefinitions(), crdFor(layout)));
    }
  }
  kube::Config config = kubeConfigFor(server, "");
  config.tokenFile = tokenFile;
  auto opened = datastore::openKubernetesDatastore(config);
  REQUIRE(opened);
  auto& store = **opened;
  REQUIRE(store.create(netsetKey("a"), netset("a", "10.0.0.0/8")));

  Recorder r;
  datastore::WatchOptions options;
  options.kind = "GlobalNetworkSet";
  auto watch = store.watch(options, r.callbacks());
  REQUIRE(watch);
  REQUIRE(eventually([&] { return r.synced(); }));

  server.restart();
  REQUIRE(eventually([&] { return store.list("GlobalNetworkSet").has_value(); }));
  REQUIRE(store.create(netsetKey("after-restart"), netset("after-restart", "10.1.0.0/16")));
  // Either the watch carried on, or it ended as an outage (fail closed): never a removal.
  REQUIRE(eventually([&] { return r.saw(EventType::Added, "after-restart") || !r.failures().empty(); }));
  for (const auto& e : r.failures()) CHECK(e.kind == ErrorKind::Unavailable);
  CHECK(r.deletions() == 0);
  if (!r.failures().empty()) {
    (*watch)->stop();
    r.events.clear();
    r.inSyncs.clear();
    r.errors.clear();
    watch = store.watch(options, r.callbacks());
    REQUIRE(watch);
    REQUIRE(eventually([&] { return r.synced(); }));
  }

  // The token rotates: the server takes only the new one, the kubelet replaces the file.
  server.setTokens({"token-2"});
  {
    const std::string next = std::string(dir) + "/token.next";
    std::ofstream(next) << "token-2";
    std::filesystem::rename(next, tokenFile);
  }
  server.breakWatches();
  REQUIRE(store.create(netsetKey("after-rotation"), netset("after-rotation", "10.2.0.0/16")));
  REQUIRE(eventually([&] { return r.saw(EventType::Added, "after-rotation"); }));
  CHECK(r.deletions() == 0);
  CHECK(r.failures().empty());
  (*watch)->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("an API server that goes away ends the watch as Unavailable, with no removal",
          "[kubernetes-watch]") {
  KubeFixture f;
  REQUIRE(f.store->create(netsetKey("a"), netset("a", "10.0.0.0/8")));
  Recorder r;
  auto watch = f.store->watch({}, r.callbacks());
  REQUIRE(watch);
  REQUIRE(eventually([&] { return r.synced(); }));
  f.server.stop();
  REQUIRE(eventually([&] { return !r.failures().empty(); }));
  CHECK(r.failures().front().kind == ErrorKind::Unavailable);
  CHECK(r.deletions() == 0);
  (*watch)->stop();

  // Starting a watch while it is away is Unavailable at once.
  auto again = f.store->watch({}, Recorder().callbacks());
  REQUIRE(!again);
  CHECK(again.error().kind == ErrorKind::Unavailable);
  auto listed = f.store->list("GlobalNetworkSet");
  REQUIRE(!listed);
  CHECK(listed.error().kind == ErrorKind::Unavailable);
}

TEST_CASE("a watch of WorkloadEndpoints follows their Pods", "[kubernetes-watch]") {
  KubeFixture f;
  f.createNamespace("prod");
  Recorder r;
  datastore::WatchOptions options;
  options.kind = "WorkloadEndpoint";
  auto watch = f.store->watch(options, r.callbacks());
  REQUIRE(watch);
  REQUIRE(eventually([&] { return r.synced(); }));
  auto pods = kube::resources::pods();
  Json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "web-0"}, {"namespace", "prod"}, {"labels", {{"app", "web"}}}}},
      {"spec", {{"nodeName", "node-a"}, {"containers", Json::array({{{"name", "c"}, {"image", "x"}}})}}}};
  auto made = f.raw->create(pods, pod);
  REQUIRE(made);
  const std::string name = "node--a-k8s-web--0-eth0";
  REQUIRE(eventually([&] { return r.saw(EventType::Added, name); }));
  (*made)["metadata"]["labels"]["app"] = "api";
  REQUIRE(f.raw->update(pods, *made));
  REQUIRE(eventually([&] { return r.saw(EventType::Modified, name); }));
  REQUIRE(f.raw->remove(pods, "prod", "web-0"));
  REQUIRE(eventually([&] { return r.saw(EventType::Deleted, name); }));
  auto events = r.snapshot();
  REQUIRE(events.size() == 3);
  CHECK(model::metadata(decodeDocument(events[1].kv.value)).labels.at("app") == "api");
  CHECK(events[2].kv.key == Key{"WorkloadEndpoint", "prod", name});
  (*watch)->stop();
}
