// store.cpp — typed datastore access, pools and settings, and handle bookkeeping.
#include "store.hpp"

#include "tartan/selector/selector.hpp"

#include <ostream>

namespace tartan::ipam {

std::string_view toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kExhausted:
      return "Exhausted";
    case ErrorKind::kConflict:
      return "Conflict";
    case ErrorKind::kNotFound:
      return "NotFound";
    case ErrorKind::kAlreadyAllocated:
      return "AlreadyAllocated";
    case ErrorKind::kInvalid:
      return "Invalid";
    case ErrorKind::kStore:
      return "Store";
  }
  return "Unknown";
}

std::string IpamError::toString() const {
  return std::string(ipam::toString(kind)) + ": " + error.toString();
}

void throw_exception_from_error(const IpamError& error, const boost::source_location&) {
  throw ErrorException(Error{error.error.where, error.error.field,
                             std::string(toString(error.kind)) + ": " + error.error.what});
}

std::ostream& operator<<(std::ostream& os, const IpamError& error) { return os << error.toString(); }

std::ostream& operator<<(std::ostream& os, const AutoAssignResult& result) {
  os << "ipv4 [";
  for (size_t i = 0; i < result.ipv4.size(); ++i) os << (i ? " " : "") << result.ipv4[i];
  os << "] ipv6 [";
  for (size_t i = 0; i < result.ipv6.size(); ++i) os << (i ? " " : "") << result.ipv6[i];
  return os << "]";
}

std::ostream& operator<<(std::ostream& os, const Allocation& allocation) {
  return os << allocation.ip << " in " << allocation.block << " handle "
            << allocation.handleID.value_or("(none)") << " sequence " << allocation.sequenceNumber;
}

std::string podHandleID(std::string_view containerID) {
  return "k8s-pod-network." + std::string(containerID);
}

IpamError makeIpamError(ErrorKind kind, std::string where, std::string what) {
  return IpamError{kind, makeError(std::move(where), "", std::move(what))};
}

IpamError fromStore(const datastore::StoreError& error) { return IpamError{ErrorKind::kStore, error.error}; }

IpamError retriesExhausted(const std::string& what, int attempts) {
  return makeIpamError(ErrorKind::kConflict, what,
                       "still conflicting after " + std::to_string(attempts) + " attempts");
}

template <class T>
IpamResult<Stored<T>> decodeStored(const datastore::KVPair& kv) {
  model::DecodeResult decoded = model::decode(kv.value, kv.key.toString());
  if (!decoded.ok() || decoded.resources.size() != 1 || !std::holds_alternative<T>(decoded.resources[0])) {
    std::string what = decoded.ok() ? "not one " + std::string(model::kindName(T::kKind))
                                    : decoded.errors.front().toString();
    return makeIpamError(ErrorKind::kStore, kv.key.toString(), "unreadable: " + what);
  }
  return Stored<T>{std::get<T>(std::move(decoded.resources[0])), kv.revision};
}

template <class T>
IpamResult<std::optional<Stored<T>>> read(datastore::Datastore& store, const std::string& name) {
  auto kv = store.get(keyFor<T>(name));
  if (!kv) {
    if (kv.error().kind == datastore::ErrorKind::NotFound) return std::optional<Stored<T>>{};
    return fromStore(kv.error());
  }
  auto stored = decodeStored<T>(*kv);
  if (!stored) return stored.error();
  return std::optional<Stored<T>>{std::move(*stored)};
}

template <class T>
IpamResult<std::vector<Stored<T>>> readAll(datastore::Datastore& store) {
  auto list = store.list(model::kindName(T::kKind));
  if (!list) return fromStore(list.error());
  std::vector<Stored<T>> out;
  for (const auto& kv : list->items) {
    auto stored = decodeStored<T>(kv);
    if (!stored) return stored.error();
    out.push_back(std::move(*stored));
  }
  return out;
}

#define TARTAN_IPAM_INSTANTIATE(T)                                                                  \
  template IpamResult<Stored<T>> decodeStored<T>(const datastore::KVPair&);                         \
  template IpamResult<std::optional<Stored<T>>> read<T>(datastore::Datastore&, const std::string&); \
  template IpamResult<std::vector<Stored<T>>> readAll<T>(datastore::Datastore&);

TARTAN_IPAM_INSTANTIATE(model::IPAMBlock)
TARTAN_IPAM_INSTANTIATE(model::BlockAffinity)
TARTAN_IPAM_INSTANTIATE(model::IPAMHandle)
TARTAN_IPAM_INSTANTIATE(model::IPPool)
TARTAN_IPAM_INSTANTIATE(model::IPAMConfiguration)
TARTAN_IPAM_INSTANTIATE(model::IPReservation)
TARTAN_IPAM_INSTANTIATE(model::Node)
TARTAN_IPAM_INSTANTIATE(model::WorkloadEndpoint)
TARTAN_IPAM_INSTANTIATE(model::ClusterInformation)

#undef TARTAN_IPAM_INSTANTIATE

Cidr blockContaining(const Pool& pool, Wide address) {
  Cidr block{pool.cidr.family, address, pool.blockSize};
  const int hostBits = block.hostBits();
  if (hostBits > 0) block.base &= ~((Wide{1} << hostBits) - 1);
  return block;
}

IpamResult<std::vector<Pool>> readPools(datastore::Datastore& store) {
  auto pools = readAll<model::IPPool>(store);
  if (!pools) return pools.error();
  std::vector<Pool> out;
  for (auto& stored : *pools) {
    const model::IPPool& p = stored.value;
    auto cidr = parseCidr(p.spec.cidr);
    if (!cidr) continue;  // the model's validation refuses these; a hand edit is not ours to use
    Pool pool{p.metadata.name, *cidr, p.spec.blockSize, p.spec};
    if (pool.blockSize == 0) pool.blockSize = cidr->family == 4 ? 26 : 122;
    if (pool.blockSize < cidr->prefix || pool.blockSize > cidr->bits()) continue;
    out.push_back(std::move(pool));
  }
  return out;
}

IpamResult<Settings> readSettings(datastore::Datastore& store) {
  Settings settings;
  auto config = read<model::IPAMConfiguration>(store, "default");
  if (!config) return config.error();
  if (*config) settings.config = (*config)->value.spec;
  auto reservations = readAll<model::IPReservation>(store);
  if (!reservations) return reservations.error();
  for (const auto& r : *reservations) {
    for (const auto& text : r.value.spec.reservedCIDRs) {
      if (auto cidr = parseCidr(text)) settings.reserved.push_back(*cidr);
    }
  }
  return settings;
}

IpamResult<model::Labels> nodeLabels(datastore::Datastore& store, const std::string& node) {
  auto stored = read<model::Node>(store, node);
  if (!stored) return stored.error();
  if (!*stored) return model::Labels{};
  return (*stored)->value.metadata.labels;
}

IpamResult<void> adjustHandle(datastore::Datastore& store, int attempts, const std::string& handleID,
                              const std::string& block, int delta) {
  const auto key = keyFor<model::IPAMHandle>(handleID);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto stored = read<model::IPAMHandle>(store, handleID);
    if (!stored) return stored.error();
    if (!*stored) {
      if (delta <= 0) return {};  // nothing recorded to take away
      model::IPAMHandle handle;
      handle.metadata.name = handleID;
      handle.spec.handleID = handleID;
      handle.spec.block[block] = delta;
      auto created = store.create(key, encode(handle));
      if (created) return {};
      if (created.error().kind != datastore::ErrorKind::AlreadyExists) return fromStore(created.error());
      continue;
    }
    model::IPAMHandle handle = std::move((*stored)->value);
    int& count = handle.spec.block[block];
    count += delta;
    if (count <= 0) handle.spec.block.erase(block);
    if (handle.spec.block.empty()) {
      auto removed = store.remove(key, (*stored)->revision);
      if (removed) return {};
      if (removed.error().kind == datastore::ErrorKind::NotFound) continue;
      if (removed.error().kind != datastore::ErrorKind::Conflict) return fromStore(removed.error());
      continue;
    }
    auto updated = store.update(key, encode(handle), (*stored)->revision);
    if (updated) return {};
    const auto kind = updated.error().kind;
    if (kind != datastore::ErrorKind::Conflict && kind != datastore::ErrorKind::NotFound) {
      return fromStore(updated.error());
    }
  }
  return retriesExhausted("IPAMHandle/" + handleID, attempts);
}

}  // namespace tartan::ipam
