// tartan/datastore/kubernetes_datastore.hpp — the Datastore over the Kubernetes API, in Calico's
// Kubernetes datastore ("KDD") layout, so Tartan reads and writes what Calico does.
//
// What: Calico kinds are crd.projectcalico.org/v1 custom resources (tartan/datastore/
// calico_layout.hpp: spec verbatim, the v3 metadata in the projectcalico.org/metadata annotation,
// default-tier policies as `default.<name>`, IPAM kinds in Calico's CR shapes). Kubernetes kinds
// (Namespace, Pod, ServiceAccount, Node, NetworkPolicy) are the API's own objects, read as served
// and never written here (kubectl and the controllers own them). WorkloadEndpoints are derived
// from Pods as Calico's KDD does (name `<node>-k8s-<pod>-eth0`, a `-` inside a part doubled;
// interface `cali` + 11 hex of SHA-1 of `<namespace>.<pod>`; addresses from status.podIPs,
// status.podIP, then the cni.projectcalico.org/podIP(s) annotations; profiles kns.<ns> and
// ksa.<ns>.<sa>; labels plus projectcalico.org/namespace, /orchestrator, /serviceaccount); one is
// written as Calico's CNI plugin records a pod's addresses — the Pod's cni.projectcalico.org/podIP,
// podIPs and containerID annotations, patched with the Pod's resourceVersion as the CAS — and
// removed by clearing them (the Pod, and so its endpoint, stays). Calico's Node is the Kubernetes Node: read
// from its labels, addresses and projectcalico.org/* annotations, written by updating those annotations.
//
// Revisions are resourceVersions read as int64 (one etcd revision space behind the API); update
// is a PUT carrying the expected resourceVersion, remove a DELETE with a resourceVersion
// precondition. transaction(): the API has no multi-object transaction. One op is done directly;
// several are checked first (every document converts; each key's state is what its op expects),
// then applied in order, and should one fail after that (a writer in between) the ones applied are
// undone as far as possible (best effort: created removed, replaced restored, removed re-created)
// and the failure returned with its op's index.
//
// watch(): one tartan::kube::Reflector per collection (list, then watch with bookmarks; 410 → a
// relist delivering only the differences), all delivered from one thread in the Datastore's order:
// every object as Added (revisions clamped to be non-decreasing across collections), onInSync once
// every collection has listed, then live events. A watch with no kind covers every kind but the
// derived WorkloadEndpoints (their Pods are in it, and the calc graph builds workloads from Pods:
// both would count each pod twice); a watch of kind WorkloadEndpoint delivers them. Collections
// the server does not serve (a Calico CRD not installed) are left out, as Calico does. A watch from
// a revision > 0 is Compacted at once: a consumer relists and takes the differences.
//
// Failure: an API server that does not answer (connect, TLS, 5xx, timeouts, 401/403) is
// Unavailable, never an empty store: a reflector that fails while /version does not answer either
// ends the watch with Unavailable before anything is removed; a broken stream on a live server is
// only retried. An object the model refuses (a bad hand edit of a CR) is not served: it is
// reported once through OpenOptions::onInvalidDocument and listed by damaged().
//
// Threading: any method from any thread; each watch has its reflector threads and one delivery
// thread.
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <memory>
#include <optional>
#include <string>

namespace tartan::kube {
struct Config;
}

namespace tartan::datastore {

// Opens the Kubernetes datastore with tartan::kube::loadConfig(kubeconfig): the given file, else
// $KUBECONFIG, else in-cluster, else ~/.kube/config. Nothing is contacted yet.
StoreResult<std::unique_ptr<Datastore>> openKubernetesDatastore(const std::optional<std::string>& kubeconfig,
                                                                OpenOptions options = {});
// Over a configuration already made (tests; a CalicoAPIConfig with inline settings).
StoreResult<std::unique_ptr<Datastore>> openKubernetesDatastore(const kube::Config& config,
                                                                OpenOptions options = {});

// Whether Calico's environment chooses this datastore: DATASTORE_TYPE (or CALICO_DATASTORE_TYPE)
// is "kubernetes". open("") honours it.
bool kubernetesChosenByEnvironment();

// The WorkloadEndpoint name Calico gives a pod's eth0: `<node>-k8s-<pod>-eth0`, each `-` inside
// a part doubled.
std::string workloadEndpointName(std::string_view node, std::string_view pod);
// Calico's host-side interface name: prefix + the first 11 hex digits of SHA-1("<ns>.<pod>").
std::string workloadInterfaceName(std::string_view prefix, std::string_view namespaceName,
                                  std::string_view pod);

}  // namespace tartan::datastore
