// BGPFilter's peer type, community, AS path and priority matches and its route operations, and
// the BGPPeer fields added beside them: decoding, Calico's validation rules, round trips.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

namespace {

std::string filter(const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata:\n  name: f\nspec:\n" + spec;
}

std::string peer(const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: p\nspec:\n" + spec;
}

const char* kFullFilter = R"(  exportV4:
  - action: Accept
    peerType: eBGP
    communities:
      values: ["65000:100"]
    asPathPrefix: [65001, "1.10"]
    priority: 512
    operations:
    - addCommunity: {value: "65000:10:20"}
    - prependASPath: {prefix: [65000, 65000]}
    - setPriority: {value: 1024}
  - action: Reject
    peerType: iBGP
    cidr: 10.0.0.0/8
    matchOperator: In
    prefixLength: {min: 16, max: 24}
  importV6:
  - action: Accept
    cidr: fd00::/8
    matchOperator: NotIn
    communities: {values: ["1:2"]}
    operations:
    - setPriority: {value: 2147483646}
)";

}  // namespace

TEST_CASE("BGPFilter rules decode peer type, community, AS path, priority and operations", "[model][bgp]") {
  DecodeResult result = decode(filter(kFullFilter), "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const BGPFilterSpec& s = std::get<BGPFilter>(result.resources[0]).spec;
  REQUIRE(s.exportV4.size() == 2);
  const BGPFilterRule& r = s.exportV4[0];
  CHECK(r.action == "Accept");
  CHECK(r.peerType == "eBGP");
  REQUIRE(r.communities);
  CHECK(r.communities->values == std::vector<std::string>{"65000:100"});
  // asdot "1.10" is 1 * 65536 + 10 (RFC 5396).
  CHECK(r.asPathPrefix == std::vector<ASNumber>{{65001}, {65546}});
  CHECK(r.priority == 512);
  REQUIRE(r.operations.size() == 3);
  REQUIRE(r.operations[0].addCommunity);
  CHECK(r.operations[0].addCommunity->value == "65000:10:20");
  CHECK_FALSE(r.operations[0].prependASPath);
  REQUIRE(r.operations[1].prependASPath);
  CHECK(r.operations[1].prependASPath->prefix == std::vector<ASNumber>{{65000}, {65000}});
  REQUIRE(r.operations[2].setPriority);
  CHECK(r.operations[2].setPriority->value == 1024);
  CHECK(s.exportV4[1].peerType == "iBGP");
  CHECK(s.exportV4[1].operations.empty());
  CHECK_FALSE(s.exportV4[1].priority);
  REQUIRE(s.importV6.size() == 1);
  CHECK(s.importV6[0].operations[0].setPriority->value == 2147483646);
  requireRoundTrip(result.resources[0]);
}

TEST_CASE("a rule without the new fields writes none of them", "[model][bgp]") {
  DecodeResult result = decode(filter("  exportV4: [{action: Reject}]\n"), "in.yaml");
  REQUIRE(result.ok());
  std::string yaml = encodeYaml(result.resources[0]);
  CHECK(yaml.find("peerType") == std::string::npos);
  CHECK(yaml.find("operations") == std::string::npos);
  CHECK(yaml.find("communities") == std::string::npos);
  CHECK(yaml.find("asPathPrefix") == std::string::npos);
  CHECK(yaml.find("priority") == std::string::npos);
  requireRoundTrip(result.resources[0]);
}

TEST_CASE("BGPFilter rules are validated as Calico validates them", "[model][bgp][validate]") {
  struct Case {
    const char* name;
    std::string spec;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"an unknown peer type", "  exportV4: [{action: Accept, peerType: eBgp}]\n",
       "spec.exportV4[0].peerType", "is not one of eBGP, iBGP"},
      {"a standard community part over 16 bits",
       "  exportV4: [{action: Accept, communities: {values: [\"65536:1\"]}}]\n",
       "spec.exportV4[0].communities.values[0]", "invalid community value"},
      {"a large community part over 32 bits",
       "  exportV6: [{action: Accept, communities: {values: [\"1:2:4294967296\"]}}]\n",
       "spec.exportV6[0].communities.values[0]", "invalid community value"},
      {"a community with four parts",
       "  exportV4: [{action: Accept, communities: {values: [\"1:2:3:4\"]}}]\n",
       "spec.exportV4[0].communities.values[0]", "invalid community value"},
      {"a community with a leading zero",
       "  exportV4: [{action: Accept, communities: {values: [\"065000:1\"]}}]\n",
       "spec.exportV4[0].communities.values[0]", "invalid community value"},
      {"a community match without values", "  exportV4: [{action: Accept, communities: {}}]\n",
       "spec.exportV4[0].communities.values", "required field \"values\" is missing"},
      {"a community match with two values",
       "  exportV4: [{action: Accept, communities: {values: [\"1:1\", \"1:2\"]}}]\n",
       "spec.exportV4[0].communities.values", "exactly one community value"},
      {"a priority of zero", "  exportV4: [{action: Accept, priority: 0}]\n", "spec.exportV4[0].priority",
       "between 1 and 2147483646"},
      {"a priority at the int32 maximum", "  importV4: [{action: Accept, priority: 2147483647}]\n",
       "spec.importV4[0].priority", "between 1 and 2147483646"},
      {"operations on a Reject rule",
       "  exportV4: [{action: Reject, operations: [{setPriority: {value: 5}}]}]\n",
       "spec.exportV4[0].operations", "only be used with action Accept"},
      {"an operation with two members",
       "  exportV4: [{action: Accept, operations: [{setPriority: {value: 5}, addCommunity: {value: "
       "\"1:1\"}}]}]\n",
       "spec.exportV4[0].operations[0]", "exactly one of addCommunity, prependASPath and setPriority"},
      {"an empty operation", "  exportV4: [{action: Accept, operations: [{}]}]\n",
       "spec.exportV4[0].operations[0]", "exactly one of"},
      {"an added community that is not one",
       "  exportV4: [{action: Accept, operations: [{addCommunity: {value: \"no-export\"}}]}]\n",
       "spec.exportV4[0].operations[0].addCommunity.value", "invalid community value"},
      {"an added community without a value",
       "  exportV4: [{action: Accept, operations: [{addCommunity: {}}]}]\n",
       "spec.exportV4[0].operations[0].addCommunity.value", "required field \"value\" is missing"},
      {"an empty prepend", "  exportV4: [{action: Accept, operations: [{prependASPath: {prefix: []}}]}]\n",
       "spec.exportV4[0].operations[0].prependASPath.prefix", "between 1 and 10 AS numbers"},
      {"a prepend of eleven AS numbers",
       "  exportV4: [{action: Accept, operations: [{prependASPath: {prefix: [1,2,3,4,5,6,7,8,9,10,11]}}]}]\n",
       "spec.exportV4[0].operations[0].prependASPath.prefix", "between 1 and 10 AS numbers"},
      {"a prepended AS number that is not one",
       "  exportV4: [{action: Accept, operations: [{prependASPath: {prefix: [\"1.70000\"]}}]}]\n",
       "spec.exportV4[0].operations[0].prependASPath.prefix[0]", "invalid AS number"},
      {"a set priority of zero", "  exportV6: [{action: Accept, operations: [{setPriority: {value: 0}}]}]\n",
       "spec.exportV6[0].operations[0].setPriority.value", "between 1 and 2147483646"},
      {"eleven operations",
       "  exportV4: [{action: Accept, operations: [" +
           [] {
             std::string ops;
             for (int i = 1; i <= 11; ++i)
               ops += std::string(i > 1 ? ", " : "") + "{setPriority: {value: " + std::to_string(i) + "}}";
             return ops;
           }() +
           "]}]\n",
       "spec.exportV4[0].operations", "at most 10 operations"},
      {"an AS path prefix entry that is not an AS number",
       "  importV4: [{action: Reject, asPathPrefix: [\"x\"]}]\n", "spec.importV4[0].asPathPrefix[0]",
       "invalid AS number"},
      {"a source on an import rule", "  importV4: [{action: Accept, source: RemotePeers}]\n",
       "spec.importV4[0].source", "not applicable to import rules"},
      {"a prefix length without a CIDR", "  exportV4: [{action: Accept, prefixLength: {min: 8}}]\n",
       "spec.exportV4[0].prefixLength", "cidr cannot be empty"},
      {"an IPv4 prefix length over 32",
       "  exportV4: [{action: Accept, cidr: 10.0.0.0/8, matchOperator: In, prefixLength: {min: 33}}]\n",
       "spec.exportV4[0].prefixLength.min", "between 0 and 32"},
      {"an operator without a CIDR", "  exportV6: [{action: Accept, matchOperator: Equal}]\n",
       "spec.exportV6[0].cidr", "cidr cannot be empty when matchOperator is not"},
      {"an unknown operator", "  exportV4: [{action: Accept, cidr: 10.0.0.0/8, matchOperator: Within}]\n",
       "spec.exportV4[0].matchOperator", "is not one of Equal, NotEqual, In, NotIn"},
      {"an unknown field in an operation",
       "  exportV4: [{action: Accept, operations: [{setLocalPref: {value: 5}}]}]\n",
       "spec.exportV4[0].operations[0].setLocalPref", "unknown field"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(filter(c.spec));
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
      CHECK_THAT(e.where, Catch::StartsWith("in.yaml:"));
    }
  }
}

TEST_CASE("community values at the edges of their ranges are accepted", "[model][bgp][validate]") {
  for (const char* value : {"0:0", "65535:65535", "4294967295:0:4294967295", "0:0:0"}) {
    INFO(value);
    std::string spec = std::string("  exportV4: [{action: Accept, communities: {values: [\"") + value +
                       "\"]}, operations: [{addCommunity: {value: \"" + value + "\"}}]}]\n";
    DecodeResult result = decode(filter(spec), "in.yaml");
    INFO(errorsText(result));
    CHECK(result.ok());
  }
}

TEST_CASE(
    "BGPPeer carries localASNumber, nextHopMode, reachableBy, ttlSecurity, keepaliveTime and "
    "localWorkloadSelector",
    "[model][bgp]") {
  DecodeResult result = decode(peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  localASNumber: \"1.1\"\n"
                                    "  nextHopMode: Self\n  reachableBy: 10.0.0.254\n  ttlSecurity: 1\n"
                                    "  keepaliveTime: 20s\n  filters: [f]\n"),
                               "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const BGPPeerSpec& s = std::get<BGPPeer>(result.resources[0]).spec;
  CHECK(s.localASNumber == ASNumber{65537});
  CHECK(s.nextHopMode == "Self");
  CHECK(s.reachableBy == "10.0.0.254");
  CHECK(s.ttlSecurity == 1);
  CHECK(s.keepaliveTime == "20s");
  requireRoundTrip(result.resources[0]);

  DecodeResult workload =
      decode(peer("  localWorkloadSelector: app == 'bgp'\n  asNumber: 65010\n"), "in.yaml");
  INFO(errorsText(workload));
  REQUIRE(workload.ok());
  CHECK(std::get<BGPPeer>(workload.resources[0]).spec.localWorkloadSelector == "app == 'bgp'");
  requireRoundTrip(workload.resources[0]);
}

TEST_CASE("BGPPeer's newer fields are validated", "[model][bgp][validate]") {
  struct Case {
    const char* name;
    std::string spec;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"a bad keepalive time", "  keepaliveTime: 20 seconds\n", "spec.keepaliveTime", "invalid duration"},
      {"an unknown next hop mode", "  nextHopMode: Peer\n", "spec.nextHopMode",
       "is not one of Auto, Self, Keep"},
      {"nextHopMode with keepOriginalNextHop", "  nextHopMode: Keep\n  keepOriginalNextHop: true\n",
       "spec.keepOriginalNextHop", "must not be set with nextHopMode"},
      {"a TTL security hop count over 255", "  ttlSecurity: 256\n", "spec.ttlSecurity", "between 0 and 255"},
      {"reachableBy without a peer IP", "  reachableBy: 10.0.0.1\n", "spec.reachableBy",
       "must be empty when peerIP is empty"},
      {"a local workload selector without an AS number", "  localWorkloadSelector: all()\n", "spec.asNumber",
       "must be set when localWorkloadSelector"},
      {"a local workload selector with a peer IP",
       "  localWorkloadSelector: all()\n  asNumber: 1\n  peerIP: 10.0.0.1\n", "spec.peerIP",
       "must be empty when localWorkloadSelector"},
      {"a local AS number that is not one", "  localASNumber: \"x\"\n", "spec.localASNumber",
       "invalid AS number"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(peer(c.spec));
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
    }
  }
}
