// Endpoint, dispatch and top-level chains; see tartan/dataplane/iptables/render.hpp.
#include "tartan/dataplane/iptables/render.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <regex>

namespace tartan::dataplane::iptables {

namespace pb = tartan::dataplane::proto;

namespace {

const std::string kAcceptMark = fmt::format("{:#x}/{:#x}", kMarkAccept, kMarkAccept);
const std::string kNoPassMark = fmt::format("{:#x}/{:#x}", 0, kMarkPass);
const std::string kClearMarks = fmt::format("{:#x}/{:#x}", 0, kMarkAccept | kMarkPass);
const std::string kClearPass = fmt::format("{:#x}/{:#x}", 0, kMarkPass);
const std::string kNotAccepted = fmt::format("{:#x}/{:#x}", 0, kMarkAccept);
const std::string kNoVerdict = fmt::format("{:#x}/{:#x}", 0, kMarkAccept | kMarkPass);

enum class Direction { kInbound, kOutbound };

struct EndpointChainSpec {
  std::string name;
  Direction direction = Direction::kInbound;
  bool conntrack = true;         // accept established/related, drop invalid first
  bool acceptUntracked = false;  // accept packets a doNotTrack policy let through
  std::string failsafeChain;     // jumped to before any policy
  bool tierDefaultDrop = true;   // untracked and preDNAT tiers never drop by default
  bool profiles = true;          // evaluate profiles, then drop
  std::string deny = "-j DROP";  // the filter table's deny (filterDenyTarget); raw and mangle drop
  AllowAction allow = AllowAction::kAccept;  // of established (and doNotTrack-allowed) packets
  bool dropInvalid = true;                   // disableConntrackInvalidCheck false
  // From-workload chains only: encapsulated packets a workload sends are denied before policy
  // (0: VXLAN allowed).
  int dropVxlanPort = 0;
  bool dropIpip = false;
};

// A host endpoint chain that runs before conntrack (doNotTrack in raw, preDNAT in mangle): no
// conntrack state to test, the failsafe ports first, and no default drop or profiles, since
// unmatched packets go on to normal policy.
EndpointChainSpec beforeConntrack(std::string name, Direction direction) {
  EndpointChainSpec spec{std::move(name), direction};
  spec.conntrack = false;
  spec.failsafeChain =
      std::string(direction == Direction::kInbound ? names::kFailsafeIn : names::kFailsafeOut);
  spec.tierDefaultDrop = false;
  spec.profiles = false;
  return spec;
}

Chain endpointChain(const EndpointChainSpec& spec,
                    const google::protobuf::RepeatedPtrField<pb::TierInfo>& tiers,
                    const google::protobuf::RepeatedPtrField<std::string>& profileIds) {
  Chain chain{spec.name, {}};
  auto& rules = chain.rules;
  // Under Return, the accept bit tells the chain that called us that the packet was allowed.
  auto allow = [&](const std::string& match) {
    if (spec.allow == AllowAction::kReturn) rules.push_back({match, "-j MARK --set-xmark " + kAcceptMark});
    rules.push_back({match, allowTarget(spec.allow)});
  };
  if (spec.conntrack) {
    allow("-m conntrack --ctstate RELATED,ESTABLISHED");
    if (spec.dropInvalid) rules.push_back({"-m conntrack --ctstate INVALID", spec.deny});
  }
  if (spec.acceptUntracked) allow("-m conntrack --ctstate UNTRACKED");
  rules.push_back({"", "-j MARK --set-xmark " + kClearMarks});
  if (!spec.failsafeChain.empty()) rules.push_back({"", "-j " + spec.failsafeChain});
  // Felix's place for them: after the conntrack rules, so the replies of an allowed flow still
  // pass, and before every policy, so no Allow can let a tunnel out.
  if (spec.dropVxlanPort != 0)
    rules.push_back({fmt::format("-p udp -m udp --dport {}", spec.dropVxlanPort), spec.deny});
  if (spec.dropIpip) rules.push_back({"-p 4", spec.deny});
  const bool inbound = spec.direction == Direction::kInbound;
  bool firstTier = true;
  for (const pb::TierInfo& tier : tiers) {
    const auto& policies = inbound ? tier.ingress_policies() : tier.egress_policies();
    if (policies.empty()) continue;  // a tier with no policy for this direction does not isolate it
    if (!firstTier) rules.push_back({"", "-j MARK --set-xmark " + kClearPass});
    firstTier = false;
    // Each policy runs only while no policy of the tier has decided (neither the accept nor the
    // pass bit set), and the tier returns once, after its last policy, if one allowed. Felix
    // returns after every policy instead; this way a packet that no policy matches — every new
    // packet the tier does not allow early — costs two evaluations per policy rather than three,
    // and an allowed one costs one per policy left in the tier.
    for (const auto& policy : policies)
      rules.push_back(
          {"-m mark --mark " + kNoVerdict, "-j " + names::policyChain(inbound, tier.name(), policy)});
    rules.push_back({"-m mark --mark " + kAcceptMark, "-j RETURN"});
    if (spec.tierDefaultDrop && tier.default_action() == pb::TIER_DEFAULT_ACTION_DENY)
      rules.push_back({"-m mark --mark " + kNoPassMark, spec.deny});
  }
  if (spec.profiles) {
    for (const auto& profile : profileIds) {
      rules.push_back({"", "-j " + names::profileChain(inbound, profile)});
      rules.push_back({"-m mark --mark " + kAcceptMark, "-j RETURN"});
    }
    rules.push_back({"", spec.deny});  // nothing allowed it
  }
  return chain;
}

bool anyPolicies(const google::protobuf::RepeatedPtrField<pb::TierInfo>& tiers) {
  return std::any_of(tiers.begin(), tiers.end(), [](const pb::TierInfo& t) {
    return !t.ingress_policies().empty() || !t.egress_policies().empty();
  });
}

std::vector<std::string> sortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string endpointToHostAction(EndpointToHostAction action) {
  switch (action) {
    case EndpointToHostAction::kAccept:
      return "-j ACCEPT";
    case EndpointToHostAction::kReturn:
      return "-j RETURN";
    case EndpointToHostAction::kDrop:
      break;
  }
  return "-j DROP";
}

// ACCEPT rules for `ports` as destination (or source) ports: one multiport rule per protocol and
// 15 ports rather than one rule per port, since every new packet through a host endpoint walks
// the failsafe chain before any policy.
void appendFailsafeRules(Chain& chain, const std::vector<FailsafePort>& ports, bool source) {
  constexpr std::size_t kMultiportPorts = 15;
  std::vector<std::pair<std::string, std::vector<int>>> byProtocol;  // in order of first appearance
  for (const auto& p : ports) {
    auto it = std::find_if(byProtocol.begin(), byProtocol.end(),
                           [&](const auto& e) { return e.first == p.protocol; });
    if (it == byProtocol.end()) it = byProtocol.insert(byProtocol.end(), {p.protocol, {}});
    if (std::find(it->second.begin(), it->second.end(), p.port) == it->second.end())
      it->second.push_back(p.port);
  }
  for (const auto& [protocol, list] : byProtocol) {
    for (std::size_t at = 0; at < list.size(); at += kMultiportPorts) {
      const std::size_t n = std::min(kMultiportPorts, list.size() - at);
      std::string match;
      if (n == 1) {
        match = fmt::format("-p {} -m {} --{} {}", protocol, protocol, source ? "sport" : "dport", list[at]);
      } else {
        match = fmt::format("-p {} -m multiport --{} ", protocol, source ? "sports" : "dports");
        for (std::size_t i = 0; i < n; ++i) match += (i ? "," : "") + std::to_string(list[at + i]);
      }
      chain.rules.push_back({match, "-j ACCEPT"});
    }
  }
}

Chain failsafeChain(std::string_view name, const std::vector<FailsafePort>& ports) {
  Chain chain{std::string(name), {}};
  appendFailsafeRules(chain, ports, false);
  return chain;
}

// IPv6 neighbour discovery (133-136: router solicitation and advertisement, neighbour solicitation
// and advertisement) and multicast listener discovery (130-132, 143: MLD-snooping switches deliver
// solicited-node multicast only to listeners that reported) on host interfaces. Conntrack leaves
// them untracked, so a host endpoint chain's established rule never accepts them: without these
// rules a host endpoint under policy cuts its interface off IPv6 altogether — failsafe ports and
// forwarded traffic included — as soon as a neighbour has to be resolved or confirmed again. They
// are link plumbing, not a service, so they pass before any host endpoint policy (normal,
// doNotTrack or preDNAT); workload interfaces keep their own, narrower list (tartan-wl-to-host).
void acceptNeighbourDiscovery(Chain& chain, const std::string& target = "-j ACCEPT") {
  for (int type : {130, 131, 132, 133, 134, 135, 136, 143})
    chain.rules.push_back({fmt::format("-p ipv6-icmp -m icmp6 --icmpv6-type {}", type), target});
}

}  // namespace

Result<InterfaceExclude> parseInterfaceExclude(std::string_view text) {
  InterfaceExclude out;
  for (std::string_view rest = text; !rest.empty();) {
    const auto comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.size() >= 2 && entry.front() == '/' && entry.back() == '/') {
      const std::string pattern(entry.substr(1, entry.size() - 2));
      try {
        std::regex compiled(pattern);
      } catch (const std::regex_error&) {
        return makeError("interfaceExclude", std::string(entry), "is not a regular expression");
      }
      out.patterns.push_back(pattern);
    } else if (isValidInterfaceName(entry)) {
      out.names.emplace_back(entry);
    } else {
      return makeError("interfaceExclude", std::string(entry),
                       "is neither an interface name nor a /regular expression/");
    }
  }
  return out;
}

bool isExcludedInterface(const InterfaceExclude& exclude, std::string_view name) {
  if (std::find(exclude.names.begin(), exclude.names.end(), name) != exclude.names.end()) return true;
  return std::any_of(exclude.patterns.begin(), exclude.patterns.end(), [&](const std::string& p) {
    return std::regex_search(name.begin(), name.end(), std::regex(p));
  });
}

std::string allowTarget(AllowAction action) {
  return action == AllowAction::kReturn ? "-j RETURN" : "-j ACCEPT";
}

std::vector<FailsafePort> defaultFailsafeInbound() {
  return {{"tcp", 22},   {"udp", 68},   {"tcp", 179},  {"tcp", 2379}, {"tcp", 2380},
          {"tcp", 5473}, {"tcp", 6443}, {"tcp", 6666}, {"tcp", 6667}};
}
std::vector<FailsafePort> defaultFailsafeOutbound() {
  return {{"udp", 53},   {"udp", 67},   {"tcp", 179},  {"tcp", 2379}, {"tcp", 2380},
          {"tcp", 5473}, {"tcp", 6443}, {"tcp", 6666}, {"tcp", 6667}};
}

Result<std::vector<FailsafePort>> parseFailsafePorts(std::string_view text) {
  std::vector<FailsafePort> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) continue;
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos)
      return makeError("config", "failsafe ports", "entry '" + std::string(entry) + "' is not protocol:port");
    std::string protocol(entry.substr(0, colon));
    std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const auto portText = entry.substr(colon + 1);
    int port = 0;
    const auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || end != portText.data() + portText.size() || port < 1 || port > 65535 ||
        (protocol != "tcp" && protocol != "udp" && protocol != "sctp"))
      return makeError("config", "failsafe ports", "entry '" + std::string(entry) + "' is not protocol:port");
    out.push_back({protocol, port});
  }
  return out;
}

bool isValidInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '"' || c == '+' || c == '!' ||
           c == '\'' || static_cast<unsigned char>(c) < 0x20;
  });
}

std::vector<Chain> renderWorkloadEndpoint(const pb::WorkloadEndpoint& endpoint, IpFamily /*family*/,
                                          const RenderConfig& config) {
  const std::string tw = names::toWorkloadChain(endpoint.interface_name());
  const std::string fw = names::fromWorkloadChain(endpoint.interface_name());
  const std::string deny = filterDenyTarget(config);
  if (endpoint.state() == "inactive") return {Chain{tw, {{"", deny}}}, Chain{fw, {{"", deny}}}};
  EndpointChainSpec to{tw, Direction::kInbound};
  to.deny = deny;
  to.allow = config.filterAllow;
  to.dropInvalid = config.dropInvalid;
  EndpointChainSpec from{fw, Direction::kOutbound};
  from.deny = deny;
  from.allow = config.filterAllow;
  from.dropInvalid = config.dropInvalid;
  from.dropVxlanPort = config.allowVxlanFromWorkloads ? 0 : config.vxlanPort;
  from.dropIpip = !config.allowIpipFromWorkloads;
  return {endpointChain(to, endpoint.tiers(), endpoint.profile_ids()),
          endpointChain(from, endpoint.tiers(), endpoint.profile_ids())};
}

namespace {
// Calico: "Host endpoints with interfaceName: * do not support untracked policy" — Felix leaves
// the all-interfaces endpoint out of the raw table's dispatch, so doNotTrack policies selecting
// it have no effect. Tartan does the same, so that such a policy means what it means in Calico.
bool appliesUntracked(const pb::HostEndpoint& endpoint, std::string_view interface) {
  return interface != "*" && anyPolicies(endpoint.untracked_tiers());
}
}  // namespace

HostDispatchEntry hostDispatchEntry(const pb::HostEndpoint& endpoint, std::string interface) {
  const bool untracked = appliesUntracked(endpoint, interface);
  return {std::move(interface), anyPolicies(endpoint.forward_tiers()), untracked,
          anyPolicies(endpoint.pre_dnat_tiers())};
}

TableChains renderHostEndpoint(const pb::HostEndpoint& endpoint, const std::string& ifname,
                               IpFamily /*family*/, const RenderConfig& config) {
  TableChains out;
  const bool untracked = appliesUntracked(endpoint, ifname);
  const std::string deny = filterDenyTarget(config);
  // Filter: normal policy with the failsafe ports first, so no policy can lock the node out.
  EndpointChainSpec fh{names::fromHostChain(ifname), Direction::kInbound};
  fh.failsafeChain = std::string(names::kFailsafeIn);
  fh.acceptUntracked = untracked;
  fh.deny = deny;
  fh.allow = config.filterAllow;
  fh.dropInvalid = config.dropInvalid;
  EndpointChainSpec th{names::toHostChain(ifname), Direction::kOutbound};
  th.failsafeChain = std::string(names::kFailsafeOut);
  th.acceptUntracked = untracked;
  th.deny = deny;
  th.allow = config.filterAllow;
  th.dropInvalid = config.dropInvalid;
  out.filter.push_back(endpointChain(fh, endpoint.tiers(), endpoint.profile_ids()));
  out.filter.push_back(endpointChain(th, endpoint.tiers(), endpoint.profile_ids()));
  if (anyPolicies(endpoint.forward_tiers())) {
    // Forwarded traffic: applyOnForward policies only; no profiles, as in Calico.
    EndpointChainSpec fhfw{names::fromHostForwardChain(ifname), Direction::kInbound};
    fhfw.profiles = false;
    fhfw.deny = deny;
    fhfw.allow = config.filterAllow;
    fhfw.dropInvalid = config.dropInvalid;
    EndpointChainSpec thfw{names::toHostForwardChain(ifname), Direction::kOutbound};
    thfw.profiles = false;
    thfw.deny = deny;
    thfw.allow = config.filterAllow;
    thfw.dropInvalid = config.dropInvalid;
    out.filter.push_back(endpointChain(fhfw, endpoint.forward_tiers(), {}));
    out.filter.push_back(endpointChain(thfw, endpoint.forward_tiers(), {}));
  }
  if (untracked) {
    // doNotTrack policy, in raw.
    out.raw.push_back(endpointChain(beforeConntrack(names::fromHostChain(ifname), Direction::kInbound),
                                    endpoint.untracked_tiers(), {}));
    out.raw.push_back(endpointChain(beforeConntrack(names::toHostChain(ifname), Direction::kOutbound),
                                    endpoint.untracked_tiers(), {}));
  }
  if (anyPolicies(endpoint.pre_dnat_tiers())) {
    out.mangle.push_back(endpointChain(beforeConntrack(names::fromHostChain(ifname), Direction::kInbound),
                                       endpoint.pre_dnat_tiers(), {}));
  }
  return out;
}

std::vector<Chain> renderWorkloadDispatch(std::vector<std::string> interfaces, const RenderConfig& config) {
  interfaces = sortedUnique(std::move(interfaces));
  // Every packet to or from a workload walks the dispatch chain before it reaches the endpoint's
  // conntrack rule, so past a few endpoints the dispatch is a two-level tree (as Felix's): the top
  // chain matches the workload prefix plus one more character ("cali3+") and goes to a child
  // chain holding only the interfaces that start so. Interface names are hashes, so the children
  // are even. Interfaces without a workload prefix are never grouped (their group would catch
  // host interfaces).
  constexpr std::size_t kFlatLimit = 16;
  std::map<std::string, std::vector<std::string>> groups;  // "" = not grouped
  for (const auto& ifname : interfaces) {
    std::size_t prefix = 0;
    for (const auto& p : config.interfacePrefixes)
      if (ifname.starts_with(p) && ifname.size() > p.size()) prefix = std::max(prefix, p.size());
    const bool grouped = interfaces.size() > kFlatLimit && prefix > 0;
    groups[grouped ? ifname.substr(0, prefix + 1) : std::string()].push_back(ifname);
  }
  std::vector<Chain> out;
  Chain from{std::string(names::kFromWorkloadDispatch), {}};
  Chain to{std::string(names::kToWorkloadDispatch), {}};
  auto direct = [](Chain& f, Chain& t, const std::string& ifname) {
    f.rules.push_back({"-i " + ifname, "-g " + names::fromWorkloadChain(ifname)});
    t.rules.push_back({"-o " + ifname, "-g " + names::toWorkloadChain(ifname)});
  };
  for (const auto& [key, members] : groups) {
    if (key.empty() || members.size() == 1) {
      for (const auto& ifname : members) direct(from, to, ifname);
      continue;
    }
    Chain childFrom{names::fromWorkloadDispatchChild(key), {}};
    Chain childTo{names::toWorkloadDispatchChild(key), {}};
    for (const auto& ifname : members) direct(childFrom, childTo, ifname);
    // Reached by goto: falling off the end would skip the top chain's drop.
    childFrom.rules.push_back({"", filterDenyTarget(config)});
    childTo.rules.push_back({"", filterDenyTarget(config)});
    from.rules.push_back({"-i " + key + "+", "-g " + childFrom.name});
    to.rules.push_back({"-o " + key + "+", "-g " + childTo.name});
    out.push_back(std::move(childFrom));
    out.push_back(std::move(childTo));
  }
  // A workload interface no endpoint claims (yet, or any more) passes nothing.
  for (const auto& prefix : config.interfacePrefixes) {
    from.rules.push_back({"-i " + prefix + "+", filterDenyTarget(config)});
    to.rules.push_back({"-o " + prefix + "+", filterDenyTarget(config)});
  }
  out.insert(out.begin(), {std::move(from), std::move(to)});
  return out;
}

TableChains renderHostDispatch(std::vector<HostDispatchEntry> endpoints, const RenderConfig& config) {
  // Specific interfaces first, the "*" endpoint last, so it catches only the rest — but never
  // loopback (local processes talk over it) or workload interfaces (workload policy covers them).
  std::sort(endpoints.begin(), endpoints.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.interface == "*", a.interface) < std::make_pair(b.interface == "*", b.interface);
  });
  auto dispatch = [&](std::string_view name, const char* flag, auto chainFor, auto wanted) {
    Chain chain{std::string(name), {}};
    for (const auto& e : endpoints) {
      if (!wanted(e)) continue;
      if (e.interface == "*") {
        chain.rules.push_back({std::string(flag) + " lo", "-j RETURN"});
        for (const auto& excluded : config.excludedInterfaces)
          chain.rules.push_back({std::string(flag) + " " + excluded, "-j RETURN"});
        for (const auto& p : config.interfacePrefixes)
          chain.rules.push_back({std::string(flag) + " " + p + "+", "-j RETURN"});
        chain.rules.push_back({"", "-g " + chainFor(e.interface)});
      } else {
        chain.rules.push_back({std::string(flag) + " " + e.interface, "-g " + chainFor(e.interface)});
      }
    }
    return chain;
  };
  auto all = [](const HostDispatchEntry&) { return true; };
  TableChains out;
  out.filter.push_back(dispatch(names::kFromHostDispatch, "-i", names::fromHostChain, all));
  out.filter.push_back(dispatch(names::kToHostDispatch, "-o", names::toHostChain, all));
  auto fwd = [](const HostDispatchEntry& e) { return e.hasForward; };
  out.filter.push_back(dispatch(names::kFromHostForwardDispatch, "-i", names::fromHostForwardChain, fwd));
  out.filter.push_back(dispatch(names::kToHostForwardDispatch, "-o", names::toHostForwardChain, fwd));
  auto untracked = [](const HostDispatchEntry& e) { return e.hasUntracked; };
  out.raw.push_back(dispatch(names::kFromHostDispatch, "-i", names::fromHostChain, untracked));
  out.raw.push_back(dispatch(names::kToHostDispatch, "-o", names::toHostChain, untracked));
  auto preDnat = [](const HostDispatchEntry& e) { return e.hasPreDnat; };
  out.mangle.push_back(dispatch(names::kFromHostDispatch, "-i", names::fromHostChain, preDnat));
  return out;
}

TableChains renderStaticChains(IpFamily family, const RenderConfig& config) {
  TableChains out;
  const std::string clear = "-j MARK --set-xmark " + kClearMarks;
  const std::string acceptIfMarked = "-m mark --mark " + kAcceptMark;
  const std::string established = "-m conntrack --ctstate RELATED,ESTABLISHED";
  const std::string filterAllow = allowTarget(config.filterAllow);
  const std::string mangleAllow = allowTarget(config.mangleAllow);
  // The accept bit on a packet entering the filter table says that a doNotTrack policy (raw) or a
  // preDNAT policy (mangle) of its host endpoint allowed it. Calico's rule: such a packet skips
  // every later host-endpoint policy (preDNAT and normal), but never workload policy — so the
  // filter chains test the bit before their first clear, and workload chains clear it themselves.
  // The raw chains clear every bit first, so no other value can reach here.

  // filter INPUT: workload traffic to the host goes (goto) to tartan-wl-to-host, so that its
  // RETURN leaves tartan-INPUT; everything else meets the host endpoints.
  Chain input{std::string(names::kFilterInput), {}};
  for (const auto& p : config.interfacePrefixes)
    input.rules.push_back({"-i " + p + "+", "-g " + std::string(names::kWorkloadToHost)});
  if (family == IpFamily::kV6) acceptNeighbourDiscovery(input, filterAllow);
  input.rules.push_back({acceptIfMarked, filterAllow});
  input.rules.push_back({"", clear});
  input.rules.push_back({"", "-j " + std::string(names::kFromHostDispatch)});
  input.rules.push_back({acceptIfMarked, filterAllow});

  Chain toHost{std::string(names::kWorkloadToHost), {}};
  if (family == IpFamily::kV6) {
    // Router solicitation/advertisement and neighbour discovery must reach the host.
    for (int type : {130, 131, 132, 133, 135, 136})
      toHost.rules.push_back({fmt::format("-p ipv6-icmp -m icmp6 --icmpv6-type {}", type), filterAllow});
  }
  toHost.rules.push_back({"", "-j " + std::string(names::kFromWorkloadDispatch)});
  toHost.rules.push_back({"", endpointToHostAction(config.endpointToHost)});

  // filter FORWARD. Conntrack first: a packet of an established flow to or from a workload is
  // accepted before the dispatch walk and every policy (each endpoint chain would accept it at
  // its top anyway, so the verdict is the same, only cheaper). Only workload traffic: traffic
  // between host interfaces is not ours to accept (a later FORWARD rule of someone else's may
  // mean to drop it), and host endpoints' forward chains accept their established flows
  // themselves. Invalid packets stay the endpoint chains' to drop, for the same reason.
  Chain forward{std::string(names::kFilterForward), {}};
  for (const auto& p : config.interfacePrefixes) {
    forward.rules.push_back({"-i " + p + "+ " + established, filterAllow});
    forward.rules.push_back({"-o " + p + "+ " + established, filterAllow});
  }
  // Keep the accept bit: a preDNAT or doNotTrack allow skips applyOnForward policy (as in Calico).
  forward.rules.push_back({"", "-j MARK --set-xmark " + kClearPass});
  forward.rules.push_back(
      {"-m mark --mark " + kNotAccepted, "-j " + std::string(names::kFromHostForwardDispatch)});
  for (const auto& p : config.interfacePrefixes)
    forward.rules.push_back({"-i " + p + "+", "-j " + std::string(names::kFromWorkloadDispatch)});
  for (const auto& p : config.interfacePrefixes)
    forward.rules.push_back({"-o " + p + "+", "-j " + std::string(names::kToWorkloadDispatch)});
  forward.rules.push_back({"", "-j " + std::string(names::kToHostForwardDispatch)});
  // serviceLoopPrevention, where Felix puts it: after every dispatch, so kube-proxy's DNAT (in
  // nat PREROUTING, before filter) has already moved every packet to a backed service address.
  std::optional<Chain> cidrBlock;
  if (config.serviceLoop != RenderConfig::ServiceLoop::kDisabled) {
    Chain block{std::string(names::kCidrBlock), {}};
    const std::string target =
        config.serviceLoop == RenderConfig::ServiceLoop::kReject ? "-j REJECT" : "-j DROP";
    for (const auto& cidr : sortedUnique(config.serviceLoopCidrs))
      if ((cidr.find(':') != std::string::npos) == (family == IpFamily::kV6))
        block.rules.push_back({"-d " + cidr, target});
    if (!block.rules.empty()) {
      forward.rules.push_back({"", "-j " + block.name});
      cidrBlock = std::move(block);
    }
  }
  forward.rules.push_back({acceptIfMarked, filterAllow});

  // filter OUTPUT: the host may always reach its own workloads (as in Calico).
  Chain output{std::string(names::kFilterOutput), {{acceptIfMarked, filterAllow}, {"", clear}}};
  for (const auto& p : config.interfacePrefixes) output.rules.push_back({"-o " + p + "+", "-j RETURN"});
  if (family == IpFamily::kV6) acceptNeighbourDiscovery(output, filterAllow);
  output.rules.push_back({"", "-j " + std::string(names::kToHostDispatch)});
  output.rules.push_back({acceptIfMarked, filterAllow});

  out.filter = {input,
                toHost,
                forward,
                output,
                failsafeChain(names::kFailsafeIn, config.failsafeInbound),
                failsafeChain(names::kFailsafeOut, config.failsafeOutbound)};
  if (cidrBlock) out.filter.push_back(std::move(*cidrBlock));

  // raw: doNotTrack policies of host endpoints; what they allow skips conntrack.
  auto rawChain = [&](std::string_view name, const char* flag, std::string_view dispatch) {
    Chain chain{std::string(name), {{"", clear}}};
    // IPv6 has no rp_filter sysctl: a workload must not send from an address that is routed
    // elsewhere (another pod's), so the reverse-path check is a rule, as in Felix.
    if (family == IpFamily::kV6 && name == names::kPrerouting)
      for (const auto& p : config.interfacePrefixes)
        chain.rules.push_back({"-i " + p + "+ -m rpfilter --validmark --invert", "-j DROP"});
    for (const auto& p : config.interfacePrefixes)
      chain.rules.push_back({std::string(flag) + " " + p + "+", "-j RETURN"});
    if (family == IpFamily::kV6) acceptNeighbourDiscovery(chain);
    chain.rules.push_back({"", "-j " + std::string(dispatch)});
    chain.rules.push_back({acceptIfMarked, "-j CT --notrack"});
    chain.rules.push_back({acceptIfMarked, "-j ACCEPT"});
    return chain;
  };
  // Before conntrack, a reply cannot be told from a new packet: the failsafe chains of the raw
  // table also let through the replies of failsafe connections (an inbound port as the source
  // port going out, an outbound one coming in), so that a doNotTrack deny cannot cut the node's
  // own failsafe connections in half. They reach the filter table tracked, where conntrack
  // accepts only real replies.
  Chain rawFailsafeIn = failsafeChain(names::kFailsafeIn, config.failsafeInbound);
  appendFailsafeRules(rawFailsafeIn, config.failsafeOutbound, true);
  Chain rawFailsafeOut = failsafeChain(names::kFailsafeOut, config.failsafeOutbound);
  appendFailsafeRules(rawFailsafeOut, config.failsafeInbound, true);
  out.raw = {rawChain(names::kPrerouting, "-i", names::kFromHostDispatch),
             rawChain(names::kRawOutput, "-o", names::kToHostDispatch), std::move(rawFailsafeIn),
             std::move(rawFailsafeOut)};

  // mangle: preDNAT policies of host endpoints, for new flows only, and not for packets a
  // doNotTrack policy already allowed (their accept bit is kept from the raw table).
  Chain mangle{std::string(names::kPrerouting), {{established, mangleAllow}, {acceptIfMarked, mangleAllow}}};
  mangle.rules.push_back({"", clear});
  for (const auto& p : config.interfacePrefixes) mangle.rules.push_back({"-i " + p + "+", "-j RETURN"});
  if (family == IpFamily::kV6) acceptNeighbourDiscovery(mangle, mangleAllow);
  mangle.rules.push_back({"", "-j " + std::string(names::kFromHostDispatch)});
  mangle.rules.push_back({acceptIfMarked, mangleAllow});
  out.mangle = {mangle, failsafeChain(names::kFailsafeIn, config.failsafeInbound)};
  return out;
}

std::vector<Hook> hooks() {
  return {{"filter", "INPUT", std::string(names::kFilterInput)},
          {"filter", "FORWARD", std::string(names::kFilterForward)},
          {"filter", "OUTPUT", std::string(names::kFilterOutput)},
          {"raw", "PREROUTING", std::string(names::kPrerouting)},
          {"raw", "OUTPUT", std::string(names::kRawOutput)},
          {"mangle", "PREROUTING", std::string(names::kPrerouting)}};
}

}  // namespace tartan::dataplane::iptables
