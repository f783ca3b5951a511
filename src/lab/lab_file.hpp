// src/lab/lab_file.hpp — a lab file: the cluster tartan-lab builds on one machine.
//
//   name: shop                 # lab name: [a-z0-9-], 1-20 characters (default: the file's stem)
//   node: node-1               # the node's name as the agent and the datastore know it
//   cidr: 10.65.0.0/24         # pod addresses are taken from here (only inside lab namespaces)
//   cidr6: fd00:65::/64        # and each pod's IPv6 address from here: every lab is dual stack
//   namespaces:
//     - name: shop
//       labels: {team: shop}
//   pods:
//     - name: backend
//       namespace: shop
//       labels: {app: backend}
//       ip: 10.65.0.20         # optional; otherwise the next free address of cidr
//       ip6: fd00:65::20       # optional; otherwise cidr6 plus the IPv4 address's host part
//       serviceAccount: api    # optional: the Pod's serviceAccountName (a ServiceAccount is written)
//       ports:
//         - {name: http, port: 8080, protocol: TCP}   # name optional; protocol TCP (default) or UDP
//
// Parsing is strict, as every Tartan input: unknown keys, wrong types, duplicate names, an
// address outside the CIDR or taken twice, a pod in an undeclared namespace are errors that name
// file:line:column and the field. Pure: no I/O beyond reading the text given.
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
  std::map<std::string, std::string> labels;
  std::string ip;   // always set after parsing (assigned from the CIDR if not given)
  std::string ip6;  // likewise, from cidr6
  std::string serviceAccount;
  std::vector<LabPort> ports;
  bool operator==(const LabPod&) const = default;
};

struct LabFile {
  std::string name;
  std::string node = "node-1";
  std::string cidr = "10.65.0.0/24";
  std::string cidr6 = "fd00:65::/64";
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

// Names the lab gives things, unique per lab so two labs can run side by side.
std::string nodeNamespace(const LabFile& lab);                    // "tl-<lab>-node"
std::string podNamespace(const LabFile& lab, const LabPod& pod);  // "tl-<lab>-<ns>.<pod>"
// The node end of a pod's veth, named as Calico names it: "cali" + 11 hex digits of
// sha1("<namespace>.<pod>").
std::string hostVethName(const LabPod& pod);

}  // namespace tartan::lab
