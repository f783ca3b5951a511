#include "tartan/datastore/file_datastore.hpp"
#include "tartan/datastore/datastore.hpp"

#include "file_state.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace tartan::datastore;
using tartan::datastore::test::readText;
using tartan::datastore::test::Reports;
using tartan::datastore::test::TempDir;
using tartan::datastore::test::writeText;

namespace {

const Key kPolicy{"GlobalNetworkPolicy", "", "deny-all"};
const Key kNetPol{"NetworkPolicy", "prod", "allow-web"};

std::unique_ptr<Datastore> openStore(const TempDir& dir, OpenOptions options = {}) {
  auto store = open(dir.spec(), std::move(options));
  REQUIRE(store);
  return std::move(*store);
}

}  // namespace

TEST_CASE("create stores one YAML file per resource, at kind/namespace/name.yaml", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  auto created = store->create(kPolicy, "kind: GlobalNetworkPolicy\nspec: {}\n");
  REQUIRE(created);
  CHECK(created->revision == 1);
  auto namespaced = store->create(kNetPol, "kind: NetworkPolicy\n");
  REQUIRE(namespaced);
  CHECK(namespaced->revision == 2);
  CHECK(readText(dir.path() + "/globalnetworkpolicy/deny-all.yaml") ==
        "kind: GlobalNetworkPolicy\nspec: {}\n");
  CHECK(readText(dir.path() + "/networkpolicy/prod/allow-web.yaml") == "kind: NetworkPolicy\n");

  auto got = store->get(kPolicy);
  REQUIRE(got);
  CHECK(got->value == "kind: GlobalNetworkPolicy\nspec: {}\n");
  CHECK(got->revision == 1);
  CHECK(got->key == kPolicy);
}

TEST_CASE("create of a stored key fails with AlreadyExists; get of a missing one with NotFound", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(kPolicy, "a: 1"));
  auto again = store->create(kPolicy, "a: 2");
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::AlreadyExists);
  CHECK(again.error().toString().find("GlobalNetworkPolicy/deny-all") != std::string::npos);
  auto missing = store->get(Key{"GlobalNetworkPolicy", "", "nope"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::NotFound);
  CHECK(store->get(kPolicy)->value == "a: 1");
}

TEST_CASE("update is compare-and-swap on the resource revision", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  auto first = store->create(kPolicy, "a: 1");
  REQUIRE(first);
  auto second = store->update(kPolicy, "a: 2", first->revision);
  REQUIRE(second);
  CHECK(second->revision > first->revision);

  auto stale = store->update(kPolicy, "a: 3", first->revision);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().kind == ErrorKind::Conflict);
  CHECK(store->get(kPolicy)->value == "a: 2");

  auto unconditional = store->update(kPolicy, "a: 3", 0);
  REQUIRE_FALSE(unconditional);
  CHECK(unconditional.error().kind == ErrorKind::Invalid);

  auto missing = store->update(Key{"GlobalNetworkPolicy", "", "other"}, "a: 1", 1);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::NotFound);
}

TEST_CASE("apply creates or replaces regardless of revision", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  auto created = store->apply(kPolicy, "a: 1");
  REQUIRE(created);
  auto replaced = store->apply(kPolicy, "a: 2");
  REQUIRE(replaced);
  CHECK(replaced->revision == created->revision + 1);
  CHECK(store->get(kPolicy)->value == "a: 2");
}

TEST_CASE("remove deletes the file; with a revision it is compare-and-swap", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  auto created = store->create(kNetPol, "a: 1");
  REQUIRE(created);
  auto stale = store->remove(kNetPol, created->revision + 7);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().kind == ErrorKind::Conflict);
  auto removed = store->remove(kNetPol, created->revision);
  REQUIRE(removed);
  CHECK(*removed == created->revision + 1);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/networkpolicy/prod/allow-web.yaml"));
  CHECK(store->get(kNetPol).error().kind == ErrorKind::NotFound);
  auto again = store->remove(kNetPol);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::NotFound);
}

TEST_CASE("list returns one kind, optionally one namespace, with the snapshot revision", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(Key{"NetworkPolicy", "prod", "b"}, "n: b"));
  REQUIRE(store->create(Key{"NetworkPolicy", "prod", "a"}, "n: a"));
  REQUIRE(store->create(Key{"NetworkPolicy", "dev", "c"}, "n: c"));
  REQUIRE(store->create(Key{"GlobalNetworkSet", "", "d"}, "n: d"));

  auto all = store->list("NetworkPolicy");
  REQUIRE(all);
  CHECK(all->revision == 4);
  REQUIRE(all->items.size() == 3);
  CHECK(all->items[0].key.name == "c");  // sorted by key: dev before prod
  CHECK(all->items[1].key.name == "a");
  CHECK(all->items[2].key.name == "b");
  CHECK(all->items[2].revision == 1);

  auto prod = store->list("NetworkPolicy", "prod");
  REQUIRE(prod);
  REQUIRE(prod->items.size() == 2);
  CHECK(prod->items[0].value == "n: a");

  auto none = store->list("Tier");
  REQUIRE(none);
  CHECK(none->items.empty());
  CHECK(none->revision == 4);
}

TEST_CASE("bad keys and values are rejected as Invalid before anything is written", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  struct Case {
    Key key;
    std::string value;
  };
  std::vector<Case> cases = {
      {{"", "", "x"}, "a: 1"},                   // no kind
      {{"Bad-Kind", "", "x"}, "a: 1"},           // kind not alphanumeric
      {{"Tier", "", ""}, "a: 1"},                // no name
      {{"Tier", "", "../escape"}, "a: 1"},       // a path
      {{"Tier", "", ".hidden"}, "a: 1"},         // our own files start with '.'
      {{"Tier", "ns/x", "y"}, "a: 1"},           // a path in the namespace
      {{"Tier", "ns.yaml", "y"}, "a: 1"},        // its folder would look like a file
      {{"Tier", "", "x"}, "a: [1"},              // not YAML
      {{"Tier", "", "x"}, "a: 1\n---\nb: 2\n"},  // two documents
      {{"Tier", "", "x"}, ""},                   // no document
  };
  for (const auto& c : cases) {
    auto result = store->apply(c.key, c.value);
    INFO(c.key.toString() << " <- " << c.value);
    REQUIRE_FALSE(result);
    CHECK(result.error().kind == ErrorKind::Invalid);
  }
  CHECK(store->list("Tier")->revision == 0);
}

TEST_CASE("a kind may not share its folder with another spelling of it", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(Key{"NetworkSet", "a", "x"}, "a: 1"));
  auto clash = store->create(Key{"Networkset", "a", "y"}, "a: 1");
  REQUIRE_FALSE(clash);
  CHECK(clash.error().kind == ErrorKind::Invalid);
}

TEST_CASE("a transaction writes every op at one revision", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  auto existing = store->create(Key{"Tier", "", "t"}, "order: 1");
  REQUIRE(existing);
  auto txn = store->transaction({
      Op::create(Key{"Tier", "", "new"}, "order: 2"),
      Op::update(Key{"Tier", "", "t"}, "order: 3", existing->revision),
      Op::apply(kNetPol, "x: 1"),
  });
  REQUIRE(txn);
  CHECK(txn->revision == 2);
  REQUIRE(txn->results.size() == 3);
  for (const auto& kv : txn->results) CHECK(kv.revision == 2);
  CHECK(store->get(Key{"Tier", "", "t"})->value == "order: 3");

  auto removal = store->transaction({Op::remove(Key{"Tier", "", "new"}), Op::remove(kNetPol, 2)});
  REQUIRE(removal);
  CHECK(store->list("Tier")->items.size() == 1);
}

TEST_CASE("a transaction with a failing middle op writes nothing", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  auto existing = store->create(Key{"Tier", "", "t"}, "order: 1");
  REQUIRE(existing);
  auto txn = store->transaction({
      Op::create(Key{"Tier", "", "first"}, "order: 2"),
      Op::update(Key{"Tier", "", "t"}, "order: 3", existing->revision + 1),  // stale
      Op::create(Key{"Tier", "", "last"}, "order: 4"),
  });
  REQUIRE_FALSE(txn);
  CHECK(txn.error().kind == ErrorKind::Conflict);
  CHECK(txn.error().error.where.find("op 1") != std::string::npos);

  auto tiers = store->list("Tier");
  REQUIRE(tiers);
  CHECK(tiers->revision == existing->revision);
  REQUIRE(tiers->items.size() == 1);
  CHECK(tiers->items[0].value == "order: 1");
  // No file, staged or final, was left behind.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/tier")) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);

  auto duplicate = store->transaction({Op::apply(kPolicy, "a: 1"), Op::remove(kPolicy)});
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().kind == ErrorKind::Invalid);
  auto exists = store->transaction({Op::apply(kPolicy, "a: 1"), Op::create(Key{"Tier", "", "t"}, "a: 2")});
  REQUIRE_FALSE(exists);
  CHECK(exists.error().kind == ErrorKind::AlreadyExists);
  CHECK(store->get(kPolicy).error().kind == ErrorKind::NotFound);
}

TEST_CASE("reopening keeps revisions; files edited while closed are reconciled by the next read", "[unit]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(Key{"Tier", "", "edited"}, "order: 1"));
    REQUIRE(store->create(Key{"Tier", "", "deleted"}, "order: 2"));
    REQUIRE(store->create(Key{"Tier", "", "same"}, "order: 3"));
  }
  writeText(dir.path() + "/tier/edited.yaml", "order: 10\n");
  std::filesystem::remove(dir.path() + "/tier/deleted.yaml");
  writeText(dir.path() + "/tier/added.yaml", "order: 20\n");

  auto store = openStore(dir);
  auto tiers = store->list("Tier");
  REQUIRE(tiers);
  CHECK(tiers->revision == 6);  // three writes, then three hand edits recorded by the list
  REQUIRE(tiers->items.size() == 3);
  CHECK(tiers->items[0].key.name == "added");
  CHECK(tiers->items[0].revision > 3);
  CHECK(tiers->items[1].key.name == "edited");
  CHECK(tiers->items[1].value == "order: 10\n");
  CHECK(tiers->items[1].revision > 3);
  CHECK(tiers->items[2].key.name == "same");
  CHECK(tiers->items[2].revision == 3);
}

TEST_CASE("a hand edit is seen by get and by compare-and-swap without a watch", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  auto created = store->create(kPolicy, "a: 1");
  REQUIRE(created);
  writeText(dir.path() + "/globalnetworkpolicy/deny-all.yaml", "a: 2\n");
  auto stale = store->update(kPolicy, "a: 3", created->revision);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().kind == ErrorKind::Conflict);
  auto got = store->get(kPolicy);
  REQUIRE(got);
  CHECK(got->value == "a: 2\n");
  CHECK(got->revision == created->revision + 1);
}

TEST_CASE("a new folder's kind comes from the document's kind field", "[unit]") {
  TempDir dir;
  Reports reports;
  writeText(dir.path() + "/ippool/default.yaml", "apiVersion: tartan.dev/v1\nkind: IPPool\n");
  writeText(dir.path() + "/mystery/x.yaml", "a: 1\n");
  auto store = openStore(dir, OpenOptions{reports.callback()});
  auto pools = store->list("IPPool");
  REQUIRE(pools);
  REQUIRE(pools->items.size() == 1);
  CHECK(pools->items[0].key == Key{"IPPool", "", "default"});
  // The unreadable folder is reported by the first read that reaches it: here a watch's snapshot.
  auto watch = store->watch(WatchOptions{}, WatchCallbacks{});
  REQUIRE(watch);
  REQUIRE(reports.waitForCount(1));
  CHECK(reports.errors[0].kind == ErrorKind::Invalid);
  CHECK(reports.errors[0].error.where == dir.path() + "/mystery/x.yaml");
}

TEST_CASE("a folder keeps its kind after its last resource and its history are gone", "[unit]") {
  TempDir dir;
  OpenOptions options;
  options.journalLimit = 1;
  {
    auto store = openStore(dir, options);
    REQUIRE(store->create(Key{"HostEndpoint", "", "h"}, "a: 1"));
    REQUIRE(store->remove(Key{"HostEndpoint", "", "h"}));
    REQUIRE(store->create(Key{"Tier", "", "t"}, "a: 1"));  // pushes the history out
  }
  writeText(dir.path() + "/hostendpoint/by-hand.yaml", "a: 2\n");  // no kind field
  auto store = openStore(dir, options);
  auto got = store->get(Key{"HostEndpoint", "", "by-hand"});
  REQUIRE(got);
  CHECK(got->value == "a: 2\n");
}

TEST_CASE("an invalid hand-edited file is reported once; get and list serve its last valid version",
          "[unit]") {
  TempDir dir;
  Reports reports;
  auto store = openStore(dir, OpenOptions{reports.callback()});
  REQUIRE(store->create(kPolicy, "a: 1"));
  writeText(dir.path() + "/globalnetworkpolicy/deny-all.yaml", "a: [1\n");
  auto got = store->get(kPolicy);
  REQUIRE(got);
  CHECK(got->value == "a: 1");
  CHECK(got->revision == 1);
  auto listed = store->list("GlobalNetworkPolicy");
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0].value == "a: 1");
  CHECK(listed->revision == 1);  // the bad edit is no revision
  REQUIRE(reports.errors.size() == 1);
  CHECK(reports.errors[0].error.where.ends_with("globalnetworkpolicy/deny-all.yaml"));
  CHECK(reports.errors[0].error.what.find("not valid YAML") != std::string::npos);
}

TEST_CASE("a new file that was never valid is not served: get says Invalid", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(Key{"Tier", "", "t"}, "a: 1"));
  writeText(dir.path() + "/tier/never.yaml", "a: [1\n");
  auto got = store->get(Key{"Tier", "", "never"});
  REQUIRE_FALSE(got);
  CHECK(got.error().kind == ErrorKind::NotFound);
  CHECK(store->list("Tier")->items.size() == 1);
  auto damaged = store->damaged();
  REQUIRE(damaged.size() == 1);
  CHECK(damaged[0].servedRevision == 0);
  CHECK(damaged[0].key == Key{"Tier", "", "never"});
}

TEST_CASE("an interrupted transaction that did not commit is rolled back", "[unit]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(Key{"Tier", "", "t"}, "order: 1"));
  }
  // As if a writer died after staging and logging revision 2, before its commit.
  writeText(dir.path() + "/tier/.t.yaml.1.0.tmp", "order: 2\n");
  writeText(dir.path() + "/.tartan/pending", "revision\t2\nrename\ttier/.t.yaml.1.0.tmp\ttier/t.yaml\n");
  auto store = openStore(dir);
  auto got = store->get(Key{"Tier", "", "t"});
  REQUIRE(got);
  CHECK(got->value == "order: 1");
  CHECK(got->revision == 1);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/tier/.t.yaml.1.0.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/.tartan/pending"));
}

TEST_CASE("an interrupted transaction that committed is completed by the next lock holder", "[unit]") {
  using namespace tartan::datastore::file;
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(Key{"Tier", "", "t"}, "order: 1"));
  }
  // As if a writer died after committing revision 2, before renaming its staged file.
  std::string statePath = dir.path() + "/.tartan/state";
  auto state = parseState(*readText(statePath), statePath);
  REQUIRE(state.has_value());
  state->record(JournalOp::Modified, Key{"Tier", "", "t"}, contentHash("order: 2\n"), 2, 100);
  writeText(statePath, serializeState(*state));
  writeText(dir.path() + "/tier/.t.yaml.1.0.tmp", "order: 2\n");
  writeText(dir.path() + "/.tartan/pending", "revision\t2\nrename\ttier/.t.yaml.1.0.tmp\ttier/t.yaml\n");

  auto store = openStore(dir);
  auto got = store->get(Key{"Tier", "", "t"});
  REQUIRE(got);
  CHECK(got->value == "order: 2\n");
  CHECK(got->revision == 2);
  CHECK(store->list("Tier")->revision == 2);  // not mistaken for a hand edit
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/tier/.t.yaml.1.0.tmp"));
}

TEST_CASE("open() picks a backend from the spec", "[unit]") {
  TempDir dir;
  CHECK(open(dir.spec()));
  auto etcd = open("etcd:https://127.0.0.1:2379");
  REQUIRE_FALSE(etcd);
  CHECK(etcd.error().kind == ErrorKind::Unsupported);
  // kubernetes:KUBECONFIG opens the Kubernetes datastore (nothing is contacted yet); a kubeconfig
  // that is not there is Invalid, naming it.
  auto kube = open("kubernetes:" + dir.path() + "/no-such-kubeconfig");
  REQUIRE_FALSE(kube);
  CHECK(kube.error().kind == ErrorKind::Invalid);
  CHECK(kube.error().toString().find("no-such-kubeconfig") != std::string::npos);
  auto bogus = open("zookeeper:x");
  REQUIRE_FALSE(bogus);
  CHECK(bogus.error().kind == ErrorKind::Invalid);
  auto empty = open("file:");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().kind == ErrorKind::Invalid);
}

TEST_CASE("the default location honours TARTAN_DATASTORE, then XDG_DATA_HOME", "[unit]") {
  TempDir dir;
  auto restore = [](const char* name, const char* old) {
    if (old) {
      ::setenv(name, old, 1);
    } else {
      ::unsetenv(name);
    }
  };
  const char* oldDatastore = std::getenv("TARTAN_DATASTORE");
  const char* oldXdg = std::getenv("XDG_DATA_HOME");
  std::string savedDatastore = oldDatastore ? oldDatastore : "";
  std::string savedXdg = oldXdg ? oldXdg : "";

  ::setenv("TARTAN_DATASTORE", (dir.path() + "/explicit").c_str(), 1);
  CHECK(defaultLocation() == dir.path() + "/explicit");
  auto store = open("");
  REQUIRE(store);
  REQUIRE((*store)->create(kPolicy, "a: 1"));
  CHECK(std::filesystem::exists(dir.path() + "/explicit/globalnetworkpolicy/deny-all.yaml"));

  ::setenv("TARTAN_DATASTORE", "etcd:https://127.0.0.1:2379", 1);
  CHECK(open("").error().kind == ErrorKind::Unsupported);

  ::unsetenv("TARTAN_DATASTORE");
  if (::geteuid() == 0) {
    CHECK(defaultLocation() == "/var/lib/tartan/datastore");
  } else {
    ::setenv("XDG_DATA_HOME", dir.path().c_str(), 1);
    CHECK(defaultLocation() == dir.path() + "/tartan/datastore");
  }
  restore("TARTAN_DATASTORE", oldDatastore ? savedDatastore.c_str() : nullptr);
  restore("XDG_DATA_HOME", oldXdg ? savedXdg.c_str() : nullptr);
}
