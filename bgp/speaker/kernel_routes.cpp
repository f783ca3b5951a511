// Kernel routes to announce: spec parsing, matching, the tracked set and its rtnetlink shell
// (see kernel_routes.hpp).
#include "kernel_routes.hpp"

#include <tartan/common/log.hpp>
#include <tartan/netlink/netlink.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <future>

namespace tartan::bgp::speaker {

namespace {

constexpr const char* kWhere = "--announce-kernel-routes";

// iproute2's rt_protos (Debian 12, iproute2 6.1), so that a spec says what `ip route` shows.
constexpr std::array<std::pair<std::string_view, std::uint8_t>, 22> kProtocolNames{{
    {"unspec", 0}, {"redirect", 1}, {"kernel", 2},      {"boot", 3},    {"static", 4},    {"gated", 8},
    {"ra", 9},     {"mrt", 10},     {"zebra", 11},      {"bird", 12},   {"dnrouted", 13}, {"xorp", 14},
    {"ntk", 15},   {"dhcp", 16},    {"keepalived", 18}, {"babel", 42},  {"openr", 99},    {"bgp", 186},
    {"isis", 187}, {"ospf", 188},   {"rip", 189},       {"eigrp", 192},
}};

std::optional<std::uint32_t> parseNumber(std::string_view text, std::uint32_t max) {
  std::uint32_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value > max) return std::nullopt;
  return value;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(separator, start);
    out.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// `inner` lies inside `outer` (same family, no shorter, same leading bits).
bool within(const netlink::Prefix& outer, const netlink::Prefix& inner) {
  if (outer.family() != inner.family() || inner.length < outer.length) return false;
  const std::size_t full = outer.length / 8;
  if (std::memcmp(outer.address.bytes.data(), inner.address.bytes.data(), full) != 0) return false;
  const unsigned rest = outer.length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (outer.address.bytes[full] & mask) == (inner.address.bytes[full] & mask);
}

const std::vector<netlink::Prefix>& neverAnnounced() {
  // Link-local and multicast destinations mean nothing off this node's links.
  static const std::vector<netlink::Prefix> prefixes = [] {
    std::vector<netlink::Prefix> out;
    for (const char* text : {"169.254.0.0/16", "224.0.0.0/4", "fe80::/10", "ff00::/8"})
      out.push_back(netlink::Prefix::parse(text).value());
    return out;
  }();
  return prefixes;
}

Prefix toBgpPrefix(const netlink::Prefix& prefix) {
  Address a;
  a.family = prefix.family() == netlink::Family::V4 ? Afi::kIpv4 : Afi::kIpv6;
  std::memcpy(a.bytes.data(), prefix.address.bytes.data(), 16);
  return Prefix(a, prefix.length);
}

}  // namespace

std::optional<std::uint8_t> routeProtocolByName(std::string_view name) {
  for (const auto& [text, number] : kProtocolNames)
    if (text == name) return number;
  if (auto n = parseNumber(name, 255)) return static_cast<std::uint8_t>(*n);
  return std::nullopt;
}

Result<KernelRouteSpec> parseKernelRouteSpec(std::string_view text) {
  const std::string where = std::string(kWhere) + " \"" + std::string(text) + "\"";
  KernelRouteSpec spec;
  bool tableSet = false;
  if (trim(text).empty())
    return makeError(where, "", "empty spec; give at least one of table=, protocol=, prefix=, interface=");
  for (auto part : split(text, ',')) {
    part = trim(part);
    const auto eq = part.find('=');
    if (part.empty()) return makeError(where, "", "empty part (two commas, or a trailing comma)");
    if (eq == std::string_view::npos)
      return makeError(where, std::string(part),
                       "expected key=value (table=, protocol=, prefix=, interface=)");
    const auto key = trim(part.substr(0, eq));
    const auto value = trim(part.substr(eq + 1));
    const std::string field(part);
    if (value.empty()) return makeError(where, field, "empty value");
    if (key == "table") {
      if (tableSet) return makeError(where, field, "table given twice");
      auto n = parseNumber(value, 0xffffffffu);
      if (!n || *n == 0) return makeError(where, field, "table must be a number from 1 to 4294967295");
      spec.table = *n;
      tableSet = true;
    } else if (key == "protocol") {
      if (spec.protocol) return makeError(where, field, "protocol given twice");
      auto p = routeProtocolByName(value);
      if (!p)
        return makeError(
            where, field,
            "unknown protocol; use a name of iproute2's rt_protos (kernel, boot, static, dhcp, bird, "
            "zebra, bgp, ...) or a number 0-255");
      if (*p == netlink::kProtocolAgent || *p == netlink::kProtocolBgp)
        return makeError(where, field,
                         "protocols 116 and 117 are Tartan's own routes and are never announced");
      spec.protocol = *p;
    } else if (key == "prefix") {
      auto p = netlink::Prefix::parse(value);
      if (!p || value.find('/') == std::string_view::npos)
        return makeError(where, field,
                         "not a CIDR with its host bits zero (e.g. 198.51.100.0/24, 2001:db8::/32)");
      spec.prefixes.push_back(*p);
    } else if (key == "interface") {
      if (spec.interface) return makeError(where, field, "interface given twice");
      // IFNAMSIZ - 1 characters, none of them '/' or blank, as the kernel allows.
      if (value.size() > 15 || value.find_first_of("/ \t") != std::string_view::npos || value == "." ||
          value == "..")
        return makeError(where, field, "not a valid interface name");
      spec.interface = std::string(value);
    } else {
      return makeError(where, field,
                       "unknown key \"" + std::string(key) + "\" (table, protocol, prefix, interface)");
    }
  }
  return spec;
}

Result<std::vector<KernelRouteSpec>> parseKernelRouteSpecs(const std::vector<std::string>& options,
                                                           std::string_view environment) {
  std::vector<KernelRouteSpec> out;
  for (const auto& text : options) {
    auto spec = parseKernelRouteSpec(text);
    if (!spec) return spec.error();
    out.push_back(std::move(*spec));
  }
  if (trim(environment).empty()) return out;
  for (auto text : split(environment, ';')) {
    if (trim(text).empty()) continue;  // "a;b;" — a trailing separator is harmless
    auto spec = parseKernelRouteSpec(text);
    if (!spec) {
      auto error = spec.error();
      error.where = "TARTAN_BGP_ANNOUNCE_KERNEL_ROUTES \"" + std::string(text) + "\"";
      return error;
    }
    out.push_back(std::move(*spec));
  }
  return out;
}

bool announceable(const netlink::Route& route) {
  if (route.protocol == netlink::kProtocolAgent || route.protocol == netlink::kProtocolBgp) return false;
  switch (route.type) {
    case netlink::RouteType::Unicast:
    case netlink::RouteType::Blackhole:
    case netlink::RouteType::Unreachable:
    case netlink::RouteType::Prohibit:
      break;
    default:
      return false;  // local, broadcast, anycast, multicast, throw: not a destination to offer
  }
  if (route.scope == netlink::RouteScope::Host || route.scope == netlink::RouteScope::Nowhere) return false;
  for (const auto& p : neverAnnounced())
    if (within(p, route.dst)) return false;
  return true;
}

bool specMatches(const KernelRouteSpec& spec, const netlink::Route& route,
                 const std::function<std::optional<std::string>(std::uint32_t)>& interfaceName) {
  if (route.table != spec.table) return false;
  if (spec.protocol && route.protocol != *spec.protocol) return false;
  if (!spec.prefixes.empty() && std::none_of(spec.prefixes.begin(), spec.prefixes.end(),
                                             [&](const netlink::Prefix& p) { return within(p, route.dst); }))
    return false;
  if (spec.interface) {
    const bool any =
        std::any_of(route.nexthops.begin(), route.nexthops.end(), [&](const netlink::Nexthop& hop) {
          const auto name = hop.ifindex ? interfaceName(hop.ifindex) : std::nullopt;
          return name && *name == *spec.interface;
        });
    if (!any) return false;
  }
  return true;
}

KernelRouteChanges diffAnnouncements(const KernelAnnouncements& before, const KernelAnnouncements& after) {
  KernelRouteChanges out;
  for (const auto& [prefix, announcement] : after) {
    auto it = before.find(prefix);
    if (it == before.end() || it->second != announcement) out.announced.emplace_back(prefix, announcement);
  }
  for (const auto& [prefix, announcement] : before)
    if (!after.contains(prefix)) out.withdrawn.push_back(prefix);
  return out;
}

// ---- KernelRouteSet ----------------------------------------------------------------------

KernelRouteSet::KernelRouteSet(std::vector<KernelRouteSpec> specs) : specs_(std::move(specs)) {}

void KernelRouteSet::linkChanged(std::uint32_t ifindex, const std::string& name) {
  auto& known = links_[ifindex];
  if (known == name) return;
  known = name;
  allDirty_ = true;  // a rename can change what `interface=` matches and what is announced
}

void KernelRouteSet::linkRemoved(std::uint32_t ifindex) {
  if (links_.erase(ifindex) > 0) allDirty_ = true;
  // The kernel flushes the routes through a deleted interface without an RTM_DELROUTE for
  // IPv4, so they are dropped here (those with another nexthop left stay).
  for (auto it = routes_.begin(); it != routes_.end();) {
    const auto before = it->second.size();
    std::erase_if(it->second, [&](const netlink::Route& r) {
      return !r.nexthops.empty() &&
             std::all_of(r.nexthops.begin(), r.nexthops.end(),
                         [&](const netlink::Nexthop& h) { return h.ifindex == ifindex; });
    });
    if (it->second.size() != before) dirty_.insert(it->first);
    it = it->second.empty() ? routes_.erase(it) : std::next(it);
  }
}

bool KernelRouteSet::wanted(const netlink::Route& route) const {
  return announceable(route) && std::any_of(specs_.begin(), specs_.end(),
                                            [&](const KernelRouteSpec& s) { return s.table == route.table; });
}

void KernelRouteSet::routeAdded(const netlink::Route& route) {
  if (!wanted(route)) return;
  const Prefix prefix = toBgpPrefix(route.dst);
  auto& list = routes_[prefix];
  const auto key = netlink::keyOf(route);
  // The same key again is a replace (NLM_F_REPLACE) of that route.
  std::erase_if(list, [&](const netlink::Route& r) { return netlink::keyOf(r) == key; });
  list.push_back(route);
  dirty_.insert(prefix);
}

void KernelRouteSet::routeRemoved(const netlink::Route& route) {
  const Prefix prefix = toBgpPrefix(route.dst);
  auto it = routes_.find(prefix);
  if (it == routes_.end()) return;
  const auto key = netlink::keyOf(route);
  std::erase_if(it->second, [&](const netlink::Route& r) { return netlink::keyOf(r) == key; });
  if (it->second.empty()) routes_.erase(it);
  dirty_.insert(prefix);
}

void KernelRouteSet::replaceAll(const std::vector<netlink::Route>& routes,
                                const std::vector<std::pair<std::uint32_t, std::string>>& links) {
  links_.clear();
  for (const auto& [ifindex, name] : links) links_[ifindex] = name;
  routes_.clear();
  for (const auto& r : routes) routeAdded(r);
  allDirty_ = true;
}

std::optional<KernelAnnouncement> KernelRouteSet::evaluate(const Prefix& prefix) const {
  auto it = routes_.find(prefix);
  if (it == routes_.end()) return std::nullopt;
  const auto name = [this](std::uint32_t ifindex) -> std::optional<std::string> {
    auto l = links_.find(ifindex);
    if (l == links_.end()) return std::nullopt;
    return l->second;
  };
  // Of the matching routes to this prefix, the one the kernel prefers (lowest metric, then the
  // lowest table for a stable choice) gives the interface.
  const netlink::Route* best = nullptr;
  for (const auto& r : it->second) {
    if (std::none_of(specs_.begin(), specs_.end(),
                     [&](const KernelRouteSpec& s) { return specMatches(s, r, name); }))
      continue;
    if (!best || std::pair(netlink::effectivePriority(r), r.table) <
                     std::pair(netlink::effectivePriority(*best), best->table))
      best = &r;
  }
  if (!best) return std::nullopt;
  KernelAnnouncement out;
  for (const auto& hop : best->nexthops) {
    if (hop.ifindex == 0) continue;
    if (auto n = name(hop.ifindex)) {
      out.interface = *n;
      break;
    }
  }
  return out;
}

KernelRouteChanges KernelRouteSet::takeChanges() {
  KernelRouteChanges out;
  std::set<Prefix> touched;
  if (allDirty_) {
    for (const auto& [prefix, a] : announced_) touched.insert(prefix);
    for (const auto& [prefix, r] : routes_) touched.insert(prefix);
  } else {
    touched.swap(dirty_);
  }
  dirty_.clear();
  allDirty_ = false;
  for (const auto& prefix : touched) {
    auto now = evaluate(prefix);
    auto was = announced_.find(prefix);
    if (now) {
      if (was != announced_.end() && was->second == *now) continue;
      announced_[prefix] = *now;
      out.announced.emplace_back(prefix, *now);
    } else if (was != announced_.end()) {
      announced_.erase(was);
      out.withdrawn.push_back(prefix);
    }
  }
  return out;
}

// ---- KernelRouteWatcher -----------------------------------------------------------------

struct KernelRouteWatcher::State : std::enable_shared_from_this<KernelRouteWatcher::State> {
  State(boost::asio::io_context& io, std::vector<KernelRouteSpec> specs, OnChanges onChanges)
      : strand(boost::asio::make_strand(io)),
        set(std::move(specs)),
        onChanges(std::move(onChanges)),
        descriptor(strand),
        log(log::get("bgp")) {}
  // The descriptor only borrows the RouteMonitor's fd.
  ~State() { descriptor.release(); }

  boost::asio::strand<boost::asio::io_context::executor_type> strand;
  KernelRouteSet set;
  OnChanges onChanges;
  std::unique_ptr<netlink::Netlink> netlink;
  std::unique_ptr<netlink::RouteMonitor> monitor;
  boost::asio::posix::stream_descriptor descriptor;
  std::shared_ptr<spdlog::logger> log;
  bool stopped = false;
  bool needDump = false;  // the last dump failed: the next event triggers another

  // A full listing; the set takes it as the whole truth.
  void dump() {
    auto routes = netlink->listRoutes(netlink::RouteFilter{});
    auto links = netlink->listLinks();
    if (!routes || !links) {
      log->warn("kernel routes: dump failed ({}); announcing what is known, retrying on the next change",
                (!routes ? routes.error() : links.error()).toString());
      needDump = true;
      return;
    }
    needDump = false;
    std::vector<std::pair<std::uint32_t, std::string>> names;
    for (const auto& l : *links) names.emplace_back(l.ifindex, l.name);
    set.replaceAll(*routes, names);
    publish();
  }

  void publish() {
    auto changes = set.takeChanges();
    if (changes.empty()) return;
    for (const auto& [prefix, a] : changes.announced)
      log->info("kernel route {}{}{}: announced", prefix.toString(), a.interface ? " dev " : "",
                a.interface.value_or(""));
    for (const auto& prefix : changes.withdrawn) log->info("kernel route {}: withdrawn", prefix.toString());
    onChanges(std::move(changes));
  }

  void wait() {
    descriptor.async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        boost::asio::bind_executor(strand, [self = shared_from_this()](const boost::system::error_code& ec) {
          if (ec || self->stopped) return;
          self->read();
          self->wait();
        }));
  }

  void read() {
    bool overflow = false;
    auto drained = monitor->drain([&](const netlink::MonitorEvent& e) {
      using Kind = netlink::MonitorEvent::Kind;
      switch (e.kind) {
        case Kind::RouteAdded:
          set.routeAdded(e.route);
          break;
        case Kind::RouteRemoved:
          set.routeRemoved(e.route);
          break;
        case Kind::LinkChanged:
          set.linkChanged(e.link.ifindex, e.link.name);
          break;
        case Kind::LinkRemoved:
          set.linkRemoved(e.link.ifindex);
          break;
        case Kind::Overflow:
          overflow = true;
          break;
        default:
          break;
      }
    });
    if (!drained) {
      log->warn("kernel routes: monitor: {}; listing again", drained.error().toString());
      overflow = true;
    }
    if (overflow || needDump) {
      if (overflow) log->warn("kernel routes: the kernel dropped route events; listing again");
      dump();
      return;
    }
    publish();
  }
};

Result<std::unique_ptr<KernelRouteWatcher>> KernelRouteWatcher::start(boost::asio::io_context& io,
                                                                      std::vector<KernelRouteSpec> specs,
                                                                      OnChanges onChanges) {
  auto state = std::make_shared<State>(io, std::move(specs), std::move(onChanges));
  // The monitor first, then the dump: a change between the two is seen twice, never missed.
  netlink::RouteMonitor::Groups groups;
  auto monitor = netlink::RouteMonitor::open(groups);
  if (!monitor) return monitor.error();
  auto nl = netlink::Netlink::open();
  if (!nl) return nl.error();
  state->monitor = std::move(*monitor);
  state->netlink = std::move(*nl);
  boost::system::error_code ec;
  state->descriptor.assign(state->monitor->fd(), ec);
  if (ec) return makeError("kernel route monitor", "", ec.message());
  boost::asio::post(state->strand, [state] {
    if (state->stopped) return;
    state->dump();
    state->wait();
  });
  return std::unique_ptr<KernelRouteWatcher>(new KernelRouteWatcher(state));
}

void KernelRouteWatcher::stop() {
  if (!state_) return;
  std::promise<void> done;
  auto future = done.get_future();
  boost::asio::post(state_->strand, [state = state_, &done] {
    state->stopped = true;
    boost::system::error_code ec;
    state->descriptor.cancel(ec);
    done.set_value();
  });
  future.wait_for(std::chrono::seconds(5));
  state_.reset();
}

KernelRouteWatcher::~KernelRouteWatcher() { stop(); }

}  // namespace tartan::bgp::speaker
