// The conformance cases. Pod addresses (lab_harness.cpp): x/a .10, x/b .11, x/c .12, y/a .20,
// y/b .21, y/c .22, z/a .30, z/b .31, z/c .32, all in 10.65.0.0/24; and in IPv6 x/a fd00:65::10
// ... z/c fd00:65::32 (the same digits, read as hex), all in fd00:65::/64.
#include "cases.hpp"

namespace tartan::conformance {

std::string knp(const std::string& name, const std::string& ns, const std::string& spec) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: " + name +
         "\n  namespace: " + ns + "\nspec:\n" + spec + "---\n";
}

std::string tartanPolicy(const std::string& kind, const std::string& name, const std::string& ns,
                         const std::string& spec) {
  return "apiVersion: tartan.dev/v1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n" +
         (ns.empty() ? "" : "  namespace: " + ns + "\n") + "spec:\n" + spec + "---\n";
}

namespace {

bool is(const PodRef& p, const char* key) { return p.key() == key; }
bool open(const Cell&) { return true; }

// A pod selected by a policy of a direction is isolated in it: only the rule's cells pass.
Expectation ingressTo(const char* pod, Expectation allowed) {
  return [pod, allowed](const Cell& c) { return !is(c.to, pod) || allowed(c); };
}
Expectation egressFrom(const char* pod, Expectation allowed) {
  return [pod, allowed](const Cell& c) { return !is(c.from, pod) || allowed(c); };
}

const char* kDenyIngressX = R"(  podSelector: {}
  policyTypes: [Ingress]
)";

}  // namespace

std::vector<PolicyCase> kubernetesCases() {
  std::vector<PolicyCase> cases;

  cases.push_back(
      {"default-deny ingress: nothing reaches namespace x, x still reaches out",
       {{knp("deny-ingress", "x", kDenyIngressX), "", "", [](const Cell& c) { return c.to.ns != "x"; }}}});

  cases.push_back({"default-deny egress: namespace x reaches nothing, x still takes ingress",
                   {{knp("deny-egress", "x", "  podSelector: {}\n  policyTypes: [Egress]\n"), "", "",
                     [](const Cell& c) { return c.from.ns != "x"; }}}});

  cases.push_back({"allow-all ingress beside default-deny ingress: the union opens everything",
                   {{knp("deny-ingress", "x", kDenyIngressX) +
                         knp("allow-all-ingress", "x", "  podSelector: {}\n  ingress:\n    - {}\n"),
                     "", "", open}}});

  cases.push_back({"allow-all egress beside default-deny egress: the union opens everything",
                   {{knp("deny-egress", "x", "  podSelector: {}\n  policyTypes: [Egress]\n") +
                         knp("allow-all-egress", "x",
                             "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n    - {}\n"),
                     "", "", open}}});

  cases.push_back({"podSelector alone selects pods of the policy's own namespace: x/a takes only x/b",
                   {{knp("a-from-b", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: b}}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return is(c.from, "x/b"); })}}});

  cases.push_back({"namespaceSelector alone selects every pod of the namespace: x/a takes all of y",
                   {{knp("a-from-y", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: y}}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns == "y"; })}}});

  cases.push_back({"podSelector and namespaceSelector in one peer are ANDed: x/a takes only y/b",
                   {{knp("a-from-yb", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: y}}
          podSelector: {matchLabels: {pod: b}}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return is(c.from, "y/b"); })}}});

  cases.push_back(
      {"podSelector and namespaceSelector as two peers are ORed: x/a takes x/b and all of y",
       {{knp("a-from-y-or-b", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: y}}
        - podSelector: {matchLabels: {pod: b}}
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns == "y" || is(c.from, "x/b"); })}}});

  cases.push_back(
      {"matchExpressions In/NotIn/Exists: x/a takes pods of y and z except pod c",
       {{knp("a-match-expressions", "x", R"(  podSelector:
    matchExpressions:
      - {key: pod, operator: In, values: [a]}
  ingress:
    - from:
        - namespaceSelector:
            matchExpressions:
              - {key: ns, operator: In, values: [y, z]}
          podSelector:
            matchExpressions:
              - {key: pod, operator: NotIn, values: [c]}
              - {key: pod, operator: Exists}
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns != "x" && c.from.pod != "c"; })}}});

  cases.push_back({"ipBlock without except: x/a takes only y's pods (10.65.0.20/30)",
                   {{knp("a-from-y-cidr", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - ipBlock: {cidr: 10.65.0.20/30}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns == "y"; })}}});

  cases.push_back({"ipBlock with except (ingress): x/a takes 10.65.0.0/24 but not y's pods (10.65.0.20/30)",
                   {{knp("a-from-cidr", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - ipBlock: {cidr: 10.65.0.0/24, except: [10.65.0.20/30]}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns != "y"; })}}});

  cases.push_back(
      {"ipBlock with except (egress): x/a reaches 10.65.0.0/24 but not z/a, z/b (10.65.0.30/31)",
       {{knp("a-to-cidr", "x", R"(  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock: {cidr: 10.65.0.0/24, except: [10.65.0.30/31]}
)"),
         "", "", egressFrom("x/a", [](const Cell& c) { return !is(c.to, "z/a") && !is(c.to, "z/b"); })}}});

  cases.push_back(
      {"named port: x/a takes ingress on serve-81-tcp only (81/TCP)",
       {{knp("a-named-port", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - ports:
        - port: serve-81-tcp
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.port == 81 && c.protocol == "TCP"; })}}});

  cases.push_back(
      {"named UDP port: x/a takes ingress on serve-80-udp only (80/UDP)",
       {{knp("a-named-udp-port", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - ports:
        - {protocol: UDP, port: serve-80-udp}
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.port == 80 && c.protocol == "UDP"; })}}});

  {
    // "web" is 80/TCP on x/a and 81/TCP on x/b, and x/c has no port of that name.
    Lab::PodEdit a{{{"pod", "a"}}, {{"web", "80/TCP"}}, ""};
    Lab::PodEdit b{{{"pod", "b"}}, {{"web", "81/TCP"}}, ""};
    cases.push_back({"named port is resolved per destination pod: web is 80 on x/a, 81 on x/b, absent on x/c",
                     {{knp("web-port", "x", R"(  podSelector: {}
  ingress:
    - ports:
        - port: web
)"),
                       Lab::podManifest({"x", "a"}, &a) + "---\n" + Lab::podManifest({"x", "b"}, &b), "",
                       [](const Cell& c) {
                         if (c.to.ns != "x" || c.protocol != "TCP") return c.to.ns != "x";
                         return (c.to.pod == "a" && c.port == 80) || (c.to.pod == "b" && c.port == 81);
                       }}}});
  }

  cases.push_back({"endPort range 80-81: x/a takes TCP 80 and 81, no UDP",
                   {{knp("a-port-range", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - ports:
        - {protocol: TCP, port: 80, endPort: 81}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.protocol == "TCP"; })}}});

  cases.push_back(
      {"endPort range 81-90: x/a takes UDP 81 only of the model's UDP ports",
       {{knp("a-udp-range", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - ports:
        - {protocol: UDP, port: 81, endPort: 90}
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.protocol == "UDP" && c.port == 81; })}}});

  cases.push_back({"UDP port rule: x/a takes 81/UDP from y only; TCP and 80/UDP stay closed",
                   {{knp("a-udp-81-from-y", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: y}}
      ports:
        - {protocol: UDP, port: 81}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) {
                       return c.from.ns == "y" && c.protocol == "UDP" && c.port == 81;
                     })}}});

  cases.push_back({"stacked policies are a union: x/a takes y (one policy) and z/b on 80 (another)",
                   {{knp("a-from-y", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: y}}
)") + knp("a-from-zb-80", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: z}}
          podSelector: {matchLabels: {pod: b}}
      ports:
        - {port: 80}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) {
                       return c.from.ns == "y" || (is(c.from, "z/b") && c.port == 80 && c.protocol == "TCP");
                     })}}});

  cases.push_back({"policyTypes [Egress] only: x/a reaches only y; its ingress rules are ignored",
                   {{knp("a-egress-only", "x", R"(  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: b}}
  egress:
    - to:
        - namespaceSelector: {matchLabels: {ns: y}}
)"),
                     "", "", egressFrom("x/a", [](const Cell& c) { return c.to.ns == "y"; })}}});

  cases.push_back(
      {"policyTypes [Ingress, Egress] without egress rules: x/a reaches nothing, takes everything",
       {{knp("a-both-types", "x", R"(  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress, Egress]
  ingress:
    - {}
)"),
         "", "", egressFrom("x/a", [](const Cell&) { return false; })}}});

  cases.push_back({"policy update changes the allowed peer: x/a takes y, then z instead",
                   {{knp("a-from-ns", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: y}}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns == "y"; })},
                    {knp("a-from-ns", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: z}}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns == "z"; })}}});

  cases.push_back(
      {"policy removal reopens: default-deny ingress in x, then deleted",
       {{knp("deny-ingress", "x", kDenyIngressX), "", "", [](const Cell& c) { return c.to.ns != "x"; }},
        {"", "", knp("deny-ingress", "x", kDenyIngressX), open}}});

  {
    Lab::PodEdit relabel{{{"pod", "b"}}, {}, ""};
    cases.push_back({"pod label change flips the verdict: y/c relabelled pod=b is let into x/a",
                     {{knp("a-from-any-b", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {}
          podSelector: {matchLabels: {pod: b}}
)"),
                       "", "", ingressTo("x/a", [](const Cell& c) { return c.from.pod == "b"; })},
                      {"", Lab::podManifest({"y", "c"}, &relabel), "", ingressTo("x/a", [](const Cell& c) {
                         return c.from.pod == "b" || is(c.from, "y/c");
                       })}}});
  }

  {
    static const std::map<std::string, std::string> kBlue{{"ns", "z"}, {"team", "blue"}};
    cases.push_back({"namespace label change flips the verdict: z labelled team=blue is let into x/a",
                     {{knp("a-from-blue", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: blue}}
)"),
                       "", "", ingressTo("x/a", [](const Cell&) { return false; })},
                      {"", Lab::namespaceManifest("z", &kBlue), "",
                       ingressTo("x/a", [](const Cell& c) { return c.from.ns == "z"; })}}});
  }

  return cases;
}

std::vector<PolicyCase> calicoCases() {
  std::vector<PolicyCase> cases;
  const std::string xa = "projectcalico.org/namespace == \"x\" && pod == \"a\"";

  cases.push_back(
      {"tiers: Pass in a lower-order tier hands y to the default tier's allow; its Deny stops the rest",
       {{"apiVersion: tartan.dev/v1\nkind: Tier\nmetadata:\n  name: security\nspec:\n  order: 100\n---\n" +
             tartanPolicy("GlobalNetworkPolicy", "security.guard-xa", "",
                          "  tier: security\n  order: 10\n  selector: " + xa + R"(
  types: [Ingress]
  ingress:
    - action: Pass
      source:
        namespaceSelector: ns == "y"
    - action: Deny
)") + knp("allow-all-ingress", "x", "  podSelector: {}\n  ingress:\n    - {}\n"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns == "y"; })}}});

  {
    const std::string tier =
        "apiVersion: tartan.dev/v1\nkind: Tier\nmetadata:\n  name: platform\nspec:\n  order: 100\n";
    const std::string policy = tartanPolicy("GlobalNetworkPolicy", "platform.xa-from-y", "",
                                            "  tier: platform\n  selector: " + xa + R"(
  types: [Ingress]
  ingress:
    - action: Allow
      source:
        namespaceSelector: ns == "y"
)");
    const std::string allowAll = knp("allow-all-ingress", "x", "  podSelector: {}\n  ingress:\n    - {}\n");
    cases.push_back(
        {"tiers: no rule matching at the end of a tier drops; defaultAction Pass hands on to the next tier",
         {{tier + "---\n" + policy + allowAll, "", "",
           ingressTo("x/a", [](const Cell& c) { return c.from.ns == "y"; })},
          {tier + "  defaultAction: Pass\n---\n", "", "", open}}});
  }

  cases.push_back(
      {"tiers: a Tartan policy of lower order than the Kubernetes policy's denies first; order decides",
       {{tartanPolicy("NetworkPolicy", "deny-yb", "x", R"(  order: 10
  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Deny
      source:
        selector: pod == "b"
        namespaceSelector: ns == "y"
)") + tartanPolicy("NetworkPolicy", "allow-all", "x", R"(  order: 20
  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Allow
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return !is(c.from, "y/b"); })},
        // The Deny moved after the Allow: the Allow matches first.
        {tartanPolicy("NetworkPolicy", "deny-yb", "x", R"(  order: 30
  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Deny
      source:
        selector: pod == "b"
        namespaceSelector: ns == "y"
)"),
         "", "", open}}});

  cases.push_back({"Log logs and goes on to the next rule: x/a then allows only y",
                   {{tartanPolicy("NetworkPolicy", "log-then-allow-y", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Log
    - action: Allow
      source:
        namespaceSelector: ns == "y"
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns == "y"; })}}});

  cases.push_back({"notNets and notPorts: x/a takes TCP from outside 10.65.0.20/30 (y) to any port but 81",
                   {{tartanPolicy("NetworkPolicy", "not-nets-not-ports", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      source:
        notNets: [10.65.0.20/30]
      destination:
        notPorts: [81]
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) {
                       return c.from.ns != "y" && c.protocol == "TCP" && c.port == 80;
                     })}}});

  cases.push_back(
      {"notNets with two CIDRs: x/a takes everyone but y/a (10.65.0.20/32), z/a and z/b (10.65.0.24/29)",
       {{tartanPolicy("NetworkPolicy", "two-not-nets", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Allow
      source:
        notNets: [10.65.0.20/32, 10.65.0.24/29]
)"),
         "", "", ingressTo("x/a", [](const Cell& c) {
           return !is(c.from, "y/a") && !is(c.from, "z/a") && !is(c.from, "z/b");
         })}}});

  cases.push_back(
      {"a staged policy is stored, not enforced: a staged deny-all of namespace x changes nothing",
       {{tartanPolicy("StagedNetworkPolicy", "staged-deny", "x", R"(  stagedAction: Set
  selector: all()
  types: [Ingress, Egress]
)") + tartanPolicy("StagedGlobalNetworkPolicy", "staged-deny-all", "", R"(  selector: all()
  types: [Ingress, Egress]
  ingress:
    - action: Deny
)"),
         "", "", open}}});

  cases.push_back({"notProtocol: x/a takes everything but UDP",
                   {{tartanPolicy("NetworkPolicy", "not-udp", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Allow
      notProtocol: UDP
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.protocol != "UDP"; })}}});

  cases.push_back(
      {"GlobalNetworkSet selected by its labels: x/a takes z/a and z/b (10.65.0.30/31) only",
       {{"apiVersion: tartan.dev/v1\nkind: GlobalNetworkSet\nmetadata:\n  name: partners\n  labels: {role: "
         "partners}\n"
         "spec:\n  nets: [10.65.0.30/31]\n---\n" +
             tartanPolicy("GlobalNetworkPolicy", "from-partners", "", "  selector: " + xa + R"(
  types: [Ingress]
  ingress:
    - action: Allow
      source:
        selector: role == "partners"
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return is(c.from, "z/a") || is(c.from, "z/b"); })}}});

  cases.push_back({"GlobalNetworkPolicy namespaceSelector: every pod of y takes only z",
                   {{tartanPolicy("GlobalNetworkPolicy", "y-from-z", "", R"(  namespaceSelector: ns == "y"
  selector: all()
  types: [Ingress]
  ingress:
    - action: Allow
      source:
        namespaceSelector: ns == "z"
)"),
                     "", "", [](const Cell& c) { return c.to.ns != "y" || c.from.ns == "z"; }}}});

  cases.push_back({"GlobalNetworkPolicy egress Deny to a namespace, then Allow: x reaches all but z",
                   {{tartanPolicy("GlobalNetworkPolicy", "x-not-to-z", "",
                                  R"(  selector: projectcalico.org/namespace == "x"
  types: [Egress]
  egress:
    - action: Deny
      destination:
        namespaceSelector: ns == "z"
    - action: Allow
)"),
                     "", "", [](const Cell& c) { return c.from.ns != "x" || c.to.ns != "z"; }}}});

  {
    Lab::PodEdit clientB{{{"pod", "b"}}, {}, "client"};
    Lab::PodEdit clientYb{{{"pod", "b"}}, {}, "client"};
    const std::string accounts = R"(apiVersion: v1
kind: ServiceAccount
metadata:
  name: client
  namespace: x
  labels: {role: client}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: client
  namespace: y
  labels: {role: client}
---
)";
    cases.push_back(
        {"serviceAccounts by name (policy's namespace) and by selector (any namespace via GNP)",
         {{accounts + tartanPolicy("NetworkPolicy", "a-from-sa-client", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Allow
      source:
        serviceAccounts:
          names: [client]
)"),
           Lab::podManifest({"x", "b"}, &clientB) + "---\n" + Lab::podManifest({"y", "b"}, &clientYb), "",
           ingressTo("x/a", [](const Cell& c) { return is(c.from, "x/b"); })},
          {tartanPolicy("GlobalNetworkPolicy", "c-from-sa-role", "",
                        R"(  selector: projectcalico.org/namespace == "z" && pod == "c"
  types: [Ingress]
  ingress:
    - action: Allow
      source:
        serviceAccounts:
          selector: role == "client"
)"),
           "", "", [](const Cell& c) {
             if (is(c.to, "x/a")) return is(c.from, "x/b");
             if (is(c.to, "z/c")) return is(c.from, "x/b") || is(c.from, "y/b");
             return true;
           }}}});
  }
  return cases;
}

std::vector<PolicyCase> ipv6Cases() {
  std::vector<PolicyCase> cases;
  cases.push_back({"IPv6 default-deny both ways: namespace x neither takes nor sends anything",
                   {{knp("deny-both", "x", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"), "", "",
                     [](const Cell& c) { return c.to.ns != "x" && c.from.ns != "x"; }}},
                   kIpv6});

  cases.push_back({"IPv6 podSelector and namespaceSelector in one peer are ANDed: x/a takes only y/b",
                   {{knp("a-from-yb", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {ns: y}}
          podSelector: {matchLabels: {pod: b}}
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return is(c.from, "y/b"); })}},
                   kIpv6});

  cases.push_back({"IPv6 egress to a namespaceSelector: x/a reaches only z",
                   {{knp("a-to-z", "x", R"(  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {ns: z}}
)"),
                     "", "", egressFrom("x/a", [](const Cell& c) { return c.to.ns == "z"; })}},
                   kIpv6});

  // An ipBlock names one family: the IPv6 block lets IPv6 in and, the pod being isolated, shuts
  // IPv4 out entirely; so this case is probed over both families.
  cases.push_back(
      {"IPv6 ipBlock with except (ingress): x/a takes fd00:65::/64 but not y (fd00:65::20/126), no IPv4",
       {{knp("a-from-cidr6", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - ipBlock: {cidr: "fd00:65::/64", except: ["fd00:65::20/126"]}
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.family == 6 && c.from.ns != "y"; })}},
       kDualStack});

  cases.push_back(
      {"IPv6 ipBlock with except (egress): x/a reaches fd00:65::/120 but not z/a, z/b (fd00:65::30/127)",
       {{knp("a-to-cidr6", "x", R"(  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock: {cidr: "fd00:65::/120", except: ["fd00:65::30/127"]}
)"),
         "", "", egressFrom("x/a", [](const Cell& c) { return !is(c.to, "z/a") && !is(c.to, "z/b"); })}},
       kIpv6});

  cases.push_back(
      {"IPv4 and IPv6 blocks in one rule: x/a takes y over IPv4 and z over IPv6",
       {{knp("a-from-mixed", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - ipBlock: {cidr: 10.65.0.20/30}
        - ipBlock: {cidr: "fd00:65::30/126"}
)"),
         "", "",
         ingressTo("x/a",
                   [](const Cell& c) { return c.family == 4 ? c.from.ns == "y" : c.from.ns == "z"; })}},
       kDualStack});

  {
    // "web" is 80/TCP on x/a and 81/TCP on x/b, and x/c has no port of that name.
    Lab::PodEdit a{{{"pod", "a"}}, {{"web", "80/TCP"}}, ""};
    Lab::PodEdit b{{{"pod", "b"}}, {{"web", "81/TCP"}}, ""};
    cases.push_back({"IPv6 named port is resolved per destination pod: web is 80 on x/a, 81 on x/b",
                     {{knp("web-port", "x", R"(  podSelector: {}
  ingress:
    - ports:
        - port: web
)"),
                       Lab::podManifest({"x", "a"}, &a) + "---\n" + Lab::podManifest({"x", "b"}, &b), "",
                       [](const Cell& c) {
                         if (c.to.ns != "x" || c.protocol != "TCP") return c.to.ns != "x";
                         return (c.to.pod == "a" && c.port == 80) || (c.to.pod == "b" && c.port == 81);
                       }}},
                     kIpv6});
  }

  cases.push_back(
      {"IPv6 Tartan policy: Deny from y's pods by nets, then Allow; x/a takes all but y",
       {{tartanPolicy("NetworkPolicy", "a-not-from-y6", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Deny
      source:
        nets: ["fd00:65::20/126"]
    - action: Allow
)"),
         "", "", ingressTo("x/a", [](const Cell& c) { return c.family == 4 || c.from.ns != "y"; })}},
       kDualStack});

  // A zero-length prefix is the whole of its family ("allow from anywhere", one of the commonest
  // policies); probed over both families, since it must open its own family and not the other.
  cases.push_back(
      {"ipBlock 0.0.0.0/0 beside default-deny: x/a takes everyone over IPv4, nothing over IPv6",
       {{knp("deny-ingress", "x", kDenyIngressX) +
             knp("a-from-anywhere4", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - ipBlock: {cidr: 0.0.0.0/0}
)"),
         "", "", [](const Cell& c) { return c.to.ns != "x" || (is(c.to, "x/a") && c.family == 4); }}},
       kDualStack});

  cases.push_back(
      {"ipBlock 0.0.0.0/0 and ::/0 with excepts: x/a takes everyone but y (IPv4) and z (IPv6)",
       {{knp("a-from-anywhere-but", "x", R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - ipBlock: {cidr: 0.0.0.0/0, except: [10.65.0.20/30]}
        - ipBlock: {cidr: "::/0", except: ["fd00:65::30/126"]}
)"),
         "", "",
         ingressTo("x/a",
                   [](const Cell& c) { return c.family == 4 ? c.from.ns != "y" : c.from.ns != "z"; })}},
       kDualStack});

  cases.push_back(
      {"egress to ipBlock ::/0 beside a policy allowing y over IPv4: x/a reaches all over IPv6, y over IPv4",
       {{knp("a-to-anywhere6", "x", R"(  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock: {cidr: "::/0"}
)") + knp("a-to-y", "x", R"(  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {ns: y}}
)"),
         "", "", egressFrom("x/a", [](const Cell& c) { return c.family == 6 || c.to.ns == "y"; })}},
       kDualStack});

  cases.push_back({"nets 0.0.0.0/0 and ::/0 after Denies from y: x/a takes everyone but y in both families",
                   {{tartanPolicy("NetworkPolicy", "a-anywhere-but-y", "x", R"(  selector: pod == "a"
  types: [Ingress]
  ingress:
    - action: Deny
      source:
        nets: [10.65.0.20/30]
    - action: Deny
      source:
        nets: ["fd00:65::20/126"]
    - action: Allow
      source:
        nets: [0.0.0.0/0]
    - action: Allow
      source:
        nets: ["::/0"]
)"),
                     "", "", ingressTo("x/a", [](const Cell& c) { return c.from.ns != "y"; })}},
                   kDualStack});

  cases.push_back({"Deny to nets 0.0.0.0/0 then Allow: x/a sends nothing over IPv4, everything over IPv6",
                   {{tartanPolicy("NetworkPolicy", "a-deny-all4", "x", R"(  selector: pod == "a"
  types: [Egress]
  egress:
    - action: Deny
      destination:
        nets: [0.0.0.0/0]
    - action: Allow
)"),
                     "", "", egressFrom("x/a", [](const Cell& c) { return c.family == 6; })}},
                   kDualStack});
  return cases;
}

}  // namespace tartan::conformance
