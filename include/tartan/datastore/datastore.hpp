// tartan/datastore/datastore.hpp — where resources live: one interface, several backends.
//
// What: a revisioned key/value store of opaque YAML documents, one per resource, addressed by
// (kind, namespace, name). Every write gets a store-wide revision; each stored resource carries the
// revision of its last write, which is what compare-and-swap compares. A watch delivers an ordered
// stream of Added/Modified/Deleted events from a revision, an "in sync" marker once caught up, then
// live events. The shape is etcd v3's on purpose: a Key maps to one etcd key, the store revision to
// etcd's header revision, a resource revision to mod_revision, transaction() to one Txn, and
// Compacted to a watch cancelled with compact_revision — so the etcd backend is a thin adapter.
// The Kubernetes backend maps revisions to resourceVersion and Compacted to 410 Gone.
//
// Owns: nothing above the bytes — the typed resource model decodes the documents. Backends own
// their storage: `file:DIR` (one YAML file per resource, see file_datastore.hpp); `kubernetes`
// (the API server, in Calico's KDD layout: kubernetes_datastore.hpp); `etcd:` is reserved.
//
// Threading: a Datastore may be used from several threads at once. A watch delivers its callbacks
// from one thread of its own, in revision order; see Watch.
//
// Failure: every outside failure is a value (StoreResult) whose StoreError::kind a caller can test
// (NotFound, AlreadyExists, Conflict, Compacted, Invalid, Io, Unsupported, Unavailable); nothing
// throws across this interface. A store that vanishes (Unavailable) is an outage of the store,
// never news that it is empty: a watch ends without delivering a single removal, and a consumer
// keeps what it has until the store is back. A stored document that a hand edit damaged is
// reported (Damage) and its last valid version is served in its place, so what a running
// consumer kept and what a restarted one reads are the same.
#pragma once

#include "tartan/common/result.hpp"

#include <compare>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::datastore {

// The address of one resource. `kind` is the canonical kind name ("GlobalNetworkPolicy");
// `namespace_` is empty for cluster-scoped kinds.
struct Key {
  std::string kind;
  std::string namespace_;
  std::string name;

  // "Kind/name" or "Kind/namespace/name", for messages.
  std::string toString() const;

  auto operator<=>(const Key&) const = default;
  bool operator==(const Key&) const = default;
};

// One stored resource: its key, one YAML document, and the store revision of its last write.
struct KVPair {
  Key key;
  std::string value;
  int64_t revision = 0;

  bool operator==(const KVPair&) const = default;
};

enum class ErrorKind {
  NotFound,       // get/update/remove of a key that is not stored
  AlreadyExists,  // create of a key that is stored
  Conflict,       // compare-and-swap: the stored revision is not the expected one
  Compacted,      // a watch asked for history the store no longer keeps: list again
  Invalid,        // a malformed request or document (bad key, not one YAML document)
  Io,             // the storage failed (disk, network)
  Unsupported,    // a backend or operation that is not built in
  Unavailable,    // the store is not there (removed, moved away, its state missing or unreadable,
                  // or still being restored): keep the last state and try again later
};

std::string_view toString(ErrorKind kind);

// A datastore failure: a kind to branch on and the common Error to show a person.
struct StoreError {
  ErrorKind kind = ErrorKind::Io;
  tartan::Error error;

  std::string toString() const;
  bool operator==(const StoreError&) const = default;
};

StoreError makeStoreError(ErrorKind kind, std::string where, std::string what);

// Found by argument-dependent lookup from StoreResult<T>::value(): an unchecked error is a bug.
[[noreturn]] void throw_exception_from_error(const StoreError& error, const boost::source_location& where);

template <class T>
using StoreResult = boost::system::result<T, StoreError>;

// For logs and test diagnostics (and boost::system::result's own operator<<).
std::ostream& operator<<(std::ostream& os, const Key& key);
std::ostream& operator<<(std::ostream& os, const KVPair& kv);
std::ostream& operator<<(std::ostream& os, const StoreError& error);

// list(): the items and the store revision they are a consistent snapshot of — the revision to
// start a watch from.
struct ListResult {
  std::vector<KVPair> items;
  int64_t revision = 0;
};

// One write of a transaction. Build with the factories.
struct Op {
  enum class Type { Create, Update, Apply, Remove };
  Type type = Type::Apply;
  Key key;
  std::string value;  // Create, Update, Apply
  // Update: must equal the stored revision. Remove: if set, must equal it.
  std::optional<int64_t> expectedRevision;

  static Op create(Key key, std::string value);
  static Op update(Key key, std::string value, int64_t expectedRevision);
  static Op apply(Key key, std::string value);
  static Op remove(Key key, std::optional<int64_t> expectedRevision = std::nullopt);
};

// A committed transaction: one store revision for all its writes, as in etcd.
struct TxnResult {
  int64_t revision = 0;
  // Per op, in order: the written resource (for Remove, the value is empty and the revision is
  // the deletion's).
  std::vector<KVPair> results;
};

std::ostream& operator<<(std::ostream& os, const ListResult& list);
std::ostream& operator<<(std::ostream& os, const TxnResult& txn);

enum class EventType { Added, Modified, Deleted };

// Modified may name a key the watcher never saw (deleted and created again, coalesced); treat
// Added and Modified alike as "this is the key's state now".
struct WatchEvent {
  EventType type = EventType::Added;
  KVPair kv;  // Deleted: value empty, revision = the deletion's revision
  int64_t revision = 0;
};

// What a watch calls, always from its one delivery thread, in this order: onEvent for every event
// after the start revision (non-decreasing revisions; a transaction's events share one), onInSync
// once with the store revision it has caught up to, then onEvent for live events. onError reports
// a failure that ends the watch (Compacted when it fell behind the retained history, Io); nothing
// is delivered after it.
struct WatchCallbacks {
  std::function<void(const WatchEvent&)> onEvent;
  std::function<void(int64_t revision)> onInSync;
  std::function<void(const StoreError&)> onError;
};

struct WatchOptions {
  // 0: start with every stored resource as an Added event (a snapshot), then in sync.
  // R > 0: replay what happened after revision R (typically the revision of a list()); a key
  // changed several times since may arrive once with its latest state. R older than the retained
  // history fails with Compacted.
  int64_t fromRevision = 0;
  // Only this kind; empty for every kind.
  std::string kind;
};

// A running watch. stop() ends delivery: after it returns (called from any other thread) no
// callback runs any more. It may also be called from inside a callback, which then is the last
// one; destroying the Watch stops it, but not from inside its own callback.
class Watch {
 public:
  virtual ~Watch() = default;
  virtual void stop() = 0;
};

// A stored resource whose document cannot be used (a bad hand edit, an unreadable file). The store
// serves the resource's last valid version in its place, if it kept one, until the file is
// repaired (writing back exactly the last valid bytes counts) or removed.
struct Damage {
  std::string path;        // the file
  std::optional<Key> key;  // what the file stands for, when its place says so
  std::string problem;
  int64_t servedRevision = 0;  // the revision of the last valid version served; 0: none kept

  // "PATH: PROBLEM; serving its last valid version (revision N)", for logs and reports.
  std::string toString() const;
  bool operator==(const Damage&) const = default;
};

class Datastore {
 public:
  virtual ~Datastore() = default;

  // Every resource of `kind` (of one namespace, if given), sorted by key.
  virtual StoreResult<ListResult> list(std::string_view kind,
                                       std::optional<std::string_view> namespace_ = std::nullopt) = 0;
  virtual StoreResult<KVPair> get(const Key& key) = 0;
  // Fails with AlreadyExists if the key is stored.
  virtual StoreResult<KVPair> create(const Key& key, std::string value) = 0;
  // Compare-and-swap: fails with NotFound, or Conflict if the stored revision is not
  // expectedRevision (which must be > 0; use apply() to write regardless).
  virtual StoreResult<KVPair> update(const Key& key, std::string value, int64_t expectedRevision) = 0;
  // Create or replace, unconditionally.
  virtual StoreResult<KVPair> apply(const Key& key, std::string value) = 0;
  // Returns the revision of the deletion. NotFound, or Conflict if expectedRevision is given and
  // differs.
  virtual StoreResult<int64_t> remove(const Key& key,
                                      std::optional<int64_t> expectedRevision = std::nullopt) = 0;
  // All ops or none. A key may appear once. The first failing op's error is returned, with the
  // op's index in `where`.
  virtual StoreResult<TxnResult> transaction(const std::vector<Op>& ops) = 0;
  // Starts a watch (see WatchOptions, WatchCallbacks). Errors known at once — Compacted, Invalid,
  // Io — are returned here rather than through onError.
  virtual StoreResult<std::unique_ptr<Watch>> watch(const WatchOptions& options,
                                                    WatchCallbacks callbacks) = 0;
  // The damaged resources this process has seen so far (reads and watches find them), by path.
  virtual std::vector<Damage> damaged() { return {}; }
};

struct OpenOptions {
  // Called (from any thread, never with a lock held) for each stored document that cannot be
  // read — e.g. a hand-edited file that is not valid YAML. The document is not used (see Damage);
  // the error's `where` names the file. Each bad content is reported once. Also logged.
  std::function<void(const StoreError&)> onInvalidDocument;
  // Whether a document is valid for its key beyond being one YAML document (the typed model's
  // strict decode, say): the problem, or nothing. A hand edit that fails it is damage: it is not
  // recorded as a revision, and the last valid version stays what is served.
  std::function<std::optional<std::string>(const Key&, std::string_view)> validate;
  // Each time the set of damaged resources this process has seen changes: the whole set (empty
  // once all are repaired). From any thread, never with a lock held, in the order of the changes.
  std::function<void(const std::vector<Damage>&)> onDamage;
  // file: false never creates the folder: a missing one is Unavailable until it appears (an
  // agent restarted while its store is away must not take a new, empty store for the truth).
  // An existing folder with nothing in it still becomes a new store.
  bool create = true;
  // file: how many journal entries are kept for watch resume.
  size_t journalLimit = 1000;
};

// Opens a datastore from a spec: "file:DIR"; "kubernetes" or "kubernetes:KUBECONFIG"; "" for
// the embedded default (defaultLocation()), or the Kubernetes datastore when Calico's
// DATASTORE_TYPE (or CALICO_DATASTORE_TYPE) is "kubernetes". "etcd:..." is reserved; anything
// else is Invalid.
StoreResult<std::unique_ptr<Datastore>> open(std::string_view spec, OpenOptions options = {});

// The embedded default directory: $TARTAN_DATASTORE if set; /var/lib/tartan/datastore for root;
// else $XDG_DATA_HOME/tartan/datastore or ~/.local/share/tartan/datastore.
std::string defaultLocation();

}  // namespace tartan::datastore
