// The calc graph's newer compact structures against plain references: the local-endpoint label
// index (which policies may match which local endpoints), one-word member lists, and the packed
// policy bodies that inactive policies are kept as.
#include "local_index.hpp"
#include "members.hpp"
#include "rule_codec.hpp"
#include "selector_program.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <string>

namespace tartan::calc {
namespace {

// Random label vectors over a small alphabet, so keys and values collide often.
LabelVec randomLabels(std::mt19937& rng, Interner& interner, const char* prefix) {
  LabelVec out;
  for (int k = 0; k < 4; ++k) {
    if (rng() % 2 != 0) continue;
    out.push_back(Label{interner.intern(std::string(prefix) + "k" + std::to_string(k)),
                        interner.intern("v" + std::to_string(rng() % 3))});
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("local index: candidates are a superset of the matches, under random churn") {
  Interner interner;
  // Namespace-style labels share keys with own labels ("k0".."k3" in both), so own labels
  // must hide inherited ones exactly as LabelView::get does.
  const std::vector<std::string> selectors = {
      "k0 == \"v1\"", "(k1 == \"v0\" && k2 != \"v1\")", "k3 in {\"v0\", \"v2\"}", "has(k2)",
      "!has(k0)",     "(has(k1) || k3 == \"v2\")",      "k0 starts with \"v\"",   "all()",
  };
  std::vector<std::shared_ptr<const SelectorProgram>> programs;
  for (const std::string& s : selectors) {
    programs.push_back(SelectorProgram::compile(s, interner));
    REQUIRE(programs.back() != nullptr);
  }
  LocalLabelIndex index;
  std::map<uint32_t, std::pair<LabelVec, LabelVec>> reference;  // item -> own, inherited
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    const uint32_t item = rng() % 40;
    if (rng() % 4 == 0) {
      index.erase(item);
      reference.erase(item);
    } else {
      auto& labels = reference[item];
      labels = {randomLabels(rng, interner, ""), randomLabels(rng, interner, "")};
      index.set(item, LabelView{&labels.first, &labels.second, nullptr});
    }
    if (round % 50 != 0) continue;
    REQUIRE(index.size() == reference.size());
    for (const auto& program : programs) {
      std::set<uint32_t> offered;
      index.candidates(program->anchor(), [&](uint32_t i) {
        CHECK(offered.insert(i).second);  // at most once
      });
      for (const auto& [i, labels] : reference) {
        const LabelView view{&labels.first, &labels.second, nullptr};
        if (program->matches(view, interner)) CHECK(offered.count(i) == 1);
      }
      for (uint32_t i : offered) CHECK(reference.count(i) == 1);
    }
  }
}

TEST_CASE("local index: an own label hides the inherited value of the same key") {
  Interner interner;
  const LabelVec own = {Label{interner.intern("team"), interner.intern("a")}};
  const LabelVec inherited = {Label{interner.intern("team"), interner.intern("b")}};
  LocalLabelIndex index;
  index.set(7, LabelView{&own, &inherited, nullptr});
  auto offered = [&](const char* selector) {
    std::vector<uint32_t> out;
    index.candidates(SelectorProgram::compile(selector, interner)->anchor(),
                     [&](uint32_t i) { out.push_back(i); });
    return out;
  };
  CHECK(offered("team == \"a\"") == std::vector<uint32_t>{7});
  CHECK(offered("team == \"b\"").empty());
  index.erase(7);
  CHECK(offered("team == \"a\"").empty());
  CHECK(offered("all()").empty());
}

TEST_CASE("member lists: one member inline, more on the heap, copies and moves independent") {
  Interner strings;
  MemberList list;
  CHECK(list.size() == 0);
  CHECK(list.begin() == list.end());
  const Member v4 = encodeMember("10.1.2.3", strings);
  const Member v6 = encodeMember("fd00::1", strings);
  const Member withPortMember = withPort(v4, 1, 8080, strings);
  list.push_back(v4);
  CHECK(list.size() == 1);
  CHECK(*list.begin() == v4);
  list.push_back(v6);
  list.push_back(withPortMember);
  REQUIRE(list.size() == 3);
  CHECK(std::vector<Member>(list.begin(), list.end()) == std::vector<Member>{v4, v6, withPortMember});
  MemberList copy = list;
  CHECK(copy == list);
  MemberList moved = std::move(copy);
  CHECK(moved == list);
  CHECK(copy.size() == 0);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  copy = moved;
  moved = MemberList();
  CHECK(copy == list);
  CHECK(moved.size() == 0);
  MemberList single;
  single.push_back(v6);  // an interned member (top bit set) stays inline
  CHECK(single.size() == 1);
  CHECK(memberText(*single.begin(), strings) == "fd00::1");
}

TEST_CASE("packed policy bodies unpack to the same selector and rules") {
  PolicyDef def;
  def.tier = "security";
  def.name = "ns1/p";
  def.selector = "(app == \"web\" && projectcalico.org/namespace == \"ns1\")";
  RuleDef allow;
  allow.action = "Allow";
  allow.ipVersion = 4;
  allow.protocol = model::Protocol{std::string("TCP")};
  allow.source.selector = "role == \"db\"";
  allow.source.notNets = {"10.0.0.0/8"};
  allow.destination.ports = {model::Port::single(80), model::Port::range(8000, 8080),
                             model::Port::named("http")};
  allow.destination.notPorts = {model::Port::single(22)};
  RuleDef deny;
  deny.action = "Deny";
  deny.notProtocol = model::Protocol{58};
  deny.icmp = model::ICMPFields{8, 0};
  deny.notIcmp = model::ICMPFields{3, std::nullopt};
  deny.destination.nets = {"192.168.0.0/16", "fd00::/8"};
  deny.destination.notSelector = "has(quarantine)";
  def.ingress = {allow, deny};
  def.egress = {deny};

  const std::string packed = packPolicyBody(def);
  PolicyDef back;
  back.tier = def.tier;
  back.name = def.name;
  unpackPolicyBody(packed, back);
  CHECK(back == def);
  CHECK(packPolicyBody(back) == packed);  // deterministic: equal bodies pack equal

  PolicyDef other = def;
  other.ingress[0].destination.ports.pop_back();
  CHECK(packPolicyBody(other) != packed);
  PolicyDef empty;
  PolicyDef emptyBack;
  unpackPolicyBody(packPolicyBody(empty), emptyBack);
  CHECK(emptyBack == empty);
}

}  // namespace
}  // namespace tartan::calc

namespace tartan::calc {
namespace {

TEST_CASE("a selector admits as anchors exactly the positive tests every match must pass") {
  Interner interner;
  auto describe = [&](const char* selector) {
    std::set<std::string> out;
    for (const Anchor& a : SelectorProgram::compile(selector, interner)->anchors()) {
      std::string text(interner.text(a.key));
      if (a.kind == Anchor::Kind::kKey) text = "has " + text;
      for (StrId v : a.values) text += " " + std::string(interner.text(v));
      out.insert(text);
    }
    return out;
  };
  CHECK(describe("(pcns.team == \"a\" && (has(x) && tier in {\"f\", \"g\"}))") ==
        std::set<std::string>{"pcns.team a", "has x", "tier f g"});
  CHECK(describe("(a == \"1\" || b == \"2\")").empty());  // neither is required
  CHECK(describe("(!has(a) && b != \"2\")").empty());     // negative tests never anchor
  CHECK(describe("(c starts with \"x\" && !(d == \"1\"))") == std::set<std::string>{"has c"});
  CHECK(describe("all()").empty());
}

}  // namespace
}  // namespace tartan::calc
