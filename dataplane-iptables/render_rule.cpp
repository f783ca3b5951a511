// One abstract rule to iptables rules; policies and profiles to chains.
//
// A rule's list fields are alternatives (any src net, any port); iptables has no OR within one
// rule, so the renderer emits one iptables rule per combination of alternatives. Every action
// ends evaluation (Allow, Deny, Pass) except Log, so the expansion keeps the meaning.
#include "tartan/common/log.hpp"
#include "tartan/dataplane/iptables/kernel.hpp"
#include "tartan/dataplane/iptables/render.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tartan::dataplane::iptables {

namespace pb = tartan::dataplane::proto;

namespace {

// multiport takes at most 15 ports, a range counting as two.
constexpr int kMultiportSlots = 15;

bool isV6(std::string_view net) { return net.find(':') != std::string_view::npos; }
bool inFamily(std::string_view net, IpFamily family) { return isV6(net) == (family == IpFamily::kV6); }

// "0.0.0.0/0", "::/0" and any other spelling of a zero-length prefix.
bool isWholeFamily(std::string_view net) {
  const std::string canonical = canonicalMember(net, IpSetType::kNet);
  return canonical.ends_with("/0");
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The iptables name of a protocol, or "" if it cannot occur in this family.
std::string protocolName(const pb::Protocol& protocol, IpFamily family) {
  std::string name;
  if (protocol.number_or_name_case() == pb::Protocol::kNumber) {
    // Known protocols by name, so that ICMP fields and ports work the same whichever form came.
    switch (protocol.number()) {
      case 1:
        name = "icmp";
        break;
      case 6:
        name = "tcp";
        break;
      case 17:
        name = "udp";
        break;
      case 58:
        name = "icmpv6";
        break;
      case 132:
        name = "sctp";
        break;
      case 136:
        name = "udplite";
        break;
      default:
        return std::to_string(protocol.number());
    }
  } else {
    name = lower(protocol.name());
  }
  if (name == "icmp") return family == IpFamily::kV4 ? "icmp" : "";
  if (name == "icmpv6" || name == "ipv6-icmp") return family == IpFamily::kV6 ? "ipv6-icmp" : "";
  return name;
}

bool hasProtocol(const pb::Protocol& p) {
  return p.number_or_name_case() != pb::Protocol::NUMBER_OR_NAME_NOT_SET;
}

bool isPortProtocol(std::string_view p) { return p == "tcp" || p == "udp" || p == "sctp" || p == "udplite"; }

std::string portText(const pb::PortRange& range) {
  if (range.first() == range.last()) return std::to_string(range.first());
  return fmt::format("{}:{}", range.first(), range.last());
}

// Splits ports into multiport lists of at most 15 slots.
std::vector<std::string> multiportLists(const google::protobuf::RepeatedPtrField<pb::PortRange>& ports) {
  std::vector<std::string> lists;
  std::string current;
  int used = 0;
  for (const auto& range : ports) {
    const int slots = range.first() == range.last() ? 1 : 2;
    if (used + slots > kMultiportSlots) {
      lists.push_back(current);
      current.clear();
      used = 0;
    }
    if (!current.empty()) current += ',';
    current += portText(range);
    used += slots;
  }
  if (!current.empty()) lists.push_back(current);
  return lists;
}

std::string icmpMatch(const pb::IcmpMatch& icmp, IpFamily family, bool negate) {
  std::string value = std::to_string(icmp.type());
  if (icmp.has_code()) value += "/" + std::to_string(icmp.code());
  if (family == IpFamily::kV4) return fmt::format("-m icmp {}--icmp-type {}", negate ? "! " : "", value);
  return fmt::format("-m icmp6 {}--icmpv6-type {}", negate ? "! " : "", value);
}

struct Side {
  const google::protobuf::RepeatedPtrField<std::string>& nets;
  const google::protobuf::RepeatedPtrField<std::string>& notNets;
  const google::protobuf::RepeatedPtrField<std::string>& sets;
  const google::protobuf::RepeatedPtrField<std::string>& notSets;
  const google::protobuf::RepeatedPtrField<pb::PortRange>& ports;
  const google::protobuf::RepeatedPtrField<pb::PortRange>& notPorts;
  const google::protobuf::RepeatedPtrField<std::string>& namedPorts;
  const google::protobuf::RepeatedPtrField<std::string>& notNamedPorts;
};

Side source(const pb::Rule& r) {
  return {r.src_net(),
          r.not_src_net(),
          r.src_ip_set_ids(),
          r.not_src_ip_set_ids(),
          r.src_ports(),
          r.not_src_ports(),
          r.src_named_port_ip_set_ids(),
          r.not_src_named_port_ip_set_ids()};
}
Side destination(const pb::Rule& r) {
  return {r.dst_net(),
          r.not_dst_net(),
          r.dst_ip_set_ids(),
          r.not_dst_ip_set_ids(),
          r.dst_ports(),
          r.not_dst_ports(),
          r.dst_named_port_ip_set_ids(),
          r.not_dst_named_port_ip_set_ids()};
}

// Adds the matches of one side to `fixed` (ANDed) and returns its alternatives for nets and ports
// (each a fragment, "" meaning "no constraint"). Returns false if the side cannot match.
bool renderSide(const Side& side, bool src, IpFamily family, bool portProtocol, std::string& fixed,
                std::vector<std::string>& netAlternatives, std::vector<std::string>& portAlternatives,
                std::vector<std::string>& exceptions) {
  const char* flag = src ? "-s" : "-d";
  const char* dir = src ? "src" : "dst";
  const char* dir2 = src ? "src,src" : "dst,dst";
  const char* mpFlag = src ? "--source-ports" : "--destination-ports";
  // A /0 is the whole family: as a net it is no constraint at all (iptables would not even show
  // "-s 0.0.0.0/0" when read back), as a notNet it leaves nothing to match.
  bool anyAddress = false;
  for (const auto& net : side.nets) {
    if (!inFamily(net, family)) continue;
    if (isWholeFamily(net)) anyAddress = true;
    netAlternatives.push_back(fmt::format("{} {}", flag, net));
  }
  if (!side.nets.empty() && netAlternatives.empty()) return false;  // only other-family nets
  if (anyAddress) netAlternatives.clear();
  if (netAlternatives.empty()) netAlternatives.emplace_back();
  // Exceptions are returned in their positive form ("-s EXCEPT"); the caller decides whether one
  // fits into the rule as "! -s EXCEPT" or needs the scratch mark.
  for (const auto& net : side.notNets) {
    if (!inFamily(net, family)) continue;
    if (isWholeFamily(net)) return false;
    exceptions.push_back(fmt::format("{} {}", flag, net));
  }
  for (const auto& id : side.sets)
    fixed += fmt::format(" -m set --match-set {} {}", names::ipSet(family, id), dir);
  for (const auto& id : side.notSets)
    fixed += fmt::format(" -m set ! --match-set {} {}", names::ipSet(family, id), dir);
  if ((!side.ports.empty() || !side.notPorts.empty()) && !portProtocol) return false;
  for (const auto& list : multiportLists(side.ports))
    portAlternatives.push_back(fmt::format("-m multiport {} {}", mpFlag, list));
  for (const auto& id : side.namedPorts)
    portAlternatives.push_back(fmt::format("-m set --match-set {} {}", names::ipSet(family, id, true), dir2));
  if (portAlternatives.empty()) portAlternatives.emplace_back();
  for (const auto& list : multiportLists(side.notPorts))
    fixed += fmt::format(" -m multiport ! {} {}", mpFlag, list);
  for (const auto& id : side.notNamedPorts)
    fixed += fmt::format(" -m set ! --match-set {} {}", names::ipSet(family, id, true), dir2);
  return true;
}

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto part : parts) {
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.empty()) continue;
    if (!out.empty()) out += ' ';
    out += part;
  }
  return out;
}

std::string sanitizedLogPrefix(std::string_view prefix) {
  std::string out;
  for (char c : prefix)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':') out += c;
  if (out.size() > 26) out.resize(26);  // --log-prefix takes 29 characters, ": " included
  return out;
}

void appendActions(std::vector<Rule>& out, const std::string& match, pb::RuleAction action,
                   const RenderConfig& config) {
  const std::string acceptMark = fmt::format("{:#x}/{:#x}", kMarkAccept, kMarkAccept);
  const std::string passMark = fmt::format("{:#x}/{:#x}", kMarkPass, kMarkPass);
  switch (action) {
    case pb::RULE_ACTION_UNSPECIFIED:
    case pb::RULE_ACTION_ALLOW:
      out.push_back({match, "-j MARK --set-xmark " + acceptMark});
      out.push_back({"-m mark --mark " + acceptMark, "-j RETURN"});
      return;
    case pb::RULE_ACTION_DENY:
      out.push_back({match, filterDenyTarget(config)});
      return;
    case pb::RULE_ACTION_PASS:
      out.push_back({match, "-j MARK --set-xmark " + passMark});
      out.push_back({"-m mark --mark " + passMark, "-j RETURN"});
      return;
    case pb::RULE_ACTION_LOG:
      out.push_back({match, fmt::format("-j LOG --log-prefix \"{}: \" --log-level 5",
                                        sanitizedLogPrefix(config.logPrefix))});
      return;
    default:
      // An action this driver does not know: fail closed.
      out.push_back({match, filterDenyTarget(config)});
      return;
  }
}

template <class Container>
void collectFrom(const Container& rules, IpSetRefs& out) {
  for (const pb::Rule& r : rules) {
    for (const auto* list :
         {&r.src_ip_set_ids(), &r.not_src_ip_set_ids(), &r.dst_ip_set_ids(), &r.not_dst_ip_set_ids()})
      for (const auto& id : *list) out.emplace(id, false);
    for (const auto* list : {&r.src_named_port_ip_set_ids(), &r.not_src_named_port_ip_set_ids(),
                             &r.dst_named_port_ip_set_ids(), &r.not_dst_named_port_ip_set_ids()})
      for (const auto& id : *list) out.emplace(id, true);
  }
}

bool validPorts(const google::protobuf::RepeatedPtrField<pb::PortRange>& ports) {
  return std::all_of(ports.begin(), ports.end(), [](const pb::PortRange& p) {
    return p.first() >= 0 && p.last() <= 65535 && p.first() <= p.last();
  });
}

bool validNets(const google::protobuf::RepeatedPtrField<std::string>& nets) {
  return std::all_of(nets.begin(), nets.end(),
                     [](const std::string& n) { return !canonicalMember(n, IpSetType::kNet).empty(); });
}

bool validProtocol(const pb::Protocol& p) {
  if (p.number_or_name_case() == pb::Protocol::kNumber) return p.number() >= 0 && p.number() <= 255;
  if (p.number_or_name_case() == pb::Protocol::kName) {
    static const std::set<std::string> kNames{"tcp", "udp", "sctp", "icmp", "icmpv6", "ipv6-icmp", "udplite"};
    return kNames.count(lower(p.name())) != 0;
  }
  return true;
}

bool validIcmp(const pb::IcmpMatch& icmp) {
  return icmp.type() >= 0 && icmp.type() <= 255 &&
         (!icmp.has_code() || (icmp.code() >= 0 && icmp.code() <= 255));
}

}  // namespace

std::string invalidRuleReason(const pb::Rule& rule) {
  // The calc graph validates everything; this is defence in depth: one bad rule must not make
  // iptables-restore reject the whole batch (and so every other update with it).
  if (!validProtocol(rule.protocol()) || !validProtocol(rule.not_protocol())) return "unknown protocol";
  for (const auto* nets : {&rule.src_net(), &rule.not_src_net(), &rule.dst_net(), &rule.not_dst_net()})
    if (!validNets(*nets)) return "bad CIDR";
  for (const auto* ports :
       {&rule.src_ports(), &rule.not_src_ports(), &rule.dst_ports(), &rule.not_dst_ports()})
    if (!validPorts(*ports)) return "bad port range";
  if ((rule.has_icmp() && !validIcmp(rule.icmp())) || (rule.has_not_icmp() && !validIcmp(rule.not_icmp())))
    return "bad ICMP type or code";
  return {};
}

std::string filterDenyTarget(const RenderConfig& config) {
  return config.filterDeny == FilterDenyAction::kReject ? "-j REJECT" : "-j DROP";
}

std::vector<Rule> renderRule(const pb::Rule& rule, IpFamily family, const RenderConfig& config) {
  if (const auto reason = invalidRuleReason(rule); !reason.empty()) {
    // Fail closed: an Allow, Pass or Log left out lets nothing more through, but a Deny left out
    // would open what it denied, so it drops everything it could have matched and more.
    const auto action = rule.action();
    const bool opens = action == pb::RULE_ACTION_UNSPECIFIED || action == pb::RULE_ACTION_ALLOW ||
                       action == pb::RULE_ACTION_PASS || action == pb::RULE_ACTION_LOG;
    if (opens) return {};
    return {Rule{"", filterDenyTarget(config)}};
  }
  if (rule.ip_version() == pb::IP_VERSION_V4 && family != IpFamily::kV4) return {};
  if (rule.ip_version() == pb::IP_VERSION_V6 && family != IpFamily::kV6) return {};
  std::string fixed;
  std::string proto;
  if (hasProtocol(rule.protocol())) {
    proto = protocolName(rule.protocol(), family);
    if (proto.empty()) return {};
    fixed += " -p " + proto;
  }
  if (hasProtocol(rule.not_protocol())) {
    const std::string notProto = protocolName(rule.not_protocol(), family);
    if (!notProto.empty()) fixed += " ! -p " + notProto;
  }
  if (rule.has_icmp() || rule.has_not_icmp()) {
    const std::string icmp = family == IpFamily::kV4 ? "icmp" : "ipv6-icmp";
    if (proto != icmp) return {};  // ICMP fields need the family's ICMP protocol
    if (rule.has_icmp()) fixed += " " + icmpMatch(rule.icmp(), family, false);
    if (rule.has_not_icmp()) fixed += " " + icmpMatch(rule.not_icmp(), family, true);
  }
  const bool portProtocol = isPortProtocol(proto);
  std::vector<std::string> srcNets, srcPorts, dstNets, dstPorts, srcExceptions, dstExceptions;
  if (!renderSide(source(rule), true, family, portProtocol, fixed, srcNets, srcPorts, srcExceptions))
    return {};
  if (!renderSide(destination(rule), false, family, portProtocol, fixed, dstNets, dstPorts, dstExceptions))
    return {};

  // iptables takes one -s and one -d per rule. An exception fits inline only when it is the
  // direction's only address match.
  auto fitsInline = [](const std::vector<std::string>& nets, const std::vector<std::string>& exceptions) {
    const bool positive = !(nets.size() == 1 && nets.front().empty());
    return exceptions.empty() || (exceptions.size() == 1 && !positive);
  };
  std::vector<Rule> out;
  if (fitsInline(srcNets, srcExceptions) && fitsInline(dstNets, dstExceptions)) {
    for (const auto& e : srcExceptions) fixed += " ! " + e;
    for (const auto& e : dstExceptions) fixed += " ! " + e;
    for (const auto& sn : srcNets)
      for (const auto& dn : dstNets)
        for (const auto& sp : srcPorts)
          for (const auto& dp : dstPorts)
            appendActions(out, join({sn, dn, fixed, sp, dp}), rule.action(), config);
    return out;
  }
  const std::string scratch = fmt::format("{:#x}/{:#x}", kMarkScratch, kMarkScratch);
  const std::string clear = fmt::format("-j MARK --set-xmark 0/{:#x}", kMarkScratch);
  const std::string onScratch = "-m mark --mark " + scratch;
  out.push_back({"", clear});
  for (const auto& sn : srcNets)
    for (const auto& dn : dstNets)
      for (const auto& sp : srcPorts)
        for (const auto& dp : dstPorts)
          out.push_back({join({sn, dn, fixed, sp, dp}), "-j MARK --set-xmark " + scratch});
  for (const auto* exceptions : {&srcExceptions, &dstExceptions})
    for (const auto& e : *exceptions) out.push_back({join({onScratch, e}), clear});
  appendActions(out, onScratch, rule.action(), config);
  return out;
}

namespace {
template <class Container>
Chain rulesChain(std::string name, const Container& rules, IpFamily family, const RenderConfig& config) {
  Chain chain{std::move(name), {}};
  for (const pb::Rule& rule : rules) {
    if (const auto reason = invalidRuleReason(rule); !reason.empty() && family == IpFamily::kV4)
      log::get("dataplane")
          ->error("chain {}: rule '{}' {}: {}", chain.name, rule.rule_id(),
                  rule.action() == pb::RULE_ACTION_DENY ? "drops everything" : "left out", reason);
    auto rendered = renderRule(rule, family, config);
    chain.rules.insert(chain.rules.end(), rendered.begin(), rendered.end());
  }
  // An Allow or Pass ends with "return if the bit is set", so that no later rule of the chain can
  // undo it. After the chain's last rule the end of the chain returns anyway: leaving it out
  // saves every packet the rule did not match one evaluation (a policy with one Allow rule, the
  // most common shape, is then a single rule on the path of everything it does not allow).
  if (!chain.rules.empty()) {
    const Rule& last = chain.rules.back();
    if (last.action == "-j RETURN" && last.match.rfind("-m mark --mark ", 0) == 0) chain.rules.pop_back();
  }
  return chain;
}
}  // namespace

std::vector<Chain> renderPolicy(const pb::PolicyID& id, const pb::Policy& policy, IpFamily family,
                                const RenderConfig& config) {
  // doNotTrack policies run in raw and preDNAT ones in mangle, where REJECT is not valid: their
  // Deny always drops.
  RenderConfig tableConfig = config;
  if (policy.untracked() || policy.pre_dnat()) tableConfig.filterDeny = FilterDenyAction::kDrop;
  return {
      rulesChain(names::policyChain(true, id.tier(), id.name()), policy.inbound_rules(), family, tableConfig),
      rulesChain(names::policyChain(false, id.tier(), id.name()), policy.outbound_rules(), family,
                 tableConfig)};
}

std::vector<Chain> renderProfile(std::string_view id, const pb::Profile& profile, IpFamily family,
                                 const RenderConfig& config) {
  return {rulesChain(names::profileChain(true, id), profile.inbound_rules(), family, config),
          rulesChain(names::profileChain(false, id), profile.outbound_rules(), family, config)};
}

void collectIpSetIds(const pb::Policy& policy, IpSetRefs& out) {
  collectFrom(policy.inbound_rules(), out);
  collectFrom(policy.outbound_rules(), out);
}
void collectIpSetIds(const pb::Profile& profile, IpSetRefs& out) {
  collectFrom(profile.inbound_rules(), out);
  collectFrom(profile.outbound_rules(), out);
}

}  // namespace tartan::dataplane::iptables
