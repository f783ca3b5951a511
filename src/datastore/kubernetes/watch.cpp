// watch.cpp — the Kubernetes datastore's watch: one reflector per collection, one delivery thread.
#include "backend.hpp"
#include "tartan/common/log.hpp"
#include "tartan/kube/reflector.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>

namespace tartan::datastore::kubernetes {

namespace {

using kube::Json;

// What a reflector reported, queued for the delivery thread.
struct Item {
  enum class Type { Update, Remove, InSync, Error };
  Type type = Type::Update;
  size_t collection = 0;
  Json object;
  std::string resourceVersion;
  kube::KubeError error;
};

bool meansServerGone(const kube::KubeError& error) {
  using K = kube::ErrorKind;
  switch (error.kind) {
    case K::Transport:
    case K::Timeout:
    case K::Server:
    case K::Unauthorized:
    case K::Forbidden:
      return true;
    default:
      return false;
  }
}

class KubeWatch : public Watch {
 public:
  struct Collection {
    kube::ResourceType type;
    std::vector<const KindLayout*> layouts;
  };

  KubeWatch(KubernetesDatastore& store, std::vector<Collection> collections, WatchCallbacks callbacks)
      : store_(store),
        collections_(std::move(collections)),
        callbacks_(std::move(callbacks)),
        synced_(collections_.size(), false) {}

  void start() {
    delivery_ = std::thread([this] { deliver(); });
    if (collections_.empty()) push(Item{Item::Type::InSync, collections_.size(), {}, {}, {}});
    std::lock_guard lock(reflectorsMutex_);
    for (size_t i = 0; i < collections_.size(); ++i) {
      kube::ReflectorCallbacks cb;
      cb.onUpdate = [this, i](const Json& o) { push(Item{Item::Type::Update, i, o, {}, {}}); };
      cb.onRemove = [this, i](const Json& o) { push(Item{Item::Type::Remove, i, o, {}, {}}); };
      cb.onInSync = [this, i](const std::string& rv) { push(Item{Item::Type::InSync, i, {}, rv, {}}); };
      cb.onError = [this, i](const kube::KubeError& e) { push(Item{Item::Type::Error, i, {}, {}, e}); };
      reflectors_.push_back(
          std::make_unique<kube::Reflector>(store_.client(), collections_[i].type, std::move(cb)));
    }
  }

  ~KubeWatch() override {
    stop();
    if (delivery_.joinable() && delivery_.get_id() != std::this_thread::get_id()) delivery_.join();
    stopReflectors();
  }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (delivery_.get_id() == std::this_thread::get_id()) return;  // from a callback: it is the last
    if (delivery_.joinable()) delivery_.join();
    stopReflectors();
  }

 private:
  void push(Item item) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      queue_.push_back(std::move(item));
    }
    wake_.notify_one();
  }

  void stopReflectors() {
    std::vector<std::unique_ptr<kube::Reflector>> reflectors;
    {
      std::lock_guard lock(reflectorsMutex_);
      reflectors.swap(reflectors_);
    }
    for (auto& r : reflectors) r->stop();
  }

  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  void deliver() {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      if (!handle(item)) {
        // The watch has ended (onError): nothing more is delivered; its reflectors stop here.
        {
          std::lock_guard lock(mutex_);
          stopping_ = true;
          queue_.clear();
        }
        stopReflectors();
        return;
      }
    }
  }

  int64_t advance(int64_t revision) {
    revision_ = std::max(revision_, revision);
    return revision_;
  }

  // False once the watch has ended.
  bool handle(const Item& item) {
    if (item.collection >= collections_.size()) {  // nothing to watch: in sync at once
      if (callbacks_.onInSync) callbacks_.onInSync(revision_);
      return true;
    }
    const Collection& c = collections_[item.collection];
    switch (item.type) {
      case Item::Type::Update:
        for (const KindLayout* layout : c.layouts) {
          update(*layout, item.object);
          if (stopping()) return true;
        }
        return true;
      case Item::Type::Remove:
        for (const KindLayout* layout : c.layouts) {
          removed(*layout, item.object);
          if (stopping()) return true;
        }
        store_.settle(*c.layouts.front(), item.object);
        return true;
      case Item::Type::InSync: {
        synced_[item.collection] = true;
        advance(std::strtoll(item.resourceVersion.c_str(), nullptr, 10));
        if (!inSync_ && std::all_of(synced_.begin(), synced_.end(), [](bool b) { return b; })) {
          inSync_ = true;
          if (callbacks_.onInSync) callbacks_.onInSync(revision_);
        }
        return true;
      }
      case Item::Type::Error:
        return failed(item.error);
    }
    return true;
  }

  // An object added or changed: the resource it stands for now, or its removal if it stands for
  // none any more (a pod that left the pod network). An object that cannot be read keeps what was
  // delivered for it (fail closed) and is reported as damage.
  void update(const KindLayout& layout, const Json& object) {
    const std::string objectKey = kube::objectKey(object);
    auto kv = toKVPair(layout, object);
    if (!kv) {
      store_.read(layout, object);  // reports it
      return;
    }
    auto& delivered = delivered_[&layout];
    if (!*kv) {
      removed(layout, object);
      return;
    }
    auto it = delivered.find(objectKey);
    const EventType type = it == delivered.end() ? EventType::Added : EventType::Modified;
    if (it != delivered.end() && it->second != (*kv)->key) {
      // Renamed under the same object (cannot happen for a pod's WorkloadEndpoint; kept safe).
      WatchEvent gone{EventType::Deleted, KVPair{it->second, {}, (*kv)->revision}, advance((*kv)->revision)};
      if (callbacks_.onEvent) callbacks_.onEvent(gone);
    }
    delivered[objectKey] = (*kv)->key;
    store_.settle(layout, object);
    WatchEvent event{type, std::move(**kv), 0};
    event.revision = advance(event.kv.revision);
    if (callbacks_.onEvent) callbacks_.onEvent(event);
  }

  void removed(const KindLayout& layout, const Json& object) {
    auto& delivered = delivered_[&layout];
    auto it = delivered.find(kube::objectKey(object));
    if (it == delivered.end()) return;
    WatchEvent event{EventType::Deleted, KVPair{it->second, {}, revisionOf(object)}, 0};
    event.revision = advance(revisionOf(object));
    delivered.erase(it);
    if (callbacks_.onEvent) callbacks_.onEvent(event);
  }

  // A reflector failed. It retries by itself; but if the API server does not answer at all, the
  // watch ends as Unavailable (an outage, never an empty store) before anything is removed.
  bool failed(const kube::KubeError& error) {
    log::get("datastore")->warn("kubernetes watch: {}", error.toString());
    if (!meansServerGone(error)) return true;
    auto probe = store_.client().getPath("/version");
    if (probe || !meansServerGone(probe.error())) return true;  // a broken stream: being retried
    if (callbacks_.onError) {
      callbacks_.onError(makeStoreError(ErrorKind::Unavailable,
                                        "kubernetes " + store_.client().config().server,
                                        "the API server does not answer: " + probe.error().toString()));
    }
    return false;
  }

  KubernetesDatastore& store_;
  std::vector<Collection> collections_;
  WatchCallbacks callbacks_;

  std::mutex mutex_;  // guards the queue and stopping_
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::thread delivery_;

  std::mutex reflectorsMutex_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;

  // Delivery thread only.
  std::vector<bool> synced_;
  bool inSync_ = false;
  int64_t revision_ = 0;
  std::map<const KindLayout*, std::map<std::string, Key>> delivered_;  // object key → its resource's key
};

}  // namespace

StoreResult<std::unique_ptr<Watch>> KubernetesDatastore::watch(const WatchOptions& options,
                                                               WatchCallbacks callbacks) {
  if (options.fromRevision > 0) {
    return makeStoreError(ErrorKind::Compacted, "kubernetes watch",
                          "this datastore watches from a list, not from revision " +
                              std::to_string(options.fromRevision) + ": list again");
  }
  auto layouts = servedLayouts(options.kind, true);
  if (!layouts) return layouts.error();
  // One collection per Kubernetes path: Nodes feed both the Kubernetes Node and Calico's Node.
  std::vector<KubeWatch::Collection> collections;
  for (const KindLayout* layout : *layouts) {
    kube::ResourceType type = collectionOf(*layout);
    auto same = std::find_if(collections.begin(), collections.end(), [&](const KubeWatch::Collection& c) {
      return c.type.group == type.group && c.type.plural == type.plural;
    });
    if (same != collections.end()) {
      same->layouts.push_back(layout);
    } else {
      collections.push_back(KubeWatch::Collection{std::move(type), {layout}});
    }
  }
  auto watch = std::make_unique<KubeWatch>(*this, std::move(collections), std::move(callbacks));
  watch->start();
  return StoreResult<std::unique_ptr<Watch>>(boost::system::in_place_value, std::move(watch));
}

}  // namespace tartan::datastore::kubernetes
