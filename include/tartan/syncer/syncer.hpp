// tartan/syncer/syncer.hpp — typed resources over a datastore: where each kind is stored, and one
// ordered stream of resource updates followed by "in sync".
//
// What it does: maps a model::Resource to its datastore key (Kubernetes kinds are stored under
// "Kubernetes<Kind>" so that a Kubernetes NetworkPolicy and a Tartan NetworkPolicy of the same
// name never share a key), decodes stored documents back into resources, and runs the syncer:
// list + watch of the kinds a component needs, delivered as typed updates in revision order, an
// in-sync marker once the first snapshot is complete, then live updates. If the watch falls behind
// the store's retained history it lists again and delivers removals for whatever disappeared, so
// a consumer never has to relist itself.
// Owns: one datastore watch while running.
// Threading: callbacks run on the datastore's watch thread, one at a time, in order; stop() may be
// called from any thread.
// Failure: a stored document that does not decode (a bad hand edit) is logged and skipped — the
// consumer keeps the last good version, so a typo never silently deletes a policy. (Opened with
// checkStored as its validator, the store itself keeps that version, across restarts too.) A
// watch error other than compaction is reported through onError, and the syncer retries after a
// pause. A store that is unavailable (removed, moved away, state missing) is an outage: nothing
// is delivered, no removal above all, onAvailability says why, and the syncer lists again when
// the store is back and delivers only what differs from what the consumer has.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/model/model.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tartan::syncer {

// The datastore kind under which resources of a model kind are stored.
std::string storageKind(model::Kind kind);
std::optional<model::Kind> kindFromStorage(std::string_view storageKind);

// The key a resource is stored under (namespace only for namespaced kinds).
datastore::Key keyOf(const model::Resource& resource);
datastore::Key keyOf(model::Kind kind, std::string namespaceName, std::string name);

// Decodes a stored document (strictly, as any input) and sets metadata.resourceVersion to the
// document's revision.
Result<model::Resource> decodeStored(const datastore::KVPair& kv);

// A datastore validator (OpenOptions::validate): why `document` is not a valid resource for `key`
// of a kind Tartan knows, or nothing. Documents of other kinds are not judged.
std::optional<std::string> checkStored(const datastore::Key& key, std::string_view document);

struct Update {
  datastore::Key key;
  model::Kind kind{};
  // Set: the resource as now stored. Absent: the resource was removed.
  std::optional<model::Resource> resource;
  int64_t revision = 0;
};

struct Callbacks {
  std::function<void(const Update&)> onUpdate;
  std::function<void(int64_t revision)> onInSync;  // once per successful (re)list
  std::function<void(const Error&)> onError;       // informational; the syncer retries
  // The store is unavailable (why), or back and resynced (nothing; called just before onInSync).
  // Called again when the reason changes.
  std::function<void(const std::optional<Error>& outage)> onAvailability;
};

class Syncer {
 public:
  // Watches `kinds` (every kind if empty) of `store`, which must outlive the syncer.
  Syncer(datastore::Datastore& store, std::vector<model::Kind> kinds, Callbacks callbacks);
  ~Syncer();
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  // Starts listing and watching. Returns an error only if the first watch cannot start for a
  // reason other than the store being unavailable (then it waits for the store).
  Result<bool> start();
  void stop();

 private:
  datastore::StoreResult<std::unique_ptr<datastore::Watch>> watch(int64_t fromRevision);
  // Asks the restart thread for a new watch from `fromRevision` (0: list again).
  void restart(int64_t fromRevision);
  void restartLoop();
  void outage(const datastore::StoreError& error);
  void onEvent(const datastore::WatchEvent& event);
  void onInSync(int64_t revision);
  void onWatchError(const datastore::StoreError& error);

  datastore::Datastore& store_;
  std::set<std::string> kinds_;  // storage kinds; empty = all
  Callbacks callbacks_;
  std::mutex mutex_;  // guards watch_, restartFrom_
  std::condition_variable wake_;
  std::unique_ptr<datastore::Watch> watch_;
  std::optional<int64_t> restartFrom_;
  std::thread restarter_;
  std::atomic<bool> stopped_{false};
  // What follows is touched by one thread at a time: the watch delivering, or the restart thread
  // while no watch runs.
  // Keys the consumer has been given and not told are removed, with a hash of the stored
  // document, so that a relist delivers only what differs.
  std::map<datastore::Key, size_t> known_;
  // During a relist: the keys seen so far in the new snapshot.
  std::optional<std::set<datastore::Key>> relisting_;
  std::optional<std::string> outage_;  // why the store is unavailable
  int64_t revision_ = 0;
};

}  // namespace tartan::syncer
