// Outgoing NAT's model; see nat_outgoing.hpp.
#include "nat_outgoing.hpp"

#include "tartan/dataplane/iptables/kernel.hpp"

#include <charconv>

namespace tartan::dataplane::iptables {

Result<bool> NatPools::update(const std::string& id, std::string_view cidr, bool masquerade) {
  std::string canonical = canonicalMember(cidr, IpSetType::kNet);
  if (canonical.empty()) {
    remove(id);
    return makeError("IPAMPoolUpdate " + id, "cidr",
                     "'" + std::string(cidr) + "' is not a CIDR; pool left out");
  }
  Pool pool{std::move(canonical), masquerade};
  auto [it, inserted] = pools_.try_emplace(id, pool);
  if (inserted) return true;
  if (it->second == pool) return false;
  it->second = std::move(pool);
  return true;
}

bool NatPools::remove(const std::string& id) { return pools_.erase(id) != 0; }

NatPools::FamilySets NatPools::sets(IpFamily family) const {
  FamilySets out;
  for (const auto& [id, pool] : pools_) {
    if (memberFamily(pool.cidr) != family) continue;
    out.all.push_back(pool.cidr);
    if (pool.masquerade) out.masq.push_back(pool.cidr);
  }
  return out;
}

bool isNatConfigKey(std::string_view key) {
  return key == "natOutgoingAddress" || key == "natPortRange" || key == "iptablesNATOutgoingInterfaceFilter";
}

namespace {
bool parsePort(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 1 && out <= 65535;
}
}  // namespace

Result<void> setNatConfig(std::string_view key, std::string_view value, RenderConfig& config) {
  const std::string where = "config " + std::string(key);
  if (key == "natOutgoingAddress") {
    if (!value.empty() &&
        (value.find('/') != std::string_view::npos || canonicalMember(value, IpSetType::kNet).empty() ||
         memberFamily(value) != IpFamily::kV4))
      return makeError(where, "", "'" + std::string(value) + "' is not an IPv4 address");
    config.natOutgoingAddress = canonicalMember(value, IpSetType::kNet);
    return {};
  }
  if (key == "natPortRange") {
    // Felix's form "min:max" (a single port is a range of one); "-" is taken too.
    if (value.empty()) {
      config.natPortMin = config.natPortMax = 0;
      return {};
    }
    const auto sep = value.find_first_of(":-");
    int min = 0, max = 0;
    const bool ok = parsePort(value.substr(0, sep), min) &&
                    parsePort(sep == std::string_view::npos ? value : value.substr(sep + 1), max) &&
                    min <= max;
    if (!ok) return makeError(where, "", "'" + std::string(value) + "' is not a port range like 32768:65535");
    config.natPortMin = min;
    config.natPortMax = max;
    return {};
  }
  if (key == "iptablesNATOutgoingInterfaceFilter") {
    // An interface name, or a prefix of one ending in '+', as iptables' -o takes it.
    std::string_view name = value;
    if (name.ends_with('+')) name.remove_suffix(1);
    if (!value.empty() && (name.empty() || !isValidInterfaceName(name)))
      return makeError(where, "", "'" + std::string(value) + "' is not an interface name or prefix");
    config.natInterfaceFilter = std::string(value);
    return {};
  }
  return makeError(where, "", "is not a key of outgoing NAT");
}

}  // namespace tartan::dataplane::iptables
