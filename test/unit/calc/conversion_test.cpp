// White-box tests of the calc graph's conversions: Calico's Kubernetes NetworkPolicy conversion,
// selector scoping of Calico policies, key prefixing, CIDR normalisation, veth names, and the
// compiled selector agreeing with the selector module on every case.
#include "builders.hpp"
#include "labels.hpp"
#include "policy_conversion.hpp"
#include "selector_program.hpp"
#include "tartan/calc/calc_graph.hpp"
#include "tartan/selector/selector.hpp"

#include <catch2/catch.hpp>

namespace tartan::calc::testing {
namespace {

std::string canon(const std::string& s) { return canonicalSelector(s); }

TEST_CASE("veth names are Calico's: prefix + 11 hex digits of sha1(namespace.pod)") {
  CHECK(CalcGraph::vethNameForWorkload("tart", "default", "nginx") == "tartc440f455693");
  CHECK(CalcGraph::vethNameForWorkload("cali,tart", "prod", "web-0") == "caliaa960f0d82e");
}

TEST_CASE("Kubernetes NetworkPolicy converts as libcalico-go converts it") {
  auto knp = knpIngress(
      "prod", "allow", match({{"app", "web"}}, {{"tier", "In", {"a", "b"}}}),
      {podPeer(match({{"role", "fe"}})), nsPeer(match({})), ipBlock("10.0.0.0/8", {"10.1.0.0/16"})},
      {port(80), port(81), namedPort("http")});
  const model::NetworkPolicy np = convertKubernetesPolicy(knp);
  CHECK(np.metadata.name == "knp.default.allow");
  CHECK(np.metadata.namespaceName == "prod");
  CHECK(np.spec.order == 1000.0);
  CHECK(np.spec.types == std::vector<std::string>{"Ingress"});
  CHECK(canon(np.spec.selector) ==
        canon("projectcalico.org/orchestrator == 'k8s' && app == 'web' && tier in {'a', 'b'}"));
  // One protocol (TCP) x three peers.
  REQUIRE(np.spec.ingress.size() == 3);
  CHECK(np.spec.ingress[0].destination.ports ==
        std::vector<model::Port>{model::Port::named("http"), model::Port::range(80, 81)});
  CHECK(np.spec.ingress[1].source.namespaceSelector == "all()");
  CHECK(np.spec.ingress[1].source.selector == "projectcalico.org/orchestrator == 'k8s'");
  CHECK(np.spec.ingress[2].source.nets == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(np.spec.ingress[2].source.notNets == std::vector<std::string>{"10.1.0.0/16"});

  const PolicyDef def = convertPolicy(np);
  CHECK(def.name == "prod/knp.default.allow");
  CHECK(def.tier == "default");
  CHECK(def.selector ==
        canon("projectcalico.org/namespace == 'prod' && (projectcalico.org/orchestrator == 'k8s' "
              "&& app == 'web' && tier in {'a', 'b'})"));
  // A pod selector alone stays in the policy's namespace...
  CHECK(def.ingress[0].source.selector ==
        canon("projectcalico.org/namespace == 'prod' && (projectcalico.org/orchestrator == 'k8s' "
              "&& role == 'fe')"));
  // ...a namespace selector of {} means any namespace.
  CHECK(def.ingress[1].source.selector ==
        canon("has(projectcalico.org/namespace) && projectcalico.org/orchestrator == 'k8s'"));
  CHECK(def.ingress[2].source.selector.empty());
  CHECK(def.appliesToIngress);
  CHECK_FALSE(def.appliesToEgress);
}

TEST_CASE("Kubernetes ports: no ports means any protocol; a port without number means all ports") {
  auto knp = knpIngress("ns", "p", match({}), {}, {});
  auto np = convertKubernetesPolicy(knp);
  REQUIRE(np.spec.ingress.size() == 1);
  CHECK_FALSE(np.spec.ingress[0].protocol.has_value());
  model::NetworkPolicyPort udpAll;
  udpAll.protocol = "UDP";
  knp = knpIngress("ns", "p", match({}), {}, {udpAll, port(53, {}, "UDP"), port(8000, 8080)});
  np = convertKubernetesPolicy(knp);
  REQUIRE(np.spec.ingress.size() == 2);  // TCP, then UDP (all ports wins)
  CHECK(np.spec.ingress[0].protocol->toString() == "TCP");
  CHECK(np.spec.ingress[0].destination.ports == std::vector<model::Port>{model::Port::range(8000, 8080)});
  CHECK(np.spec.ingress[1].protocol->toString() == "UDP");
  CHECK(np.spec.ingress[1].destination.ports.empty());
}

TEST_CASE("Calico policies: rule selectors scoped to the namespace unless a namespaceSelector") {
  model::Rule r;
  r.action = "Allow";
  r.source.selector = "app == 'a'";
  r.source.notSelector = "bad == 'x'";
  r.destination.namespaceSelector = "team == 'x'";
  r.destination.selector = "role == 'db'";
  r.destination.nets = {"10.0.0.7/24"};
  const PolicyDef def = convertPolicy(np("prod", "p", "", {r}));
  CHECK(def.name == "prod/p");
  CHECK(def.selector == canon("projectcalico.org/namespace == 'prod'"));
  CHECK(def.ingress[0].source.selector == canon("projectcalico.org/namespace == 'prod' && app == 'a'"));
  CHECK(def.ingress[0].source.notSelector == canon("bad == 'x'"));  // as Calico: not scoped
  CHECK(def.ingress[0].destination.selector == canon("pcns.team == 'x' && role == 'db'"));
  CHECK(def.ingress[0].destination.nets == std::vector<std::string>{"10.0.0.0/24"});

  auto g = gnp("g", "", 1, "app == 'x'", {allowFrom("", "global()")});
  g.spec.namespaceSelector = "all()";
  g.spec.serviceAccountSelector = "role == 'admin'";
  const PolicyDef gdef = convertPolicy(g);
  CHECK(gdef.tier == "default");
  CHECK(gdef.selector == canon("(app == 'x' && has(projectcalico.org/namespace)) && pcsa.role == 'admin'"));
  CHECK(gdef.ingress[0].source.selector == canon("!has(projectcalico.org/namespace)"));
}

TEST_CASE("key prefixing touches every label key and nothing else") {
  CHECK(prefixSelectorKeys(canon("a == 'x' && has(b) || !(c in {'1'}) && d starts with 'all()'"), "pcns.") ==
        canon("pcns.a == 'x' && has(pcns.b) || !(pcns.c in {'1'}) && pcns.d starts with 'all()'"));
  CHECK(prefixSelectorKeys("all()", "pcns.") == "all()");
}

TEST_CASE("CIDRs are normalised; endpoint addresses become bare IPs") {
  CHECK(normaliseCidr("10.1.2.3/8") == "10.0.0.0/8");
  CHECK(normaliseCidr("10.1.2.3") == "10.1.2.3/32");
  CHECK(normaliseCidr("fd00::1/64") == "fd00::/64");
  CHECK(normaliseCidr("10.1.2.3/33") == std::nullopt);
  CHECK(normaliseCidr("nonsense") == std::nullopt);
  CHECK(memberFromNet("10.0.0.1/32") == "10.0.0.1");
  CHECK(memberFromNet("fd00::1/128") == "fd00::1");
  CHECK(memberFromNet("10.0.0.0/24") == "10.0.0.0/24");
}

TEST_CASE("the compiled selector agrees with the selector module") {
  const std::vector<std::string> selectors = {"all()",
                                              "app == 'a'",
                                              "app != 'a'",
                                              "has(app)",
                                              "!has(app)",
                                              "app in {'a', 'b'}",
                                              "app not in {'a', 'b'}",
                                              "app contains 'b'",
                                              "app starts with 'a'",
                                              "app ends with 'c'",
                                              "app == 'a' && tier == 'x'",
                                              "app == 'a' || tier == 'x'",
                                              "!(app == 'a' && has(tier))",
                                              "(app == 'a' || app == 'b') && !has(pcns.team)",
                                              "pcns.team == 'x' && app == 'abc'",
                                              "global()",
                                              "app == 'it\"s'"};
  const std::vector<model::Labels> labelSets = {{},
                                                {{"app", "a"}},
                                                {{"app", "abc"}, {"tier", "x"}},
                                                {{"app", "b"}, {"pcns.team", "x"}},
                                                {{"tier", "x"}},
                                                {{"app", "it\"s"}}};
  Interner interner;
  for (const std::string& text : selectors) {
    auto parsed = selector::parse(text);
    REQUIRE(parsed);
    auto program = SelectorProgram::compile(parsed->canonical(), interner);
    REQUIRE(program != nullptr);
    for (const model::Labels& labels : labelSets) {
      LabelVec vec;
      for (const auto& [k, v] : labels) vec.push_back(Label{interner.intern(k), interner.intern(v)});
      std::sort(vec.begin(), vec.end());
      INFO(text);
      CHECK(program->matches(LabelView{&vec, nullptr, nullptr}, interner) == parsed->matches(labels));
    }
  }
}

TEST_CASE("the anchor is the most selective positive term") {
  Interner interner;
  auto anchorOf = [&](const std::string& s) {
    return SelectorProgram::compile(canon(s), interner)->anchor();
  };
  CHECK(anchorOf("has(a) && b in {'1', '2'} && c == 'x'").key == interner.intern("c"));
  CHECK(anchorOf("has(a) && !has(b)").kind == Anchor::Kind::kKey);
  CHECK(anchorOf("a == 'x' || b == 'y'").kind == Anchor::Kind::kNone);
  CHECK(anchorOf("a != 'x'").kind == Anchor::Kind::kNone);
}

}  // namespace
}  // namespace tartan::calc::testing
