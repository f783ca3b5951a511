// tartan/model/endpoints.hpp — HostEndpoint and WorkloadEndpoint, field for field with Calico's
// projectcalico.org/v3 HostEndpointSpec and libcalico-go's WorkloadEndpointSpec.
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tartan::model {

struct EndpointPort {
  std::string name;
  Protocol protocol;
  uint16_t port = 0;
  bool operator==(const EndpointPort&) const = default;
};

struct HostEndpointSpec {
  std::string node;
  std::string interfaceName;  // "*", an interface name, or empty (then expectedIPs decide)
  std::vector<std::string> expectedIPs;
  std::vector<std::string> profiles;
  std::vector<EndpointPort> ports;
  bool operator==(const HostEndpointSpec&) const = default;
};

struct HostEndpoint {
  static constexpr Kind kKind = Kind::kHostEndpoint;
  ObjectMeta metadata;
  HostEndpointSpec spec;
  bool operator==(const HostEndpoint&) const = default;
};

struct WorkloadEndpointPort {
  std::string name;
  Protocol protocol;
  uint16_t port = 0;
  uint16_t hostPort = 0;
  std::string hostIP;
  bool operator==(const WorkloadEndpointPort&) const = default;
};

struct IPNAT {
  std::string internalIP;
  std::string externalIP;
  std::string source;
  bool operator==(const IPNAT&) const = default;
};

struct WorkloadEndpointSpec {
  std::string orchestrator;
  std::string workload;
  std::string node;
  std::string containerID;
  std::string pod;
  std::string endpoint;
  std::string serviceAccountName;
  std::vector<std::string> ipNetworks;  // /32 and /128 only
  std::vector<IPNAT> ipNATs;
  std::string ipv4Gateway;
  std::string ipv6Gateway;
  std::vector<std::string> profiles;
  std::string interfaceName;
  std::string mac;
  std::vector<WorkloadEndpointPort> ports;
  std::vector<std::string> allowSpoofedSourcePrefixes;
  bool operator==(const WorkloadEndpointSpec&) const = default;
};

struct WorkloadEndpoint {
  static constexpr Kind kKind = Kind::kWorkloadEndpoint;
  ObjectMeta metadata;
  WorkloadEndpointSpec spec;
  bool operator==(const WorkloadEndpoint&) const = default;
};

}  // namespace tartan::model
