// The iptables driver's configuration and rendering: the model, as the messages left it, turned
// into the chains of each table and the IP sets of each family. See driver_state.hpp.
#include "driver_state.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace tartan::dataplane::iptables {

using namespace detail;

void Driver::State::setConfig(const google::protobuf::Map<std::string, std::string>& values) {
  auto number = [&](const std::string& key, int& out) {
    auto it = values.find(key);
    if (it == values.end()) return;
    int value = 0;
    const auto& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0)
      log->warn("config {}: '{}' is not a non-negative number; keeping {}", key, text, out);
    else
      out = value;
  };
  for (const auto& [key, value] : values) {
    if (key == "interfacePrefix") {
      config.interfacePrefixes.clear();
      for (std::string_view rest = value; !rest.empty();) {
        auto comma = rest.find(',');
        auto prefix = rest.substr(0, comma);
        if (isValidInterfaceName(prefix))
          config.interfacePrefixes.emplace_back(prefix);
        else
          log->warn("config interfacePrefix: '{}' is not an interface name prefix; ignored", prefix);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (key == "failsafeInboundHostPorts" || key == "failsafeOutboundHostPorts") {
      auto ports = parseFailsafePorts(value);
      if (!ports)
        log->warn("config {}: {}", key, ports.error().toString());
      else
        (key == "failsafeInboundHostPorts" ? config.failsafeInbound : config.failsafeOutbound) = *ports;
    } else if (key == "defaultEndpointToHostAction") {
      if (value == "Accept" || value == "ACCEPT")
        config.endpointToHost = EndpointToHostAction::kAccept;
      else if (value == "Return" || value == "RETURN")
        config.endpointToHost = EndpointToHostAction::kReturn;
      else
        config.endpointToHost = EndpointToHostAction::kDrop;
    } else if (key == "iptablesFilterDenyAction") {
      config.filterDeny =
          value == "Reject" || value == "REJECT" ? FilterDenyAction::kReject : FilterDenyAction::kDrop;
    } else if (key == "iptablesFilterAllowAction" || key == "iptablesMangleAllowAction") {
      (key == "iptablesFilterAllowAction" ? config.filterAllow : config.mangleAllow) =
          value == "Return" || value == "RETURN" ? AllowAction::kReturn : AllowAction::kAccept;
    } else if (key == "interfaceExclude") {
      auto exclude = parseInterfaceExclude(value);
      if (!exclude)
        log->warn("config {}; keeping the previous value", exclude.error().toString());
      else
        interfaceExclude = *exclude;
    } else if (key == "iptablesBackend") {
      backend = value == "NFT" || value == "nft"         ? Backend::kNft
                : value == "Legacy" || value == "legacy" ? Backend::kLegacy
                                                         : Backend::kAuto;
    } else if (key == "chainInsertMode") {
      appendHooks = value == "Append" || value == "append";
      for (auto& f : families)
        for (const auto& hook : hooks()) f.table(hook.table).setHook(hook.builtin, hook.target, appendHooks);
    } else if (key == "logPrefix") {
      config.logPrefix = value;
    } else if (key == "allowVXLANPacketsFromWorkloads" || key == "allowIPIPPacketsFromWorkloads" ||
               key == "disableConntrackInvalidCheck") {
      const bool on = value == "true" || value == "True";
      if (key == "disableConntrackInvalidCheck")
        config.dropInvalid = !on;
      else
        (key == "allowVXLANPacketsFromWorkloads" ? config.allowVxlanFromWorkloads
                                                 : config.allowIpipFromWorkloads) = on;
    } else if (key == "serviceLoopPrevention") {
      config.serviceLoop = value == "Reject"     ? RenderConfig::ServiceLoop::kReject
                           : value == "Disabled" ? RenderConfig::ServiceLoop::kDisabled
                                                 : RenderConfig::ServiceLoop::kDrop;
    } else if (key == "serviceLoopPreventionCIDRs") {
      config.serviceLoopCidrs.clear();
      for (std::string_view rest = value; !rest.empty();) {
        const auto comma = rest.find(',');
        const auto cidr = rest.substr(0, comma);
        // Only what iptables takes as -d: an address with an optional length.
        if (!cidr.empty() && cidr.find_first_not_of("0123456789abcdefABCDEF.:/") == std::string_view::npos)
          config.serviceLoopCidrs.emplace_back(cidr);
        else if (!cidr.empty())
          log->warn("config serviceLoopPreventionCIDRs: '{}' is not a CIDR; ignored", cidr);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (key == "ipv6Support") {
      ipv6 = value != "false" && value != "False";
    } else if (isNatConfigKey(key)) {
      if (auto r = setNatConfig(key, value, config); !r)
        log->warn("{}; keeping the previous value", r.error().toString());
    }
  }
  int refresh = static_cast<int>(refreshInterval.count());
  number("iptablesRefreshInterval", refresh);
  refreshInterval = std::chrono::seconds(refresh);
  number("iptablesLockTimeout", lockTimeout);
  int vxlanPort = config.vxlanPort;
  number("vxlanPort", vxlanPort);
  if (vxlanPort < 1 || vxlanPort > 65535)
    log->warn("config vxlanPort: {} is not a port; keeping {}", vxlanPort, config.vxlanPort);
  else
    config.vxlanPort = vxlanPort;
  int maxSet = 1048576;
  number("maxIpSetSize", maxSet);
  for (auto& f : families) f.sets.setMaxElements(static_cast<std::uint32_t>(maxSet));
  markAllDirty();
}

void Driver::State::markAllDirty() {
  for (const auto& [k, v] : policies) dirtyPolicies.insert(k);
  for (const auto& [k, v] : profiles) dirtyProfiles.insert(k);
  for (const auto& [k, v] : workloads) dirtyWorkloads.insert(k);
  for (const auto& [k, v] : hosts) dirtyHosts.insert(k);
  dispatchDirty = staticDirty = natDirty = true;
}

void Driver::State::updateRefs(const std::string& owner, IpSetRefs refs) {
  auto& old = setRefs[owner];
  for (auto& f : families) {
    for (const auto& [id, named] : refs) f.sets.addReference(id, named);
    for (const auto& [id, named] : old) f.sets.dropReference(id, named);
  }
  old = std::move(refs);
  if (old.empty()) setRefs.erase(owner);
}

// Which interfaces each host endpoint covers: its name, or the interfaces holding one of its
// expected addresses. An endpoint whose interfaces change is re-rendered.
void Driver::State::resolveHostInterfaces() {
  InterfaceAddresses addresses;
  bool listed = false;
  // interfaceExclude: such an interface is never a host endpoint's, by name or by address, and the
  // "*" endpoint leaves it alone (its patterns are matched against the interfaces there are now).
  std::vector<std::string> excluded = interfaceExclude.names;
  if (!interfaceExclude.patterns.empty()) {
    addresses = kernel.interfaceAddresses();
    listed = true;
    for (const auto& [ifname, ips] : addresses)
      if (isExcludedInterface(interfaceExclude, ifname) &&
          std::find(excluded.begin(), excluded.end(), ifname) == excluded.end())
        excluded.push_back(ifname);
  }
  if (excluded != config.excludedInterfaces) {
    config.excludedInterfaces = std::move(excluded);
    dispatchDirty = true;
  }
  std::set<std::string> claimed;
  std::map<std::string, std::vector<std::string>> resolved;
  for (const auto& [key, hep] : hosts) {  // sorted by id: the lowest id claims an interface first
    const auto& e = hep.second;
    auto& interfaces = resolved[key];
    if (!e.name().empty()) {
      if (e.name() != "*" && !isValidInterfaceName(e.name()))
        log->error("host endpoint {}: interface name '{}' is not valid; left out", key, e.name());
      else if (e.name() != "*" && isExcludedInterface(interfaceExclude, e.name()))
        log->warn("host endpoint {}: interface '{}' is excluded (interfaceExclude); left out", key, e.name());
      else if (claimed.insert(e.name()).second)
        interfaces.push_back(e.name());
      continue;
    }
    if (!listed) {
      addresses = kernel.interfaceAddresses();
      listed = true;
    }
    std::set<std::string> expected;
    for (const auto* list : {&e.expected_ipv4_addrs(), &e.expected_ipv6_addrs()})
      for (const auto& ip : *list) expected.insert(canonicalMember(ip, IpSetType::kNet));
    for (const auto& [ifname, ips] : addresses) {
      if (isExcludedInterface(interfaceExclude, ifname)) continue;
      const bool match =
          std::any_of(ips.begin(), ips.end(), [&](const auto& ip) { return expected.count(ip) != 0; });
      if (match && claimed.insert(ifname).second) interfaces.push_back(ifname);
    }
    if (interfaces.empty())
      log->info("host endpoint {}: no interface holds its expected addresses (yet)", key);
  }
  for (const auto& [key, interfaces] : resolved) {
    auto it = hostInterfaces.find(key);
    if (it == hostInterfaces.end() || it->second != interfaces) {
      dirtyHosts.insert(key);
      dispatchDirty = true;
    }
  }
  for (const auto& [key, interfaces] : hostInterfaces)
    if (resolved.count(key) == 0) dirtyHosts.insert(key);
  hostInterfaces = std::move(resolved);
}

void Driver::State::render() {
  if (dispatchDirty || !dirtyHosts.empty()) resolveHostInterfaces();
  for (const auto& key : dirtyPolicies) {
    auto it = policies.find(key);
    IpSetRefs refs;
    if (it != policies.end()) collectIpSetIds(it->second.second, refs);
    updateRefs("policy:" + key, std::move(refs));
    for (Family& f : families) {
      std::vector<std::pair<TableKind, Chain>> chains;
      if (it != policies.end()) {
        const auto& [id, policy] = it->second;
        // doNotTrack policies run in raw, preDNAT ones in mangle, the rest in filter.
        const TableKind kind = policy.untracked()  ? TableKind::kRaw
                               : policy.pre_dnat() ? TableKind::kMangle
                                                   : TableKind::kFilter;
        chains = inTable(kind, renderPolicy(id, policy, f.family, config));
      }
      f.own("policy:" + key, std::move(chains));
    }
  }
  for (const auto& key : dirtyProfiles) {
    auto it = profiles.find(key);
    IpSetRefs refs;
    if (it != profiles.end()) collectIpSetIds(it->second, refs);
    updateRefs("profile:" + key, std::move(refs));
    for (Family& f : families)
      f.own("profile:" + key,
            it == profiles.end()
                ? std::vector<std::pair<TableKind, Chain>>{}
                : inTable(TableKind::kFilter, renderProfile(key, it->second, f.family, config)));
  }
  for (const auto& key : dirtyWorkloads) {
    auto it = workloads.find(key);
    rejectedWorkloads.erase(key);
    if (it != workloads.end() && !isValidInterfaceName(it->second.second.interface_name())) {
      // Programming it would make iptables-restore reject the whole batch.
      rejectedWorkloads[key] = "interface name '" + it->second.second.interface_name() + "' is not valid";
      log->error("workload endpoint {}: {}", key, rejectedWorkloads[key]);
      it = workloads.end();
    }
    for (Family& f : families)
      f.own("workload:" + key,
            it == workloads.end()
                ? std::vector<std::pair<TableKind, Chain>>{}
                : inTable(TableKind::kFilter, renderWorkloadEndpoint(it->second.second, f.family, config)));
  }
  for (const auto& key : dirtyHosts) {
    auto it = hosts.find(key);
    for (Family& f : families) {
      std::vector<std::pair<TableKind, Chain>> chains;
      if (it != hosts.end())
        for (const auto& ifname : hostInterfaces[key]) {
          auto more = inTables(renderHostEndpoint(it->second.second, ifname, f.family, config));
          std::move(more.begin(), more.end(), std::back_inserter(chains));
        }
      f.own("host:" + key, std::move(chains));
    }
  }
  if (dispatchDirty) {
    std::vector<std::string> interfaces;
    for (const auto& [key, wep] : workloads)
      if (rejectedWorkloads.count(key) == 0) interfaces.push_back(wep.second.interface_name());
    std::vector<HostDispatchEntry> entries;
    for (const auto& [key, hep] : hosts)
      for (const auto& ifname : hostInterfaces[key]) entries.push_back(hostDispatchEntry(hep.second, ifname));
    for (Family& f : families) {
      f.own("workload-dispatch", inTable(TableKind::kFilter, renderWorkloadDispatch(interfaces, config)));
      f.own("host-dispatch", inTables(renderHostDispatch(entries, config)));
    }
  }
  if (staticDirty)
    for (Family& f : families) f.own("static", inTables(renderStaticChains(f.family, config)));
  if (natDirty) renderNat();
  dirtyPolicies.clear();
  dirtyProfiles.clear();
  dirtyWorkloads.clear();
  dirtyHosts.clear();
  dispatchDirty = staticDirty = natDirty = false;
}

// Outgoing NAT, per family: while some pool masquerades, the two pool sets (members as deltas,
// through IpSets), the nat chains and the jump in POSTROUTING; otherwise none of them. The
// sets are made before the transaction that first uses them and destroyed after the one that
// stops using them, as every set is.
void Driver::State::renderNat() {
  for (Family& f : families) {
    auto sets = pools.sets(f.family);
    const bool masquerading = !sets.masq.empty();
    if (masquerading) {
      f.sets.replace(std::string(names::kAllIpamPoolsSet), IpSetType::kNet, sets.all);
      f.sets.replace(std::string(names::kMasqIpamPoolsSet), IpSetType::kNet, sets.masq);
    } else {
      f.sets.remove(std::string(names::kAllIpamPoolsSet));
      f.sets.remove(std::string(names::kMasqIpamPoolsSet));
    }
    f.own("nat-outgoing", inTables(renderNatOutgoing(masquerading, f.family, config)));
    f.nat.setHook("POSTROUTING", masquerading ? std::string(names::kNatPostrouting) : std::string(),
                  appendHooks);
  }
}

}  // namespace tartan::dataplane::iptables
