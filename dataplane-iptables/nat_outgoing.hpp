// Outgoing NAT's model in the driver (private to dataplane-iptables): the IP pools the dataplane
// API described (IPAMPoolUpdate/Remove) and the configuration keys of outgoing NAT.
// The driver turns a family's pools into two IP sets (every pool; masquerading pools) and, while
// some pool of the family masquerades, the nat chains of renderNatOutgoing() behind a jump in
// POSTROUTING; when none does, the jump, chains and sets go.
// Pure values; no I/O. Bad input (a CIDR or a configuration value that cannot be used) is an
// Error naming the pool or key, and leaves the model as it was.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/dataplane/iptables/chain.hpp"
#include "tartan/dataplane/iptables/render.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::dataplane::iptables {

class NatPools {
 public:
  // A pool is new or changed; false if nothing changed. An unusable CIDR is an Error (the pool
  // is then forgotten, as if removed).
  Result<bool> update(const std::string& id, std::string_view cidr, bool masquerade);
  bool remove(const std::string& id);

  struct FamilySets {
    std::vector<std::string> all;   // every pool's CIDR
    std::vector<std::string> masq;  // the masquerading pools' CIDRs
  };
  FamilySets sets(IpFamily family) const;

 private:
  struct Pool {
    std::string cidr;  // canonical
    bool masquerade = false;
    bool operator==(const Pool&) const = default;
  };
  std::map<std::string, Pool> pools_;
};

// Whether `key` is one of outgoing NAT's ConfigUpdate keys (natOutgoingAddress, natPortRange,
// iptablesNATOutgoingInterfaceFilter).
bool isNatConfigKey(std::string_view key);
// Sets that key's value in `config`; an Error says why the value cannot be used (config unchanged).
Result<void> setNatConfig(std::string_view key, std::string_view value, RenderConfig& config);

}  // namespace tartan::dataplane::iptables
