// kubernetes_datastore.cpp — reads, writes and transactions of the Kubernetes datastore.
#include "tartan/datastore/kubernetes_datastore.hpp"

#include "backend.hpp"
#include "tartan/common/log.hpp"

#include <algorithm>
#include <cstdlib>

namespace tartan::datastore::kubernetes {

namespace {

using S = calico::KubernetesStorage;
using kube::Json;

constexpr int kApplyAttempts = 8;

std::string pathOf(const KindLayout& layout, const std::string& ns, const std::string& name) {
  return std::string(layout.plural) + "/" + (ns.empty() ? "" : ns + "/") + name;
}

std::string objectPath(const KindLayout& layout, const Json& object) {
  const Json meta = object.value("metadata", Json::object());
  return pathOf(layout, meta.value("namespace", ""), meta.value("name", ""));
}

template <class T>
StoreResult<T> ok(T v) {
  return StoreResult<T>(boost::system::in_place_value, std::move(v));
}

}  // namespace

StoreError storeError(const kube::KubeError& error, std::string where) {
  using K = kube::ErrorKind;
  ErrorKind kind = ErrorKind::Io;
  switch (error.kind) {
    case K::NotFound:
      kind = ErrorKind::NotFound;
      break;
    case K::AlreadyExists:
      kind = ErrorKind::AlreadyExists;
      break;
    case K::Conflict:
      kind = ErrorKind::Conflict;
      break;
    case K::Gone:
      kind = ErrorKind::Compacted;
      break;
    case K::BadRequest:
    case K::Invalid:
    case K::Config:
      kind = ErrorKind::Invalid;
      break;
    case K::MethodNotAllowed:
      kind = ErrorKind::Unsupported;
      break;
    case K::Transport:
    case K::Timeout:
    case K::Server:
    case K::Unauthorized:
    case K::Forbidden:
      kind = ErrorKind::Unavailable;
      break;
    case K::TooManyRequests:
    case K::Decode:
    case K::Stopped:
      kind = ErrorKind::Io;
      break;
  }
  return makeStoreError(kind, std::move(where), error.toString());
}

KubernetesDatastore::KubernetesDatastore(std::unique_ptr<kube::Client> client, OpenOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

StoreResult<const KindLayout*> KubernetesDatastore::layoutFor(const Key& key) const {
  const KindLayout* layout = calico::layoutByStorageKind(key.kind);
  if (layout == nullptr) {
    return makeStoreError(ErrorKind::Invalid, key.toString(), "not a kind the Kubernetes datastore stores");
  }
  if (key.name.empty()) return makeStoreError(ErrorKind::Invalid, key.toString(), "the key has no name");
  if (layout->namespaced == key.namespace_.empty()) {
    return makeStoreError(ErrorKind::Invalid, key.toString(),
                          layout->namespaced ? "a namespaced kind needs a namespace"
                                             : "a cluster-scoped kind has no namespace");
  }
  return layout;
}

StoreResult<const KindLayout*> KubernetesDatastore::writableLayout(const Key& key) const {
  auto layout = layoutFor(key);
  if (!layout) return layout;
  switch ((*layout)->storage) {
    case S::kCustomResource:
    case S::kKubernetesNode:
      return layout;
    case S::kDerivedFromPods:  // written as its Pod's annotations
      return layout;
    case S::kKubernetesObject:
      break;
  }
  return makeStoreError(ErrorKind::Unsupported, key.toString(),
                        "Kubernetes objects are read-only here: write them with kubectl");
}

void KubernetesDatastore::reportDamage(const std::string& path, const Key& key, const Error& problem) {
  std::vector<Damage> all;
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    Damage damage{path, key, problem.toString(), 0};
    auto it = damage_.find(path);
    if (it == damage_.end() || it->second.problem != damage.problem) {
      damage_[path] = damage;
      changed = true;
      for (const auto& [p, d] : damage_) all.push_back(d);
    }
  }
  if (!changed) return;
  log::get("datastore")->error("{}: {}; not served", path, problem.toString());
  if (options_.onInvalidDocument)
    options_.onInvalidDocument(makeStoreError(ErrorKind::Invalid, path, problem.toString()));
  if (options_.onDamage) options_.onDamage(all);
}

void KubernetesDatastore::settle(const KindLayout& layout, const Json& object) {
  std::vector<Damage> all;
  {
    std::lock_guard lock(mutex_);
    if (damage_.empty() || damage_.erase(objectPath(layout, object)) == 0) return;
    for (const auto& [p, d] : damage_) all.push_back(d);
  }
  if (options_.onDamage) options_.onDamage(all);
}

std::vector<Damage> KubernetesDatastore::damaged() {
  std::lock_guard lock(mutex_);
  std::vector<Damage> out;
  for (const auto& [p, d] : damage_) out.push_back(d);
  return out;
}

std::optional<KVPair> KubernetesDatastore::read(const KindLayout& layout, const Json& object) {
  auto kv = toKVPair(layout, object);
  if (!kv) {
    const Json meta = object.value("metadata", Json::object());
    reportDamage(objectPath(layout, object),
                 Key{std::string(layout.storageKind), meta.value("namespace", ""), meta.value("name", "")},
                 kv.error());
    return std::nullopt;
  }
  settle(layout, object);
  return std::move(*kv);
}

StoreResult<std::optional<KubernetesDatastore::Stored>> KubernetesDatastore::find(const KindLayout& layout,
                                                                                  const Key& key) {
  const kube::ResourceType type = collectionOf(layout);
  for (const std::string& name : storedNames(layout, key)) {
    auto got = client_->get(type, key.namespace_, name);
    if (got) return ok(std::optional<Stored>(Stored{name, std::move(*got)}));
    if (got.error().kind != kube::ErrorKind::NotFound) return storeError(got.error(), key.toString());
  }
  return ok(std::optional<Stored>());
}

StoreResult<ListResult> KubernetesDatastore::list(std::string_view kind,
                                                  std::optional<std::string_view> namespace_) {
  const KindLayout* layout = calico::layoutByStorageKind(kind);
  if (layout == nullptr) {
    return makeStoreError(ErrorKind::Invalid, std::string(kind),
                          "not a kind the Kubernetes datastore stores");
  }
  kube::ListOptions options;
  if (namespace_ && layout->namespaced) options.namespace_ = std::string(*namespace_);
  auto listed = client_->list(collectionOf(*layout), options);
  if (!listed) {
    // A Calico CRD that is not installed: nothing of the kind, as Calico reads it.
    if (listed.error().kind == kube::ErrorKind::NotFound && layout->storage == S::kCustomResource) {
      return ok(ListResult{});
    }
    return storeError(listed.error(), "list " + std::string(kind));
  }
  ListResult out;
  out.revision = std::strtoll(listed->resourceVersion.c_str(), nullptr, 10);
  for (const Json& item : listed->items) {
    if (auto kv = read(*layout, item)) out.items.push_back(std::move(*kv));
  }
  std::sort(out.items.begin(), out.items.end(),
            [](const KVPair& a, const KVPair& b) { return a.key < b.key; });
  return out;
}

StoreResult<KVPair> KubernetesDatastore::get(const Key& key) {
  auto layout = layoutFor(key);
  if (!layout) return layout.error();
  if ((*layout)->storage == S::kDerivedFromPods) {
    auto all = list(key.kind, key.namespace_);
    if (!all) return all.error();
    for (KVPair& kv : all->items) {
      if (kv.key == key) return std::move(kv);
    }
    return makeStoreError(ErrorKind::NotFound, key.toString(), "no Pod stands for this WorkloadEndpoint");
  }
  auto stored = find(**layout, key);
  if (!stored) return stored.error();
  if (!*stored) return makeStoreError(ErrorKind::NotFound, key.toString(), "not stored");
  auto kv = toKVPair(**layout, (*stored)->object);
  if (!kv) {
    reportDamage(objectPath(**layout, (*stored)->object), key, kv.error());
    return makeStoreError(ErrorKind::Invalid, key.toString(), kv.error().toString());
  }
  if (!*kv) return makeStoreError(ErrorKind::NotFound, key.toString(), "not stored");
  settle(**layout, (*stored)->object);
  return std::move(**kv);
}

StoreResult<Json> KubernetesDatastore::toObject(const KindLayout& layout, const Key& key,
                                                const std::string& value,
                                                const std::optional<Stored>& current) {
  const std::string where = key.toString();
  if (layout.storage == S::kKubernetesNode) {
    if (!current) {
      return makeStoreError(ErrorKind::NotFound, where,
                            "no Kubernetes Node of this name: a Calico Node on Kubernetes is its Node's");
    }
    auto node = applyNodeDocument(current->object, value, where);
    if (!node) return makeStoreError(ErrorKind::Invalid, where, node.error().toString());
    return ok(std::move(*node));
  }
  auto cr = calico::toCustomResource(value, where);
  if (!cr) return makeStoreError(ErrorKind::Invalid, where, cr.error().toString());
  const Json& meta = (*cr)["metadata"];
  const Key named{std::string(layout.storageKind), meta.value("namespace", ""),
                  calico::keyName(layout, meta.value("name", ""))};
  if ((*cr)["kind"] != layout.crdKind || named.namespace_ != key.namespace_ ||
      named.name != calico::keyName(layout, key.name)) {
    return makeStoreError(ErrorKind::Invalid, where, "the document names " + named.toString());
  }
  if (current) (*cr)["metadata"]["name"] = current->name;
  return ok(std::move(*cr));
}

StoreResult<KVPair> KubernetesDatastore::written(const KindLayout& layout, const Json& object,
                                                 const std::string& where) {
  auto kv = toKVPair(layout, object);
  if (!kv)
    return makeStoreError(ErrorKind::Io, where, "written, but cannot be read back: " + kv.error().toString());
  if (!*kv) return makeStoreError(ErrorKind::Io, where, "written, but stands for nothing");
  return std::move(**kv);
}

StoreResult<KVPair> KubernetesDatastore::writeOnce(const KindLayout& layout, const Key& key,
                                                   const std::string& value,
                                                   const std::optional<Stored>& current,
                                                   std::optional<int64_t> expected) {
  auto object = toObject(layout, key, value, current);
  if (!object) return object.error();
  const kube::ResourceType type = collectionOf(layout);
  kube::KubeResult<Json> done = [&] {
    if (!current) return client_->create(type, *object);
    (*object)["metadata"]["resourceVersion"] =
        std::to_string(expected ? *expected : revisionOf(current->object));
    return client_->update(type, *object);
  }();
  if (!done) return storeError(done.error(), key.toString());
  return written(layout, *done, key.toString());
}

StoreResult<KVPair> KubernetesDatastore::create(const Key& key, std::string value) {
  auto layout = writableLayout(key);
  if (!layout) return layout.error();
  if ((*layout)->storage == S::kDerivedFromPods)
    return writeWorkloadEndpoint(**layout, key, value, std::nullopt, true);
  auto current = find(**layout, key);
  if (!current) return current.error();
  if (*current) return makeStoreError(ErrorKind::AlreadyExists, key.toString(), "already stored");
  return writeOnce(**layout, key, value, std::nullopt, std::nullopt);
}

StoreResult<KVPair> KubernetesDatastore::update(const Key& key, std::string value, int64_t expectedRevision) {
  if (expectedRevision <= 0) {
    return makeStoreError(ErrorKind::Invalid, key.toString(), "update needs the revision it replaces");
  }
  auto layout = writableLayout(key);
  if (!layout) return layout.error();
  if ((*layout)->storage == S::kDerivedFromPods) {
    return writeWorkloadEndpoint(**layout, key, value, expectedRevision, false);
  }
  auto current = find(**layout, key);
  if (!current) return current.error();
  if (!*current) return makeStoreError(ErrorKind::NotFound, key.toString(), "not stored");
  if (revisionOf((*current)->object) != expectedRevision) {
    return makeStoreError(ErrorKind::Conflict, key.toString(),
                          "stored at revision " + std::to_string(revisionOf((*current)->object)) + ", not " +
                              std::to_string(expectedRevision));
  }
  return writeOnce(**layout, key, value, *current, expectedRevision);
}

StoreResult<KVPair> KubernetesDatastore::apply(const Key& key, std::string value) {
  auto layout = writableLayout(key);
  if (!layout) return layout.error();
  for (int attempt = 1;; ++attempt) {
    if ((*layout)->storage == S::kDerivedFromPods) {
      auto done = writeWorkloadEndpoint(**layout, key, value, std::nullopt, false);
      if (done || attempt == kApplyAttempts || done.error().kind != ErrorKind::Conflict) return done;
      continue;
    }
    auto current = find(**layout, key);
    if (!current) return current.error();
    auto done = writeOnce(**layout, key, value, *current, std::nullopt);
    if (done || attempt == kApplyAttempts) return done;
    // Another writer came in between: read again and write over it.
    if (done.error().kind != ErrorKind::Conflict && done.error().kind != ErrorKind::AlreadyExists)
      return done;
  }
}

StoreResult<int64_t> KubernetesDatastore::remove(const Key& key, std::optional<int64_t> expectedRevision) {
  auto layout = writableLayout(key);
  if (!layout) return layout.error();
  if ((*layout)->storage == S::kKubernetesNode) {
    return makeStoreError(
        ErrorKind::Unsupported, key.toString(),
        "a Calico Node on Kubernetes goes with its Kubernetes Node: delete that with kubectl");
  }
  if ((*layout)->storage == S::kDerivedFromPods)
    return removeWorkloadEndpoint(**layout, key, expectedRevision);
  auto current = find(**layout, key);
  if (!current) return current.error();
  if (!*current) return makeStoreError(ErrorKind::NotFound, key.toString(), "not stored");
  const int64_t stored = revisionOf((*current)->object);
  if (expectedRevision && *expectedRevision != stored) {
    return makeStoreError(
        ErrorKind::Conflict, key.toString(),
        "stored at revision " + std::to_string(stored) + ", not " + std::to_string(*expectedRevision));
  }
  kube::Preconditions preconditions;
  preconditions.resourceVersion = std::to_string(expectedRevision ? *expectedRevision : stored);
  auto done = client_->remove(collectionOf(**layout), key.namespace_, (*current)->name, preconditions);
  if (!done) return storeError(done.error(), key.toString());
  const int64_t revision = revisionOf(*done);
  return revision > 0 ? revision : stored;
}

StoreResult<TxnResult> KubernetesDatastore::single(const Op& op) {
  TxnResult out;
  switch (op.type) {
    case Op::Type::Create:
    case Op::Type::Update:
    case Op::Type::Apply: {
      auto done = op.type == Op::Type::Create   ? create(op.key, op.value)
                  : op.type == Op::Type::Update ? update(op.key, op.value, op.expectedRevision.value_or(0))
                                                : apply(op.key, op.value);
      if (!done) return done.error();
      out.revision = done->revision;
      out.results.push_back(std::move(*done));
      return out;
    }
    case Op::Type::Remove: {
      auto done = remove(op.key, op.expectedRevision);
      if (!done) return done.error();
      out.revision = *done;
      out.results.push_back(KVPair{op.key, {}, *done});
      return out;
    }
  }
  return out;
}

// Several ops: every one checked first (documents convert, keys are in the state their ops
// expect), then applied in order; a failure after that (another writer in between) undoes what
// was applied, as far as it can, and returns the failure with its op's index.
StoreResult<TxnResult> KubernetesDatastore::transaction(const std::vector<Op>& ops) {
  auto failAt = [](size_t i, StoreError e) {
    e.error.where = "transaction op " + std::to_string(i) + ": " + e.error.where;
    return e;
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (ops[j].key == ops[i].key) {
        return failAt(i, makeStoreError(ErrorKind::Invalid, ops[i].key.toString(), "a key may appear once"));
      }
    }
  }
  if (ops.size() == 1) {
    auto done = single(ops.front());
    if (!done) return failAt(0, done.error());
    return done;
  }
  struct Checked {
    const KindLayout* layout = nullptr;
    std::optional<Stored> before;
  };
  std::vector<Checked> checked(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    auto layout = writableLayout(op.key);
    if (!layout) return failAt(i, layout.error());
    if ((*layout)->storage == S::kDerivedFromPods) {
      return failAt(i, makeStoreError(ErrorKind::Unsupported, op.key.toString(),
                                      "a WorkloadEndpoint is written alone (its Pod's annotations), not in a "
                                      "transaction of several"));
    }
    auto current = find(**layout, op.key);
    if (!current) return failAt(i, current.error());
    checked[i] = Checked{*layout, std::move(*current)};
    const auto& before = checked[i].before;
    const int64_t stored = before ? revisionOf(before->object) : 0;
    if (op.type == Op::Type::Create && before) {
      return failAt(i, makeStoreError(ErrorKind::AlreadyExists, op.key.toString(), "already stored"));
    }
    if ((op.type == Op::Type::Update || op.type == Op::Type::Remove) && !before) {
      return failAt(i, makeStoreError(ErrorKind::NotFound, op.key.toString(), "not stored"));
    }
    if (op.expectedRevision && *op.expectedRevision != stored) {
      return failAt(i, makeStoreError(ErrorKind::Conflict, op.key.toString(),
                                      "stored at revision " + std::to_string(stored)));
    }
    if (op.type == Op::Type::Remove && (*layout)->storage == S::kKubernetesNode) {
      return failAt(i, makeStoreError(ErrorKind::Unsupported, op.key.toString(),
                                      "a Calico Node on Kubernetes goes with its Kubernetes Node"));
    }
    if (op.type != Op::Type::Remove) {
      auto object = toObject(**layout, op.key, op.value, before);
      if (!object) return failAt(i, object.error());
    }
  }

  TxnResult out;
  std::vector<std::optional<Json>> after(ops.size());  // what each applied op left
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const KindLayout& layout = *checked[i].layout;
    const auto& before = checked[i].before;
    StoreResult<KVPair> done = makeStoreError(ErrorKind::Io, "", "");
    if (op.type == Op::Type::Remove) {
      kube::Preconditions preconditions;
      preconditions.resourceVersion = std::to_string(revisionOf(before->object));
      auto removed = client_->remove(collectionOf(layout), op.key.namespace_, before->name, preconditions);
      if (removed) {
        const int64_t revision = revisionOf(*removed);
        done = KVPair{op.key, {}, revision > 0 ? revision : revisionOf(before->object)};
      } else {
        done = storeError(removed.error(), op.key.toString());
      }
    } else {
      done = writeOnce(layout, op.key, op.value, before, std::nullopt);
    }
    if (!done) {
      // Undo what was applied, newest first; what cannot be undone is logged.
      for (size_t j = i; j-- > 0;) {
        const KindLayout& l = *checked[j].layout;
        const kube::ResourceType type = collectionOf(l);
        const auto& was = checked[j].before;
        kube::KubeResult<Json> undone{boost::system::in_place_value, Json()};
        if (!was && after[j]) {
          kube::Preconditions p;
          p.resourceVersion = std::to_string(revisionOf(*after[j]));
          const Json meta = after[j]->value("metadata", Json::object());
          undone = client_->remove(type, ops[j].key.namespace_, meta.value("name", ""), p);
        } else if (was && ops[j].type == Op::Type::Remove) {
          Json again = was->object;
          again["metadata"].erase("resourceVersion");
          again["metadata"].erase("uid");
          undone = client_->create(type, again);
        } else if (was && after[j]) {
          Json back = was->object;
          back["metadata"]["resourceVersion"] = std::to_string(revisionOf(*after[j]));
          undone = client_->update(type, back);
        }
        if (!undone) {
          log::get("datastore")
              ->error("transaction: could not undo op {} ({}): {}", j, ops[j].key.toString(),
                      undone.error().toString());
        }
      }
      return failAt(i, done.error());
    }
    if (op.type != Op::Type::Remove) {
      auto again = client_->get(collectionOf(layout), op.key.namespace_,
                                before ? before->name : storedNames(layout, op.key).front());
      if (again) after[i] = std::move(*again);
    } else {
      after[i] = Json();
    }
    out.revision = std::max(out.revision, done->revision);
    out.results.push_back(std::move(*done));
  }
  return out;
}

StoreResult<KVPair> KubernetesDatastore::writeWorkloadEndpoint(const KindLayout& layout, const Key& key,
                                                               const std::string& value,
                                                               std::optional<int64_t> expected,
                                                               bool mustBeNew) {
  const std::string where = key.toString();
  auto v3 = calico::toV3Object(value, where);
  if (!v3) return makeStoreError(ErrorKind::Invalid, where, v3.error().toString());
  const Json& meta = (*v3)["metadata"];
  const Json spec = v3->value("spec", Json::object());
  if (v3->value("kind", "") != "WorkloadEndpoint" || meta.value("name", "") != key.name ||
      meta.value("namespace", "") != key.namespace_) {
    return makeStoreError(ErrorKind::Invalid, where, "the document is not this WorkloadEndpoint");
  }
  const std::string podName = spec.value("pod", "");
  if (podName.empty()) return makeStoreError(ErrorKind::Invalid, where, "spec.pod: required on Kubernetes");
  const kube::ResourceType pods = collectionOf(layout);
  auto pod = client_->get(pods, key.namespace_, podName);
  if (!pod) return storeError(pod.error(), where);
  const std::string node = pod->value("spec", Json::object()).value("nodeName", "");
  if (workloadEndpointName(node, podName) != key.name) {
    return makeStoreError(ErrorKind::Invalid, where,
                          "pod " + podName + " on node \"" + node + "\" has the WorkloadEndpoint " +
                              workloadEndpointName(node, podName));
  }
  const Json annotations = pod->value("metadata", Json::object()).value("annotations", Json::object());
  if (mustBeNew && (annotations.contains("cni.projectcalico.org/podIP") ||
                    annotations.contains("cni.projectcalico.org/podIPs"))) {
    return makeStoreError(ErrorKind::AlreadyExists, where, "the pod's addresses are already recorded");
  }
  const int64_t current = revisionOf(*pod);
  if (expected && *expected != current) {
    return makeStoreError(
        ErrorKind::Conflict, where,
        "stored at revision " + std::to_string(current) + ", not " + std::to_string(*expected));
  }
  // As Calico's CNI plugin records them: the first address, all of them, and the container.
  std::string all;
  for (const Json& net : spec.value("ipNetworks", Json::array())) {
    if (!all.empty()) all += ",";
    all += net.get<std::string>();
  }
  Json patch = {
      {"metadata", {{"resourceVersion", std::to_string(current)}, {"annotations", Json::object()}}}};
  Json& set = patch["metadata"]["annotations"];
  set["cni.projectcalico.org/podIP"] = all.empty() ? Json() : Json(all.substr(0, all.find(',')));
  set["cni.projectcalico.org/podIPs"] = all.empty() ? Json() : Json(all);
  const std::string containerID = spec.value("containerID", "");
  set["cni.projectcalico.org/containerID"] = containerID.empty() ? Json() : Json(containerID);
  auto patched = client_->patch(pods, key.namespace_, podName, kube::PatchType::Merge, patch);
  if (!patched) return storeError(patched.error(), where);
  return written(layout, *patched, where);
}

StoreResult<int64_t> KubernetesDatastore::removeWorkloadEndpoint(const KindLayout& layout, const Key& key,
                                                                 std::optional<int64_t> expected) {
  auto stored = get(key);
  if (!stored) return stored.error();
  if (expected && *expected != stored->revision) {
    return makeStoreError(
        ErrorKind::Conflict, key.toString(),
        "stored at revision " + std::to_string(stored->revision) + ", not " + std::to_string(*expected));
  }
  auto v3 = calico::toV3Object(stored->value, key.toString());
  if (!v3) return makeStoreError(ErrorKind::Io, key.toString(), v3.error().toString());
  const std::string podName = (*v3)["spec"].value("pod", "");
  // As Calico's KDD deletes one: the pod's address annotations go; the pod stays.
  Json patch = {{"metadata",
                 {{"resourceVersion", std::to_string(stored->revision)},
                  {"annotations",
                   {{"cni.projectcalico.org/podIP", nullptr},
                    {"cni.projectcalico.org/podIPs", nullptr},
                    {"cni.projectcalico.org/containerID", nullptr}}}}}};
  auto patched = client_->patch(collectionOf(layout), key.namespace_, podName, kube::PatchType::Merge, patch);
  if (!patched) return storeError(patched.error(), key.toString());
  return revisionOf(*patched);
}

StoreResult<std::vector<const KindLayout*>> KubernetesDatastore::servedLayouts(std::string_view kind,
                                                                               bool forWatch) {
  std::vector<const KindLayout*> wanted;
  if (kind.empty()) {
    for (const KindLayout& layout : calico::kinds()) {
      if (forWatch && layout.storage == S::kDerivedFromPods) continue;
      wanted.push_back(&layout);
    }
  } else {
    const KindLayout* layout = calico::layoutByStorageKind(kind);
    if (layout == nullptr) {
      return makeStoreError(ErrorKind::Invalid, std::string(kind),
                            "not a kind the Kubernetes datastore stores");
    }
    wanted.push_back(layout);
  }
  auto discovery = client_->getPath("/apis/" + std::string(calico::kCrdGroup) + "/v1");
  std::set<std::string> served;
  if (discovery) {
    for (const Json& r : discovery->value("resources", Json::array())) {
      if (r.is_object()) served.insert(r.value("name", ""));
    }
  } else if (discovery.error().kind != kube::ErrorKind::NotFound) {
    return storeError(discovery.error(), "discovery of " + std::string(calico::kCrdGroup));
  }
  std::vector<const KindLayout*> out;
  for (const KindLayout* layout : wanted) {
    if (layout->storage == S::kCustomResource && !served.count(std::string(layout->plural))) continue;
    out.push_back(layout);
  }
  return out;
}

}  // namespace tartan::datastore::kubernetes

namespace tartan::datastore {

bool kubernetesChosenByEnvironment() {
  for (const char* name : {"DATASTORE_TYPE", "CALICO_DATASTORE_TYPE"}) {
    const char* chosen = std::getenv(name);
    if (chosen != nullptr && std::string_view(chosen) == "kubernetes") return true;
  }
  return false;
}

StoreResult<std::unique_ptr<Datastore>> openKubernetesDatastore(const kube::Config& config,
                                                                OpenOptions options) {
  auto client = kube::Client::create(config);
  if (!client)
    return kubernetes::storeError(client.error(), config.source.empty() ? "kubernetes" : config.source);
  return StoreResult<std::unique_ptr<Datastore>>(
      boost::system::in_place_value,
      std::make_unique<kubernetes::KubernetesDatastore>(std::move(*client), std::move(options)));
}

StoreResult<std::unique_ptr<Datastore>> openKubernetesDatastore(const std::optional<std::string>& kubeconfig,
                                                                OpenOptions options) {
  std::optional<std::string> file = kubeconfig;
  if (!file) {
    // Calico's CALICO_KUBECONFIG stands for KUBECONFIG (which loadConfig reads itself).
    if (const char* calico = std::getenv("CALICO_KUBECONFIG"); calico != nullptr && *calico != '\0')
      file = calico;
  }
  auto config = kube::loadConfig(file);
  if (!config) return makeStoreError(ErrorKind::Invalid, "kubernetes", config.error().toString());
  return openKubernetesDatastore(*config, std::move(options));
}

}  // namespace tartan::datastore
