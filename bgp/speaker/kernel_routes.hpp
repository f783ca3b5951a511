// bgp/speaker/kernel_routes.hpp — kernel routes that tartan-bgpd announces over BGP.
//
// What: an operator chooses routes of the node's kernel routing tables to announce
// (`--announce-kernel-routes SPEC`, repeatable, or TARTAN_BGP_ANNOUNCE_KERNEL_ROUTES with specs
// separated by `;`). Calico's resources have no field for this and Tartan's stay field-for-field
// Calico, so it is a daemon option. SPEC is comma-separated:
//   table=N            routing table (default 254, main)
//   protocol=NAME|N    rtm_protocol, a name of iproute2's rt_protos (kernel, boot, static, ...) or 0-255
//   prefix=CIDR        the route lies inside it (repeatable: inside any of them)
//   interface=NAME     one of the route's output interfaces has this name
// A route is announced when it matches any spec. Never announced, whatever the specs say: Tartan's
// own routes (rtm_protocol 116 of the agent, 117 of tartan-bgpd — which covers the blackholes of
// the node's blocks and the routes learned over BGP), local/broadcast/anycast/multicast/throw
// routes, routes of scope host or nowhere, and link-local or multicast destinations
// (169.254.0.0/16, 224.0.0.0/4, fe80::/10, ff00::/8). A route to an interface (`dev X`, scope
// link) is announced: that is the common shape of an operator's static route.
//
// Pieces: the spec parser and matcher are pure; KernelRouteSet is the pure tracker that follows
// the kernel's routes (a dump, then the monitor's additions and removals, and link names) and
// yields the changes of the announced set, one entry per prefix (the lowest metric route's
// interface); KernelRouteWatcher is the thin shell that dumps and follows rtnetlink.
// Owns: KernelRouteWatcher owns one Netlink socket (dumps) and one RouteMonitor.
// Threading: KernelRouteSet has none (one user at a time); the watcher runs on its own strand and
// hands each batch of changes to a callback.
// Failure: a bad spec is an Error naming the spec and the offending part; a failed dump or a
// monitor overflow is logged and the routes are dumped again.
#pragma once

#include "types.hpp"

#include <tartan/common/result.hpp>
#include <tartan/netlink/types.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::bgp::speaker {

struct KernelRouteSpec {
  std::uint32_t table = netlink::kTableMain;
  std::optional<std::uint8_t> protocol;   // unset: any
  std::vector<netlink::Prefix> prefixes;  // empty: any destination
  std::optional<std::string> interface;   // unset: any
  bool operator==(const KernelRouteSpec&) const = default;
};

// One SPEC as above. The error names the spec and the part that is wrong.
Result<KernelRouteSpec> parseKernelRouteSpec(std::string_view text);
// The option's values, each one SPEC, plus the environment variable's `;`-separated specs.
Result<std::vector<KernelRouteSpec>> parseKernelRouteSpecs(const std::vector<std::string>& options,
                                                           std::string_view environment);
// iproute2's rt_protos name ("static") or a number ("4").
std::optional<std::uint8_t> routeProtocolByName(std::string_view name);

// Whether a route may be announced at all (the exclusions above), whatever the specs.
bool announceable(const netlink::Route& route);
// Whether `route` matches `spec`; `interfaceName` resolves an ifindex (nullopt when unknown).
bool specMatches(const KernelRouteSpec& spec, const netlink::Route& route,
                 const std::function<std::optional<std::string>(std::uint32_t)>& interfaceName);

// What is announced for one prefix.
struct KernelAnnouncement {
  std::optional<std::string> interface;  // output interface, for BGPFilter `interface`
  bool operator==(const KernelAnnouncement&) const = default;
};
using KernelAnnouncements = std::map<Prefix, KernelAnnouncement>;

struct KernelRouteChanges {
  std::vector<std::pair<Prefix, KernelAnnouncement>> announced;  // new or changed
  std::vector<Prefix> withdrawn;
  bool empty() const { return announced.empty() && withdrawn.empty(); }
  bool operator==(const KernelRouteChanges&) const = default;
};
KernelRouteChanges diffAnnouncements(const KernelAnnouncements& before, const KernelAnnouncements& after);

// Follows the kernel's routes and yields what to announce. Feeding the same final kernel state
// in any order (or as a fresh dump) gives the same announced set.
class KernelRouteSet {
 public:
  explicit KernelRouteSet(std::vector<KernelRouteSpec> specs);

  void linkChanged(std::uint32_t ifindex, const std::string& name);
  void linkRemoved(std::uint32_t ifindex);
  void routeAdded(const netlink::Route& route);
  void routeRemoved(const netlink::Route& route);
  // A full dump: everything not in it is gone (after a monitor overflow, or at start).
  void replaceAll(const std::vector<netlink::Route>& routes,
                  const std::vector<std::pair<std::uint32_t, std::string>>& links);

  // The changes of the announced set since the last call.
  KernelRouteChanges takeChanges();
  const KernelAnnouncements& announced() const { return announced_; }

 private:
  bool wanted(const netlink::Route& route) const;
  std::optional<KernelAnnouncement> evaluate(const Prefix& prefix) const;

  std::vector<KernelRouteSpec> specs_;
  std::map<std::uint32_t, std::string> links_;
  // Candidate routes (announceable, in a table some spec names) per prefix.
  std::map<Prefix, std::vector<netlink::Route>> routes_;
  std::set<Prefix> dirty_;
  bool allDirty_ = false;
  KernelAnnouncements announced_;
};

// The shell: dumps the kernel's routes and links, then follows the route monitor, and hands every
// batch of changes to `onChanges` (from the watcher's strand). Opens its sockets in the calling
// thread's network namespace.
class KernelRouteWatcher {
 public:
  using OnChanges = std::function<void(KernelRouteChanges)>;
  static Result<std::unique_ptr<KernelRouteWatcher>> start(boost::asio::io_context& io,
                                                           std::vector<KernelRouteSpec> specs,
                                                           OnChanges onChanges);
  ~KernelRouteWatcher();
  KernelRouteWatcher(const KernelRouteWatcher&) = delete;
  KernelRouteWatcher& operator=(const KernelRouteWatcher&) = delete;
  void stop();

  struct State;

 private:
  explicit KernelRouteWatcher(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace tartan::bgp::speaker
