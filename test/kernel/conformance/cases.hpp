// test/kernel/conformance/cases.hpp — the conformance cases as data: manifests and truth tables.
//
// A case is a list of steps; each step applies (and/or deletes) manifests and states the truth
// table that must then hold. Policies a case applies are deleted after it; Pod and Namespace
// edits are undone by putting the model back. Truth tables are predicates over a cell, written as
// the rule they prove ("nothing reaches x": to.ns != "x").
#pragma once

#include "lab_harness.hpp"

#include <string>
#include <vector>

namespace tartan::conformance {

struct Step {
  std::string apply;   // policies, sets, tiers, service accounts: deleted when the case ends
  std::string edit;    // Pods and Namespaces: the model is restored when the case ends
  std::string remove;  // deleted in this step
  Expectation expect;
};

struct PolicyCase {
  std::string name;  // states the rule
  std::vector<Step> steps;
  Families families = kIpv4;  // which addresses every step's matrix is probed over
};

// Kubernetes NetworkPolicy, after the upstream netpol suite.
std::vector<PolicyCase> kubernetesCases();
// Tartan/Calico policy semantics: tiers, order, Log, Pass, notNets/notPorts, network sets,
// GlobalNetworkPolicy namespaceSelector, service accounts.
std::vector<PolicyCase> calicoCases();

// The same semantics over IPv6 (and, where a rule names one family's CIDRs, both): default deny
// both ways, pod and namespace selectors, ipBlock with except in IPv6 CIDRs, named ports.
std::vector<PolicyCase> ipv6Cases();

// Manifest helpers shared by the test file.
std::string knp(const std::string& name, const std::string& ns, const std::string& spec);
std::string tartanPolicy(const std::string& kind, const std::string& name, const std::string& ns,
                         const std::string& spec);

}  // namespace tartan::conformance
