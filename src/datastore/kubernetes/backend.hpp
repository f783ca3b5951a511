// backend.hpp — the Kubernetes datastore's class, shared by its CRUD (kubernetes_datastore.cpp)
// and its watch (watch.cpp).
#pragma once

#include "objects.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/kube/client.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace tartan::datastore::kubernetes {

// A KubeError as the Datastore's error: NotFound, AlreadyExists and Conflict as they are; 410 as
// Compacted; a server that does not answer (connect, TLS, timeout, 5xx, 401/403) as Unavailable.
StoreError storeError(const kube::KubeError& error, std::string where);

class KubernetesDatastore : public Datastore {
 public:
  KubernetesDatastore(std::unique_ptr<kube::Client> client, OpenOptions options);

  StoreResult<ListResult> list(std::string_view kind, std::optional<std::string_view> namespace_) override;
  StoreResult<KVPair> get(const Key& key) override;
  StoreResult<KVPair> create(const Key& key, std::string value) override;
  StoreResult<KVPair> update(const Key& key, std::string value, int64_t expectedRevision) override;
  StoreResult<KVPair> apply(const Key& key, std::string value) override;
  StoreResult<int64_t> remove(const Key& key, std::optional<int64_t> expectedRevision) override;
  StoreResult<TxnResult> transaction(const std::vector<Op>& ops) override;
  StoreResult<std::unique_ptr<Watch>> watch(const WatchOptions& options, WatchCallbacks callbacks) override;
  std::vector<Damage> damaged() override;

  kube::Client& client() { return *client_; }
  // The layouts a watch or list of `kind` ("" for all) covers, less the custom resources the server
  // does not serve. Unavailable when discovery does not answer.
  StoreResult<std::vector<const KindLayout*>> servedLayouts(std::string_view kind, bool forWatch);
  // A served object as a KVPair; an object the model refuses is reported as damage and skipped.
  std::optional<KVPair> read(const KindLayout& layout, const kube::Json& object);
  // The object of `layout` is gone (or read again fine): its damage, if any, is settled.
  void settle(const KindLayout& layout, const kube::Json& object);

 private:
  struct Stored {
    std::string name;  // its name in the collection
    kube::Json object;
  };
  StoreResult<const KindLayout*> layoutFor(const Key& key) const;
  StoreResult<const KindLayout*> writableLayout(const Key& key) const;
  // The object a key is stored as now (any of its stored names), or nullopt.
  StoreResult<std::optional<Stored>> find(const KindLayout& layout, const Key& key);
  StoreResult<kube::Json> toObject(const KindLayout& layout, const Key& key, const std::string& value,
                                   const std::optional<Stored>& current);
  StoreResult<KVPair> written(const KindLayout& layout, const kube::Json& object, const std::string& where);
  StoreResult<KVPair> writeOnce(const KindLayout& layout, const Key& key, const std::string& value,
                                const std::optional<Stored>& current, std::optional<int64_t> expected);
  StoreResult<TxnResult> single(const Op& op);
  // A WorkloadEndpoint written as Calico's KDD writes one: its Pod's cni.projectcalico.org
  // annotations (podIP, podIPs, containerID), patched with the Pod's resourceVersion as the CAS.
  StoreResult<KVPair> writeWorkloadEndpoint(const KindLayout& layout, const Key& key,
                                            const std::string& value, std::optional<int64_t> expected,
                                            bool mustBeNew);
  StoreResult<int64_t> removeWorkloadEndpoint(const KindLayout& layout, const Key& key,
                                              std::optional<int64_t> expected);
  void reportDamage(const std::string& path, const Key& key, const Error& problem);

  std::unique_ptr<kube::Client> client_;
  OpenOptions options_;
  std::mutex mutex_;
  std::map<std::string, Damage> damage_;  // by "plural/[ns/]name"
};

}  // namespace tartan::datastore::kubernetes
