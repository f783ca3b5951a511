// test/support/kube_test_store.hpp — the state of the test Kubernetes API server (see
// kube_test_server.hpp): served kinds, objects, one global revision, the event history.
//
// A fake written from the Kubernetes API conventions (no API server runs here): every write takes
// the next value of one store-wide counter as its resourceVersion, as etcd's revision is; a PUT
// whose metadata.resourceVersion is stale is 409 Conflict; a no-op update writes nothing; lists
// are sorted by namespace/name and paginated with continue tokens that name the snapshot's
// revision, served from the history until compact() forgets it (then 410 Expired); the status
// subresource alone writes .status; creating a CustomResourceDefinition serves its kind, and
// its custom resources are then checked against the CRD's schema (openapi_schema.hpp: a
// violation is 422 Invalid, an unknown field pruned) when written.
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tartan::test {

using Json = nlohmann::json;

struct ApiResource {
  std::string group;
  std::string version;
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  bool statusSubresource = false;
  std::vector<std::string> shortNames;
  Json schema;   // a custom resource's openAPIV3Schema (null: none, nothing checked)
  Json columns;  // its additionalPrinterColumns (null: none; kubectl then prints what it can)

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string id() const { return group + "/" + plural; }  // objects are stored per group and plural
};

// An answer: the HTTP status and its JSON body (the object, a list, or a Status).
struct ApiOutcome {
  int status = 200;
  Json body;
};

// A Status object as the API server writes it.
Json statusBody(int code, const std::string& reason, const std::string& message);

struct StoredEvent {
  int64_t revision = 0;
  std::string resource;  // ApiResource::id()
  std::string type;      // ADDED, MODIFIED, DELETED
  Json object;           // the new state; for DELETED the last state
  Json previous;         // the state before (null for ADDED)
};

// Label and field selectors as the API parses them: label `k=v`, `k==v`, `k!=v`, `k`, `!k`,
// `k in (a,b)`, `k notin (a,b)`; fields metadata.name and metadata.namespace with =, ==, !=.
struct Selector {
  std::string labels;
  std::string fields;
  // The error for a selector that does not parse (400), else nothing.
  std::optional<std::string> check() const;
  bool matches(const Json& object) const;
};

class KubeTestStore {
 public:
  KubeTestStore();

  std::vector<ApiResource> resources() const;
  std::optional<ApiResource> find(const std::string& group, const std::string& version,
                                  const std::string& plural) const;

  ApiOutcome get(const ApiResource& r, const std::string& ns, const std::string& name);
  ApiOutcome list(const ApiResource& r, const std::string& ns, const Selector& selector, int64_t limit,
                  const std::string& continueToken);
  ApiOutcome create(const ApiResource& r, const std::string& ns, Json object);
  ApiOutcome update(const ApiResource& r, const std::string& ns, const std::string& name, Json object,
                    bool statusOnly);
  ApiOutcome patch(const ApiResource& r, const std::string& ns, const std::string& name,
                   const std::string& contentType, const std::string& body, bool statusOnly);
  ApiOutcome remove(const ApiResource& r, const std::string& ns, const std::string& name,
                    const Json& options);

  int64_t revision() const;
  // Forgets the history: a watch or continue token from before now is 410 Gone.
  void compact();

  // For a watch: under the store's lock, the events after `revision` of one resource, or nullopt if
  // that history was compacted away. Waits up to `wait` for one to come.
  struct Changes {
    std::vector<StoredEvent> events;
    int64_t revision = 0;  // the store revision they bring the watcher to
  };
  std::optional<Changes> changesAfter(const std::string& resource, int64_t revision,
                                      std::chrono::milliseconds wait);
  // The current objects of a resource (a watch from "0" starts with them), and the revision.
  std::pair<std::vector<Json>, int64_t> snapshot(const ApiResource& r, const std::string& ns);

 private:
  using ObjectKey = std::pair<std::string, std::string>;  // namespace, name
  std::string objectPath(const ApiResource& r, const std::string& ns, const std::string& name) const;
  void record(const ApiResource& r, const std::string& type, const Json& object, const Json& previous);
  ApiOutcome createLocked(const ApiResource& r, const std::string& ns, Json object);
  ApiOutcome writeLocked(const ApiResource& r, const std::string& ns, const std::string& name, Json object,
                         bool statusOnly);
  ApiOutcome removeLocked(const ApiResource& r, const std::string& ns, const std::string& name);
  std::optional<std::string> registerCrd(const Json& crd);
  void unregisterCrd(const Json& crd);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ApiResource> resources_;
  std::map<std::string, std::map<ObjectKey, Json>> objects_;  // by ApiResource::id()
  std::vector<StoredEvent> history_;
  int64_t revision_ = 1;
  int64_t compacted_ = 0;
  int64_t uid_ = 0;
};

}  // namespace tartan::test
