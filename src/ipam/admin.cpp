// admin.cpp — what an administrator does to IPAM beyond assigning and releasing: setting the
// IPAM configuration, and deleting a leaked handle only if it is unchanged since it was found.
#include "store.hpp"

namespace tartan::ipam {

IpamResult<bool> Ipam::deleteHandleAt(std::string_view handleID, int64_t revision,
                                      const std::optional<std::string>& uid) {
  const std::string id(handleID);
  auto stored = read<model::IPAMHandle>(store_, id);
  if (!stored) return stored.error();
  if (!*stored || (*stored)->revision != revision) return false;
  const std::string& storedUid = (*stored)->value.metadata.uid;
  if (uid.value_or("") != storedUid) return false;
  auto removed = store_.remove(keyFor<model::IPAMHandle>(id), revision);
  if (removed) return true;
  const auto kind = removed.error().kind;
  if (kind == datastore::ErrorKind::NotFound || kind == datastore::ErrorKind::Conflict) return false;
  return fromStore(removed.error());
}

IpamResult<model::IPAMConfigurationSpec> Ipam::ipamConfig() {
  auto settings = readSettings(store_);
  if (!settings) return settings.error();
  return settings->config;
}

IpamResult<void> Ipam::setIpamConfig(const model::IPAMConfigurationSpec& config) {
  if (!config.strictAffinity && !config.autoAllocateBlocks) {
    return makeIpamError(ErrorKind::kInvalid, "IPAMConfiguration/default",
                         "cannot disable both strictAffinity and autoAllocateBlocks");
  }
  if (config.maxBlocksPerHost < 0) {
    return makeIpamError(ErrorKind::kInvalid, "IPAMConfiguration/default",
                         "maxBlocksPerHost must not be negative");
  }
  const auto key = keyFor<model::IPAMConfiguration>("default");
  for (int attempt = 0; attempt < options_.maxAttempts; ++attempt) {
    auto stored = read<model::IPAMConfiguration>(store_, "default");
    if (!stored) return stored.error();
    model::IPAMConfiguration resource;
    if (*stored) resource = (*stored)->value;
    resource.metadata.name = "default";
    resource.metadata.resourceVersion.clear();
    resource.spec = config;
    auto written = *stored ? store_.update(key, encode(resource), (*stored)->revision)
                           : store_.create(key, encode(resource));
    if (written) return {};
    const auto kind = written.error().kind;
    if (kind != datastore::ErrorKind::Conflict && kind != datastore::ErrorKind::NotFound &&
        kind != datastore::ErrorKind::AlreadyExists) {
      return fromStore(written.error());
    }
  }
  return retriesExhausted("IPAMConfiguration/default", options_.maxAttempts);
}

}  // namespace tartan::ipam
