// Helpers for the IPAM tests: a file datastore in a temporary folder, and builders for the
// resources an assignment reads (pools, nodes, IPAM settings).
#pragma once

#include "tartan/datastore/datastore.hpp"
#include "tartan/ipam/ipam.hpp"
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tartan::ipam::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tartan-ipam-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string spec() const { return "file:" + path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<datastore::Datastore> openStore(const TempDir& dir) {
  auto store = datastore::open(dir.spec());
  REQUIRE(store);
  return std::move(*store);
}

template <class T>
void put(datastore::Datastore& store, const T& resource) {
  const datastore::Key key{std::string(model::kindName(T::kKind)), "", resource.metadata.name};
  REQUIRE(store.apply(key, model::encodeYaml(model::Resource{resource})));
}

struct PoolArgs {
  std::string name;
  std::string cidr;
  int blockSize = 0;
  std::string nodeSelector = "all()";
  bool disabled = false;
  std::vector<std::string> allowedUses = {};
  std::optional<std::string> assignmentMode = std::nullopt;
};

inline void putPool(datastore::Datastore& store, const PoolArgs& args) {
  model::IPPool pool;
  pool.metadata.name = args.name;
  pool.spec.cidr = args.cidr;
  pool.spec.blockSize = args.blockSize;
  pool.spec.nodeSelector = args.nodeSelector;
  pool.spec.disabled = args.disabled;
  pool.spec.allowedUses = args.allowedUses;
  pool.spec.assignmentMode = args.assignmentMode;
  model::Resource r{pool};
  model::applyDefaults(r);
  put(store, std::get<model::IPPool>(r));
}

inline void putNode(datastore::Datastore& store, const std::string& name,
                    const std::map<std::string, std::string>& labels = {}) {
  model::Node node;
  node.metadata.name = name;
  for (const auto& [k, v] : labels) node.metadata.labels[k] = v;
  put(store, node);
}

inline void putConfig(datastore::Datastore& store, bool strictAffinity, bool autoAllocateBlocks = true,
                      int maxBlocksPerHost = 0) {
  model::IPAMConfiguration config;
  config.metadata.name = "default";
  config.spec = {strictAffinity, autoAllocateBlocks, maxBlocksPerHost};
  put(store, config);
}

inline void putReservation(datastore::Datastore& store, const std::string& name,
                           std::vector<std::string> cidrs) {
  model::IPReservation reservation;
  reservation.metadata.name = name;
  reservation.spec.reservedCIDRs = std::move(cidrs);
  put(store, reservation);
}

template <class T>
std::optional<T> get(datastore::Datastore& store, const std::string& name) {
  auto kv = store.get(datastore::Key{std::string(model::kindName(T::kKind)), "", name});
  if (!kv) return std::nullopt;
  auto decoded = model::decode(kv->value, name);
  REQUIRE(decoded.ok());
  return std::get<T>(decoded.resources.at(0));
}

inline AutoAssignArgs v4(const std::string& node, const std::string& handle, int num = 1) {
  AutoAssignArgs args;
  args.num4 = num;
  args.handleID = handle;
  args.hostname = node;
  return args;
}

}  // namespace tartan::ipam::test
