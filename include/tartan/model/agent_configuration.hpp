// tartan/model/agent_configuration.hpp — AgentConfiguration, the policy agent's configuration
// (Calico's FelixConfiguration; FelixConfigurationSpec field for field).
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

struct AgentConfigurationSpec {
  std::optional<bool> useInternalDataplaneDriver;
  std::string dataplaneDriver;
  std::optional<std::string> interfacePrefix;
  bool operator==(const AgentConfigurationSpec&) const = default;
};

struct AgentConfiguration {
  static constexpr Kind kKind = Kind::kAgentConfiguration;
  ObjectMeta metadata;
  AgentConfigurationSpec spec;
  bool operator==(const AgentConfiguration&) const = default;
};

}  // namespace tartan::model
