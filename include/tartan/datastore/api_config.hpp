// tartan/datastore/api_config.hpp — Calico's CalicoAPIConfig file, as calicoctl reads it, turned
// into a datastore spec for open().
//
//   apiVersion: projectcalico.org/v3
//   kind: CalicoAPIConfig
//   metadata: {}
//   spec:
//     datastoreType: kubernetes        # or etcdv3
//     kubeconfig: /root/.kube/config   # kubernetes: the kubeconfig (else $KUBECONFIG, in-cluster,
//     ~/.kube/config) etcdEndpoints: http://10.0.0.1:2379,http://10.0.0.2:2379   # etcdv3
//
// A spec becomes "kubernetes", "kubernetes:KUBECONFIG" or "etcdv3:ENDPOINTS", the last with
// etcdCACertFile, etcdCertFile, etcdKeyFile, etcdUsername and etcdPassword as the spec's options
// ("?ca=…&cert=…&key=…&username=…&password=…", see etcd_datastore.hpp). Calico's inline
// Kubernetes settings (k8sAPIEndpoint, k8sAPIToken, k8sCAFile, k8sCertFile, k8sKeyFile,
// k8sInsecureSkipTLSVerify) are refused with an error that says to use a kubeconfig instead; an
// unknown field, a wrong apiVersion or kind, or a datastoreType not known is an error naming the
// file and the field.
// Pure apart from loadApiConfig reading the file. Any thread.
#pragma once

#include "tartan/common/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tartan::datastore {

// Where tartanctl looks when neither --config nor --datastore is given.
inline constexpr std::string_view kDefaultApiConfigPath = "/etc/tartan/tartanctl.cfg";

// The datastore spec a CalicoAPIConfig document stands for; `where` names it in errors.
Result<std::string> datastoreSpecFromApiConfig(std::string_view text, const std::string& where);

// Reads `path` (at most 1 MiB) and converts it. nullopt when the file does not exist and
// `required` is false.
Result<std::optional<std::string>> loadApiConfig(const std::string& path, bool required);

}  // namespace tartan::datastore
