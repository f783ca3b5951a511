// etcd_watch.cpp — snapshots and the watch of the etcd backend (see etcd_watch.hpp).
#include "etcd_watch.hpp"

#include "etcd_layout.hpp"
#include "tartan/common/log.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace tartan::datastore::etcd {

namespace {
constexpr int64_t kPageSize = 1000;
}  // namespace

StoreResult<std::pair<std::string, std::string>> rangeOf(std::string_view kind,
                                                         std::optional<std::string_view> namespace_) {
  if (kind.empty()) return std::pair<std::string, std::string>{"/calico/", prefixEnd("/calico/")};
  auto prefix = prefixOf(kind, namespace_);
  if (!prefix) return StoreError{ErrorKind::Invalid, prefix.error()};
  // IPAMConfiguration is one key, not a folder.
  if (!prefix->ends_with('/')) return std::pair<std::string, std::string>{*prefix, ""};
  return std::pair<std::string, std::string>{*prefix, prefixEnd(*prefix)};
}

std::optional<StoredItem> decodeItem(const std::string& path, const std::string& value, int64_t modRevision,
                                     std::string_view kind, const OpenOptions& options) {
  auto key = keyOf(path);
  if (!key || (!kind.empty() && key->kind != kind)) return std::nullopt;
  auto document = decodeValue(*key, path, value);
  if (!document) {
    StoreError error{ErrorKind::Invalid, document.error()};
    error.error.where = "etcd " + path;
    log::get("datastore")->error("{}; not used", error.toString());
    if (options.onInvalidDocument) options.onInvalidDocument(error);
    return std::nullopt;
  }
  return StoredItem{std::move(*key), std::move(*document), modRevision};
}

StoreResult<Snapshot> readSnapshot(Client& client, const std::pair<std::string, std::string>& range,
                                   std::string_view kind, int64_t revision, const OpenOptions& options) {
  // In pages of kPageSize keys, every page at the first one's revision: one consistent snapshot
  // that no single response has to carry whole (50k endpoints are some 100 MB).
  Snapshot snapshot;
  snapshot.revision = revision;
  std::string from = range.first;
  for (;;) {
    auto read = client.range(from, range.second, snapshot.revision, false, kPageSize);
    if (!read) return read.error();
    if (snapshot.revision == 0) snapshot.revision = read->revision;
    for (const KeyValue& kv : read->kvs) {
      if (auto item = decodeItem(kv.key, kv.value, kv.modRevision, kind, options)) {
        snapshot.byPath.emplace(kv.key, std::move(*item));
      }
    }
    if (!read->more || read->kvs.empty() || range.second.empty()) return snapshot;
    from = read->kvs.back().key + std::string(1, '\0');
  }
}

namespace {

using Clock = std::chrono::steady_clock;

class EtcdWatch final : public Watch {
 public:
  EtcdWatch(std::shared_ptr<Client> client, EtcdOptions etcd, OpenOptions options, std::string kind,
            std::pair<std::string, std::string> range, WatchCallbacks callbacks)
      : client_(std::move(client)),
        etcd_(std::move(etcd)),
        options_(std::move(options)),
        kind_(std::move(kind)),
        range_(std::move(range)),
        callbacks_(std::move(callbacks)) {}

  ~EtcdWatch() override { stop(); }

  // The states at the start and now are read here, so an etcd that is away or a compacted start
  // is an error of watch() itself.
  StoreResult<void> begin(int64_t fromRevision) {
    if (fromRevision > 0) {
      auto base = readSnapshot(*client_, range_, kind_, fromRevision, options_);
      if (!base) return base.error();
      for (auto& [path, item] : base->byPath) std::string().swap(item.document);
      known_ = std::move(base->byPath);
    }
    auto now = readSnapshot(*client_, range_, kind_, 0, options_);
    if (!now) return now.error();
    pendingNow_ = std::move(*now);
    thread_ = std::thread([this] { run(); });
    ticker_ = std::thread([this] { tick(); });
    return {};
  }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && !thread_.joinable() && !ticker_.joinable()) return;
      stopping_ = true;
      if (stream_) stream_->cancel();
    }
    wake_.notify_all();
    bool inside = std::this_thread::get_id() == thread_.get_id();
    if (ticker_.joinable()) ticker_.join();
    if (thread_.joinable() && !inside) thread_.join();
  }

 private:
  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  void deliver(const datastore::WatchEvent& event) {
    if (!stopping() && callbacks_.onEvent) callbacks_.onEvent(event);
  }

  // Delivers what differs between known_ and `now`, and takes `now` as known.
  void catchUp(Snapshot now) {
    std::vector<std::pair<const StoredItem*, bool>> changed;  // the item, and whether it was known
    for (const auto& [path, item] : now.byPath) {
      auto old = known_.find(path);
      if (old == known_.end() || old->second.modRevision != item.modRevision) {
        changed.emplace_back(&item, old != known_.end());
      }
    }
    std::stable_sort(changed.begin(), changed.end(), [](const auto& a, const auto& b) {
      return a.first->modRevision < b.first->modRevision;
    });
    for (const auto& [item, existed] : changed) {
      deliver(datastore::WatchEvent{existed ? EventType::Modified : EventType::Added,
                                    KVPair{item->key, item->document, item->modRevision}, item->modRevision});
    }
    // The moment of a removal is not in a Range: it is delivered at the revision of the state now.
    for (const auto& [path, item] : known_) {
      if (!now.byPath.count(path)) {
        deliver(datastore::WatchEvent{EventType::Deleted, KVPair{item.key, "", now.revision}, now.revision});
      }
    }
    // What was delivered is remembered by revision only: the documents are the consumer's.
    for (auto& [path, item] : now.byPath) std::string().swap(item.document);
    known_ = std::move(now.byPath);
    revision_ = now.revision;
  }

  void handle(const WatchResponse& response) {
    for (const datastore::WatchEvent& e : convert(response)) deliver(e);
  }

  std::vector<datastore::WatchEvent> convert(const WatchResponse& response) {
    std::vector<datastore::WatchEvent> out;
    for (const StreamEvent& event : response.events) {
      revision_ = std::max(revision_, event.kv.modRevision);
      auto old = known_.find(event.kv.key);
      if (event.isDelete) {
        if (old == known_.end()) continue;
        out.push_back(datastore::WatchEvent{
            EventType::Deleted, KVPair{old->second.key, "", event.kv.modRevision}, event.kv.modRevision});
        known_.erase(old);
        continue;
      }
      auto item = decodeItem(event.kv.key, event.kv.value, event.kv.modRevision, kind_, options_);
      if (!item) continue;  // not ours, or unreadable: the last valid version stays what was delivered
      EventType type = old == known_.end() ? EventType::Added : EventType::Modified;
      out.push_back(datastore::WatchEvent{
          type, KVPair{item->key, std::move(item->document), item->modRevision}, item->modRevision});
      known_[event.kv.key] = StoredItem{std::move(item->key), {}, item->modRevision};
    }
    return out;
  }

  void fail(const StoreError& error) {
    log::get("datastore")->warn("etcd watch of {} ended: {}", range_.first, error.toString());
    if (!stopping() && callbacks_.onError) callbacks_.onError(error);
  }

  void run() {
    catchUp(std::move(pendingNow_));
    if (stopping()) return;
    if (callbacks_.onInSync) callbacks_.onInSync(revision_);
    Clock::time_point brokenSince{};
    std::string failed;  // the endpoint of the last stream that broke: tried last
    while (!stopping()) {
      auto opened = client_->watch(range_.first, range_.second, revision_ + 1, failed);
      if (!opened) {
        if (!resumable(opened.error(), brokenSince)) return;
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        stream_ = std::move(*opened);
        lastHeard_ = Clock::now();
        if (stopping_) stream_->cancel();
      }
      bool relist = false;
      while (auto response = stream_->read()) {
        heard();
        brokenSince = {};
        if (response->compactRevision > 0) {
          relist = true;
          break;
        }
        if (response->canceled) break;
        handle(*response);
        if (stopping()) break;
      }
      StoreError why = stream_->error();
      failed = stream_->endpoint();
      {
        std::lock_guard lock(mutex_);
        stream_->cancel();
        stream_.reset();
      }
      if (stopping()) return;
      if (relist) {
        // The resume point was compacted: what happened since is only known by its result.
        log::get("datastore")
            ->warn("etcd watch of {}: revision {} was compacted; listing again", range_.first, revision_ + 1);
        auto now = readSnapshot(*client_, range_, kind_, 0, options_);
        if (!now) {
          if (!resumable(now.error(), brokenSince)) return;
          continue;
        }
        catchUp(std::move(*now));
        continue;
      }
      if (!resumable(why, brokenSince)) return;
    }
  }

  // A broken stream is resumed for up to watchResumeWindow; then the watch ends with Unavailable.
  bool resumable(const StoreError& error, Clock::time_point& brokenSince) {
    if (stopping()) return false;
    if (error.kind != ErrorKind::Unavailable && error.kind != ErrorKind::Io) {
      fail(error);
      return false;
    }
    auto now = Clock::now();
    if (brokenSince == Clock::time_point{}) brokenSince = now;
    if (now - brokenSince > etcd_.watchResumeWindow) {
      StoreError ended = error;
      ended.kind = ErrorKind::Unavailable;
      fail(ended);
      return false;
    }
    log::get("datastore")
        ->info("etcd watch of {}: {}; resuming from revision {}", range_.first, error.toString(),
               revision_ + 1);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; });
    return !stopping_;
  }

  void heard() {
    std::lock_guard lock(mutex_);
    lastHeard_ = Clock::now();
  }

  // Asks for progress every interval; a stream silent for three intervals is cut and resumed.
  void tick() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, etcd_.progressInterval, [&] { return stopping_; });
      if (stopping_ || !stream_) continue;
      if (Clock::now() - lastHeard_ > 3 * etcd_.progressInterval) {
        log::get("datastore")
            ->warn("etcd watch of {}: {} has not answered for {} ms; moving on", range_.first,
                   stream_->endpoint(), 3 * etcd_.progressInterval.count());
        stream_->cancel();
        lastHeard_ = Clock::now();
        continue;
      }
      stream_->requestProgress();
    }
  }

  std::shared_ptr<Client> client_;
  EtcdOptions etcd_;
  OpenOptions options_;
  std::string kind_;
  std::pair<std::string, std::string> range_;
  WatchCallbacks callbacks_;

  // The delivery thread's own state.
  std::map<std::string, StoredItem> known_;  // by etcd path: what was delivered
  Snapshot pendingNow_;
  int64_t revision_ = 0;  // everything up to here is delivered

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::unique_ptr<WatchStream> stream_;
  Clock::time_point lastHeard_{};
  std::thread thread_;
  std::thread ticker_;
};

}  // namespace

StoreResult<std::unique_ptr<Watch>> startWatch(std::shared_ptr<Client> client, const EtcdOptions& etcd,
                                               const OpenOptions& options, const WatchOptions& watch,
                                               WatchCallbacks callbacks) {
  if (watch.fromRevision < 0) {
    return makeStoreError(ErrorKind::Invalid, "etcd watch", "a negative start revision");
  }
  auto range = rangeOf(watch.kind, std::nullopt);
  if (!range) return range.error();
  auto started = std::make_unique<EtcdWatch>(std::move(client), etcd, options, watch.kind, std::move(*range),
                                             std::move(callbacks));
  if (auto ok = started->begin(watch.fromRevision); !ok) return ok.error();
  return std::unique_ptr<Watch>(std::move(started));
}

}  // namespace tartan::datastore::etcd
