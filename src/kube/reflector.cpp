// The reflector's loop: list, deliver differences, watch, resume or relist.
#include "tartan/kube/reflector.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace tartan::kube {
namespace {

std::string meta(const Json& object, const char* field) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return {};
  auto v = m->find(field);
  return v != m->end() && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

std::string objectKey(const Json& object) {
  const std::string ns = meta(object, "namespace");
  return ns.empty() ? meta(object, "name") : ns + "/" + meta(object, "name");
}

struct Reflector::State {
  Client& client;
  ResourceType type;
  ReflectorCallbacks callbacks;
  ReflectorOptions options;

  mutable std::mutex mutex;  // guards what follows
  std::condition_variable wake;
  bool stopping = false;
  std::atomic<bool> cancel{false};  // stopping, for a watch being opened
  WatchStream* current = nullptr;   // the open watch, for stop()
  ReflectorStats stats;
  std::map<std::string, Json> cache;
  std::thread thread;

  State(Client& c, ResourceType t, ReflectorCallbacks cb, ReflectorOptions o)
      : client(c), type(std::move(t)), callbacks(std::move(cb)), options(std::move(o)) {}

  void report(const KubeError& error) {
    if (callbacks.onError) callbacks.onError(error);
  }

  // Sleeps for the back-off unless stopped first; doubles it. False once stopping.
  bool backoff(std::chrono::milliseconds& delay) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, delay, [&] { return stopping; });
    delay = std::min(delay * 2, options.maxBackoff);
    return !stopping;
  }
  bool stopped() {
    std::lock_guard lock(mutex);
    return stopping;
  }

  // Replaces the cache with a list's items, delivering the differences.
  void deliverList(std::vector<Json>& items, const std::string& resourceVersion) {
    std::map<std::string, Json> fresh;
    for (Json& item : items) fresh.emplace(objectKey(item), std::move(item));
    std::map<std::string, Json> old;
    {
      std::lock_guard lock(mutex);
      old.swap(cache);
    }
    for (const auto& [key, object] : fresh) {
      auto before = old.find(key);
      if (before != old.end() && meta(before->second, "resourceVersion") == meta(object, "resourceVersion"))
        continue;
      if (callbacks.onUpdate) callbacks.onUpdate(object);
    }
    for (const auto& [key, object] : old) {
      if (!fresh.count(key) && callbacks.onRemove) callbacks.onRemove(object);
    }
    {
      std::lock_guard lock(mutex);
      cache = std::move(fresh);
      stats.resourceVersion = resourceVersion;
    }
    if (callbacks.onInSync) callbacks.onInSync(resourceVersion);
  }

  enum class WatchEnd { Relist, Stop };

  // Watches from `resourceVersion` until told to relist or to stop.
  WatchEnd watchLoop(std::string resourceVersion) {
    std::chrono::milliseconds delay = options.initialBackoff;
    bool first = true;
    for (;;) {
      if (stopped()) return WatchEnd::Stop;
      if (!first) {
        std::lock_guard lock(mutex);
        ++stats.reconnects;
      }
      first = false;
      WatchOptions watchOptions;
      watchOptions.namespace_ = options.list.namespace_;
      watchOptions.labelSelector = options.list.labelSelector;
      watchOptions.fieldSelector = options.list.fieldSelector;
      watchOptions.resourceVersion = resourceVersion;
      watchOptions.timeout = options.watchTimeout;
      watchOptions.idleTimeout = options.idleTimeout;
      watchOptions.cancel = &cancel;
      auto stream = client.watch(type, watchOptions);
      if (!stream) {
        if (stream.error().kind == ErrorKind::Gone) return WatchEnd::Relist;
        if (stream.error().kind == ErrorKind::Stopped) return WatchEnd::Stop;
        report(stream.error());
        if (!backoff(delay)) return WatchEnd::Stop;
        continue;
      }
      {
        std::lock_guard lock(mutex);
        if (stopping) return WatchEnd::Stop;
        current = stream->get();
        ++stats.watches;
      }
      std::optional<WatchEnd> end;
      bool broken = false;
      for (;;) {
        auto event = (*stream)->next();
        if (!event) {
          if (event.error().kind == ErrorKind::Stopped) {
            end = WatchEnd::Stop;
          } else {
            report(event.error());
            broken = true;
          }
          break;
        }
        if (!*event) break;  // ended cleanly (timeoutSeconds): watch again at once
        WatchEvent& e = **event;
        if (e.type == WatchEventType::Error) {
          KubeError error =
              errorFromStatus(0, e.object.dump(), "watch " + type.path(options.list.namespace_));
          if (error.kind == ErrorKind::Gone) {
            end = WatchEnd::Relist;
          } else {
            report(error);
            broken = true;
          }
          break;
        }
        resourceVersion = meta(e.object, "resourceVersion");
        delay = options.initialBackoff;  // the stream works
        const std::string key = objectKey(e.object);
        {
          std::lock_guard lock(mutex);
          stats.resourceVersion = resourceVersion;
          if (e.type == WatchEventType::Added || e.type == WatchEventType::Modified) cache[key] = e.object;
          if (e.type == WatchEventType::Deleted) cache.erase(key);
        }
        if ((e.type == WatchEventType::Added || e.type == WatchEventType::Modified) && callbacks.onUpdate) {
          callbacks.onUpdate(e.object);
        } else if (e.type == WatchEventType::Deleted && callbacks.onRemove) {
          callbacks.onRemove(e.object);
        }
      }
      {
        std::lock_guard lock(mutex);
        current = nullptr;
        if (stopping) end = WatchEnd::Stop;
      }
      if (end) return *end;
      if (broken && !backoff(delay)) return WatchEnd::Stop;
    }
  }

  void run() {
    std::chrono::milliseconds delay = options.initialBackoff;
    bool relist = false;
    while (!stopped()) {
      auto list = client.list(type, options.list);
      if (!list) {
        report(list.error());
        if (!backoff(delay)) return;
        continue;
      }
      {
        std::lock_guard lock(mutex);
        ++stats.lists;
        if (relist) ++stats.relists;
      }
      delay = options.initialBackoff;
      deliverList(list->items, list->resourceVersion);
      if (watchLoop(list->resourceVersion) == WatchEnd::Stop) return;
      relist = true;
    }
  }
};

Reflector::Reflector(Client& client, ResourceType type, ReflectorCallbacks callbacks,
                     ReflectorOptions options)
    : state_(std::make_shared<State>(client, std::move(type), std::move(callbacks), std::move(options))) {
  state_->thread = std::thread([state = state_.get()] { state->run(); });
}

Reflector::~Reflector() { stop(); }

void Reflector::stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->cancel = true;
    if (state_->current != nullptr) state_->current->stop();
  }
  state_->wake.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

ReflectorStats Reflector::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats;
}

std::map<std::string, Json> Reflector::cache() const {
  std::lock_guard lock(state_->mutex);
  return state_->cache;
}

}  // namespace tartan::kube
