// test/support/fake_netlink.hpp — in-memory stand-ins for tartan::netlink's kernel interfaces.
//
// FakeNetlink is a RouteTable and a LinkTable; FakeSysctls is an InterfaceSysctls. They keep the
// kernel's rules that callers depend on (and that test/kernel/netlink proves on the real kernel):
// Add of an existing key is EEXIST, Replace creates or overwrites, Delete of a missing route or
// of another protocol's route is ESRCH, a nexthop on an unknown interface is ENODEV (once any link
// is registered), and errors read like the real ones ("RTM_NEWROUTE 10.65.0.0/26: File exists").
// Tests may also make the next changes fail with an errno of their choice.
// Link with tartan::netlink.
#pragma once

#include <tartan/netlink/netlink.hpp>
#include <tartan/netlink/sysctl.hpp>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace tartan::test {

class FakeNetlink final : public netlink::RouteTable, public netlink::LinkTable {
 public:
  // --- set-up and inspection --------------------------------------------------------------
  void addLink(netlink::Link link) { links_[link.ifindex] = std::move(link); }
  void removeLink(uint32_t ifindex) { links_.erase(ifindex); }
  void addAddress(netlink::InterfaceAddress address) { addresses_.push_back(address); }
  // Puts a route in place as if someone else (the kernel, an operator) had added it.
  void seedRoute(const netlink::Route& route) { routes_[netlink::keyOf(route)] = route; }
  // The next changes fail with these errnos, one each, in order (0: let it through).
  void failNext(int errnum) { injected_.push_back(errnum); }

  const std::map<netlink::RouteKey, netlink::Route>& routes() const { return routes_; }
  // Every change applied successfully, in order.
  const std::vector<netlink::RouteChange>& history() const { return history_; }
  size_t applyCalls() const { return applyCalls_; }

  // --- RouteTable ---------------------------------------------------------------------------
  Result<std::vector<netlink::Route>> listRoutes(const netlink::RouteFilter& filter) override {
    std::vector<netlink::Route> out;
    for (const auto& [key, route] : routes_) {
      if (filter.matches(route)) out.push_back(route);
    }
    return out;
  }

  Result<netlink::BatchResult> applyRoutes(std::span<const netlink::RouteChange> changes) override {
    ++applyCalls_;
    netlink::BatchResult result;
    for (size_t i = 0; i < changes.size(); ++i) {
      int errnum = applyOne(changes[i]);
      if (errnum == 0) {
        ++result.applied;
        history_.push_back(changes[i]);
      } else {
        result.failures.push_back(netlink::BatchResult::Failure{
            i, errnum, makeError(describe(changes[i]), "", std::strerror(errnum))});
      }
    }
    return result;
  }

  // --- LinkTable ----------------------------------------------------------------------------
  Result<std::vector<netlink::Link>> listLinks() override {
    std::vector<netlink::Link> out;
    for (const auto& [index, link] : links_) out.push_back(link);
    return out;
  }
  Result<std::vector<netlink::InterfaceAddress>> listAddresses(
      std::optional<netlink::Family> family) override {
    std::vector<netlink::InterfaceAddress> out;
    for (const auto& address : addresses_) {
      if (!family || address.prefix.family() == *family) out.push_back(address);
    }
    return out;
  }

 private:
  static std::string describe(const netlink::RouteChange& change) {
    std::string out = change.op == netlink::RouteOp::Delete ? "RTM_DELROUTE " : "RTM_NEWROUTE ";
    out += change.route.dst.toString();
    if (change.route.table != netlink::kTableMain) out += " table " + std::to_string(change.route.table);
    return out;
  }

  int applyOne(const netlink::RouteChange& change) {
    if (!injected_.empty()) {
      int errnum = injected_.front();
      injected_.pop_front();
      if (errnum != 0) return errnum;
    }
    const netlink::Route& route = change.route;
    auto key = netlink::keyOf(route);
    auto found = routes_.find(key);
    switch (change.op) {
      case netlink::RouteOp::Delete:
        if (found == routes_.end()) return ESRCH;
        if (route.protocol != 0 && found->second.protocol != route.protocol) return ESRCH;
        routes_.erase(found);
        return 0;
      case netlink::RouteOp::Add:
        if (found != routes_.end()) return EEXIST;
        [[fallthrough]];
      case netlink::RouteOp::Replace:
        if (!links_.empty()) {
          for (const auto& hop : route.nexthops) {
            if (hop.ifindex != 0 && !links_.contains(hop.ifindex)) return ENODEV;
          }
        }
        routes_[key] = route;
        return 0;
    }
    return EINVAL;
  }

  std::map<uint32_t, netlink::Link> links_;
  std::vector<netlink::InterfaceAddress> addresses_;
  std::map<netlink::RouteKey, netlink::Route> routes_;
  std::vector<netlink::RouteChange> history_;
  std::deque<int> injected_;
  size_t applyCalls_ = 0;
};

// Sysctls per interface, in memory. An interface must be added first (as it must exist in the
// kernel); it starts with the kernel's defaults for the knobs Tartan uses.
class FakeSysctls final : public netlink::InterfaceSysctls {
 public:
  void addInterface(const std::string& name) {
    using netlink::SysctlTree;
    interfaces_[name] = true;
    values_[{SysctlTree::Ipv4Conf, name, "forwarding"}] = "0";
    values_[{SysctlTree::Ipv4Conf, name, "proxy_arp"}] = "0";
    values_[{SysctlTree::Ipv4Conf, name, "rp_filter"}] = "0";
    values_[{SysctlTree::Ipv4Conf, name, "route_localnet"}] = "0";
    values_[{SysctlTree::Ipv4Neigh, name, "proxy_delay"}] = "80";
    values_[{SysctlTree::Ipv6Conf, name, "forwarding"}] = "0";
    values_[{SysctlTree::Ipv6Conf, name, "proxy_ndp"}] = "0";
    values_[{SysctlTree::Ipv6Conf, name, "accept_ra"}] = "1";
    values_[{SysctlTree::Ipv6Conf, name, "disable_ipv6"}] = "0";
  }
  void removeInterface(const std::string& name) {
    interfaces_.erase(name);
    std::erase_if(values_, [&](const auto& entry) { return std::get<1>(entry.first) == name; });
  }
  size_t writes() const { return writes_; }

  Result<std::string> get(netlink::SysctlTree tree, std::string_view interface,
                          std::string_view key) override {
    auto path = netlink::sysctlPath(tree, interface, key);
    if (!path) return path.error();
    auto found = values_.find({tree, std::string(interface), std::string(key)});
    if (found == values_.end()) return makeError(*path, "", std::strerror(ENOENT));
    return Result<std::string>(boost::system::in_place_value, found->second);
  }

  Result<void> set(netlink::SysctlTree tree, std::string_view interface, std::string_view key,
                   std::string_view value) override {
    auto path = netlink::sysctlPath(tree, interface, key);
    if (!path) return path.error();
    if (!interfaces_.contains(std::string(interface)) && interface != "all" && interface != "default")
      return makeError(*path, "", std::strerror(ENOENT));
    values_[{tree, std::string(interface), std::string(key)}] = std::string(value);
    ++writes_;
    return {};
  }

 private:
  std::map<std::string, bool> interfaces_;
  std::map<std::tuple<netlink::SysctlTree, std::string, std::string>, std::string> values_;
  size_t writes_ = 0;
};

}  // namespace tartan::test
