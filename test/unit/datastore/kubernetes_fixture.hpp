// kubernetes_fixture.hpp — a test API server with Calico's CRDs installed, a raw client to write
// objects as a Calico cluster (or kubectl) would, and the Kubernetes datastore over it.
#pragma once

#include "support/eventually.hpp"
#include "support/kube_test_client.hpp"
#include "support/kube_test_server.hpp"
#include "tartan/datastore/calico_layout.hpp"
#include "tartan/datastore/kubernetes_datastore.hpp"
#include "tartan/kube/client.hpp"
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

namespace tartan::test {

using kube::Json;

// A CRD for a Calico kind, as crds/ would install it (the schema is not what is tested here).
inline Json crdFor(const datastore::calico::KindLayout& layout) {
  std::string singular(layout.crdKind);
  for (char& c : singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Json{
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", std::string(layout.plural) + ".crd.projectcalico.org"}}},
      {"spec",
       {{"group", "crd.projectcalico.org"},
        {"names", {{"plural", layout.plural}, {"singular", singular}, {"kind", layout.crdKind}}},
        {"scope", layout.namespaced ? "Namespaced" : "Cluster"},
        {"versions",
         Json::array({{{"name", "v1"},
                       {"served", true},
                       {"storage", true},
                       {"schema",
                        {{"openAPIV3Schema",
                          {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}})}}}};
}

struct KubeFixture {
  KubeTestServer server;
  std::unique_ptr<kube::Client> raw;
  std::unique_ptr<datastore::Datastore> store;

  explicit KubeFixture(bool installCrds = true) {
    auto client = kube::Client::create(kubeConfigFor(server));
    REQUIRE(client);
    raw = std::move(*client);
    if (installCrds) {
      for (const auto& layout : datastore::calico::kinds()) {
        if (layout.storage != datastore::calico::KubernetesStorage::kCustomResource) continue;
        auto made = raw->create(kube::resources::customResourceDefinitions(), crdFor(layout));
        INFO((made ? std::string() : made.error().toString()));
        REQUIRE(made);
      }
    }
    auto opened = datastore::openKubernetesDatastore(kubeConfigFor(server));
    REQUIRE(opened);
    store = std::move(*opened);
  }

  void createNamespace(const std::string& name, Json labels = Json::object()) {
    Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    if (!labels.empty()) ns["metadata"]["labels"] = labels;
    auto made = raw->create(kube::resources::namespaces(), ns);
    INFO((made ? std::string() : made.error().toString()));
    REQUIRE(made);
  }
};

// What a watch delivered, for tests to wait on.
struct Recorder {
  std::mutex mutex;
  std::vector<datastore::WatchEvent> events;
  std::vector<int64_t> inSyncs;
  std::vector<datastore::StoreError> errors;

  datastore::WatchCallbacks callbacks() {
    return {[this](const datastore::WatchEvent& e) {
              std::lock_guard lock(mutex);
              events.push_back(e);
            },
            [this](int64_t revision) {
              std::lock_guard lock(mutex);
              inSyncs.push_back(revision);
            },
            [this](const datastore::StoreError& e) {
              std::lock_guard lock(mutex);
              errors.push_back(e);
            }};
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  bool synced() {
    std::lock_guard lock(mutex);
    return !inSyncs.empty();
  }
  std::vector<datastore::WatchEvent> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
  std::vector<datastore::StoreError> failures() {
    std::lock_guard lock(mutex);
    return errors;
  }
  // Whether an event of `type` for a key named `name` arrived after the first `from` events.
  bool saw(datastore::EventType type, const std::string& name, size_t from = 0) {
    std::lock_guard lock(mutex);
    for (size_t i = from; i < events.size(); ++i) {
      if (events[i].type == type && events[i].kv.key.name == name) return true;
    }
    return false;
  }
  size_t deletions() {
    std::lock_guard lock(mutex);
    size_t n = 0;
    for (const auto& e : events) n += e.type == datastore::EventType::Deleted;
    return n;
  }
};

inline model::Resource decodeDocument(const std::string& text) {
  auto decoded = model::decode(text, "stored");
  INFO(text);
  INFO((decoded.errors.empty() ? std::string() : decoded.errors.front().toString()));
  REQUIRE(decoded.ok());
  REQUIRE(decoded.resources.size() == 1);
  return decoded.resources.front();
}

}  // namespace tartan::test
