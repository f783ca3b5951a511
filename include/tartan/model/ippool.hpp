// tartan/model/ippool.hpp — IPPool (projectcalico.org/v3 IPPoolSpec, field for field).
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

// Deprecated APIv1 field; Calico refuses it on input ("mustBeNil") and so does Tartan.
struct IPIPConfiguration {
  bool enabled = false;
  std::string mode;
  bool operator==(const IPIPConfiguration&) const = default;
};

struct IPPoolSpec {
  std::string cidr;       // strictly masked
  std::string vxlanMode;  // Never (default), Always, CrossSubnet
  std::string ipipMode;   // Never (default), Always, CrossSubnet
  bool natOutgoing = false;
  bool disabled = false;
  bool disableBGPExport = false;
  int blockSize = 0;         // defaults to 26 (IPv4) or 122 (IPv6)
  std::string nodeSelector;  // defaults to all()
  std::string namespaceSelector;
  std::optional<IPIPConfiguration> ipip;      // must be absent
  bool natOutgoingV1 = false;                 // "nat-outgoing"; must be false
  std::vector<std::string> allowedUses;       // Workload, Tunnel (default both), LoadBalancer
  std::optional<std::string> assignmentMode;  // Automatic (default), Manual
  bool operator==(const IPPoolSpec&) const = default;
};

struct IPPool {
  static constexpr Kind kKind = Kind::kIPPool;
  ObjectMeta metadata;
  IPPoolSpec spec;
  bool operator==(const IPPool&) const = default;
};

}  // namespace tartan::model
