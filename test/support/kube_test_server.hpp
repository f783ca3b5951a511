// test/support/kube_test_server.hpp — a Kubernetes API server for tests, in process.
//
// A fake, written from the Kubernetes API conventions and the behaviour clients rely on, because
// no API server runs here. It serves, over TLS with a CA the test makes (kube_test_pki.hpp) on
// 127.0.0.1 port 0, with bearer tokens or client certificates:
// - discovery as kubectl needs it: /version, /api, /apis, /api/v1, /apis/<group>[/<version>]
//   (resource lists with verbs, short names, status subresources), and of OpenAPI v3 only what
//   `kubectl apply` reads to choose server-side validation: each kind's PATCH operation with its
//   fieldValidation parameter. kubectl then sends fieldValidation=Strict and downloads no schema;
//   the fake checks what it knows of the schema (the top level and metadata, and all of a custom
//   resource against its CRD's openAPIV3Schema) and refuses unknown fields there. /openapi/v2
//   is 404; a GET of a custom resource whose CRD has printer columns, asked for as a Table
//   (kubectl get), is answered with one (kube_test_table.hpp);
// - namespaces, pods, services, serviceaccounts, nodes, discovery.k8s.io/v1 endpointslices,
//   networking.k8s.io/v1 networkpolicies, apiextensions.k8s.io/v1 customresourcedefinitions
//   (creating one serves its group, version and kind);
// - get, list (limit/continue, label and field selectors), create, update (409 on a stale
//   resourceVersion), merge and JSON patch, delete with preconditions, the status subresource;
// - watch (from a resourceVersion, "" or "0" starting with the current objects as ADDED,
//   bookmarks when asked, timeoutSeconds, label/field selectors with objects entering and leaving
//   them as ADDED and DELETED), newline-delimited JSON events in HTTP chunks;
// - what tests need to break things: compact() (older resourceVersions and continue tokens are 410
//   Gone), breakWatches() (every open watch connection is cut without its final chunk), restart()
//   (every connection is dropped and the port listened on again; the state stays), and the set of
//   accepted tokens changed at any time.
// Threads: one accepting, one per connection; stop() (or the destructor) ends and joins them all.
#pragma once

#include "support/kube_test_pki.hpp"
#include "support/kube_test_store.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tartan::test {

class KubeTestServer {
 public:
  struct Options {
    std::vector<std::string> tokens{"test-token"};
    std::chrono::milliseconds bookmarkInterval{500};
    std::vector<std::string> serverNames{"IP:127.0.0.1", "IP:::1",
                                         "DNS:localhost"};  // its certificate's SANs
  };
  explicit KubeTestServer(Options options);
  KubeTestServer() : KubeTestServer(Options{}) {}
  ~KubeTestServer();
  KubeTestServer(const KubeTestServer&) = delete;
  KubeTestServer& operator=(const KubeTestServer&) = delete;

  uint16_t port() const;
  std::string url() const;  // https://127.0.0.1:PORT
  const TestPki& pki() const;
  KubeTestStore& store();

  void setTokens(std::vector<std::string> tokens);
  void compact();
  void breakWatches();
  void restart();  // also starts a stopped server again, on the same port
  void stop();

  // Called with "METHOD TARGET" before each request is served (to compact between pages, say).
  void onRequest(std::function<void(const std::string& request)> hook);

  // How many watch streams are open now; requests served so far, as "GET /api/v1/pods?watch=true..."
  int openWatches() const;
  int acceptedConnections() const;
  std::vector<std::string> requests() const;

  // A kubeconfig naming this server, its CA (as data) and `token` (or the client certificate when
  // `token` is empty): written to `path`.
  void writeKubeconfig(const std::string& path, const std::string& token) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tartan::test
