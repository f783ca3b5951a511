#include "tartan/syncer/syncer.hpp"

#include "tartan/common/log.hpp"

#include <chrono>
#include <thread>

namespace tartan::syncer {

namespace {
bool isKubernetesKind(model::Kind kind) {
  switch (kind) {
    case model::Kind::kKubernetesNamespace:
    case model::Kind::kKubernetesPod:
    case model::Kind::kKubernetesServiceAccount:
    case model::Kind::kKubernetesNode:
    case model::Kind::kKubernetesNetworkPolicy:
      return true;
    default:
      return false;
  }
}

constexpr model::Kind kAllKinds[] = {
    model::Kind::kGlobalNetworkPolicy,      model::Kind::kNetworkPolicy,
    model::Kind::kTier,                     model::Kind::kGlobalNetworkSet,
    model::Kind::kNetworkSet,               model::Kind::kHostEndpoint,
    model::Kind::kWorkloadEndpoint,         model::Kind::kIPPool,
    model::Kind::kBGPConfiguration,         model::Kind::kBGPPeer,
    model::Kind::kBGPFilter,                model::Kind::kNode,
    model::Kind::kAgentConfiguration,       model::Kind::kIPAMBlock,
    model::Kind::kBlockAffinity,            model::Kind::kIPAMHandle,
    model::Kind::kKubernetesNamespace,      model::Kind::kKubernetesPod,
    model::Kind::kKubernetesServiceAccount, model::Kind::kKubernetesNode,
    model::Kind::kKubernetesNetworkPolicy,
};
}  // namespace

std::string storageKind(model::Kind kind) {
  std::string name(model::kindName(kind));
  return isKubernetesKind(kind) ? "Kubernetes" + name : name;
}

std::optional<model::Kind> kindFromStorage(std::string_view storage) {
  for (auto kind : kAllKinds)
    if (storageKind(kind) == storage) return kind;
  return std::nullopt;
}

datastore::Key keyOf(model::Kind kind, std::string namespaceName, std::string name) {
  return datastore::Key{storageKind(kind), model::isNamespaced(kind) ? std::move(namespaceName) : std::string(),
                        std::move(name)};
}

datastore::Key keyOf(const model::Resource& resource) {
  const auto& meta = model::metadata(resource);
  return keyOf(model::kindOf(resource), meta.namespaceName, meta.name);
}

Result<model::Resource> decodeStored(const datastore::KVPair& kv) {
  auto result = model::decode(kv.value, "stored " + kv.key.toString());
  if (!result.ok()) return result.errors.front();
  if (result.resources.size() != 1)
    return makeError("stored " + kv.key.toString(), "", "is not exactly one resource");
  auto resource = std::move(result.resources.front());
  if (keyOf(resource) != kv.key)
    return makeError("stored " + kv.key.toString(), "metadata",
                     "the document names " + keyOf(resource).toString());
  model::metadata(resource).resourceVersion = std::to_string(kv.revision);
  return resource;
}

Syncer::Syncer(datastore::Datastore& store, std::vector<model::Kind> kinds, Callbacks callbacks)
    : store_(store), callbacks_(std::move(callbacks)) {
  for (auto kind : kinds) kinds_.insert(storageKind(kind));
}

Syncer::~Syncer() { stop(); }

Result<bool> Syncer::start() {
  datastore::WatchOptions options;
  auto watch = store_.watch(options, {[this](const datastore::WatchEvent& e) { onEvent(e); },
                                      [this](int64_t revision) { onInSync(revision); },
                                      [this](const datastore::StoreError& e) { onWatchError(e); }});
  if (!watch) return watch.error().error;
  std::lock_guard lock(mutex_);
  watch_ = std::move(*watch);
  return true;
}

void Syncer::stop() {
  stopped_ = true;
  std::unique_ptr<datastore::Watch> watch;
  {
    std::lock_guard lock(mutex_);
    watch = std::move(watch_);
  }
  if (watch) watch->stop();
}

void Syncer::startWatch(int64_t fromRevision) {
  // Runs on the old watch's thread after its onError, so the new watch is started from a
  // separate thread: a watch may not be destroyed from inside its own callback.
  std::thread([this, fromRevision] {
    while (!stopped_) {
      datastore::WatchOptions options;
      options.fromRevision = fromRevision;
      auto watch = store_.watch(options, {[this](const datastore::WatchEvent& e) { onEvent(e); },
                                          [this](int64_t revision) { onInSync(revision); },
                                          [this](const datastore::StoreError& e) { onWatchError(e); }});
      if (watch) {
        std::unique_ptr<datastore::Watch> old;
        {
          std::lock_guard lock(mutex_);
          old = std::move(watch_);
          watch_ = std::move(*watch);
        }
        if (old) old->stop();
        if (stopped_) stop();
        return;
      }
      if (callbacks_.onError) callbacks_.onError(watch.error().error);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }).detach();
}

void Syncer::onEvent(const datastore::WatchEvent& event) {
  if (stopped_) return;
  const auto& key = event.kv.key;
  if (!kinds_.empty() && !kinds_.count(key.kind)) return;
  auto kind = kindFromStorage(key.kind);
  if (!kind) {
    log::get("syncer")->warn("{}: not a kind Tartan knows; ignored", key.toString());
    return;
  }
  revision_ = event.revision;
  if (event.type == datastore::EventType::Deleted) {
    if (relisting_) return;  // a snapshot has no deletions; absent keys are settled at in-sync
    if (known_.erase(key)) callbacks_.onUpdate(Update{key, *kind, std::nullopt, event.revision});
    return;
  }
  auto resource = decodeStored(event.kv);
  if (!resource) {
    log::get("syncer")->error("{}: {}; keeping the last valid version", key.toString(),
                              resource.error().toString());
    if (relisting_) relisting_->insert(key);
    return;
  }
  if (relisting_) relisting_->insert(key);
  known_.insert(key);
  callbacks_.onUpdate(Update{key, *kind, std::move(*resource), event.revision});
}

void Syncer::onInSync(int64_t revision) {
  if (stopped_) return;
  revision_ = revision;
  if (relisting_) {
    for (auto it = known_.begin(); it != known_.end();) {
      if (relisting_->count(*it)) {
        ++it;
        continue;
      }
      auto kind = kindFromStorage(it->kind);
      callbacks_.onUpdate(Update{*it, *kind, std::nullopt, revision});
      it = known_.erase(it);
    }
    relisting_.reset();
  }
  if (callbacks_.onInSync) callbacks_.onInSync(revision);
}

void Syncer::onWatchError(const datastore::StoreError& error) {
  if (stopped_) return;
  if (callbacks_.onError) callbacks_.onError(error.error);
  if (error.kind == datastore::ErrorKind::Compacted) {
    log::get("syncer")->warn("watch fell behind the store's history; listing again");
    relisting_.emplace();
    startWatch(0);
  } else {
    startWatch(revision_);
  }
}

}  // namespace tartan::syncer
