// BGPFilter and prefix-advertisement policy (bgp/speaker/policy.hpp), one table per match field
// and operation, then the speaker's per-peer import and export policy built on them.
#include "policy.hpp"
#include "config.hpp"

#include "rib/rib.hpp"

#include <catch2/catch.hpp>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;

namespace {

Prefix pfx(const char* text) { return *Prefix::parse(text); }
std::uint32_t stdComm(std::uint16_t a, std::uint16_t n) { return std::uint32_t{a} << 16 | n; }

AsPath path(std::vector<std::uint32_t> asns) {
  return AsPath{AsPathSegment{AsSegmentType::kSequence, std::move(asns)}};
}

model::BGPFilterRule rule(const std::string& action) {
  model::BGPFilterRule r;
  r.action = action;
  return r;
}

// One rule, compiled as an import (or export) rule of the prefix's family.
FilterRule compileOne(const model::BGPFilterRule& r, Afi family = Afi::kIpv4, bool import = true,
                      PolicyCapabilities caps = {}) {
  model::BGPFilterSpec spec;
  (family == Afi::kIpv4 ? (import ? spec.importV4 : spec.exportV4) : (import ? spec.importV6 : spec.exportV6))
      .push_back(r);
  auto compiled = compileFilter(spec, caps);
  INFO((compiled ? "" : compiled.error().toString()));
  REQUIRE(compiled.has_value());
  return compiled->rules(import ? PolicyDirection::kImport : PolicyDirection::kExport, family).at(0);
}

RouteFacts facts(const Prefix& prefix, const PathAttributes& attrs) {
  RouteFacts f;
  f.prefix = prefix;
  f.attrs = &attrs;
  return f;
}

}  // namespace

TEST_CASE("cidr with matchOperator and prefixLength, as BIRD's net ~ / = on cidr{min,max}") {
  struct Case {
    const char* name;
    const char* cidr;
    const char* op;
    std::optional<model::BGPFilterPrefixLength> length;
    const char* route;
    bool match;
  };
  const Case cases[] = {
      {"In: the cidr itself", "10.0.0.0/8", "In", {}, "10.0.0.0/8", true},
      {"In: a longer prefix inside", "10.0.0.0/8", "In", {}, "10.1.2.0/24", true},
      {"In: a prefix outside", "10.0.0.0/8", "In", {}, "11.0.0.0/24", false},
      {"In: a shorter covering prefix is not in", "10.1.0.0/16", "In", {}, "10.0.0.0/8", false},
      {"NotIn: outside", "10.0.0.0/8", "NotIn", {}, "11.0.0.0/24", true},
      {"NotIn: inside", "10.0.0.0/8", "NotIn", {}, "10.9.0.0/16", false},
      {"Equal: exact", "10.0.0.0/8", "Equal", {}, "10.0.0.0/8", true},
      {"Equal: a longer prefix inside is not equal", "10.0.0.0/8", "Equal", {}, "10.0.0.0/9", false},
      {"NotEqual: another prefix", "10.0.0.0/8", "NotEqual", {}, "10.0.0.0/9", true},
      {"NotEqual: the same prefix", "10.0.0.0/8", "NotEqual", {}, "10.0.0.0/8", false},
      {"prefixLength min: too short", "10.0.0.0/8", "In", model::BGPFilterPrefixLength{24, {}}, "10.1.0.0/16",
       false},
      {"prefixLength min: long enough", "10.0.0.0/8", "In", model::BGPFilterPrefixLength{24, {}},
       "10.1.1.0/24", true},
      {"prefixLength max: too long", "10.0.0.0/8", "In", model::BGPFilterPrefixLength{{}, 26}, "10.1.1.0/27",
       false},
      {"prefixLength max: short enough", "10.0.0.0/8", "In", model::BGPFilterPrefixLength{{}, 26},
       "10.1.1.0/26", true},
      {"prefixLength below the cidr's own length counts from the cidr", "10.0.0.0/8", "In",
       model::BGPFilterPrefixLength{4, 32}, "10.0.0.0/8", true},
      {"NotIn with prefixLength: inside the cidr but outside the lengths", "10.0.0.0/8", "NotIn",
       model::BGPFilterPrefixLength{24, 24}, "10.1.0.0/16", true},
      {"IPv6 In", "fd00::/8", "In", {}, "fd65::/48", true},
      {"IPv6 In, prefixLength max", "fd00::/8", "In", model::BGPFilterPrefixLength{{}, 64}, "fd65::/122",
       false},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto r = rule("Accept");
      r.cidr = c.cidr;
      r.matchOperator = c.op;
      r.prefixLength = c.length;
      const auto prefix = pfx(c.route);
      const auto compiled = compileOne(r, prefix.family());
      PathAttributes attrs;
      CHECK(ruleMatches(compiled, facts(prefix, attrs)) == c.match);
    }
  }
}

TEST_CASE("source RemotePeers matches routes learned over BGP, not those originated here") {
  auto r = rule("Reject");
  r.source = "RemotePeers";
  const auto compiled = compileOne(r, Afi::kIpv4, false);
  PathAttributes attrs;
  auto f = facts(pfx("10.65.0.0/26"), attrs);
  f.fromPeer = true;
  CHECK(ruleMatches(compiled, f));
  f.fromPeer = false;
  CHECK_FALSE(ruleMatches(compiled, f));
}

TEST_CASE("interface: refused by a speaker without interface routes; BIRD patterns when it has") {
  auto r = rule("Accept");
  r.interface = "eth*";
  model::BGPFilterSpec spec;
  spec.exportV4 = {r};
  CHECK(compileFilter(spec).has_value());  // tartan-bgpd's kernel routes carry their interface
  auto refused = compileFilter(spec, PolicyCapabilities{false});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().field == "spec.exportV4[0].interface");

  const auto compiled = compileOne(r, Afi::kIpv4, false, PolicyCapabilities{true});
  PathAttributes attrs;
  auto f = facts(pfx("192.168.0.0/24"), attrs);
  CHECK_FALSE(ruleMatches(compiled, f));  // no interface known: BIRD's defined(ifname) fails
  f.interface = "eth0";
  CHECK(ruleMatches(compiled, f));
  f.interface = "ens3";
  CHECK_FALSE(ruleMatches(compiled, f));

  const std::vector<std::tuple<const char*, const char*, bool>> patterns{
      {"eth*", "eth0", true},   {"eth*", "eth", true},      {"eth?", "eth10", false},
      {"eth?", "eth1", true},   {"*.cali", "x.cali", true}, {"*", "", true},
      {"bond0", "bond0", true}, {"bond0", "bond01", false}, {"e*h*0", "eth0", true},
      {"e*h*0", "eth01", false}};
  for (const auto& [pattern, name, match] : patterns) {
    INFO(pattern << " ~ " << name);
    CHECK(patternMatches(pattern, name) == match);
  }
}

TEST_CASE("peerType: eBGP and iBGP sessions") {
  for (const auto& [type, ebgp, match] :
       std::vector<std::tuple<const char*, bool, bool>>{{"eBGP", true, true},
                                                        {"eBGP", false, false},
                                                        {"iBGP", false, true},
                                                        {"iBGP", true, false},
                                                        {"", true, true}}) {
    auto r = rule("Accept");
    r.peerType = type;
    const auto compiled = compileOne(r);
    PathAttributes attrs;
    auto f = facts(pfx("10.0.0.0/24"), attrs);
    f.ebgp = ebgp;
    INFO(type << " on " << (ebgp ? "eBGP" : "iBGP"));
    CHECK(ruleMatches(compiled, f) == match);
  }
}

TEST_CASE("communities: one standard or large value carried by the route") {
  PathAttributes attrs;
  attrs.communities = std::vector<std::uint32_t>{stdComm(65000, 100), stdComm(65000, 200)};
  attrs.largeCommunities = std::vector<LargeCommunity>{{65000, 1, 2}};
  for (const auto& [value, match] : std::vector<std::pair<const char*, bool>>{{"65000:100", true},
                                                                              {"65000:200", true},
                                                                              {"65000:300", false},
                                                                              {"65000:1:2", true},
                                                                              {"65000:1:3", false}}) {
    auto r = rule("Accept");
    r.communities = model::BGPFilterCommunityMatch{{value}};
    INFO(value);
    CHECK(ruleMatches(compileOne(r), facts(pfx("10.0.0.0/24"), attrs)) == match);
  }
  auto r = rule("Accept");
  r.communities = model::BGPFilterCommunityMatch{{"65000:100"}};
  PathAttributes none;
  CHECK_FALSE(ruleMatches(compileOne(r), facts(pfx("10.0.0.0/24"), none)));
}

TEST_CASE("asPathPrefix: the AS path starts with these AS numbers") {
  struct Case {
    std::vector<std::uint32_t> prefix;
    AsPath route;
    bool match;
  };
  const Case cases[] = {
      {{65001}, path({65001, 65002}), true},
      {{65002}, path({65001, 65002}), false},
      {{65001, 65002}, path({65001, 65002, 65003}), true},
      {{65001, 65003}, path({65001, 65002, 65003}), false},
      {{65001, 65002, 65003}, path({65001, 65002}), false},  // longer than the path
      {{65001}, AsPath{}, false},                            // a local route has no AS
      // Two sequence segments read as one sequence; an AS_SET cannot match a number.
      {{65001, 65002},
       AsPath{{AsSegmentType::kSequence, {65001}}, {AsSegmentType::kSequence, {65002}}},
       true},
      {{65001, 65002}, AsPath{{AsSegmentType::kSequence, {65001}}, {AsSegmentType::kSet, {65002}}}, false},
  };
  for (const auto& c : cases) {
    auto r = rule("Accept");
    for (auto a : c.prefix) r.asPathPrefix.push_back(model::ASNumber{a});
    PathAttributes attrs;
    attrs.asPath = c.route;
    CHECK(ruleMatches(compileOne(r), facts(pfx("10.0.0.0/24"), attrs)) == c.match);
  }
}

TEST_CASE("priority matches the kernel priority a filter gave the route; none set matches nothing") {
  auto r = rule("Accept");
  r.priority = 512;
  const auto compiled = compileOne(r, Afi::kIpv4, false);
  PathAttributes attrs;
  auto f = facts(pfx("10.0.0.0/24"), attrs);
  CHECK_FALSE(ruleMatches(compiled, f));
  f.priority = 512;
  CHECK(ruleMatches(compiled, f));
  f.priority = 1024;
  CHECK_FALSE(ruleMatches(compiled, f));
}

TEST_CASE("every match field set must match") {
  auto r = rule("Accept");
  r.cidr = "10.0.0.0/8";
  r.matchOperator = "In";
  r.peerType = "eBGP";
  r.communities = model::BGPFilterCommunityMatch{{"65000:1"}};
  const auto compiled = compileOne(r);
  PathAttributes attrs;
  attrs.communities = std::vector<std::uint32_t>{stdComm(65000, 1)};
  auto f = facts(pfx("10.1.0.0/16"), attrs);
  f.ebgp = true;
  CHECK(ruleMatches(compiled, f));
  f.ebgp = false;
  CHECK_FALSE(ruleMatches(compiled, f));
  f.ebgp = true;
  f.prefix = pfx("11.0.0.0/16");
  CHECK_FALSE(ruleMatches(compiled, f));
}

TEST_CASE("the first matching rule of the first filter with one decides; no match is left to the default") {
  model::BGPFilterSpec first, second;
  auto reject = rule("Reject");
  reject.cidr = "10.1.0.0/16";
  reject.matchOperator = "In";
  auto accept = rule("Accept");
  accept.cidr = "10.0.0.0/8";
  accept.matchOperator = "In";
  first.importV4 = {reject, accept};
  auto acceptAll = rule("Accept");
  auto rejectAll = rule("Reject");
  second.importV4 = {rejectAll};
  second.exportV4 = {acceptAll};
  const auto f1 = *compileFilter(first), f2 = *compileFilter(second);
  PathAttributes attrs;
  const auto verdict = [&](std::vector<const CompiledFilter*> filters, const char* prefix,
                           PolicyDirection d) {
    return evaluatePolicy(filters, d, facts(pfx(prefix), attrs)).verdict;
  };
  CHECK(verdict({&f1, &f2}, "10.1.2.0/24", PolicyDirection::kImport) == Verdict::kReject);
  CHECK(verdict({&f1, &f2}, "10.2.2.0/24", PolicyDirection::kImport) == Verdict::kAccept);
  CHECK(verdict({&f1, &f2}, "192.168.0.0/24", PolicyDirection::kImport) == Verdict::kReject);  // f2's rule
  CHECK(verdict({&f1}, "192.168.0.0/24", PolicyDirection::kImport) == Verdict::kNoMatch);
  CHECK(verdict({&f1}, "10.1.2.0/24", PolicyDirection::kExport) == Verdict::kNoMatch);  // import rules only
  CHECK(verdict({&f1, &f2}, "10.1.2.0/24", PolicyDirection::kExport) == Verdict::kAccept);
  CHECK(verdict({&f1}, "fd00::/64", PolicyDirection::kImport) == Verdict::kNoMatch);  // v4 rules only
}

TEST_CASE("operations of an Accept rule, in order") {
  SECTION("addCommunity: standard and large, once each") {
    auto r = rule("Accept");
    r.operations = {{model::BGPFilterAddCommunity{"65000:100"}, {}, {}},
                    {model::BGPFilterAddCommunity{"65000:7:8"}, {}, {}},
                    {model::BGPFilterAddCommunity{"65000:100"}, {}, {}}};
    PathAttributes attrs;
    attrs.communities = std::vector<std::uint32_t>{stdComm(1, 1)};
    applyChanges(compileOne(r).changes, attrs);
    CHECK(*attrs.communities == std::vector<std::uint32_t>{stdComm(1, 1), stdComm(65000, 100)});
    CHECK(*attrs.largeCommunities == std::vector<LargeCommunity>{{65000, 7, 8}});
  }
  SECTION("prependASPath: the path starts with the prefix in order; a later operation goes in front") {
    auto r = rule("Accept");
    r.operations = {{{}, model::BGPFilterPrependASPath{{{65001}, {65002}}}, {}},
                    {{}, model::BGPFilterPrependASPath{{{65009}}}, {}}};
    PathAttributes attrs;
    attrs.asPath = path({65100});
    applyChanges(compileOne(r).changes, attrs);
    CHECK(*attrs.asPath == path({65009, 65001, 65002, 65100}));
  }
  SECTION("setPriority: the kernel priority on import, nothing on export (krt_metric stays home)") {
    auto r = rule("Accept");
    r.operations = {{{}, {}, model::BGPFilterSetPriority{256}}, {{}, {}, model::BGPFilterSetPriority{512}}};
    CHECK(compileOne(r, Afi::kIpv4, true).changes.priority == 512u);
    CHECK_FALSE(compileOne(r, Afi::kIpv4, false).changes.priority);
  }
}

TEST_CASE("compileFilter refuses what cannot be applied, naming the field") {
  struct Case {
    const char* name;
    std::function<void(model::BGPFilterRule&)> edit;
    const char* field;
  };
  const Case cases[] = {
      {"unknown action", [](auto& r) { r.action = "Drop"; }, "spec.importV4[0].action"},
      {"cidr without operator", [](auto& r) { r.cidr = "10.0.0.0/8"; }, "spec.importV4[0].matchOperator"},
      {"operator without cidr", [](auto& r) { r.matchOperator = "In"; }, "spec.importV4[0].matchOperator"},
      {"cidr of the other family",
       [](auto& r) {
         r.cidr = "fd00::/8";
         r.matchOperator = "In";
       },
       "spec.importV4[0].cidr"},
      {"prefixLength without cidr",
       [](auto& r) {
         r.prefixLength = model::BGPFilterPrefixLength{24, 32};
       },
       "spec.importV4[0].prefixLength"},
      {"prefixLength with Equal",
       [](auto& r) {
         r.cidr = "10.0.0.0/8";
         r.matchOperator = "Equal";
         r.prefixLength = model::BGPFilterPrefixLength{24, 32};
       },
       "spec.importV4[0].prefixLength"},
      {"unknown source", [](auto& r) { r.source = "Kernel"; }, "spec.importV4[0].source"},
      {"unknown peerType", [](auto& r) { r.peerType = "confed"; }, "spec.importV4[0].peerType"},
      {"bad community", [](auto& r) { r.communities = model::BGPFilterCommunityMatch{{"65536:1"}}; },
       "spec.importV4[0].communities.values[0]"},
      {"two communities",
       [](auto& r) {
         r.communities = model::BGPFilterCommunityMatch{{"1:1", "1:2"}};
       },
       "spec.importV4[0].communities.values"},
      {"priority out of range", [](auto& r) { r.priority = 0; }, "spec.importV4[0].priority"},
      {"operations on Reject",
       [](auto& r) {
         r.action = "Reject";
         r.operations = {{model::BGPFilterAddCommunity{"1:1"}, {}, {}}};
       },
       "spec.importV4[0].operations"},
      {"an operation with two members",
       [](auto& r) {
         r.operations = {{model::BGPFilterAddCommunity{"1:1"}, {}, model::BGPFilterSetPriority{5}}};
       },
       "spec.importV4[0].operations[0]"},
      {"empty prepend",
       [](auto& r) {
         r.operations = {{{}, model::BGPFilterPrependASPath{}, {}}};
       },
       "spec.importV4[0].operations[0].prependASPath.prefix"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto r = rule("Accept");
      c.edit(r);
      model::BGPFilterSpec spec;
      spec.importV4 = {r};
      auto compiled = compileFilter(spec);
      REQUIRE_FALSE(compiled.has_value());
      CHECK(compiled.error().field == c.field);
    }
  }
}

TEST_CASE("community values") {
  using V = std::variant<std::uint32_t, LargeCommunity>;
  CHECK(parseCommunity("65000:100") == V(stdComm(65000, 100)));
  CHECK(parseCommunity("0:0") == V(std::uint32_t{0}));
  CHECK(parseCommunity("4200000000:1:2") == V(LargeCommunity{4200000000u, 1, 2}));
  for (const char* bad :
       {"", "65000", "65536:1", "1:65536", "a:b", "1:2:3:4", "1::2", "-1:2", "4294967296:1:1"})
    CHECK_FALSE(parseCommunity(bad));
}

TEST_CASE("prefix advertisements add their communities to every prefix inside their cidr") {
  std::vector<std::string> warnings;
  model::BGPConfigurationSpec global;
  global.communities = {{"a", "1:1"}, {"big", "1:2:3"}};
  global.prefixAdvertisements = {{"10.65.0.0/16", {"a"}}, {"10.65.1.0/24", {"big", "2:2"}}};
  const auto ads = compilePrefixAdvertisements(nullptr, &global, warnings);
  CHECK(warnings.empty());
  REQUIRE(ads.size() == 2);
  auto inner = prefixAdvertisementChanges(ads, pfx("10.65.1.0/26"));
  CHECK(inner.communities == std::vector<std::uint32_t>{stdComm(1, 1), stdComm(2, 2)});
  CHECK(inner.largeCommunities == std::vector<LargeCommunity>{{1, 2, 3}});
  CHECK(prefixAdvertisementChanges(ads, pfx("10.65.2.0/26")).communities ==
        std::vector<std::uint32_t>{stdComm(1, 1)});
  CHECK(prefixAdvertisementChanges(ads, pfx("10.66.0.0/26")).empty());
  CHECK(prefixAdvertisementChanges(ads, pfx("10.0.0.0/8")).empty());  // covering, not inside
}

// ---- the speaker's per-peer policy ------------------------------------------------------------

namespace {

SpeakerConfig speakerConfig() {
  SpeakerConfig c;
  c.localAs = 64512;
  c.ipv4 = Address::parse("10.99.0.1");
  c.blocks = {pfx("10.65.1.0/26")};
  c.pools = {{pfx("10.65.0.0/16"), false}, {pfx("10.70.0.0/16"), true}};
  return c;
}

PeerSpec peerWith(std::vector<std::string> filters, NextHopMode mode = NextHopMode::kAuto) {
  PeerSpec p;
  p.key = "peer/tor/10.99.0.2";
  p.address = *Address::parse("10.99.0.2");
  p.peerAs = 65001;
  p.filters = std::move(filters);
  p.nextHopMode = mode;
  return p;
}

PeerInfo infoOf(std::uint32_t asn) {
  PeerInfo info;
  info.id = 1;
  info.asn = asn;
  info.address = *Address::parse("10.99.0.2");
  info.localAddress = *Address::parse("10.99.0.1");
  return info;
}

CompiledFilter filterOf(std::vector<model::BGPFilterRule> importV4,
                        std::vector<model::BGPFilterRule> exportV4) {
  model::BGPFilterSpec spec;
  spec.importV4 = std::move(importV4);
  spec.exportV4 = std::move(exportV4);
  return *compileFilter(spec);
}

}  // namespace

TEST_CASE("import: every routable prefix a peer sends comes in unless one of its BGPFilters rejects it") {
  // Calico's `import all`: the IP pools (10.65.0.0/16 and 10.70.0.0/16 here) play no part.
  auto config = speakerConfig();
  auto reject = rule("Reject");
  reject.cidr = "10.65.9.0/24";
  reject.matchOperator = "Equal";
  auto rejectDefault = rule("Reject");
  rejectDefault.cidr = "0.0.0.0/0";
  rejectDefault.matchOperator = "Equal";
  auto acceptPrivate = rule("Accept");
  acceptPrivate.cidr = "192.168.0.0/16";
  acceptPrivate.matchOperator = "In";
  acceptPrivate.operations = {{model::BGPFilterAddCommunity{"65000:5"}, {}, {}},
                              {{}, {}, model::BGPFilterSetPriority{300}}};
  model::BGPFilterSpec spec;
  spec.importV4 = {reject, rejectDefault, acceptPrivate};
  auto acceptLinkLocal = rule("Accept");
  acceptLinkLocal.cidr = "fe80::/10";
  acceptLinkLocal.matchOperator = "In";
  auto rejectDoc = rule("Reject");
  rejectDoc.cidr = "2001:db8:66::/48";
  rejectDoc.matchOperator = "In";
  spec.importV6 = {acceptLinkLocal, rejectDoc};
  config.policies["f"] = *compileFilter(spec);

  struct Case {
    const char* name;
    std::vector<std::string> filters;
    const char* prefix;
    bool imported;
    std::optional<std::uint32_t> priority = std::nullopt;
  };
  const std::vector<Case> cases{
      {"no filter: inside a pool", {}, "10.65.9.0/24", true},
      {"no filter: outside every pool", {}, "198.51.100.0/24", true},
      {"no filter: a default route", {}, "0.0.0.0/0", true},
      {"no filter: an IPv6 default route", {}, "::/0", true},
      {"no filter: an IPv6 prefix outside every pool", {}, "2001:db8:100::/48", true},
      {"no filter: 169.254.0.0/16 is unicast to BIRD", {}, "169.254.0.0/16", true},
      {"no filter: an IPv6 link-local prefix never", {}, "fe80::/64", false},
      {"no filter: loopback never", {}, "127.0.0.0/8", false},
      {"no filter: multicast never", {}, "224.0.0.0/4", false},
      {"a filter naming nothing known: as no filter", {"missing"}, "172.16.0.0/24", true},
      {"filtered: rejected inside a pool", {"f"}, "10.65.9.0/24", false},
      {"filtered: a default route rejected", {"f"}, "0.0.0.0/0", false},
      {"filtered: no rule matches, in a pool", {"f"}, "10.65.8.0/24", true},
      {"filtered: no rule matches, outside every pool", {"f"}, "172.16.0.0/24", true},
      {"filtered: accepted with its operations", {"f"}, "192.168.1.0/24", true, 300u},
      {"filtered: an IPv6 prefix rejected", {"f"}, "2001:db8:66:1::/64", false},
      {"filtered: the IPv6 default route matches no rule", {"f"}, "::/0", true},
      {"filtered: an Accept rule cannot bring a link-local prefix in", {"f"}, "fe80::/64", false},
  };
  PathAttributes attrs;
  attrs.asPath = path({65001});
  for (const auto& c : cases) {
    INFO(c.name);
    const auto outcome = importRoute(config, peerWith(c.filters), 65001, pfx(c.prefix), attrs);
    CHECK(outcome.attrs.has_value() == c.imported);
    CHECK(outcome.priority == c.priority);
    if (c.priority) CHECK(*outcome.attrs->communities == std::vector<std::uint32_t>{stdComm(65000, 5)});
    if (outcome.attrs && !c.priority) CHECK(*outcome.attrs == attrs);  // taken as sent
  }
}

TEST_CASE("routableDestination: what BIRD refuses as a route before any filter (rte_validate)") {
  struct Case {
    const char* prefix;
    bool routable;
  };
  const std::vector<Case> cases{
      {"0.0.0.0/0", true},
      {"0.0.0.0/8", true},
      {"0.1.0.0/16", false},
      {"10.0.0.0/8", true},
      {"100.64.0.0/10", true},
      {"127.0.0.0/8", false},
      {"127.0.0.1/32", false},
      {"169.254.0.0/16", true},
      {"172.16.0.0/12", true},
      {"192.168.0.0/16", true},
      {"198.51.100.0/24", true},
      {"223.255.255.0/24", true},
      {"224.0.0.0/4", false},
      {"239.1.1.1/32", false},
      {"240.0.0.0/4", false},
      {"255.255.255.255/32", false},
      {"::/0", true},
      {"::/96", true},
      {"::1/128", false},
      {"::2/128", false},
      {"::10.1.0.0/112", true},
      {"::127.0.0.1/128", false},
      {"::ffff:10.1.0.0/112", true},
      {"::ffff:224.0.0.0/100", false},
      {"0:0:0:1::/64", true},
      {"::1:0:0:0/128", false},
      {"2000::/3", true},
      {"2001:db8::/32", true},
      {"fc00::/7", true},
      {"fd65::/48", true},
      {"fec0::/10", true},
      {"fe80::/10", false},
      {"fe80::/64", false},
      {"febf::/16", false},
      {"ff00::/8", false},
      {"ff02::1/128", false},
      {"ff0e::/16", false},
  };
  for (const auto& c : cases) {
    INFO(c.prefix);
    CHECK(routableDestination(pfx(c.prefix)) == c.routable);
  }
}

TEST_CASE("installLearnedRoute: a learned route inside a service range stays out of the kernel") {
  auto config = speakerConfig();
  config.serviceCidrs = {pfx("10.96.0.0/12"), pfx("fd96::/112")};
  CHECK_FALSE(installLearnedRoute(config, pfx("10.96.0.0/12")));
  CHECK_FALSE(installLearnedRoute(config, pfx("10.100.0.10/32")));  // inside
  CHECK_FALSE(installLearnedRoute(config, pfx("fd96::5/128")));
  CHECK(installLearnedRoute(config, pfx("10.0.0.0/8")));  // covering, not inside
  CHECK(installLearnedRoute(config, pfx("0.0.0.0/0")));
  CHECK(installLearnedRoute(config, pfx("10.65.1.0/26")));
  CHECK(installLearnedRoute(config, pfx("::/0")));
}

TEST_CASE("export: default, prefix-advertisement communities, filter bypass, AS path and next hop") {
  auto config = speakerConfig();
  config.prefixCommunities = {{pfx("10.65.0.0/16"), RouteChanges{{stdComm(64512, 1)}, {}, {}, {}}}};
  PathAttributes loc;  // our block as originated
  loc.origin = Origin::kIgp;
  loc.asPath = AsPath{};
  loc.nextHop = *Address::parse("10.99.0.1");
  PathAttributes out = loc;  // as the Rib rewrites it for an eBGP peer
  out.asPath = path({64512});
  const ExportCandidate block{&loc, true, std::nullopt};
  const auto ebgp = infoOf(65001);

  SECTION("the default exports our blocks and pool routes, with their prefix communities") {
    auto sent = exportRoute(config, peerWith({}), ebgp, pfx("10.65.1.0/26"), block, out);
    REQUIRE(sent);
    CHECK(*sent->communities == std::vector<std::uint32_t>{stdComm(64512, 1)});
    CHECK_FALSE(
        exportRoute(config, peerWith({}), ebgp, pfx("10.70.1.0/26"), block, out));  // disableBGPExport
    CHECK_FALSE(exportRoute(config, peerWith({}), ebgp, pfx("172.16.0.0/24"), block, out));  // no pool
  }
  SECTION("a route learned inside one of our blocks is not exported; our block and other nodes' are") {
    const ExportCandidate learned{&loc, false, std::nullopt};
    CHECK_FALSE(exportRoute(config, peerWith({}), ebgp, pfx("10.65.1.8/29"), learned, out));  // borrowed
    CHECK_FALSE(exportRoute(config, peerWith({}), ebgp, pfx("10.65.1.5/32"), learned, out));
    CHECK(exportRoute(config, peerWith({}), ebgp, pfx("10.65.1.0/26"), learned, out));  // the block itself
    CHECK(exportRoute(config, peerWith({}), ebgp, pfx("10.65.2.0/26"), learned, out));  // another node's
    CHECK(exportRoute(config, peerWith({}), ebgp, pfx("10.65.1.8/29"), block, out));    // ours, announced
    // A BGPFilter's Accept still bypasses the default.
    auto accept = rule("Accept");
    config.policies["f"] = filterOf({}, {accept});
    CHECK(exportRoute(config, peerWith({"f"}), ebgp, pfx("10.65.1.8/29"), learned, out));
  }
  SECTION("the default exports the service ranges we originate, not the same prefix learned") {
    config.serviceCidrs = {pfx("10.96.0.0/12")};
    CHECK(exportRoute(config, peerWith({}), ebgp, pfx("10.96.0.0/12"), block, out));
    const ExportCandidate learned{&loc, false, std::nullopt};
    CHECK_FALSE(exportRoute(config, peerWith({}), ebgp, pfx("10.96.0.0/12"), learned, out));
    CHECK_FALSE(exportRoute(config, peerWith({}), ebgp, pfx("10.96.0.0/13"), block, out));
  }
  SECTION("a reject rule withholds, an accept rule sends with its operations and bypasses the default") {
    auto reject = rule("Reject");
    reject.cidr = "10.65.1.0/26";
    reject.matchOperator = "Equal";
    auto accept = rule("Accept");
    accept.operations = {{model::BGPFilterAddCommunity{"65000:9"}, {}, {}},
                         {{}, model::BGPFilterPrependASPath{{{65100}, {65101}}}, {}}};
    config.policies["f"] = filterOf({}, {reject, accept});
    const auto to = peerWith({"f"});
    CHECK_FALSE(exportRoute(config, to, ebgp, pfx("10.65.1.0/26"), block, out));
    auto sent = exportRoute(config, to, ebgp, pfx("10.70.1.0/26"), block, out);  // even a disabled pool
    REQUIRE(sent);
    CHECK(*sent->communities == std::vector<std::uint32_t>{stdComm(65000, 9)});  // no prefix communities
    CHECK(*sent->asPath == path({64512, 65100, 65101}));  // our AS first, as BIRD's export
    auto ibgp = exportRoute(config, to, infoOf(64512), pfx("10.70.1.0/26"), block, loc);
    REQUIRE(ibgp);
    CHECK(*ibgp->asPath == path({65100, 65101}));
  }
  SECTION("peerType picks the rule by the session it is sent on") {
    auto rejectIbgp = rule("Reject");
    rejectIbgp.peerType = "iBGP";
    config.policies["f"] = filterOf({}, {rejectIbgp});
    CHECK(exportRoute(config, peerWith({"f"}), ebgp, pfx("10.65.1.0/26"), block, out));
    CHECK_FALSE(exportRoute(config, peerWith({"f"}), infoOf(64512), pfx("10.65.1.0/26"), block, loc));
  }
  SECTION("source RemotePeers tells a learned route from our own block") {
    auto rejectLearned = rule("Reject");
    rejectLearned.source = "RemotePeers";
    config.policies["f"] = filterOf({}, {rejectLearned});
    CHECK(exportRoute(config, peerWith({"f"}), ebgp, pfx("10.65.1.0/26"), block, out));
    const ExportCandidate learned{&loc, false, std::nullopt};
    CHECK_FALSE(exportRoute(config, peerWith({"f"}), ebgp, pfx("10.65.7.0/26"), learned, out));
  }
  SECTION("nextHopMode: Self puts our address, Keep the route's own, Auto leaves the Rib's choice") {
    PathAttributes learnedAttrs;
    learnedAttrs.asPath = path({65005});
    learnedAttrs.nextHop = *Address::parse("10.99.0.7");
    PathAttributes ribOut = learnedAttrs;  // iBGP, learned from eBGP: the Rib keeps 10.99.0.7
    const ExportCandidate learned{&learnedAttrs, false, std::nullopt};
    const auto ibgp = infoOf(64512);
    auto self =
        exportRoute(config, peerWith({}, NextHopMode::kSelf), ibgp, pfx("10.65.7.0/26"), learned, ribOut);
    REQUIRE(self);
    CHECK(self->nextHop == Address::parse("10.99.0.1"));
    auto autoMode = exportRoute(config, peerWith({}), ibgp, pfx("10.65.7.0/26"), learned, ribOut);
    CHECK(autoMode->nextHop == Address::parse("10.99.0.7"));
    PathAttributes rewritten = learnedAttrs;  // eBGP: the Rib put our address
    rewritten.nextHop = *Address::parse("10.99.0.1");
    auto keep =
        exportRoute(config, peerWith({}, NextHopMode::kKeep), ebgp, pfx("10.65.7.0/26"), learned, rewritten);
    REQUIRE(keep);
    CHECK(keep->nextHop == Address::parse("10.99.0.7"));
  }
  SECTION("nextHopMode Self on IPv6: our global address (and link-local) in MP_REACH_NLRI") {
    PathAttributes v6;
    v6.asPath = path({65005});
    v6.mpReach = MpReach{kIpv6Unicast, *Address::parse("fd99::7"), std::nullopt, {}};
    const ExportCandidate learned{&v6, false, std::nullopt};
    auto ibgp = infoOf(64512);
    ibgp.localAddressV6 = Address::parse("fd99::1");
    ibgp.localLinkLocal = Address::parse("fe80::1");
    config.pools.push_back({pfx("fd65::/48"), false});
    auto self =
        exportRoute(config, peerWith({}, NextHopMode::kSelf), ibgp, pfx("fd65:0:0:7::/122"), learned, v6);
    REQUIRE(self);
    REQUIRE(self->mpReach);
    CHECK(self->mpReach->nextHop == *Address::parse("fd99::1"));
    CHECK(self->mpReach->linkLocal == Address::parse("fe80::1"));
    ibgp.localAddressV6.reset();
    CHECK_FALSE(
        exportRoute(config, peerWith({}, NextHopMode::kSelf), ibgp, pfx("fd65:0:0:7::/122"), learned, v6));
  }
}
