#include "tartan/datastore/file_datastore.hpp"

#include "file_core.hpp"
#include "file_watch.hpp"

namespace tartan::datastore {

namespace {

// The Datastore face of a file Core; watches share the Core, so they may outlive this object.
class FileDatastore final : public Datastore {
 public:
  explicit FileDatastore(std::shared_ptr<file::Core> core) : core_(std::move(core)) {}

  StoreResult<ListResult> list(std::string_view kind, std::optional<std::string_view> namespace_) override {
    return core_->list(kind, namespace_);
  }
  StoreResult<KVPair> get(const Key& key) override { return core_->get(key); }
  StoreResult<KVPair> create(const Key& key, std::string value) override {
    return single(Op::create(key, std::move(value)));
  }
  StoreResult<KVPair> update(const Key& key, std::string value, int64_t expectedRevision) override {
    return single(Op::update(key, std::move(value), expectedRevision));
  }
  StoreResult<KVPair> apply(const Key& key, std::string value) override {
    return single(Op::apply(key, std::move(value)));
  }
  StoreResult<int64_t> remove(const Key& key, std::optional<int64_t> expectedRevision) override {
    auto removed = single(Op::remove(key, expectedRevision));
    if (!removed) return removed.error();
    return removed->revision;
  }
  StoreResult<TxnResult> transaction(const std::vector<Op>& ops) override { return core_->transaction(ops); }
  StoreResult<std::unique_ptr<Watch>> watch(const WatchOptions& options, WatchCallbacks callbacks) override {
    return file::startWatch(core_, options, std::move(callbacks));
  }
  std::vector<Damage> damaged() override { return core_->damaged(); }

 private:
  StoreResult<KVPair> single(Op op) {
    auto result = core_->transaction({std::move(op)});
    if (!result) return result.error();
    return std::move(result->results.front());
  }

  std::shared_ptr<file::Core> core_;
};

}  // namespace

StoreResult<std::unique_ptr<Datastore>> openFileDatastore(const std::string& dir, OpenOptions options) {
  auto core = file::Core::open(dir, std::move(options));
  if (!core) return core.error();
  return std::unique_ptr<Datastore>(std::make_unique<FileDatastore>(std::move(*core)));
}

}  // namespace tartan::datastore
