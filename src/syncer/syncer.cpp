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
    case model::Kind::kKubernetesService:
    case model::Kind::kKubernetesEndpointSlice:
      return true;
    default:
      return false;
  }
}

constexpr model::Kind kAllKinds[] = {
    model::Kind::kGlobalNetworkPolicy,
    model::Kind::kNetworkPolicy,
    model::Kind::kTier,
    model::Kind::kGlobalNetworkSet,
    model::Kind::kNetworkSet,
    model::Kind::kHostEndpoint,
    model::Kind::kWorkloadEndpoint,
    model::Kind::kIPPool,
    model::Kind::kBGPConfiguration,
    model::Kind::kBGPPeer,
    model::Kind::kBGPFilter,
    model::Kind::kNode,
    model::Kind::kAgentConfiguration,
    model::Kind::kIPAMBlock,
    model::Kind::kBlockAffinity,
    model::Kind::kIPAMHandle,
    model::Kind::kKubernetesNamespace,
    model::Kind::kKubernetesPod,
    model::Kind::kKubernetesServiceAccount,
    model::Kind::kKubernetesNode,
    model::Kind::kKubernetesNetworkPolicy,
    model::Kind::kKubernetesService,
    model::Kind::kKubernetesEndpointSlice,
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
  return datastore::Key{storageKind(kind),
                        model::isNamespaced(kind) ? std::move(namespaceName) : std::string(),
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

std::optional<std::string> checkStored(const datastore::Key& key, std::string_view document) {
  if (!kindFromStorage(key.kind)) return std::nullopt;
  auto decoded = decodeStored(datastore::KVPair{key, std::string(document), 0});
  if (!decoded) return decoded.error().toString();
  return std::nullopt;
}

namespace {
// How long the restart thread waits before trying again: a store being restored is polled
// briskly, anything else (an I/O error) less often.
constexpr auto kUnavailablePause = std::chrono::milliseconds(250);
constexpr auto kErrorPause = std::chrono::seconds(1);

size_t hashOf(const std::string& document) { return std::hash<std::string>{}(document); }
}  // namespace

Syncer::Syncer(datastore::Datastore& store, std::vector<model::Kind> kinds, Callbacks callbacks)
    : store_(store), callbacks_(std::move(callbacks)) {
  for (auto kind : kinds) kinds_.insert(storageKind(kind));
}

Syncer::~Syncer() { stop(); }

datastore::StoreResult<std::unique_ptr<datastore::Watch>> Syncer::watch(int64_t fromRevision) {
  datastore::WatchOptions options;
  options.fromRevision = fromRevision;
  return store_.watch(options, {[this](const datastore::WatchEvent& e) { onEvent(e); },
                                [this](int64_t revision) { onInSync(revision); },
                                [this](const datastore::StoreError& e) { onWatchError(e); }});
}

Result<bool> Syncer::start() {
  restarter_ = std::thread([this] { restartLoop(); });
  std::unique_lock lock(mutex_);
  // Held while the first watch starts: should it fail at once, its request for a successor
  // waits until it is in watch_, so the restart thread replaces this watch and not the other way.
  auto started = watch(0);
  if (!started) {
    lock.unlock();
    if (started.error().kind != datastore::ErrorKind::Unavailable) return started.error().error;
    // Not there yet (or being restored): wait for it rather than fail or take it for empty.
    outage(started.error());
    restart(0);
    return true;
  }
  watch_ = std::move(*started);
  return true;
}

void Syncer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
  if (restarter_.joinable() && restarter_.get_id() != std::this_thread::get_id()) restarter_.join();
  std::unique_ptr<datastore::Watch> watch;
  {
    std::lock_guard lock(mutex_);
    watch = std::move(watch_);
  }
  if (watch) watch->stop();
}

void Syncer::restart(int64_t fromRevision) {
  {
    std::lock_guard lock(mutex_);
    restartFrom_ = fromRevision;
  }
  wake_.notify_all();
}

// A watch that ended asks for its successor from inside its own callback, where it may not be
// destroyed; this thread stops it and starts the next one, retrying until the store answers.
void Syncer::restartLoop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopped_ || restartFrom_.has_value(); });
    if (stopped_) return;
    int64_t from = *restartFrom_;
    restartFrom_.reset();
    std::unique_ptr<datastore::Watch> ended = std::move(watch_);
    lock.unlock();
    if (ended) ended->stop();  // its thread is past its last callback: this only joins it
    ended.reset();
    for (;;) {
      auto started = watch(from);
      lock.lock();
      if (started) {
        watch_ = std::move(*started);
        break;
      }
      const datastore::StoreError& error = started.error();
      lock.unlock();
      if (error.kind == datastore::ErrorKind::Unavailable) {
        outage(error);
        if (from != 0) relisting_.emplace();
        from = 0;
      } else {
        if (callbacks_.onError) callbacks_.onError(error.error);
        if (error.kind == datastore::ErrorKind::Compacted) {
          relisting_.emplace();
          from = 0;
        }
      }
      lock.lock();
      const auto pause = error.kind == datastore::ErrorKind::Unavailable ? kUnavailablePause : kErrorPause;
      if (wake_.wait_for(lock, pause, [&] { return stopped_.load(); })) return;
      lock.unlock();
    }
  }
}

void Syncer::outage(const datastore::StoreError& error) {
  const std::string why = error.toString();
  if (outage_ == why) return;
  if (!outage_) {
    log::get("syncer")->error(
        "datastore unavailable: {}; keeping the last state (no removals) until it is back", why);
  } else {
    log::get("syncer")->warn("datastore still unavailable: {}", why);
  }
  outage_ = why;
  if (callbacks_.onAvailability) callbacks_.onAvailability(error.error);
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
  const size_t hash = hashOf(event.kv.value);
  if (relisting_) {
    relisting_->insert(key);
    // A relist delivers differences: what the consumer has already is not sent again.
    if (auto known = known_.find(key); known != known_.end() && known->second == hash) return;
  }
  auto resource = decodeStored(event.kv);
  if (!resource) {
    log::get("syncer")->error("{}: {}; keeping the last valid version", key.toString(),
                              resource.error().toString());
    return;
  }
  known_[key] = hash;
  callbacks_.onUpdate(Update{key, *kind, std::move(*resource), event.revision});
}

void Syncer::onInSync(int64_t revision) {
  if (stopped_) return;
  revision_ = revision;
  if (relisting_) {
    for (auto it = known_.begin(); it != known_.end();) {
      if (relisting_->count(it->first)) {
        ++it;
        continue;
      }
      auto kind = kindFromStorage(it->first.kind);
      callbacks_.onUpdate(Update{it->first, *kind, std::nullopt, revision});
      it = known_.erase(it);
    }
    relisting_.reset();
  }
  if (outage_) {
    log::get("syncer")->warn("datastore is back: resynced at revision {}", revision);
    outage_.reset();
    if (callbacks_.onAvailability) callbacks_.onAvailability(std::nullopt);
  }
  if (callbacks_.onInSync) callbacks_.onInSync(revision);
}

void Syncer::onWatchError(const datastore::StoreError& error) {
  if (stopped_) return;
  if (error.kind == datastore::ErrorKind::Unavailable) {
    // An outage of the store, not news that it is empty: nothing is removed now; the store is
    // listed again when it is back and only the differences are delivered.
    outage(error);
    relisting_.emplace();
    restart(0);
    return;
  }
  if (callbacks_.onError) callbacks_.onError(error.error);
  if (error.kind == datastore::ErrorKind::Compacted || relisting_) {
    log::get("syncer")->warn("watch fell behind the store's history; listing again");
    relisting_.emplace();
    restart(0);
  } else {
    restart(revision_);
  }
}

}  // namespace tartan::syncer
