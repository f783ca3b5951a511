// tartan/datastore/calico_layout.hpp — how Calico stores each kind: the facts the etcd v3 and
// Kubernetes backends share.
//
// What: a table of every Calico kind of tartan::model with Calico's names for it (the v3 kind,
// the custom resource kind of crd.projectcalico.org/v1, the plural that names its collection and
// its etcd prefix) and its scope; where the Kubernetes datastore keeps it (a custom resource, a
// Kubernetes object read as the API serves it, or derived from Pods); Calico's policy-name rule
// (a default-tier policy is stored as `default.<name>` and read back as `<name>`; both forms are
// read); and the conversions of one stored document — the YAML that model::encodeYaml writes and
// the Datastore interface carries — to Calico's v3 JSON object, to the custom resource Calico
// writes, and back. Every conversion goes through the model's strict decoder, so what comes back
// is a validated resource in the model's canonical encoding, never bytes taken on trust.
//
// The custom resource is what libcalico-go's ConvertCalicoResourceToK8sResource writes: spec
// verbatim; name, namespace and labels in the CR's metadata; the v3 annotations plus
// `projectcalico.org/metadata`, a JSON object of the rest of the v3 metadata (generateName,
// generation, creationTimestamp — null when unset —, deletionTimestamp, ownerReferences,
// finalizers) in Go's field order. Reading takes name, namespace, labels and the other
// annotations from the CR, the rest from that annotation; the CR's own uid, and its
// creationTimestamp when the annotation has none. resourceVersion is never in a document: it is
// the revision the Datastore carries beside it.
//
// Owns: nothing. Every function is pure. Threading: any function, any thread.
// Failure: a document or object that cannot be converted is a tartan::Error naming `where` and,
// when it is one field, its path ("metadata.annotations.projectcalico.org/metadata").
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/model/kind.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tartan::datastore::calico {

using Json = nlohmann::json;

// Where the Kubernetes datastore keeps a kind.
enum class KubernetesStorage {
  kCustomResource,    // crd.projectcalico.org/v1, `crdKind`, collection `plural`
  kKubernetesObject,  // a Kubernetes API object read as the API serves it (group/version/plural)
  kDerivedFromPods,   // WorkloadEndpoint: one per Pod, read-only
  kKubernetesNode,    // Calico's Node: the Kubernetes Node and its projectcalico.org annotations
};

struct KindLayout {
  model::Kind kind;
  std::string_view storageKind;  // the Datastore Key's kind ("GlobalNetworkPolicy", "KubernetesPod")
  std::string_view v3Kind;       // Calico's v3 kind ("FelixConfiguration"); Kubernetes kinds: theirs
  std::string_view crdKind;      // the custom resource's kind ("IPAMConfig"); empty if not a CR
  std::string_view group;        // API group of the Kubernetes collection ("" for core)
  std::string_view version;      // its version ("v1")
  std::string_view plural;       // "felixconfigurations", "ipamblocks", "pods"
  bool namespaced;
  bool tiered;  // a policy kind whose name follows Calico's tier rule
  KubernetesStorage storage;
};

// Every kind the layout knows, in the order of model::Kind.
std::span<const KindLayout> kinds();
// nullptr for a kind the layout does not place (one newer than this table).
const KindLayout* layoutOf(model::Kind kind);
// By the Datastore Key's kind; nullptr if it is none of ours.
const KindLayout* layoutByStorageKind(std::string_view storageKind);
// By the kind of a custom resource of crd.projectcalico.org/v1; nullptr if none.
const KindLayout* layoutByCrdKind(std::string_view crdKind);

constexpr std::string_view kCrdGroup = "crd.projectcalico.org";
constexpr std::string_view kCrdApiVersion = "crd.projectcalico.org/v1";
constexpr std::string_view kV3ApiVersion = "projectcalico.org/v3";
constexpr std::string_view kMetadataAnnotation = "projectcalico.org/metadata";
constexpr std::string_view kDefaultTier = "default";

// ---- the policy-name rule ------------------------------------------------------------------------
// The name a tiered policy is stored under: a name without a tier prefix in the default tier gets
// "default."; every other name is stored as it is.
std::string backendPolicyName(std::string_view v3Name);
// The v3 name of a stored tiered policy: "default.<name>" reads as "<name>"; any other name (the
// newer unprefixed form, another tier's "<tier>.<name>") as it is.
std::string v3PolicyName(std::string_view backendName);
// The names a tiered policy of v3 name `v3Name` may be stored under, the written form first:
// {"default.x", "x"} for "x"; {"sec.x"} for "sec.x".
std::vector<std::string> storedPolicyNames(std::string_view v3Name);
// The Key name of a stored object: the v3 name for tiered kinds, the name otherwise.
std::string keyName(const KindLayout& layout, std::string_view storedName);

// ---- conversions ---------------------------------------------------------------------------------
// One document (a resource of a Calico kind, as encodeYaml writes it) to Calico's v3 JSON object:
// apiVersion projectcalico.org/v3, Calico's kind, full metadata (less resourceVersion), spec.
Result<Json> toV3Object(std::string_view document, std::string_view where);
// A v3 JSON object (projectcalico.org/v3, or the model's own apiVersion) to a document.
Result<std::string> fromV3Object(const Json& object, std::string_view where);

// One document to the custom resource Calico writes for it (metadata.resourceVersion unset).
Result<Json> toCustomResource(std::string_view document, std::string_view where);
// A custom resource of crd.projectcalico.org/v1 (as the API serves it) to a document.
Result<std::string> fromCustomResource(const Json& object, std::string_view where);

// The metadata annotation Calico writes for v3 metadata `metadata` (a JSON object as the model
// encodes it): the fields not kept in the CR's own metadata, in Go's order, creationTimestamp
// always present. Exposed for tests that compare bytes with Calico's.
std::string metadataAnnotation(const Json& metadata);

}  // namespace tartan::datastore::calico
