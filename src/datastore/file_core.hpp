// file_core.hpp — the file backend's engine, shared by the Datastore object and its watches.
//
// Every operation runs as a session: a process-local mutex, then the exclusive flock on
// DIR/.tartan/lock, then recovery of an interrupted transaction and a (cached) load of the state
// file. Inside a session, files are reconciled against the index before they are trusted, so a
// hand edit is recorded as its own revision before a compare-and-swap looks at it. Reports of bad
// documents are gathered during the session and delivered after the lock is released, so a
// callback may call back into the store.
//
// Last valid versions: every content the index names is also kept in DIR/.tartan/valid/<hash>
// (written beside it, renamed into place, before the state that names it commits). A file whose
// content is not valid is damage: it is not recorded, and the kept version is served in its place,
// so a restarted reader sees what a running one kept. Copies nothing names are swept when a
// process first loads the state.
//
// Presence: a session starts only if DIR/.tartan and its state file are there and readable, else
// it fails with Unavailable and touches nothing (no folder is made again, no file recorded as
// deleted). After such an outage, until a session finds every file the index names, the store
// still counts as being restored: a state put back before its YAML files is not read as a list
// of deletions. A different store in its place (another id: made anew by a writer that found
// the folder gone) is an outage too, for as long as this process lives: an empty new store is no
// sign that the store is empty.
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
  bool removals = false;        // something was deleted or moved away: let the burst settle first
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
  std::vector<Damage> damaged();

  Core(std::string root, OpenOptions options);

 private:
  struct Session;

  template <class T, class Body>
  StoreResult<T> locked(Body&& body);
  StoreResult<void> begin(Session& session);
  // Writes the state file of a new store if there is none (see begin()); the error, if any.
  std::optional<std::string> initialize();
  StoreResult<void> loadState();
  StoreResult<void> recoverPending();
  StoreResult<void> commitState();

  std::string pathOf(const Key& key) const;
  void recordWrite(Session& session, JournalOp op, const Key& key, uint64_t hash, int64_t at);
  // Damage: `path` holds content `hash` that is not valid; `key` if the path names one.
  void reportInvalid(Session& session, const std::string& path, uint64_t hash, const std::string& what,
                     const std::optional<Key>& key = std::nullopt, int64_t servedRevision = 0);
  void clearDamage(Session& session, const std::string& path);
  // The kept last valid version of `key`, if it is indexed and its copy is intact.
  std::optional<std::string> lastValid(const Key& key);
  // Keeps `content` (of hash `hash`) as a last valid version; before the state naming it commits.
  std::optional<std::string> keepValid(uint64_t hash, std::string_view content);
  std::string validPath(uint64_t hash) const;
  void sweepValid();
  // After an outage: whether every file the index names is there again.
  StoreResult<void> checkRestored();

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
  struct Reported {
    uint64_t hash = 0;  // of the bad content, reported once
    Damage damage;
  };
  std::map<std::string, Reported> damage_;  // by path
  uint64_t damageVersion_ = 0;              // bumped on every change of damage_
  std::mutex deliverMutex_;                 // orders onDamage calls by version
  uint64_t damageDelivered_ = 0;
  std::set<uint64_t> kept_;  // hashes seen with a copy in DIR/.tartan/valid since the state loaded
  std::string storeId_;      // of the store this process reads; another in its place is an outage
  bool outage_ = false;      // the last session found the store missing
  bool restoring_ = false;   // since an outage, until every indexed folder is back
};

}  // namespace tartan::datastore::file
