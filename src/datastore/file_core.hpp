// file_core.hpp — the file backend's engine, shared by the Datastore object and its watches.
//
// Every operation runs as a session: a process-local mutex, then the exclusive flock on
// DIR/.tartan/lock, then recovery of an interrupted transaction and a (cached) load of the state
// file. Inside a session, files are reconciled against the index before they are trusted, so a
// hand edit is recorded as its own revision before a compare-and-swap looks at it. Reports of bad
// documents are gathered during the session and delivered after the lock is released, so a
// callback may call back into the store.
#pragma once

#include "file_state.hpp"
#include "tartan/datastore/datastore.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tartan::datastore::file {

// What a watcher saw change, as paths relative to the root.
struct Dirty {
  bool all = false;
  std::set<std::string> dirs;   // "kind" or "kind/namespace"
  std::set<std::string> files;  // "kind/name.yaml" or "kind/namespace/name.yaml"
};

// Events for a watcher, and the store revision they bring it to.
struct Batch {
  std::vector<WatchEvent> events;
  int64_t revision = 0;
};

class Core {
 public:
  static StoreResult<std::shared_ptr<Core>> open(const std::string& root, OpenOptions options);

  const std::string& root() const { return root_; }

  StoreResult<ListResult> list(std::string_view kind, std::optional<std::string_view> ns);
  StoreResult<KVPair> get(const Key& key);
  StoreResult<TxnResult> transaction(const std::vector<Op>& ops);

  // Every stored resource (of `kind`, if not empty) as Added events, oldest first.
  StoreResult<Batch> snapshot(const std::string& kind);
  // Reconciles what the watcher saw change, then the writes after revision `after` (each key
  // once, at its latest state, in revision order). Compacted if `after` is no longer retained.
  StoreResult<Batch> changesSince(int64_t after, const std::string& kind, const Dirty& dirty);

  Core(std::string root, OpenOptions options);

 private:
  struct Session;

  template <class T, class Body>
  StoreResult<T> locked(Body&& body);
  StoreResult<void> begin(Session& session);
  StoreResult<void> loadState();
  StoreResult<void> recoverPending();
  StoreResult<void> commitState();

  std::string pathOf(const Key& key) const;
  void recordWrite(Session& session, JournalOp op, const Key& key, uint64_t hash, int64_t at);
  void reportInvalid(Session& session, const std::string& path, uint64_t hash, const std::string& what);

  // Checks one resource's file against the index, recording a hand edit; returns the content
  // when the file holds a valid document.
  std::optional<std::string> reconcileKey(Session& session, const Key& key);
  // The key a file under the root stands for, if it is a resource file and its kind is known.
  std::optional<Key> keyForFile(Session& session, const std::string& relative);
  // Reconciles every file and index entry under `relativeDir` ("" for the whole store); the
  // valid contents read land in *contents.
  void reconcileScan(Session& session, const std::string& relativeDir, std::map<Key, std::string>* contents);

  const std::string root_;
  const std::string stateDir_;
  const OpenOptions options_;

  std::mutex mutex_;  // orders sessions of this process; the flock orders processes
  State state_;
  std::string stateText_;  // the state file state_ was read from
  bool stateLoaded_ = false;
  std::map<std::string, std::string> knownKinds_;  // folder name -> canonical kind
  std::map<std::string, uint64_t> reported_;       // path -> hash of bad content reported
};

}  // namespace tartan::datastore::file
