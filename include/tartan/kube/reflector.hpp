// tartan/kube/reflector.hpp — list then watch one kind, keeping a cache: the syncer's contract.
//
// What: client-go's reflector and store in one. It lists (every page), delivers what differs from
// its cache — an update for each object that is new or whose resourceVersion changed, a removal for
// each object that is gone — then "in sync", then watches from the list's resourceVersion and
// delivers each event. Bookmarks move the resume point without a delivery. A watch that ends
// cleanly is started again at once from the last resourceVersion seen; one that breaks (reset,
// idle, refused) is started again from there after a back-off that doubles up to a limit; a 410
// Gone (the history was compacted past that resourceVersion) lists again, and only the differences
// of that list reach the callbacks — a consumer never sees a spurious removal or a repeat.
//
// Threading: one thread of its own runs the loop and calls every callback, in order. stop() (or
// the destructor) returns once the thread has ended; it must not be called from a callback.
//
// Failure: failures are retried for ever; each is reported through onError for logs and health.
#pragma once

#include "tartan/kube/client.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace tartan::kube {

struct ReflectorCallbacks {
  std::function<void(const Json& object)> onUpdate;                  // added or changed
  std::function<void(const Json& object)> onRemove;                  // its last known state
  std::function<void(const std::string& resourceVersion)> onInSync;  // after every list's differences
  std::function<void(const KubeError& error)> onError;               // a failure, retried
};

struct ReflectorOptions {
  ListOptions list;
  std::chrono::milliseconds initialBackoff{200};
  std::chrono::milliseconds maxBackoff{std::chrono::seconds(30)};
  std::chrono::seconds watchTimeout{std::chrono::minutes(5)};
  std::chrono::milliseconds idleTimeout{std::chrono::minutes(6)};
};

struct ReflectorStats {
  int lists = 0;                // every list, the first included
  int relists = 0;              // lists because a watch was told 410 Gone
  int watches = 0;              // watch requests that were answered 200
  int reconnects = 0;           // watches started again after a broken stream or a refused request
  std::string resourceVersion;  // the resume point
};

class Reflector {
 public:
  Reflector(Client& client, ResourceType type, ReflectorCallbacks callbacks, ReflectorOptions options = {});
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void stop();
  ReflectorStats stats() const;
  // "namespace/name" → object, as last delivered.
  std::map<std::string, Json> cache() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// "namespace/name" (or "name" for a cluster-scoped object): the cache's key.
std::string objectKey(const Json& object);

}  // namespace tartan::kube
