// src/lab/lab_file.hpp — a lab file: the cluster tartan-lab builds on one machine.
//
//   name: cluster              # lab name: [a-z0-9-], 1-20 characters (default: the file's stem)
//   asNumber: 64512            # optional: the cluster's AS (BGPConfiguration default; 64512)
//   nodes:                     # one network namespace each, running tartan-agent and tartan-bgpd
//     - name: node-1           # a DNS label, not "tor" or "outside"
//       asNumber: 64513        # optional: the node's own AS (Node spec.bgp.asNumber)
//       labels: {rack: r1}     # optional: the Node's labels
//   pools:                     # IPPools: tartan-cni's IPAM hands pods addresses from them, in blocks
//     - {name: pods-v4, cidr: 10.65.0.0/16, blockSize: 26, natOutgoing: true}
//     - {name: pods-v6, cidr: "fd00:65::/48", blockSize: 122, natOutgoing: true}
//   tor:                       # the top-of-rack router (BIRD 2), on the nodes' shared fabric
//     asNumber: 65000
//     addresses: [10.64.0.1/24, "fd00:64::1/64"]  # its fabric addresses, one per family (IPv4
//                              # required); the subnets are the fabric: node i (from 1) is host 10+i
//   outside:                   # the internet behind the ToR: the outside host's own addresses;
//     addresses: [198.51.100.10/24, "2001:db8:ff::10/64"]  # the ToR is each subnet's first host
//   namespaces:
//     - name: shop
//       labels: {team: shop}
//   pods:
//     - name: backend
//       namespace: shop
//       node: node-1           # required when there are several nodes
//       labels: {app: backend}
//       serviceAccount: api    # optional: the Pod's serviceAccountName (a ServiceAccount is written)
//       ip: 10.65.0.20         # optional: the addresses to ask IPAM for (runtimeConfig ips), inside a
//       ip6: "fd00:65::20"     # pool of their family; otherwise IPAM chooses
//       ports:
//         - {name: http, port: 8080, protocol: TCP}   # name optional; protocol TCP (default) or UDP
//         - {port: 5432, hostPort: 30432}   # optional: the node's port 30432 forwards to it (portmap)
//
// Pods' addresses come from tartan-cni's IPAM when the pod is added (a pod may ask for particular
// ones, as a runtime does through the "ips" capability).
//
// Parsing is strict, as every Tartan input: unknown keys, wrong types, duplicate names, pools
// that overlap each other or the fabric or outside networks, a family with a pool but no fabric
// address, a pod on an undeclared node or in an undeclared namespace are errors that name
// file:line:column and the field. A hostPort is unique per node and protocol. Pure: no I/O beyond reading the
// text given.
#pragma once

#include "tartan/common/result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::lab {

struct LabPort {
  uint16_t port = 0;
  std::string protocol = "TCP";  // TCP | UDP
  std::string name;              // the container port's name (an IANA_SVC_NAME), for named-port rules
  uint16_t hostPort = 0;         // 0: none; else portmap forwards this port of the node to the pod
  bool operator==(const LabPort&) const = default;
};

struct LabNamespace {
  std::string name;
  std::map<std::string, std::string> labels;
  bool operator==(const LabNamespace&) const = default;
};

struct LabPod {
  std::string name;
  std::string namespaceName;
  std::string node;
  std::map<std::string, std::string> labels;
  std::string serviceAccount;
  std::vector<LabPort> ports;
  std::string ip;   // empty: IPAM chooses; else the IPv4 address asked for
  std::string ip6;  // likewise for IPv6
  bool operator==(const LabPod&) const = default;
};

struct LabNode {
  std::string name;
  uint32_t asNumber = 0;  // 0: the cluster's
  std::map<std::string, std::string> labels;
  std::string ipv4;  // its fabric addresses in CIDR form ("10.64.0.11/24"), set by parsing
  std::string ipv6;  // empty when the fabric has no IPv6 subnet
  bool operator==(const LabNode&) const = default;
};

struct LabPool {
  std::string name;
  std::string cidr;
  int family = 4;
  int blockSize = 0;  // after parsing: the default (26 or 122) if not given
  bool natOutgoing = false;
  bool operator==(const LabPool&) const = default;
};

// An address with its subnet, split for convenience: "10.64.0.1/24" is {"10.64.0.1", 24, "10.64.0.0/24"}.
struct LabAddress {
  std::string address;
  int prefixLength = 0;
  std::string network;
  bool operator==(const LabAddress&) const = default;
};

struct LabTor {
  uint32_t asNumber = 0;
  LabAddress ipv4;
  LabAddress ipv6;  // address empty: no IPv6 on the fabric
};

struct LabOutside {
  LabAddress ipv4, ipv6;        // the outside host's; either may be empty, not both
  LabAddress torIpv4, torIpv6;  // the ToR's on the same subnets (their first hosts)
};

struct LabFile {
  std::string name;
  uint32_t asNumber = 64512;
  std::vector<LabNode> nodes;
  std::vector<LabPool> pools;
  LabTor tor;
  LabOutside outside;
  std::vector<LabNamespace> namespaces;
  std::vector<LabPod> pods;
};

struct ParseResult {
  LabFile lab;
  std::vector<Error> errors;
  bool ok() const { return errors.empty(); }
};

// `source` names the text in errors ("shop.yaml"); `defaultName` is used when there is no name.
ParseResult parseLabFile(std::string_view text, std::string_view source, std::string_view defaultName);

// Kubernetes' IANA_SVC_NAME and DNS label rules, as the parser applies them (also for add-pod).
bool isDnsLabel(const std::string& name);
bool isServiceName(const std::string& name);
// "[NAME:]PORT[/PROTOCOL][@HOSTPORT]" as add-pod's --port takes it; an error names the text.
Result<LabPort> parsePortSpec(const std::string& text);

// Names the lab gives things, unique per lab so two labs can run side by side.
std::string nodeNamespace(const std::string& lab, const std::string& node);  // "tl-<lab>-<node>"
std::string podNamespace(const std::string& lab, const std::string& ns,
                         const std::string& pod);      // "tl-<lab>-<ns>.<pod>"
std::string torNamespace(const std::string& lab);      // "tl-<lab>-tor"
std::string outsideNamespace(const std::string& lab);  // "tl-<lab>-outside"

}  // namespace tartan::lab
