#include "rib/decision.hpp"

#include <algorithm>
#include <cassert>
#include <map>

namespace tartan::bgp {
namespace {

using Indexes = std::vector<std::size_t>;

// Keeps the candidates with the smallest key; records the step if anything was eliminated.
template <class Key>
void keepMin(std::span<const Candidate> c, Indexes& alive, DecisionStep step, DecisionStep& decidedBy,
             Key key) {
  if (alive.size() < 2) return;
  auto best = key(c[alive.front()]);
  for (auto i : alive) best = std::min(best, key(c[i]));
  Indexes kept;
  for (auto i : alive)
    if (!(best < key(c[i]))) kept.push_back(i);
  if (kept.size() != alive.size()) decidedBy = step;
  alive = std::move(kept);
}

std::uint32_t localPref(const Candidate& c) { return c.attrs->localPref.value_or(kDefaultLocalPref); }
std::size_t pathLength(const Candidate& c) { return c.attrs->asPath ? asPathLength(*c.attrs->asPath) : 0; }

}  // namespace

std::string_view decisionStepName(DecisionStep step) {
  switch (step) {
    case DecisionStep::kOnlyCandidate:
      return "only candidate";
    case DecisionStep::kLocalOrigin:
      return "locally originated";
    case DecisionStep::kLocalPref:
      return "highest LOCAL_PREF";
    case DecisionStep::kAsPathLength:
      return "shortest AS_PATH";
    case DecisionStep::kOrigin:
      return "lowest ORIGIN";
    case DecisionStep::kMed:
      return "lowest MED";
    case DecisionStep::kExternal:
      return "eBGP over iBGP";
    case DecisionStep::kIgpCost:
      return "lowest IGP cost";
    case DecisionStep::kRouterId:
      return "lowest router ID";
    case DecisionStep::kClusterListLength:
      return "shortest CLUSTER_LIST";
    case DecisionStep::kPeerAddress:
      return "lowest peer address";
    case DecisionStep::kPathId:
      return "lowest path ID";
  }
  return "?";
}

Selection selectBest(std::span<const Candidate> c) {
  assert(!c.empty());
  Selection sel;
  Indexes alive(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) alive[i] = i;
  auto& by = sel.decidedBy;

  keepMin(c, alive, DecisionStep::kLocalOrigin, by, [](const Candidate& x) { return x.local ? 0 : 1; });
  keepMin(c, alive, DecisionStep::kLocalPref, by, [](const Candidate& x) { return ~localPref(x); });
  keepMin(c, alive, DecisionStep::kAsPathLength, by, pathLength);
  keepMin(c, alive, DecisionStep::kOrigin, by,
          [](const Candidate& x) { return static_cast<int>(x.attrs->origin.value_or(Origin::kIncomplete)); });

  // §9.1.2.2 c: per neighbouring AS, drop routes whose MED is above that AS's lowest. A missing
  // MED counts as the lowest value, 0.
  if (alive.size() > 1) {
    std::map<std::optional<std::uint32_t>, std::uint32_t> lowest;
    const auto nas = [&](std::size_t i) {
      return c[i].attrs->asPath ? neighbourAs(*c[i].attrs->asPath) : std::nullopt;
    };
    for (auto i : alive) {
      const auto med = c[i].attrs->med.value_or(0);
      auto [it, inserted] = lowest.emplace(nas(i), med);
      if (!inserted) it->second = std::min(it->second, med);
    }
    Indexes kept;
    for (auto i : alive)
      if (c[i].attrs->med.value_or(0) == lowest[nas(i)]) kept.push_back(i);
    if (kept.size() != alive.size()) by = DecisionStep::kMed;
    alive = std::move(kept);
  }

  keepMin(c, alive, DecisionStep::kExternal, by, [](const Candidate& x) { return x.external ? 0 : 1; });
  keepMin(c, alive, DecisionStep::kIgpCost, by, [](const Candidate& x) { return x.igpCost.value_or(0); });
  sel.multipath = alive;

  keepMin(c, alive, DecisionStep::kRouterId, by,
          [](const Candidate& x) { return x.attrs->originatorId.value_or(x.peerRouterId); });
  keepMin(c, alive, DecisionStep::kClusterListLength, by,
          [](const Candidate& x) { return x.attrs->clusterList ? x.attrs->clusterList->size() : 0; });
  keepMin(c, alive, DecisionStep::kPeerAddress, by, [](const Candidate& x) { return x.peerAddress; });
  keepMin(c, alive, DecisionStep::kPathId, by, [](const Candidate& x) { return x.pathId; });

  sel.best = alive.front();
  // Best first in the multipath set.
  auto it = std::find(sel.multipath.begin(), sel.multipath.end(), sel.best);
  std::rotate(sel.multipath.begin(), it, it + 1);
  return sel;
}

}  // namespace tartan::bgp
