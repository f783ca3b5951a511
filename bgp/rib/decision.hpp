// bgp/rib/decision.hpp — the BGP decision process (RFC 4271 §9.1.2.2, RFC 4456 §9) as a pure
// function over the candidate paths of one prefix.
//
// The steps eliminate candidates in order, as §9.1.2.2 specifies, rather than sorting with a
// comparator: MED is only compared between routes from the same neighbouring AS, so the
// "better than" relation is not transitive and a sort would be wrong. Candidates still standing
// after the IGP-cost step are equal-cost multipath; the later steps only pick one of them.
#pragma once

#include "codec/attributes.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace tartan::bgp {

inline constexpr std::uint32_t kDefaultLocalPref = 100;

struct Candidate {
  const PathAttributes* attrs = nullptr;
  bool local = false;     // originated by this speaker
  bool external = false;  // learned over eBGP
  std::uint32_t peerRouterId = 0;
  Address peerAddress;
  std::uint32_t pathId = 0;
  std::optional<std::uint32_t> igpCost;  // cost to the next hop, when known
};

enum class DecisionStep : std::uint8_t {
  kOnlyCandidate,
  kLocalOrigin,        // our own routes first (as BIRD prefers static over BGP)
  kLocalPref,          // §9.1.1 / §9.1.2.1: highest degree of preference
  kAsPathLength,       // §9.1.2.2 a
  kOrigin,             // §9.1.2.2 b
  kMed,                // §9.1.2.2 c, within one neighbouring AS
  kExternal,           // §9.1.2.2 d: eBGP over iBGP
  kIgpCost,            // §9.1.2.2 e
  kRouterId,           // §9.1.2.2 f, with ORIGINATOR_ID in place of the router ID (RFC 4456 §9)
  kClusterListLength,  // RFC 4456 §9
  kPeerAddress,        // §9.1.2.2 g
  kPathId,             // last resort between ADD-PATH paths of one peer
};
std::string_view decisionStepName(DecisionStep step);

struct Selection {
  std::size_t best = 0;
  std::vector<std::size_t> multipath;  // indexes equal to best up to the IGP-cost step, best first
  DecisionStep decidedBy = DecisionStep::kOnlyCandidate;
};

// candidates must not be empty.
Selection selectBest(std::span<const Candidate> candidates);

}  // namespace tartan::bgp
