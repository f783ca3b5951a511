// etcd_watch.hpp — reading many keys at once (snapshots) and the etcd backend's watch.
//
// A snapshot is one Range over a prefix at one revision, each value turned into its document;
// values Tartan cannot read are reported (OpenOptions::onInvalidDocument) and left out. The watch
// diffs two snapshots to catch up, then follows a prefix watch stream (see etcd_datastore.hpp for
// the whole behaviour). One thread per watch reads the stream and delivers; a ticker thread asks
// for progress and cancels a stream that has gone silent.
#pragma once

#include "etcd_client.hpp"
#include "tartan/datastore/etcd_datastore.hpp"

#include <map>

namespace tartan::datastore::etcd {

struct StoredItem {
  Key key;
  std::string document;
  int64_t modRevision = 0;
};

struct Snapshot {
  int64_t revision = 0;
  std::map<std::string, StoredItem> byPath;
};

// The range a watch or list of `kind` covers ("" for every kind): [key, rangeEnd).
StoreResult<std::pair<std::string, std::string>> rangeOf(std::string_view kind,
                                                         std::optional<std::string_view> namespace_);

// One value as a stored item; nothing if the path is none of ours, of another kind than `kind`
// (when not empty), or unreadable (reported).
std::optional<StoredItem> decodeItem(const std::string& path, const std::string& value, int64_t modRevision,
                                     std::string_view kind, const OpenOptions& options);

StoreResult<Snapshot> readSnapshot(Client& client, const std::pair<std::string, std::string>& range,
                                   std::string_view kind, int64_t revision, const OpenOptions& options);

StoreResult<std::unique_ptr<Watch>> startWatch(std::shared_ptr<Client> client, const EtcdOptions& etcd,
                                               const OpenOptions& options, const WatchOptions& watch,
                                               WatchCallbacks callbacks);

}  // namespace tartan::datastore::etcd
