// The syncer over a real file datastore: snapshot, in sync, live updates, removals, bad hand edits.
#include "tartan/syncer/syncer.hpp"
#include "tartan/datastore/datastore.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>

namespace fs = std::filesystem;
using namespace tartan;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device device;
    path_ = fs::temp_directory_path() / ("syncer-test-" + std::to_string(device()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Collects what the syncer delivers and lets the test wait for a condition, bounded.
class Recorder {
 public:
  syncer::Callbacks callbacks() {
    return {[this](const syncer::Update& update) {
              std::lock_guard lock(mutex_);
              if (update.resource)
                state_[update.key] = *update.resource;
              else
                state_.erase(update.key);
              ++updates_;
              changed_.notify_all();
            },
            [this](int64_t) {
              std::lock_guard lock(mutex_);
              ++inSyncs_;
              changed_.notify_all();
            },
            nullptr};
  }

  template <class Predicate>
  bool waitFor(Predicate predicate) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return predicate(*this); });
  }

  std::map<datastore::Key, model::Resource> state_;
  int updates_ = 0;
  int inSyncs_ = 0;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
};

model::Resource decodeOne(const std::string& yaml) {
  auto decoded = model::decode(yaml, "test");
  REQUIRE(decoded.ok());
  REQUIRE(decoded.resources.size() == 1);
  return decoded.resources.front();
}

void store(datastore::Datastore& ds, const std::string& yaml) {
  auto resource = decodeOne(yaml);
  REQUIRE(ds.apply(syncer::keyOf(resource), model::encodeYaml(resource)));
}

const char* kPolicy = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec: {selector: app == "web"}
)";
const char* kK8sPolicy = R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec: {podSelector: {}}
)";
const char* kNamespace = R"(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
)";

}  // namespace

TEST_CASE("storage kinds keep Kubernetes and Tartan kinds of the same name apart") {
  CHECK(syncer::storageKind(model::Kind::kNetworkPolicy) == "NetworkPolicy");
  CHECK(syncer::storageKind(model::Kind::kKubernetesNetworkPolicy) == "KubernetesNetworkPolicy");
  CHECK(syncer::storageKind(model::Kind::kNode) == "Node");
  CHECK(syncer::storageKind(model::Kind::kKubernetesNode) == "KubernetesNode");
  for (auto kind : {model::Kind::kGlobalNetworkPolicy, model::Kind::kKubernetesPod, model::Kind::kIPAMBlock})
    CHECK(syncer::kindFromStorage(syncer::storageKind(kind)) == kind);
  CHECK_FALSE(syncer::kindFromStorage("Widget"));
  CHECK(syncer::keyOf(decodeOne(kPolicy)) != syncer::keyOf(decodeOne(kK8sPolicy)));
  CHECK(syncer::keyOf(decodeOne(kNamespace)) == datastore::Key{"KubernetesNamespace", "", "shop"});
}

TEST_CASE("the syncer delivers the snapshot, then in sync, then live updates and removals") {
  TempDir dir;
  auto ds = datastore::open("file:" + dir.path().string());
  REQUIRE(ds);
  store(**ds, kPolicy);
  store(**ds, kK8sPolicy);

  Recorder recorder;
  syncer::Syncer syncer(**ds, {}, recorder.callbacks());
  REQUIRE(syncer.start());
  REQUIRE(recorder.waitFor([](Recorder& r) { return r.inSyncs_ == 1; }));
  CHECK(recorder.state_.size() == 2);

  store(**ds, kNamespace);
  REQUIRE(recorder.waitFor([](Recorder& r) { return r.state_.size() == 3; }));
  auto& ns = std::get<model::KubernetesNamespace>(recorder.state_.at({"KubernetesNamespace", "", "shop"}));
  CHECK(ns.metadata.labels.at("team") == "shop");
  CHECK_FALSE(ns.metadata.resourceVersion.empty());

  REQUIRE((*ds)->remove(syncer::keyOf(decodeOne(kK8sPolicy))));
  REQUIRE(recorder.waitFor([](Recorder& r) { return r.state_.size() == 2; }));
  CHECK(recorder.state_.count({"NetworkPolicy", "shop", "web"}) == 1);
  syncer.stop();
}

TEST_CASE("a syncer for some kinds sees only those kinds") {
  TempDir dir;
  auto ds = datastore::open("file:" + dir.path().string());
  REQUIRE(ds);
  store(**ds, kPolicy);
  store(**ds, kNamespace);
  Recorder recorder;
  syncer::Syncer syncer(**ds, {model::Kind::kKubernetesNamespace}, recorder.callbacks());
  REQUIRE(syncer.start());
  REQUIRE(recorder.waitFor([](Recorder& r) { return r.inSyncs_ == 1; }));
  REQUIRE(recorder.state_.size() == 1);
  CHECK(recorder.state_.begin()->first.kind == "KubernetesNamespace");
}

TEST_CASE("a bad hand edit is skipped and the last valid version is kept") {
  TempDir dir;
  auto ds = datastore::open("file:" + dir.path().string());
  REQUIRE(ds);
  store(**ds, kPolicy);
  Recorder recorder;
  syncer::Syncer syncer(**ds, {}, recorder.callbacks());
  REQUIRE(syncer.start());
  REQUIRE(recorder.waitFor([](Recorder& r) { return r.inSyncs_ == 1; }));
  int before = recorder.updates_;

  // A typo in the selector: valid YAML, invalid resource.
  std::ofstream(dir.path() / "networkpolicy" / "shop" / "web.yaml")
      << "apiVersion: tartan.dev/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\n"
         "spec: {selector: app == }\n";
  // A good edit of another resource afterwards proves the bad one was processed and skipped.
  store(**ds, kNamespace);
  REQUIRE(recorder.waitFor([](Recorder& r) { return r.state_.size() == 2; }));
  CHECK(recorder.updates_ == before + 1);
  auto& policy = std::get<model::NetworkPolicy>(recorder.state_.at({"NetworkPolicy", "shop", "web"}));
  CHECK(policy.spec.selector == "app == \"web\"");
}
