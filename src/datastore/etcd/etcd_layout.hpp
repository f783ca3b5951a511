// etcd_layout.hpp — where and how the etcd backend stores each kind: Calico's etcd v3 layout.
//
// Calico kinds live at /calico/resources/v3/projectcalico.org/<plural>[/<namespace>]/<name>
// holding the v3 JSON (apiVersion projectcalico.org/v3, Calico's kind, metadata with uid and
// creationTimestamp and without resourceVersion, spec); a policy of the default tier is written as
// `default.<name>` and both forms are read (tartan/datastore/calico_layout.hpp). IPAM is libcalico-go's
// model, not v3 resources:
//   /calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26        AllocationBlock JSON
//   /calico/ipam/v2/host/<node>/ipv4/block/10.65.0.0-26       {"state":…,"deleted":…}
//   /calico/ipam/v2/handle/<handle id>                        {"block":{cidr: n},"deleted":…}
//   /calico/ipam/v2/config                                    {"strict_affinity":…,…}
// Kubernetes kinds (which Calico never keeps in etcd: it reads them from the API server) are kept
// under /calico/tartan/v1/kubernetes/<plural>[/<namespace>]/<name> as the document itself (inside
// /calico/ so that one prefix watch sees every kind), so a Tartan-only cluster
// can hold them; Calico reads nothing there.
//
// Owns: nothing; pure functions. Failure: tartan::Error naming the key or path.
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::datastore::etcd {

inline constexpr std::string_view kResourcePrefix = "/calico/resources/v3/projectcalico.org/";
inline constexpr std::string_view kIpamPrefix = "/calico/ipam/v2/";
inline constexpr std::string_view kTartanPrefix = "/calico/tartan/v1/";

// The etcd keys a resource may be stored under, the one written first. Empty for a BlockAffinity
// whose name cannot be split into node and CIDR without looking (an IPv6 block): search
// affinityPrefix() for it with keyOf(). Invalid for a kind or name that has no place.
Result<std::vector<std::string>> pathsOf(const Key& key);
// The etcd key a document of `key` is written to; for a BlockAffinity, the document's node and
// CIDR decide (and must agree with the name).
Result<std::string> writePathOf(const Key& key, std::string_view document);
// The prefix that holds every resource of `kind` (of one namespace, if given).
Result<std::string> prefixOf(std::string_view kind, std::optional<std::string_view> namespace_);
inline std::string affinityPrefix() { return std::string(kIpamPrefix) + "host/"; }

// The resource an etcd key holds; nothing for keys that are none of ours (Felix's status keys,
// BIRD's, anything else under /calico/).
std::optional<Key> keyOf(std::string_view path);

// The value written for a document (validated by the model's strict decode on the way); `stored`
// is the value currently stored, whose uid and creationTimestamp are kept when the document has
// none (a new resource gets fresh ones).
Result<std::string> encodeValue(const Key& key, std::string_view document, const std::string* stored);
// The document for a stored value.
Result<std::string> decodeValue(const Key& key, std::string_view path, std::string_view value);

// "10-65-0-0-26" <-> "10.65.0.0/26" (IPv6: "fd00-1---122" <-> "fd00:1::/122").
std::optional<std::string> cidrFromName(std::string_view name);
std::string nameFromCidr(std::string_view cidr);

}  // namespace tartan::datastore::etcd
