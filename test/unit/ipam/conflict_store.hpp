// A Datastore decorator for the retry tests: counts compare-and-swap writes (update and remove)
// and answers chosen ones with Conflict without writing, as if another writer had got there
// first; a hook may run before any create (to lose a creation race on purpose), another after
// every write that was made (to widen the gaps between the writes of one operation), and another
// after every list (to let another writer act between a read and the decision taken on it).
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <functional>
#include <set>

namespace tartan::ipam::test {

class ConflictStore : public datastore::Datastore {
 public:
  explicit ConflictStore(datastore::Datastore& inner) : inner_(inner) {}

  std::set<int> failWrites;  // 1-based indexes of the CAS writes to refuse
  bool failAll = false;
  int casWrites = 0;
  int conflictsInjected = 0;
  std::function<void(const datastore::Key&)> beforeCreate;
  std::function<void()> afterWrite;
  std::function<void(std::string_view kind)> afterList;

  datastore::StoreResult<datastore::ListResult> list(std::string_view kind,
                                                     std::optional<std::string_view> ns) override {
    auto listed = inner_.list(kind, ns);
    if (afterList) afterList(kind);
    return listed;
  }
  datastore::StoreResult<datastore::KVPair> get(const datastore::Key& key) override {
    return inner_.get(key);
  }
  datastore::StoreResult<datastore::KVPair> create(const datastore::Key& key, std::string value) override {
    if (beforeCreate) beforeCreate(key);
    return written(inner_.create(key, std::move(value)));
  }
  datastore::StoreResult<datastore::KVPair> update(const datastore::Key& key, std::string value,
                                                   int64_t expectedRevision) override {
    if (refuse()) return conflict(key);
    return written(inner_.update(key, std::move(value), expectedRevision));
  }
  datastore::StoreResult<datastore::KVPair> apply(const datastore::Key& key, std::string value) override {
    return inner_.apply(key, std::move(value));
  }
  datastore::StoreResult<int64_t> remove(const datastore::Key& key,
                                         std::optional<int64_t> expectedRevision) override {
    if (refuse()) return conflict(key);
    return written(inner_.remove(key, expectedRevision));
  }
  datastore::StoreResult<datastore::TxnResult> transaction(const std::vector<datastore::Op>& ops) override {
    return inner_.transaction(ops);
  }
  datastore::StoreResult<std::unique_ptr<datastore::Watch>> watch(
      const datastore::WatchOptions& options, datastore::WatchCallbacks callbacks) override {
    return inner_.watch(options, std::move(callbacks));
  }

 private:
  template <class R>
  R written(R result) {
    if (result && afterWrite) afterWrite();
    return result;
  }
  bool refuse() {
    ++casWrites;
    if (!failAll && !failWrites.count(casWrites)) return false;
    ++conflictsInjected;
    return true;
  }
  static datastore::StoreError conflict(const datastore::Key& key) {
    return datastore::makeStoreError(datastore::ErrorKind::Conflict, key.toString(), "injected conflict");
  }

  datastore::Datastore& inner_;
};

}  // namespace tartan::ipam::test
