// objects.hpp — what the Kubernetes datastore reads from each collection, and how a stored
// document is written back: the pure half of the backend (no I/O), tested on its own.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/datastore/calico_layout.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/kube/client.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tartan::datastore::kubernetes {

using Json = nlohmann::json;
using calico::KindLayout;

// The collection a kind is read from: its custom resources, or the Kubernetes collection
// (pods for WorkloadEndpoints, nodes for Calico's Node).
kube::ResourceType collectionOf(const KindLayout& layout);

// A resourceVersion as a revision; 0 if it is not a number.
int64_t revisionOf(const Json& object);

// A served object as the stored resource of `layout`: its key, document and revision. nullopt: the
// object stands for no resource of that kind (a host-network or unscheduled pod has no
// WorkloadEndpoint). An error: the object cannot be read (the model refuses it).
Result<std::optional<KVPair>> toKVPair(const KindLayout& layout, const Json& object);

// The names a key may be stored under in its collection, the written form first (a default-tier
// policy: `default.<name>`, then `<name>`).
std::vector<std::string> storedNames(const KindLayout& layout, const Key& key);

// A Calico Node document written onto its Kubernetes Node: `node` with the projectcalico.org/*
// annotations and the labels the document gives (and those it no longer gives removed).
Result<Json> applyNodeDocument(const Json& node, std::string_view document, std::string_view where);

}  // namespace tartan::datastore::kubernetes
