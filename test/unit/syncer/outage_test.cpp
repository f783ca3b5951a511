// The syncer through an outage of its store: nothing removed while the store is away, the outage
// reported with its reason, and only the differences delivered when the store is back — whether
// its state or its YAML comes back first. And a damaged resource across a restart.
#include "tartan/datastore/datastore.hpp"
#include "tartan/syncer/syncer.hpp"

#include "support/eventually.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>

namespace fs = std::filesystem;
using namespace tartan;
using tartan::test::eventually;

namespace {

struct Folder {
  Folder() {
    std::random_device device;
    root = fs::temp_directory_path() / ("syncer-outage-" + std::to_string(device()));
    fs::create_directories(root);
  }
  ~Folder() { fs::remove_all(root); }
  fs::path root;
  fs::path dir() const { return root / "store"; }
  fs::path away() const { return root / "away"; }
};

// What the consumer holds, how many updates and removals reached it, and the last outage report.
class Consumer {
 public:
  syncer::Callbacks callbacks() {
    syncer::Callbacks c;
    c.onUpdate = [this](const syncer::Update& update) {
      std::lock_guard lock(mutex_);
      if (update.resource) {
        state_[update.key] = *update.resource;
        ++updates_;
      } else {
        state_.erase(update.key);
        ++removals_;
      }
    };
    c.onInSync = [this](int64_t) {
      std::lock_guard lock(mutex_);
      ++inSyncs_;
    };
    c.onAvailability = [this](const std::optional<Error>& outage) {
      std::lock_guard lock(mutex_);
      outage_ = outage ? std::optional(outage->toString()) : std::nullopt;
      ++reports_;
    };
    return c;
  }
  template <class F>
  auto read(F f) {
    std::lock_guard lock(mutex_);
    return f(*this);
  }

  std::map<datastore::Key, model::Resource> state_;
  int updates_ = 0, removals_ = 0, inSyncs_ = 0, reports_ = 0;
  std::optional<std::string> outage_;

 private:
  std::mutex mutex_;
};

const char* kWeb = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec: {selector: app == "web"}
)";
const char* kWebChanged = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec: {selector: app == "web2"}
)";
const char* kDb = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec: {selector: app == "db"}
)";
const char* kApi = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec: {selector: app == "api"}
)";
const char* kNamespace = R"(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
)";

model::Resource decodeOne(const std::string& yaml) {
  auto decoded = model::decode(yaml, "test");
  REQUIRE(decoded.ok());
  REQUIRE(decoded.resources.size() == 1);
  return decoded.resources.front();
}

void put(datastore::Datastore& ds, const std::string& yaml) {
  auto resource = decodeOne(yaml);
  REQUIRE(ds.apply(syncer::keyOf(resource), model::encodeYaml(resource)));
}

datastore::Key key(const std::string& yaml) { return syncer::keyOf(decodeOne(yaml)); }

std::unique_ptr<datastore::Datastore> openAt(const fs::path& dir, bool create) {
  datastore::OpenOptions options;
  options.create = create;
  options.validate = syncer::checkStored;
  auto ds = datastore::open("file:" + dir.string(), options);
  REQUIRE(ds);
  return std::move(*ds);
}

enum class Order { StateFirst, YamlFirst };

}  // namespace

TEST_CASE("a store that goes away delivers no removal; back, only the differences are delivered") {
  const Order order = GENERATE(Order::StateFirst, Order::YamlFirst);
  Folder folder;
  auto ds = openAt(folder.dir(), true);
  put(*ds, kWeb);
  put(*ds, kDb);
  put(*ds, kNamespace);

  Consumer consumer;
  syncer::Syncer syncer(*ds, {}, consumer.callbacks());
  REQUIRE(syncer.start());
  REQUIRE(eventually([&] { return consumer.read([](Consumer& c) { return c.inSyncs_ == 1; }); }));
  REQUIRE(consumer.read([](Consumer& c) { return c.state_.size(); }) == 3);

  fs::rename(folder.dir(), folder.away());
  REQUIRE(eventually([&] { return consumer.read([](Consumer& c) { return c.outage_.has_value(); }); }));
  CHECK(consumer.read([](Consumer& c) { return c.outage_->find("gone") != std::string::npos; }));
  CHECK(consumer.read([](Consumer& c) { return c.removals_; }) == 0);
  CHECK(consumer.read([](Consumer& c) { return c.state_.size(); }) == 3);

  // Changed while away: one policy edited, one removed, one added; the namespace untouched.
  {
    auto elsewhere = openAt(folder.away(), false);
    put(*elsewhere, kWebChanged);
    REQUIRE(elsewhere->remove(key(kDb)));
    put(*elsewhere, kApi);
  }
  const int updatesBefore = consumer.read([](Consumer& c) { return c.updates_; });

  fs::create_directories(folder.dir());
  if (order == Order::StateFirst) {
    fs::rename(folder.away() / ".tartan", folder.dir() / ".tartan");
    // The state lists files that are not back: still out, and now saying so.
    REQUIRE(eventually([&] {
      return consumer.read(
          [](Consumer& c) { return c.outage_ && c.outage_->find("restored") != std::string::npos; });
    }));
    fs::rename(folder.away() / "kubernetesnamespace", folder.dir() / "kubernetesnamespace");
    fs::rename(folder.away() / "networkpolicy", folder.dir() / "networkpolicy");
  } else {
    fs::rename(folder.away() / "kubernetesnamespace", folder.dir() / "kubernetesnamespace");
    fs::rename(folder.away() / "networkpolicy", folder.dir() / "networkpolicy");
    CHECK(consumer.read([](Consumer& c) { return c.outage_.has_value() && c.removals_ == 0; }));
    fs::rename(folder.away() / ".tartan", folder.dir() / ".tartan");
  }

  REQUIRE(
      eventually([&] { return consumer.read([](Consumer& c) { return !c.outage_ && c.inSyncs_ == 2; }); }));
  consumer.read([&](Consumer& c) {
    CHECK(c.removals_ == 1);                 // db
    CHECK(c.updates_ - updatesBefore == 2);  // web changed, api added; the namespace not again
    CHECK(c.state_.count(key(kDb)) == 0);
    CHECK(c.state_.count(key(kApi)) == 1);
    auto& web = std::get<model::NetworkPolicy>(c.state_.at(key(kWeb)));
    CHECK(web.spec.selector == "app == \"web2\"");
    return 0;
  });

  // Live again: a policy written after the restore arrives.
  put(*ds, kDb);
  CHECK(
      eventually([&] { return consumer.read([&](Consumer& c) { return c.state_.count(key(kDb)) == 1; }); }));
  syncer.stop();
}

TEST_CASE("a syncer started while its store is away waits for it instead of failing or syncing empty") {
  Folder folder;
  {
    auto writer = openAt(folder.dir(), true);
    put(*writer, kWeb);
  }
  fs::rename(folder.dir(), folder.away());
  auto ds = openAt(folder.dir(), false);
  Consumer consumer;
  syncer::Syncer syncer(*ds, {}, consumer.callbacks());
  REQUIRE(syncer.start());
  REQUIRE(eventually([&] { return consumer.read([](Consumer& c) { return c.outage_.has_value(); }); }));
  CHECK(consumer.read([](Consumer& c) { return c.inSyncs_; }) == 0);
  CHECK_FALSE(fs::exists(folder.dir()));

  fs::rename(folder.away(), folder.dir());
  REQUIRE(
      eventually([&] { return consumer.read([](Consumer& c) { return c.inSyncs_ == 1 && !c.outage_; }); }));
  CHECK(consumer.read([](Consumer& c) { return c.state_.size(); }) == 1);
  syncer.stop();
}

TEST_CASE("a policy damaged by hand is still delivered, at its last valid version, after a restart") {
  Folder folder;
  {
    auto writer = openAt(folder.dir(), true);
    put(*writer, kWeb);
  }
  // Valid YAML, invalid policy: without the kept version a restarted consumer would lose it.
  std::ofstream(folder.dir() / "networkpolicy" / "shop" / "web.yaml")
      << "apiVersion: tartan.dev/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\n"
         "spec: {selector: app == }\n";
  auto ds = openAt(folder.dir(), false);
  Consumer consumer;
  syncer::Syncer syncer(*ds, {}, consumer.callbacks());
  REQUIRE(syncer.start());
  REQUIRE(eventually([&] { return consumer.read([](Consumer& c) { return c.inSyncs_ == 1; }); }));
  consumer.read([&](Consumer& c) {
    REQUIRE(c.state_.count(key(kWeb)) == 1);
    CHECK(std::get<model::NetworkPolicy>(c.state_.at(key(kWeb))).spec.selector == "app == \"web\"");
    return 0;
  });
  auto damaged = ds->damaged();
  REQUIRE(damaged.size() == 1);
  CHECK(damaged[0].key == key(kWeb));
  CHECK(damaged[0].servedRevision == 1);
  syncer.stop();
}
