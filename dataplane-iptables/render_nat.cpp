// Outgoing NAT for IP pools with natOutgoing; see renderNatOutgoing in
// tartan/dataplane/iptables/render.hpp. Felix's NATOutgoingChain, rule for rule.
#include "tartan/dataplane/iptables/render.hpp"

namespace tartan::dataplane::iptables {

TableChains renderNatOutgoing(bool masquerading, IpFamily family, const RenderConfig& config) {
  TableChains out;
  if (!masquerading) return out;
  std::string match = "-m set --match-set " + names::ipSet(family, names::kMasqIpamPoolsSet) +
                      " src -m set ! --match-set " + names::ipSet(family, names::kAllIpamPoolsSet) + " dst";
  if (!config.natInterfaceFilter.empty()) match = "-o " + config.natInterfaceFilter + " " + match;
  // natOutgoingAddress is an IPv4 address: IPv6 pools masquerade.
  const bool snat = family == IpFamily::kV4 && !config.natOutgoingAddress.empty();
  const std::string randomFully = config.randomFully ? " --random-fully" : "";
  auto action = [&](const std::string& ports) {
    if (snat)
      return "-j SNAT --to-source " + config.natOutgoingAddress + (ports.empty() ? "" : ":" + ports) +
             randomFully;
    return "-j MASQUERADE" + (ports.empty() ? "" : " --to-ports " + ports) + randomFully;
  };
  Chain chain{std::string(names::kNatOutgoing), {}};
  if (config.natPortMax > 0) {
    // Only TCP and UDP have ports to choose; everything else takes the rule after.
    const std::string ports = std::to_string(config.natPortMin) + "-" + std::to_string(config.natPortMax);
    for (const char* protocol : {"tcp", "udp"})
      chain.rules.push_back({"-p " + std::string(protocol) + " " + match, action(ports)});
  }
  chain.rules.push_back({match, action("")});
  out.nat = {Chain{std::string(names::kNatPostrouting), {{"", "-j " + std::string(names::kNatOutgoing)}}},
             std::move(chain)};
  return out;
}

}  // namespace tartan::dataplane::iptables
