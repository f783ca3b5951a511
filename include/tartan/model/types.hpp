// tartan/model/types.hpp — the value types shared by every resource kind: object metadata and
// Calico's numbers-or-strings (protocol, port) and Kubernetes' int-or-string.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tartan::model {

// Labels and annotations. std::less<> so that lookups can take a string_view; the same type as
// tartan::selector::Labels, so a resource's labels can be matched without a copy.
using Labels = std::map<std::string, std::string, std::less<>>;

struct OwnerReference {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> blockOwnerDeletion;
  bool operator==(const OwnerReference&) const = default;
};

// The fields of Kubernetes' ObjectMeta that a manifest may carry. Server-managed fields
// (uid, resourceVersion, timestamps) are kept so that a resource read back round-trips.
struct ObjectMeta {
  std::string name;
  std::string generateName;
  std::string namespaceName;  // "namespace" in YAML
  std::string uid;
  std::string resourceVersion;
  std::optional<int64_t> generation;
  std::string creationTimestamp;
  std::string deletionTimestamp;
  Labels labels;
  Labels annotations;
  std::vector<OwnerReference> ownerReferences;
  std::vector<std::string> finalizers;
  bool operator==(const ObjectMeta&) const = default;
};

// Calico's numorstring.Protocol: a protocol number (0-255 decodes; 1-255 validates) or a
// name. Names are matched case-insensitively on input ("tcp", "TCP") and kept in Calico's
// canonical spelling (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite); unknown names are kept as written
// and rejected by validation.
struct Protocol {
  std::variant<int, std::string> value;

  static Protocol fromNumber(int number) { return Protocol{number}; }
  static Protocol fromName(std::string_view name);  // canonicalises known names

  bool isNumber() const { return std::holds_alternative<int>(value); }
  // The protocol number if known (a number, a numeric string, or a known name).
  std::optional<int> number() const;
  // TCP (6), UDP (17) or SCTP (132): the protocols whose rules may name ports.
  bool supportsPorts() const;
  bool isIcmp() const;    // ICMP or 1
  bool isIcmpV6() const;  // ICMPv6 or 58
  std::string toString() const;
  bool operator==(const Protocol&) const = default;
};

// Calico's numorstring.Port: a single port (min == max), an inclusive range "80:90", or a named
// port ("http"). On input: a number, or a string "80", "80:90" or a name.
struct Port {
  uint16_t minPort = 0;
  uint16_t maxPort = 0;
  std::string name;  // non-empty for a named port

  static Port single(uint16_t port) { return Port{port, port, {}}; }
  static Port range(uint16_t minPort, uint16_t maxPort) { return Port{minPort, maxPort, {}}; }
  static Port named(std::string name) { return Port{0, 0, std::move(name)}; }
  bool isNamed() const { return !name.empty(); }
  std::string toString() const;  // "80", "80:90" or the name
  bool operator==(const Port&) const = default;
};

// Kubernetes' intstr.IntOrString (a NetworkPolicyPort's port: 80 or "http").
struct IntOrString {
  std::variant<int32_t, std::string> value;
  bool isInt() const { return std::holds_alternative<int32_t>(value); }
  bool operator==(const IntOrString&) const = default;
};

}  // namespace tartan::model
