// test/support/trusted_policies.hpp — the policies of the agent tests that take a datastore away.
//
// Server pods in namespace shop take TCP 8080 only from the front pods that one policy names.
// Each is the only policy there is, so losing it would open the server to everyone: the tests
// prove it is kept through an outage, and that switching from one to the other is enforced.
#pragma once

namespace tartan::test {

inline constexpr const char* kAllowTrustedOnly = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata:
  name: allow-trusted-only
  namespace: shop
spec:
  selector: app == "server"
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      source:
        namespaceSelector: team == "front"
        selector: role == "trusted"
      destination:
        ports: [8080]
)";

inline constexpr const char* kAllowOther = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata:
  name: allow-other
  namespace: shop
spec:
  selector: app == "server"
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      source:
        namespaceSelector: team == "front"
        selector: role == "other"
      destination:
        ports: [8080]
)";

}  // namespace tartan::test
