// Path attribute errors and their RFC 7606 outcomes, one rule per case, plus the RFC 6793
// AS4_PATH reconstruction.
#include "codec/message.hpp"
#include "hex.hpp"

#include <catch2/catch.hpp>

using namespace tartan::bgp;
using namespace tartan::bgp::test;

namespace {

const CodecContext kNew{};
// The mandatory attributes for IPv4 NLRI: ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1.
constexpr const char* kOrigin = "40 01 01 00 ";
constexpr const char* kAsPath = "40 02 00 ";
constexpr const char* kNextHop = "40 03 04 0a000001 ";
const std::string kMandatory = std::string(kOrigin) + kAsPath + kNextHop;
constexpr const char* kNlri = "08 0a";

Decoded decode(const std::string& attrs, const char* nlri = kNlri, const CodecContext& ctx = kNew) {
  return decodeMessage(updateWith(attrs, nlri), ctx);
}

struct Case {
  const char* rule;
  std::string attrs;
  ErrorAction action;
};

}  // namespace

TEST_CASE("each malformed attribute gets its RFC 7606 §7 action") {
  const std::vector<Case> cases = {
      {"ORIGIN length not 1 → treat-as-withdraw (§7.1)", "40 01 02 0000 " + std::string(kAsPath) + kNextHop,
       ErrorAction::kTreatAsWithdraw},
      {"ORIGIN undefined value → treat-as-withdraw (§7.1)", "40 01 01 03 " + std::string(kAsPath) + kNextHop,
       ErrorAction::kTreatAsWithdraw},
      {"AS_PATH segment overrun → treat-as-withdraw (§7.2)",
       std::string(kOrigin) + "40 02 06 02 02 0000fde9 " + kNextHop, ErrorAction::kTreatAsWithdraw},
      {"AS_PATH zero-length segment → treat-as-withdraw (§7.2)",
       std::string(kOrigin) + "40 02 02 02 00 " + kNextHop, ErrorAction::kTreatAsWithdraw},
      {"AS_PATH undefined segment type → treat-as-withdraw (§7.2)",
       std::string(kOrigin) + "40 02 06 05 01 0000fde9 " + kNextHop, ErrorAction::kTreatAsWithdraw},
      {"AS_PATH trailing octets too few for a segment → treat-as-withdraw (§7.2)",
       std::string(kOrigin) + "40 02 07 02 01 0000fde9 02 " + kNextHop, ErrorAction::kTreatAsWithdraw},
      {"NEXT_HOP length not 4 → treat-as-withdraw (§7.3)",
       std::string(kOrigin) + kAsPath + "40 03 05 0a00000100", ErrorAction::kTreatAsWithdraw},
      {"NEXT_HOP 0.0.0.0 → treat-as-withdraw (§7.3)", std::string(kOrigin) + kAsPath + "40 03 04 00000000",
       ErrorAction::kTreatAsWithdraw},
      {"NEXT_HOP multicast → treat-as-withdraw (§7.3)", std::string(kOrigin) + kAsPath + "40 03 04 e0000001",
       ErrorAction::kTreatAsWithdraw},
      {"MULTI_EXIT_DISC length not 4 → treat-as-withdraw (§7.4)", kMandatory + "80 04 03 000001",
       ErrorAction::kTreatAsWithdraw},
      {"LOCAL_PREF length not 4 → treat-as-withdraw (§7.5)", kMandatory + "40 05 02 0001",
       ErrorAction::kTreatAsWithdraw},
      {"ATOMIC_AGGREGATE length not 0 → attribute discard (§7.6)", kMandatory + "40 06 01 00",
       ErrorAction::kAttributeDiscard},
      {"AGGREGATOR length not 8 → attribute discard (§7.7)", kMandatory + "c0 07 06 fde9 0a000001",
       ErrorAction::kAttributeDiscard},
      {"COMMUNITIES length not a multiple of 4 → treat-as-withdraw (§7.8)",
       kMandatory + "c0 08 05 ffffff0101", ErrorAction::kTreatAsWithdraw},
      {"COMMUNITIES length 0 → treat-as-withdraw (§7.8)", kMandatory + "c0 08 00",
       ErrorAction::kTreatAsWithdraw},
      {"ORIGINATOR_ID length not 4 → treat-as-withdraw (§7.9)", kMandatory + "80 09 03 0a0000",
       ErrorAction::kTreatAsWithdraw},
      {"CLUSTER_LIST length not a multiple of 4 → treat-as-withdraw (§7.10)",
       kMandatory + "80 0a 06 0a0000010000", ErrorAction::kTreatAsWithdraw},
      {"LARGE_COMMUNITY length not a multiple of 12 → treat-as-withdraw (RFC 8092 §6)",
       kMandatory + "c0 20 0d 0000fde9 00000001 00000002 00", ErrorAction::kTreatAsWithdraw},
      {"AS4_PATH from a 4-octet speaker → attribute discard (RFC 6793 §6)",
       kMandatory + "c0 11 06 02 01 0000fde9", ErrorAction::kAttributeDiscard},
      {"AS4_AGGREGATOR from a 4-octet speaker → attribute discard (RFC 6793 §6)",
       kMandatory + "c0 12 08 0000fde9 0a000001", ErrorAction::kAttributeDiscard},
      {"ORIGIN marked optional → treat-as-withdraw (§3 c)", "c0 01 01 00 " + std::string(kAsPath) + kNextHop,
       ErrorAction::kTreatAsWithdraw},
      {"MED marked transitive → treat-as-withdraw (§3 c)", kMandatory + "c0 04 04 00000001",
       ErrorAction::kTreatAsWithdraw},
      {"AGGREGATOR marked non-transitive → attribute discard (§3 c with §7.7)",
       kMandatory + "80 07 08 0000fde9 0a000001", ErrorAction::kAttributeDiscard},
      {"attribute length past the field → treat-as-withdraw (§4)", kMandatory + "c0 08 08 ffffff01",
       ErrorAction::kTreatAsWithdraw},
      {"too few octets left for an attribute header → treat-as-withdraw (§4)", kMandatory + "c0 08",
       ErrorAction::kTreatAsWithdraw},
      {"extended length with one length octet left → treat-as-withdraw (§4)", kMandatory + "d0 08 00",
       ErrorAction::kTreatAsWithdraw},
      {"second ORIGIN is discarded (§3 g)", kMandatory + "40 01 01 02", ErrorAction::kAttributeDiscard},
      {"missing ORIGIN with NLRI → treat-as-withdraw (§3 d)", std::string(kAsPath) + kNextHop,
       ErrorAction::kTreatAsWithdraw},
      {"missing AS_PATH with NLRI → treat-as-withdraw (§3 d)", std::string(kOrigin) + kNextHop,
       ErrorAction::kTreatAsWithdraw},
      {"missing NEXT_HOP with IPv4 NLRI → treat-as-withdraw (§3 d)", std::string(kOrigin) + kAsPath,
       ErrorAction::kTreatAsWithdraw},
      {"MP_REACH_NLRI for an unknown family → attribute discard", kMandatory + "80 0e 05 0019 01 00 00",
       ErrorAction::kAttributeDiscard},
      {"unknown optional attribute is kept", kMandatory + "80 63 01 ab", ErrorAction::kNone},
  };
  for (const auto& c : cases) {
    INFO(c.rule);
    const auto d = decode(c.attrs);
    INFO(d.outcome.reason);
    CHECK(d.outcome.action == c.action);
    CHECK(d.message.has_value());
  }
}

TEST_CASE("a discarded attribute is absent and the rest of the UPDATE is used") {
  const auto d = decode(kMandatory + "40 06 01 00 80 04 04 00000005");
  REQUIRE(d.message);
  const auto& a = std::get<Update>(*d.message).attributes;
  CHECK_FALSE(a.atomicAggregate);
  CHECK(a.med == 5u);
}

TEST_CASE("the first of duplicate attributes is kept (RFC 7606 §3 g)") {
  const auto d = decode(kMandatory + "80 04 04 00000001 80 04 04 00000002");
  REQUIRE(d.message);
  CHECK(std::get<Update>(*d.message).attributes.med == 1u);
}

TEST_CASE("treat-as-withdraw still yields the prefixes, including those in MP_REACH_NLRI") {
  const auto d = decode("40 01 01 07 40 02 00 80 0e 0c 0001 01 04 0a000001 00 10 0a0b", "");
  CHECK(d.outcome.action == ErrorAction::kTreatAsWithdraw);
  REQUIRE(d.message);
  const auto& u = std::get<Update>(*d.message);
  REQUIRE(u.attributes.mpReach);
  CHECK(u.attributes.mpReach->nlri == std::vector<NlriEntry>{{pfx("10.11.0.0/16"), 0}});
}

TEST_CASE("an UPDATE without NLRI needs no mandatory attributes") {
  const auto d = decodeMessage(message(MessageType::kUpdate, "0003 10 0a01 0000"), kNew);
  CHECK(d.outcome.action == ErrorAction::kNone);
}

TEST_CASE("LOCAL_PREF from an external peer is discarded (RFC 4271 §5.1.5)") {
  CodecContext ebgp;
  ebgp.externalPeer = true;
  const auto d = decode(kMandatory + "40 05 04 00000064", kNlri, ebgp);
  CHECK(d.outcome.action == ErrorAction::kAttributeDiscard);
  REQUIRE(d.message);
  CHECK_FALSE(std::get<Update>(*d.message).attributes.localPref);
}

TEST_CASE("errors that reset the session carry the RFC 4271 §6.3 NOTIFICATION") {
  SECTION("MP_REACH_NLRI twice → Malformed Attribute List (RFC 7606 §3 g)") {
    const auto d = decode(kMandatory + "80 0e 05 0002 01 00 00 80 0e 05 0002 01 00 00", "");
    CHECK(d.outcome.action == ErrorAction::kSessionReset);
    CHECK(d.outcome.notification ==
          Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kMalformedAttributeList));
    CHECK_FALSE(d.message);
  }
  SECTION("MP_UNREACH_NLRI twice → Malformed Attribute List") {
    const auto d = decode("80 0f 03 0002 01 80 0f 03 0002 01", "");
    CHECK(d.outcome.notification.subcode ==
          static_cast<std::uint8_t>(UpdateSubcode::kMalformedAttributeList));
  }
  SECTION("unrecognized well-known attribute → Unrecognized Well-known Attribute with the attribute") {
    const auto d = decode(kMandatory + "40 c8 02 abcd");
    CHECK(d.outcome.action == ErrorAction::kSessionReset);
    CHECK(d.outcome.notification == Notification::make(ErrorCode::kUpdateMessage,
                                                       UpdateSubcode::kUnrecognizedWellKnownAttribute,
                                                       hex("40 c8 02 abcd")));
  }
  SECTION("MP_REACH_NLRI too short for AFI/SAFI → session reset (RFC 7606 §7.11)") {
    const auto d = decode(kMandatory + "80 0e 02 0002", "");
    CHECK(d.outcome.action == ErrorAction::kSessionReset);
    CHECK(d.outcome.notification == Notification::make(ErrorCode::kUpdateMessage,
                                                       UpdateSubcode::kOptionalAttributeError,
                                                       hex("80 0e 02 0002")));
  }
}

TEST_CASE("MP_REACH_NLRI errors after the AFI/SAFI disable that family (RFC 7606 §7.11, §5.3)") {
  SECTION("IPv6 next hop of length 8") {
    const auto d = decode(std::string(kOrigin) + kAsPath + "80 0e 0d 0002 01 08 20010db800000000 00", "");
    CHECK(d.outcome.action == ErrorAction::kAfiSafiDisable);
    CHECK(d.outcome.family == kIpv6Unicast);
  }
  SECTION("a prefix longer than 128 bits") {
    const auto d = decode(
        std::string(kOrigin) + kAsPath + "80 0e 17 0002 01 10 20010db8000000000000000000000001 00 81 ff", "");
    CHECK(d.outcome.action == ErrorAction::kAfiSafiDisable);
    CHECK(d.outcome.family == kIpv6Unicast);
  }
  SECTION("MP_UNREACH_NLRI with a truncated prefix") {
    const auto d = decode("80 0f 05 0001 01 18 0a", "");
    CHECK(d.outcome.action == ErrorAction::kAfiSafiDisable);
    CHECK(d.outcome.family == kIpv4Unicast);
  }
}

TEST_CASE("the worst outcome of an UPDATE wins") {
  // A discard (ATOMIC_AGGREGATE) and a treat-as-withdraw (COMMUNITIES) in one message.
  const auto d = decode(kMandatory + "40 06 01 00 c0 08 03 000000");
  CHECK(d.outcome.action == ErrorAction::kTreatAsWithdraw);
  CHECK(d.outcome.reason.find("COMMUNITIES") != std::string::npos);
}

TEST_CASE("unknown optional transitive attributes keep their flags, extended length or not") {
  std::string big = "f0 64 0100 ";  // optional transitive partial, extended length 256
  for (int i = 0; i < 256; ++i) big += "5a";
  const auto d = decode(kMandatory + big);
  REQUIRE(d.outcome.action == ErrorAction::kNone);
  const auto& u = std::get<Update>(*d.message);
  REQUIRE(u.attributes.unknown.size() == 1);
  CHECK(u.attributes.unknown[0].flags == 0xe0);
  CHECK(u.attributes.unknown[0].value.size() == 256);
  CHECK(encodeMessage(u, kNew) == updateWith(kMandatory + big, kNlri));
}

TEST_CASE("a short attribute sent with extended length decodes and re-encodes short") {
  const auto d = decode("50 01 0001 00 " + std::string(kAsPath) + kNextHop);
  REQUIRE(d.outcome.action == ErrorAction::kNone);
  CHECK(encodeMessage(*d.message, kNew) == updateWith(kMandatory, kNlri));
}

TEST_CASE("AS path length counts a set as one and confederation segments as zero") {
  const AsPath path{{AsSegmentType::kConfedSequence, {65100, 65101}},
                    {AsSegmentType::kSequence, {1, 2, 3}},
                    {AsSegmentType::kSet, {4, 5}}};
  CHECK(asPathLength(path) == 4);
  CHECK(neighbourAs(path) == 1u);
  CHECK(neighbourAs(AsPath{}) == std::nullopt);
  AsPath p;
  prependAs(p, 7);
  prependAs(p, 8);
  CHECK(p == AsPath{{AsSegmentType::kSequence, {8, 7}}});
}

TEST_CASE("AS4_PATH merging for 2-octet peers (RFC 6793 §4.2.3)") {
  SECTION("the leading ASes of AS_PATH not covered by AS4_PATH are kept") {
    PathAttributes a;
    a.asPath = AsPath{{AsSegmentType::kSequence, {65010, kAsTrans, 65001}}};
    a.as4Path = AsPath{{AsSegmentType::kSequence, {4200000000u, 65001}}};
    mergeAs4(a);
    CHECK(a.asPath == AsPath{{AsSegmentType::kSequence, {65010, 4200000000u, 65001}}});
    CHECK_FALSE(a.as4Path);
  }
  SECTION("an AS4_PATH longer than AS_PATH is ignored") {
    PathAttributes a;
    a.asPath = AsPath{{AsSegmentType::kSequence, {kAsTrans}}};
    a.as4Path = AsPath{{AsSegmentType::kSequence, {4200000000u, 65001}}};
    mergeAs4(a);
    CHECK(a.asPath == AsPath{{AsSegmentType::kSequence, {kAsTrans}}});
  }
  SECTION("AGGREGATOR from a real 2-octet AS makes both AS4 attributes stale") {
    PathAttributes a;
    a.asPath = AsPath{{AsSegmentType::kSequence, {kAsTrans}}};
    a.aggregator = Aggregator{65001, 1};
    a.as4Path = AsPath{{AsSegmentType::kSequence, {4200000000u}}};
    a.as4Aggregator = Aggregator{4200000000u, 1};
    mergeAs4(a);
    CHECK(a.asPath == AsPath{{AsSegmentType::kSequence, {kAsTrans}}});
    CHECK(a.aggregator == Aggregator{65001, 1});
  }
  SECTION("AGGREGATOR of AS_TRANS takes AS4_AGGREGATOR") {
    PathAttributes a;
    a.aggregator = Aggregator{kAsTrans, 1};
    a.as4Aggregator = Aggregator{4200000000u, 1};
    mergeAs4(a);
    CHECK(a.aggregator == Aggregator{4200000000u, 1});
    CHECK_FALSE(a.as4Aggregator);
  }
}

TEST_CASE(
    "AS4 split for 2-octet peers puts AS_TRANS in AS_PATH and the truth in AS4_PATH (RFC 6793 §4.2.2)") {
  PathAttributes a;
  a.asPath =
      AsPath{{AsSegmentType::kConfedSequence, {65100}}, {AsSegmentType::kSequence, {4200000000u, 65001}}};
  a.aggregator = Aggregator{4200000000u, 9};
  splitAs4(a);
  CHECK(a.asPath ==
        AsPath{{AsSegmentType::kConfedSequence, {65100}}, {AsSegmentType::kSequence, {kAsTrans, 65001}}});
  CHECK(a.as4Path == AsPath{{AsSegmentType::kSequence, {4200000000u, 65001}}});
  CHECK(a.aggregator == Aggregator{kAsTrans, 9});
  CHECK(a.as4Aggregator == Aggregator{4200000000u, 9});
  // And merging it back on the other side restores the path (confed segment aside).
  mergeAs4(a);
  CHECK(a.asPath ==
        AsPath{{AsSegmentType::kConfedSequence, {65100}}, {AsSegmentType::kSequence, {4200000000u, 65001}}});
}

TEST_CASE("a path of only 2-octet ASes needs no AS4_PATH") {
  PathAttributes a;
  a.asPath = AsPath{{AsSegmentType::kSequence, {65001}}};
  splitAs4(a);
  CHECK_FALSE(a.as4Path);
}

TEST_CASE("the Partial bit on a known optional transitive attribute survives re-encoding (RFC 4271 §5)") {
  const auto d = decode(kMandatory + "e0 08 04 fde90064 c0 20 0c 0000fde9 00000001 00000002");
  REQUIRE(d.outcome.action == ErrorAction::kNone);
  const auto& u = std::get<Update>(*d.message);
  CHECK(u.attributes.partial == (std::uint64_t{1} << 8));
  CHECK(encodeMessage(u, kNew) ==
        updateWith(kMandatory + "e0 08 04 fde90064 c0 20 0c 0000fde9 00000001 00000002", kNlri));
}

TEST_CASE("the Partial bit on a well-known attribute is not recorded") {
  const auto d = decode("60 01 01 00 " + std::string(kAsPath) + kNextHop);
  REQUIRE(d.message);
  CHECK(std::get<Update>(*d.message).attributes.partial == 0);
}

TEST_CASE("every action of an UPDATE is kept, not only the worst") {
  CodecContext ctx;
  ctx.addPathIpv4 = true;  // makes the MP_UNREACH IPv4 prefix below malformed
  const auto d = decode(
      "80 0f 05 0001 01 18 0a 40 01 01 05 40 02 00 80 0e 16 0002 01 10 20010db8000000000000000000000001 00 "
      "00",
      "", ctx);
  CHECK(d.outcome.action == ErrorAction::kAfiSafiDisable);
  CHECK(d.outcome.disabledFamilies == std::vector<AfiSafi>{kIpv4Unicast});
  CHECK(d.outcome.treatAsWithdraw);
}

TEST_CASE("confederation segments from an external peer are treat-as-withdraw (RFC 7606 §7.2)") {
  CodecContext ebgp;
  ebgp.externalPeer = true;
  const std::string attrs = std::string(kOrigin) + "40 02 06 03 01 0000fde9 " + kNextHop;
  CHECK(decode(attrs, kNlri, ebgp).outcome.action == ErrorAction::kTreatAsWithdraw);
  CHECK(decode(attrs, kNlri, kNew).outcome.action == ErrorAction::kNone);
}
