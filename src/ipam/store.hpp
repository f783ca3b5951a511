// store.hpp (private) — the shell's view of the datastore: typed reads and writes of the IPAM
// kinds, the pools, settings and node labels an assignment depends on, and handle bookkeeping.
// Every write here is a create or a compare-and-swap; the callers own the retry loops.
#pragma once

#include "address.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/ipam/ipam.hpp"
#include "tartan/model/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tartan::ipam {

IpamError makeIpamError(ErrorKind kind, std::string where, std::string what);
IpamError fromStore(const datastore::StoreError& error);

template <class T>
struct Stored {
  T value;
  int64_t revision = 0;
};

template <class T>
datastore::Key keyFor(std::string name) {
  return datastore::Key{std::string(model::kindName(T::kKind)), "", std::move(name)};
}

// Decodes one stored document of kind T; Store error if it is not one.
template <class T>
IpamResult<Stored<T>> decodeStored(const datastore::KVPair& kv);

// The resource, or nothing if it is not stored.
template <class T>
IpamResult<std::optional<Stored<T>>> read(datastore::Datastore& store, const std::string& name);

template <class T>
IpamResult<std::vector<Stored<T>>> readAll(datastore::Datastore& store);

template <class T>
std::string encode(const T& value) {
  return model::encodeYaml(model::Resource{value});
}

// One usable pool, parsed.
struct Pool {
  std::string name;
  Cidr cidr;
  int blockSize = 26;
  model::IPPoolSpec spec;
};

// The block of `pool` that holds `address`.
Cidr blockContaining(const Pool& pool, Wide address);

struct Settings {
  model::IPAMConfigurationSpec config;  // of "default", or the defaults
  std::vector<Cidr> reserved;           // every IPReservation's CIDRs
};

IpamResult<std::vector<Pool>> readPools(datastore::Datastore& store);
IpamResult<Settings> readSettings(datastore::Datastore& store);
IpamResult<model::Labels> nodeLabels(datastore::Datastore& store, const std::string& node);

// Adds `delta` (negative to take away) addresses of `block` to the handle, creating it on the
// first address and removing it when it counts none.
IpamResult<void> adjustHandle(datastore::Datastore& store, int attempts, const std::string& handleID,
                              const std::string& block, int delta);

// A conflict that outlived `attempts` tries.
IpamError retriesExhausted(const std::string& what, int attempts);

}  // namespace tartan::ipam
