// tartan/datastore/file_datastore.hpp — the `file:DIR` backend, the embedded default.
//
// Layout: one YAML file per resource, which a person may read, edit, add or delete by hand:
//   DIR/<kind lowercased>/<namespace>/<name>.yaml   namespaced
//   DIR/<kind lowercased>/<name>.yaml               cluster-scoped
//   DIR/.tartan/lock     flock()ed exclusively around every read-check-write, across processes
//   DIR/.tartan/state    store revision, compaction point, per-resource revision and content
//                        hash (the index), and the bounded journal: revision, op, key, hash
//   DIR/.tartan/pending  redo log of a transaction between its commit and its file renames
//   DIR/.tartan/valid/<hash>  the last valid version of every resource, by content hash: what is
//                        served in place of a damaged file (see Damage)
// A write stages every new file as a temp file (fsync), writes the redo log, commits by renaming
// a new state file into place (fsync), then renames the staged files and drops the redo log. A
// crash before the commit leaves nothing (files staged before the redo log, the one trace, are
// removed by the next process to open the store); after it, the next lock holder finishes the renames.
// So a transaction is all or nothing, and two processes doing compare-and-swap are serialised.
//
// Hand edits: a file whose content hash differs from the index (or that appeared, or vanished)
// is recorded under the lock as a new revision: when the store is opened, by every read and
// write that touches it, and by a running watch (inotify on DIR, kind and namespace folders,
// folders created later included). A file that is not one YAML document, or that
// OpenOptions::validate refuses, is damage: reported (onInvalidDocument, onDamage, damaged()),
// never recorded, and served at its last valid version until it is repaired.
//
// Outages: only opening makes a store (its state file at revision 0). A store whose folder,
// DIR/.tartan or state file is gone or unreadable is Unavailable to every operation and watch
// until it is back; after that, until every file its state names is there again.
//
// The kind of a folder is the kind stored there before (the state file remembers every kind) or,
// for a new folder, the document's `kind` field.
//
// Cost: each write rewrites the state file (O(resources + journal)); for large clusters use etcd.
//
// Threading: thread-safe; each watch runs one thread of its own that delivers its callbacks.
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <memory>
#include <string>

namespace tartan::datastore {

// Opens (creating if needed, unless OpenOptions::create is false) the file datastore rooted at
// `dir`, and reconciles files edited while nobody watched.
StoreResult<std::unique_ptr<Datastore>> openFileDatastore(const std::string& dir, OpenOptions options = {});

}  // namespace tartan::datastore
