// Route policy: BGPFilter compilation and evaluation, prefix advertisements, and the speaker's
// per-peer import/export policy (see policy.hpp).
#include "policy.hpp"

#include "config.hpp"

#include "rib/rib.hpp"

#include <algorithm>
#include <charconv>

namespace tartan::bgp::speaker {
namespace {

constexpr std::int64_t kMinPriority = 1;  // Calico's bounds for a route priority
constexpr std::int64_t kMaxPriority = 2147483646;

bool within(const Prefix& outer, const Prefix& inner) {
  if (outer.family() != inner.family() || inner.length() < outer.length()) return false;
  return Prefix(inner.address(), outer.length()) == outer;
}

std::optional<std::uint32_t> parseNumber(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 10) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// Appends a community the way BIRD's `.add` does: only when absent.
template <class T>
void addUnique(std::vector<T>& to, const T& value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

void addCommunity(RouteChanges& changes, const std::variant<std::uint32_t, LargeCommunity>& value) {
  if (const auto* c = std::get_if<std::uint32_t>(&value))
    addUnique(changes.communities, *c);
  else
    addUnique(changes.largeCommunities, std::get<LargeCommunity>(value));
}

// The AS numbers of the path's leading AS_SEQUENCE segments: what BIRD's path mask
// [= a b * =] walks from the left (an AS_SET ends the walk, as it cannot match one number).
std::vector<std::uint32_t> leadingSequence(const AsPath& path, std::size_t want) {
  std::vector<std::uint32_t> out;
  for (const auto& seg : path) {
    if (seg.type != AsSegmentType::kSequence) break;
    for (auto asn : seg.asns) {
      if (out.size() == want) return out;
      out.push_back(asn);
    }
  }
  return out;
}

Result<FilterRule> compileRule(const model::BGPFilterRule& in, Afi family, PolicyDirection direction,
                               PolicyCapabilities capabilities) {
  FilterRule rule;
  const auto fail = [](std::string field, std::string what) {
    return makeError({}, std::move(field), std::move(what));
  };
  const std::uint8_t familyMax = family == Afi::kIpv4 ? 32 : 128;

  if (in.action == "Accept")
    rule.action = RuleAction::kAccept;
  else if (in.action == "Reject")
    rule.action = RuleAction::kReject;
  else
    return fail("action", "must be Accept or Reject, not \"" + in.action + "\"");

  if (!in.cidr.empty()) {
    auto cidr = Prefix::parse(in.cidr);
    if (!cidr || cidr->family() != family)
      return fail("cidr", "\"" + in.cidr + "\" is not a CIDR of this family");
    rule.cidr = cidr;
    if (in.matchOperator == "Equal")
      rule.matchOperator = MatchOperator::kEqual;
    else if (in.matchOperator == "NotEqual")
      rule.matchOperator = MatchOperator::kNotEqual;
    else if (in.matchOperator == "In")
      rule.matchOperator = MatchOperator::kIn;
    else if (in.matchOperator == "NotIn")
      rule.matchOperator = MatchOperator::kNotIn;
    else
      return fail("matchOperator", "must be Equal, NotEqual, In or NotIn with a cidr");
    rule.minLength = cidr->length();
    rule.maxLength = familyMax;
    if (in.prefixLength) {
      // BIRD compares a prefix with a prefix set only by `~`: Equal/NotEqual with a length range
      // is no configuration BIRD would load.
      if (rule.matchOperator == MatchOperator::kEqual || rule.matchOperator == MatchOperator::kNotEqual)
        return fail("prefixLength", "applies only with matchOperator In or NotIn");
      const auto& pl = *in.prefixLength;
      if ((pl.min && (*pl.min < 0 || *pl.min > familyMax)) ||
          (pl.max && (*pl.max < 0 || *pl.max > familyMax)))
        return fail("prefixLength", "lengths must be between 0 and " + std::to_string(familyMax));
      if (pl.min) rule.minLength = std::max<std::uint8_t>(rule.minLength, static_cast<std::uint8_t>(*pl.min));
      if (pl.max) rule.maxLength = std::min<std::uint8_t>(rule.maxLength, static_cast<std::uint8_t>(*pl.max));
    }
  } else if (!in.matchOperator.empty()) {
    return fail("matchOperator", "needs a cidr");
  } else if (in.prefixLength) {
    return fail("prefixLength", "needs a cidr");
  }

  if (in.source == "RemotePeers")
    rule.remotePeersOnly = true;
  else if (!in.source.empty())
    return fail("source", "must be RemotePeers, not \"" + in.source + "\"");

  if (!in.interface.empty()) {
    if (!capabilities.interfaces)
      return fail("interface",
                  "this speaker knows no route's output interface, so a rule on the interface \"" +
                      in.interface + "\" cannot be applied; remove the field");
    rule.interfacePattern = in.interface;
  }

  if (in.peerType == "eBGP")
    rule.peerType = PeerTypeMatch::kEbgp;
  else if (in.peerType == "iBGP")
    rule.peerType = PeerTypeMatch::kIbgp;
  else if (!in.peerType.empty())
    return fail("peerType", "must be eBGP or iBGP, not \"" + in.peerType + "\"");

  if (in.communities) {
    if (in.communities->values.size() != 1)
      return fail("communities.values", "exactly one value must be given");
    auto value = parseCommunity(in.communities->values.front());
    if (!value)
      return fail("communities.values[0]",
                  "\"" + in.communities->values.front() + "\" is not aa:nn or aa:nn:mm");
    if (const auto* c = std::get_if<std::uint32_t>(&*value))
      rule.community = *c;
    else
      rule.largeCommunity = std::get<LargeCommunity>(*value);
  }

  for (const auto& asn : in.asPathPrefix) rule.asPathPrefix.push_back(asn.value);

  if (in.priority) {
    if (*in.priority < kMinPriority || *in.priority > kMaxPriority)
      return fail("priority", "must be between 1 and 2147483646");
    rule.priority = static_cast<std::uint32_t>(*in.priority);
  }

  if (!in.operations.empty() && rule.action != RuleAction::kAccept)
    return fail("operations", "operations may only be used with action Accept");
  for (std::size_t i = 0; i < in.operations.size(); ++i) {
    const auto& op = in.operations[i];
    const std::string field = "operations[" + std::to_string(i) + "]";
    const int set = int(op.addCommunity.has_value()) + int(op.prependASPath.has_value()) +
                    int(op.setPriority.has_value());
    if (set != 1)
      return fail(field, "exactly one of addCommunity, prependASPath and setPriority must be set");
    if (op.addCommunity) {
      auto value = parseCommunity(op.addCommunity->value);
      if (!value)
        return fail(field + ".addCommunity.value",
                    "\"" + op.addCommunity->value + "\" is not aa:nn or aa:nn:mm");
      addCommunity(rule.changes, *value);
    } else if (op.prependASPath) {
      const auto& asns = op.prependASPath->prefix;
      if (asns.empty() || asns.size() > 10)
        return fail(field + ".prependASPath.prefix", "1 to 10 AS numbers");
      // A later prepend goes in front of an earlier one, as BIRD's successive bgp_path.prepend.
      std::vector<std::uint32_t> front;
      for (const auto& a : asns) front.push_back(a.value);
      rule.changes.prepend.insert(rule.changes.prepend.begin(), front.begin(), front.end());
    } else {
      if (op.setPriority->value < kMinPriority || op.setPriority->value > kMaxPriority)
        return fail(field + ".setPriority.value", "must be between 1 and 2147483646");
      // Calico maps the priority to krt_metric; on export that attribute never leaves the node,
      // so there it changes nothing (as in BIRD).
      if (direction == PolicyDirection::kImport)
        rule.changes.priority = static_cast<std::uint32_t>(op.setPriority->value);
    }
  }
  return rule;
}

}  // namespace

const std::vector<FilterRule>& CompiledFilter::rules(PolicyDirection direction, Afi family) const {
  const bool v4 = family == Afi::kIpv4;
  if (direction == PolicyDirection::kImport) return v4 ? importV4 : importV6;
  return v4 ? exportV4 : exportV6;
}

std::optional<std::variant<std::uint32_t, LargeCommunity>> parseCommunity(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto colon = text.find(':');
    parts.push_back(text.substr(0, colon));
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  if (parts.size() == 2) {
    auto a = parseNumber(parts[0], 0xFFFF), b = parseNumber(parts[1], 0xFFFF);
    if (!a || !b) return std::nullopt;
    return std::variant<std::uint32_t, LargeCommunity>(*a << 16 | *b);
  }
  if (parts.size() == 3) {
    auto a = parseNumber(parts[0], 0xFFFFFFFF), b = parseNumber(parts[1], 0xFFFFFFFF),
         c = parseNumber(parts[2], 0xFFFFFFFF);
    if (!a || !b || !c) return std::nullopt;
    return std::variant<std::uint32_t, LargeCommunity>(LargeCommunity{*a, *b, *c});
  }
  return std::nullopt;
}

bool patternMatches(std::string_view pattern, std::string_view text) {
  // Iterative glob with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<CompiledFilter> compileFilter(const model::BGPFilterSpec& spec, PolicyCapabilities capabilities) {
  CompiledFilter out;
  const std::tuple<const char*, const std::vector<model::BGPFilterRule>*, std::vector<FilterRule>*, Afi,
                   PolicyDirection>
      lists[] = {{"spec.exportV4", &spec.exportV4, &out.exportV4, Afi::kIpv4, PolicyDirection::kExport},
                 {"spec.importV4", &spec.importV4, &out.importV4, Afi::kIpv4, PolicyDirection::kImport},
                 {"spec.exportV6", &spec.exportV6, &out.exportV6, Afi::kIpv6, PolicyDirection::kExport},
                 {"spec.importV6", &spec.importV6, &out.importV6, Afi::kIpv6, PolicyDirection::kImport}};
  for (const auto& [path, in, rules, family, direction] : lists) {
    for (std::size_t i = 0; i < in->size(); ++i) {
      auto rule = compileRule((*in)[i], family, direction, capabilities);
      if (!rule) {
        auto error = rule.error();
        error.field = std::string(path) + "[" + std::to_string(i) + "]." + error.field;
        return error;
      }
      rules->push_back(std::move(*rule));
    }
  }
  return out;
}

bool ruleMatches(const FilterRule& rule, const RouteFacts& route) {
  static const PathAttributes kNone;
  const PathAttributes& attrs = route.attrs ? *route.attrs : kNone;
  if (rule.cidr) {
    bool match = false;
    switch (rule.matchOperator) {
      case MatchOperator::kEqual:
        match = route.prefix == *rule.cidr;
        break;
      case MatchOperator::kNotEqual:
        match = route.prefix != *rule.cidr;
        break;
      case MatchOperator::kIn:
      case MatchOperator::kNotIn: {
        const bool in = within(*rule.cidr, route.prefix) && route.prefix.length() >= rule.minLength &&
                        route.prefix.length() <= rule.maxLength;
        match = rule.matchOperator == MatchOperator::kIn ? in : !in;
        break;
      }
    }
    if (!match) return false;
  }
  if (rule.remotePeersOnly && !route.fromPeer) return false;
  if (!rule.interfacePattern.empty() &&
      !(route.interface && patternMatches(rule.interfacePattern, *route.interface)))
    return false;
  if (rule.peerType == PeerTypeMatch::kEbgp && !route.ebgp) return false;
  if (rule.peerType == PeerTypeMatch::kIbgp && route.ebgp) return false;
  if (rule.community) {
    if (!attrs.communities || std::find(attrs.communities->begin(), attrs.communities->end(),
                                        *rule.community) == attrs.communities->end())
      return false;
  }
  if (rule.largeCommunity) {
    const auto& large = attrs.largeCommunities;
    if (!large || std::find(large->begin(), large->end(), *rule.largeCommunity) == large->end()) return false;
  }
  if (!rule.asPathPrefix.empty()) {
    if (!attrs.asPath || leadingSequence(*attrs.asPath, rule.asPathPrefix.size()) != rule.asPathPrefix)
      return false;
  }
  // A route whose priority nobody set has no krt_metric to compare: no match.
  if (rule.priority && route.priority != rule.priority) return false;
  return true;
}

PolicyDecision evaluatePolicy(const std::vector<const CompiledFilter*>& filters, PolicyDirection direction,
                              const RouteFacts& route) {
  for (const auto* filter : filters) {
    if (!filter) continue;
    for (const auto& rule : filter->rules(direction, route.prefix.family())) {
      if (!ruleMatches(rule, route)) continue;
      if (rule.action == RuleAction::kReject) return {Verdict::kReject, {}};
      return {Verdict::kAccept, rule.changes};
    }
  }
  return {};
}

void applyChanges(const RouteChanges& changes, PathAttributes& attrs) {
  if (!changes.communities.empty()) {
    if (!attrs.communities) attrs.communities.emplace();
    for (auto c : changes.communities) addUnique(*attrs.communities, c);
  }
  if (!changes.largeCommunities.empty()) {
    if (!attrs.largeCommunities) attrs.largeCommunities.emplace();
    for (const auto& c : changes.largeCommunities) addUnique(*attrs.largeCommunities, c);
  }
  if (!changes.prepend.empty()) {
    if (!attrs.asPath) attrs.asPath.emplace();
    for (auto it = changes.prepend.rbegin(); it != changes.prepend.rend(); ++it)
      prependAs(*attrs.asPath, *it);
  }
}

std::vector<PrefixCommunities> compilePrefixAdvertisements(const model::BGPConfigurationSpec* node,
                                                           const model::BGPConfigurationSpec* global,
                                                           std::vector<std::string>& warnings) {
  const model::BGPConfigurationSpec* source = node && !node->prefixAdvertisements.empty() ? node : global;
  std::vector<PrefixCommunities> out;
  if (!source) return out;
  const auto lookup = [&](const std::string& name) -> const std::string* {
    for (const auto* spec : {source, node, global}) {
      if (!spec) continue;
      for (const auto& c : spec->communities)
        if (c.name == name) return &c.value;
    }
    return nullptr;
  };
  for (const auto& advertisement : source->prefixAdvertisements) {
    auto cidr = Prefix::parse(advertisement.cidr);
    if (!cidr) {
      warnings.push_back("prefixAdvertisements: bad cidr \"" + advertisement.cidr + "\", skipped");
      continue;
    }
    PrefixCommunities entry{*cidr, {}};
    bool ok = true;
    for (const auto& text : advertisement.communities) {
      auto value = parseCommunity(text);
      if (!value)
        if (const auto* named = lookup(text)) value = parseCommunity(*named);
      if (!value) {
        warnings.push_back("prefixAdvertisements " + advertisement.cidr + ": community \"" + text +
                           "\" is neither a value nor a defined name; advertisement skipped");
        ok = false;
        break;
      }
      addCommunity(entry.changes, *value);
    }
    if (ok) out.push_back(std::move(entry));
  }
  return out;
}

RouteChanges prefixAdvertisementChanges(const std::vector<PrefixCommunities>& advertisements,
                                        const Prefix& prefix) {
  RouteChanges out;
  for (const auto& a : advertisements) {
    if (!within(a.cidr, prefix)) continue;
    for (auto c : a.changes.communities) addUnique(out.communities, c);
    for (const auto& c : a.changes.largeCommunities) addUnique(out.largeCommunities, c);
  }
  return out;
}

namespace {

std::vector<const CompiledFilter*> filtersOf(const SpeakerConfig& config, const PeerSpec& peer) {
  std::vector<const CompiledFilter*> out;
  for (const auto& name : peer.filters) {
    auto it = config.policies.find(name);
    if (it != config.policies.end()) out.push_back(&it->second);
  }
  return out;
}

}  // namespace

namespace {

enum class Scope : std::uint8_t { kNone, kHost, kLink, kRoutable };

// BIRD's ip4_classify reduced to what rte_validate asks: unicast beyond link scope or not.
Scope classifyV4(std::uint32_t a) {
  const std::uint32_t first = a >> 24;
  if (first == 127) return Scope::kHost;
  if (first != 0 && first <= 223) return Scope::kRoutable;
  return Scope::kNone;  // 0/8 (but 0.0.0.0, handled by the caller), multicast, 240/4, broadcast
}

Scope classifyV6(const Address& address) {
  const auto& b = address.bytes;
  const std::uint32_t w0 =
      std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  if ((w0 & 0xe0000000u) == 0x20000000u) return Scope::kRoutable;  // 2000::/3 global unicast
  if ((w0 & 0xffc00000u) == 0xfe800000u) return Scope::kLink;      // fe80::/10 link-local
  if ((w0 & 0xff000000u) == 0xff000000u) return Scope::kNone;      // ff00::/8 multicast
  const bool upperZero = std::all_of(b.begin(), b.begin() + 8, [](std::uint8_t x) { return x == 0; });
  if (!upperZero) return Scope::kRoutable;  // fc00::/7, fec0::/10 and the undefined rest: BIRD routes them
  const std::uint32_t w2 =
      std::uint32_t{b[8]} << 24 | std::uint32_t{b[9]} << 16 | std::uint32_t{b[10]} << 8 | b[11];
  const std::uint32_t w3 =
      std::uint32_t{b[12]} << 24 | std::uint32_t{b[13]} << 16 | std::uint32_t{b[14]} << 8 | b[15];
  if (w2 == 0 && w3 == 1) return Scope::kHost;         // ::1
  if (w2 == 0 || w2 == 0xffff) return classifyV4(w3);  // ::a.b.c.d, ::ffff:a.b.c.d
  return Scope::kNone;
}

}  // namespace

bool routableDestination(const Prefix& prefix) {
  const Address& address = prefix.address();
  if (address == Address{address.family, {}}) return true;  // a default route or another zero prefix
  const Scope scope = address.family == Afi::kIpv4 ? classifyV4(address.v4HostOrder()) : classifyV6(address);
  return scope == Scope::kRoutable;
}

ImportOutcome importRoute(const SpeakerConfig& config, const PeerSpec& from, std::uint32_t fromAs,
                          const Prefix& prefix, PathAttributes attrs) {
  if (!routableDestination(prefix)) return {};
  RouteFacts facts{prefix, &attrs, true, std::nullopt, fromAs != config.localAs, std::nullopt};
  const auto decision = evaluatePolicy(filtersOf(config, from), PolicyDirection::kImport, facts);
  if (decision.verdict == Verdict::kReject) return {};
  if (decision.verdict == Verdict::kAccept) applyChanges(decision.changes, attrs);
  // No rule matched: Calico's `import all`, whatever the IP pools say.
  return {std::move(attrs), decision.changes.priority};
}

bool installLearnedRoute(const SpeakerConfig& config, const Prefix& prefix) {
  return std::none_of(config.serviceCidrs.begin(), config.serviceCidrs.end(),
                      [&](const Prefix& range) { return within(range, prefix); });
}

std::optional<PathAttributes> exportRoute(const SpeakerConfig& config, const PeerSpec& to,
                                          const PeerInfo& toInfo, const Prefix& prefix,
                                          const ExportCandidate& best, PathAttributes out) {
  const bool ebgp = toInfo.asn != config.localAs;
  RouteFacts facts{prefix, best.locRib, !best.local, best.interface, ebgp, best.priority};
  const auto decision = evaluatePolicy(filtersOf(config, to), PolicyDirection::kExport, facts);
  if (decision.verdict == Verdict::kReject) return std::nullopt;
  RouteChanges changes;
  if (decision.verdict == Verdict::kAccept) {
    changes = decision.changes;
  } else {
    // Calico's calico_export_to_bgp_peers: pools with disableBGPExport never, then the
    // prefix advertisements' communities, then our blocks, the service ranges and whatever lies
    // in a pool.
    bool exported = false;
    for (const auto& pool : config.pools) {
      if (!within(pool.cidr, prefix)) continue;
      if (pool.disableBgpExport) return std::nullopt;
      exported = true;
    }
    // Its calico_aggr: a block of ours is announced whole; a route learned inside one (an address
    // another node borrowed from it) is installed here but left to that node to announce.
    if (!best.local && std::any_of(config.blocks.begin(), config.blocks.end(), [&](const Prefix& block) {
          return block != prefix && within(block, prefix);
        }))
      return std::nullopt;
    exported = exported || best.kernel ||
               std::find(config.blocks.begin(), config.blocks.end(), prefix) != config.blocks.end() ||
               (best.local && std::find(config.serviceCidrs.begin(), config.serviceCidrs.end(), prefix) !=
                                  config.serviceCidrs.end());
    if (!exported) return std::nullopt;
    changes = prefixAdvertisementChanges(config.prefixCommunities, prefix);
  }
  applyChanges(RouteChanges{changes.communities, changes.largeCommunities, {}, std::nullopt}, out);
  if (!changes.prepend.empty()) {
    // BIRD runs the export filter before BGP's own rewriting: the filter's AS numbers come after
    // the one an eBGP session prepends for us (RFC 4271 §5.1.2).
    out.asPath = best.locRib && best.locRib->asPath ? *best.locRib->asPath : AsPath{};
    for (auto it = changes.prepend.rbegin(); it != changes.prepend.rend(); ++it) prependAs(*out.asPath, *it);
    if (ebgp) prependAs(*out.asPath, config.localAs);
  }

  // BGPPeer nextHopMode (keepOriginalNextHop is Keep): BIRD's `next hop self` / `next hop keep`.
  const bool v4 = prefix.family() == Afi::kIpv4;
  if (to.nextHopMode == NextHopMode::kSelf) {
    if (v4) {
      if (toInfo.localAddress == Address{}) return std::nullopt;
      out.nextHop = toInfo.localAddress;
    } else {
      if (!toInfo.localAddressV6) return std::nullopt;
      out.mpReach = MpReach{kIpv6Unicast, *toInfo.localAddressV6, toInfo.localLinkLocal, {}};
    }
  } else if (to.nextHopMode == NextHopMode::kKeep && best.locRib) {
    if (v4 && best.locRib->nextHop) {
      out.nextHop = best.locRib->nextHop;
    } else if (!v4 && best.locRib->mpReach) {
      // RFC 2545 §3: the link-local part means nothing off its link.
      out.mpReach = MpReach{kIpv6Unicast, best.locRib->mpReach->nextHop, std::nullopt, {}};
    }
  }
  return out;
}

}  // namespace tartan::bgp::speaker
