// tartan/model/network_sets.hpp — GlobalNetworkSet and NetworkSet: labelled lists of CIDRs that
// policy selectors can match. Host bits in a net are accepted (Calico's "cidr" rule) and masked
// off by the consumer.
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <string>
#include <vector>

namespace tartan::model {

struct NetworkSetSpec {
  std::vector<std::string> nets;
  bool operator==(const NetworkSetSpec&) const = default;
};

struct GlobalNetworkSet {
  static constexpr Kind kKind = Kind::kGlobalNetworkSet;
  ObjectMeta metadata;
  NetworkSetSpec spec;
  bool operator==(const GlobalNetworkSet&) const = default;
};

struct NetworkSet {
  static constexpr Kind kKind = Kind::kNetworkSet;
  ObjectMeta metadata;
  NetworkSetSpec spec;
  bool operator==(const NetworkSet&) const = default;
};

}  // namespace tartan::model
