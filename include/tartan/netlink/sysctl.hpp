// tartan/netlink/sysctl.hpp — per-interface kernel knobs under /proc/sys/net.
//
// The agent sets forwarding and proxy_arp (with proxy_delay 0) on workload interfaces, and the
// IPv6 equivalents, as Felix does. /proc/sys/net is per network namespace: the kernel resolves
// it against the namespace of the *thread* that opens the file, at the time it opens it. So,
// unlike a Netlink object, which stays bound to the namespace it was opened in, ProcSysctls
// opens the file anew on every call and acts on whatever namespace the calling thread is in
// then. Enter the namespace (setns) before the call, on the same thread.
#pragma once

#include <tartan/common/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tartan::netlink {

enum class SysctlTree : uint8_t {
  Ipv4Conf,   // /proc/sys/net/ipv4/conf/<if>/<key>: forwarding, proxy_arp, rp_filter ...
  Ipv4Neigh,  // /proc/sys/net/ipv4/neigh/<if>/<key>: proxy_delay ...
  Ipv6Conf,   // /proc/sys/net/ipv6/conf/<if>/<key>: forwarding, proxy_ndp, accept_ra ...
  Ipv6Neigh,  // /proc/sys/net/ipv6/neigh/<if>/<key>
};

// The file for a knob, or an error if the interface name or key could escape the tree ('/',
// ".", "..", empty, longer than IFNAMSIZ-1). Pure.
Result<std::string> sysctlPath(SysctlTree tree, std::string_view interface, std::string_view key);

class InterfaceSysctls {
 public:
  virtual ~InterfaceSysctls() = default;
  // The value with the trailing newline removed.
  virtual Result<std::string> get(SysctlTree tree, std::string_view interface, std::string_view key) = 0;
  virtual Result<void> set(SysctlTree tree, std::string_view interface, std::string_view key,
                           std::string_view value) = 0;

  // Writes only when the value differs, so a resync does not churn the kernel.
  Result<void> ensure(SysctlTree tree, std::string_view interface, std::string_view key,
                      std::string_view value);
};

// The real files, in the calling thread's current network namespace (see above).
class ProcSysctls final : public InterfaceSysctls {
 public:
  explicit ProcSysctls(std::string root = "/proc/sys/net") : root_(std::move(root)) {}
  Result<std::string> get(SysctlTree tree, std::string_view interface, std::string_view key) override;
  Result<void> set(SysctlTree tree, std::string_view interface, std::string_view key,
                   std::string_view value) override;

 private:
  std::string root_;
};

struct SysctlSetting {
  SysctlTree tree = SysctlTree::Ipv4Conf;
  std::string interface;
  std::string key;
  std::string value;
  bool operator==(const SysctlSetting&) const = default;
};

// What the host end of a workload's veth needs, as Calico's CNI plugin and Felix set it:
// IPv4 — forwarding 1, proxy_arp 1 (the pod's gateway 169.254.1.1 is answered by the host, so
// no address is needed on the host end), proxy_delay 0 (answer at once), route_localnet 1 (NAT
// to the host's own addresses), rp_filter when given (Felix's strict 1 by default);
// IPv6 — disable_ipv6 0, forwarding 1, proxy_ndp 1, accept_ra 0. Pure.
std::vector<SysctlSetting> workloadInterfaceSysctls(std::string_view interface, bool ipv4, bool ipv6,
                                                    std::string_view rpFilter = "1");

// Ensures every setting (writing only those that differ). Tries them all; returns the first
// error, if any.
Result<void> applySysctls(InterfaceSysctls& sysctls, const std::vector<SysctlSetting>& settings);

}  // namespace tartan::netlink
