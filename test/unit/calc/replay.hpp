// replay.hpp — the state-sequence harness, Felix's habit: a scenario's input sequence is replayed
// as given, batched, split, squashed to its final state, squashed and reversed, and duplicated;
// replay() returns the dataplane's final state (FakeDataplane::dump) so that the replays can be
// compared, and checks that re-applying the final state sends nothing. Helpers read the result.
#pragma once

#include "fake_dataplane.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tartan::calc::testing {

inline constexpr const char* kNode = "node1";

struct Step {
  std::optional<model::Resource> update;  // absent: a removal
  model::Kind kind{};
  std::string ns;
  std::string name;
  std::string key() const { return std::to_string(static_cast<int>(kind)) + "|" + ns + "|" + name; }
};

inline Step up(model::Resource r) {
  Step s;
  s.kind = model::kindOf(r);
  s.ns = model::metadata(r).namespaceName;
  s.name = model::metadata(r).name;
  s.update = std::move(r);
  return s;
}

inline Step rm(model::Kind kind, std::string ns, std::string name) {
  return Step{std::nullopt, kind, std::move(ns), std::move(name)};
}

struct Scenario {
  std::string name;
  std::vector<Step> steps;
  std::function<void(const FakeDataplane&)> check;
};

enum class Replay { kGiven, kBatch, kSplit, kSquashed, kSquashedReversed, kDuplicated };

inline const char* replayName(Replay r) {
  switch (r) {
    case Replay::kGiven:
      return "given, flushed after each step";
    case Replay::kBatch:
      return "one batch, in sync at the end";
    case Replay::kSplit:
      return "split in batches of three";
    case Replay::kSquashed:
      return "squashed to the final state";
    case Replay::kSquashedReversed:
      return "squashed and reversed";
    case Replay::kDuplicated:
      return "every step twice";
  }
  return "";
}

inline void apply(CalcGraph& graph, const Step& step) {
  if (step.update) {
    graph.onUpdate(*step.update);
  } else {
    graph.onRemove(step.kind, step.ns, step.name);
  }
}

inline std::vector<Step> squash(const std::vector<Step>& steps) {
  std::map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < steps.size(); ++i) last[steps[i].key()] = i;
  std::vector<Step> out;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (last[steps[i].key()] == i && steps[i].update) out.push_back(steps[i]);
  }
  return out;
}

inline std::string replay(const Scenario& scenario, Replay mode, FakeDataplane& dp) {
  CalcGraph graph(Config{kNode, "tart"}, dp);
  switch (mode) {
    case Replay::kGiven:
      graph.onInSync();
      for (const Step& s : scenario.steps) {
        apply(graph, s);
        graph.flush();
      }
      break;
    case Replay::kBatch:
      for (const Step& s : scenario.steps) apply(graph, s);
      graph.flush();
      REQUIRE(dp.messages == 0);  // nothing before in sync
      graph.onInSync();
      graph.flush();
      break;
    case Replay::kSplit:
      for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
        apply(graph, scenario.steps[i]);
        if (i % 3 == 2) {
          if (i == 2) graph.onInSync();
          graph.flush();
        }
      }
      graph.onInSync();
      graph.flush();
      break;
    case Replay::kSquashed:
      for (const Step& s : squash(scenario.steps)) apply(graph, s);
      graph.onInSync();
      graph.flush();
      break;
    case Replay::kSquashedReversed: {
      auto steps = squash(scenario.steps);
      std::reverse(steps.begin(), steps.end());
      graph.onInSync();
      for (const Step& s : steps) {
        apply(graph, s);
        graph.flush();
      }
      break;
    }
    case Replay::kDuplicated:
      graph.onInSync();
      for (const Step& s : scenario.steps) {
        apply(graph, s);
        graph.flush();
        apply(graph, s);
        graph.flush();
      }
      break;
  }
  // Re-applying the final state changes nothing.
  const int before = dp.messages;
  for (const Step& s : squash(scenario.steps)) apply(graph, s);
  graph.flush();
  CHECK(dp.messages == before);
  return dp.dump();
}

// Helpers over the final dataplane.
inline const pb::Rule& ruleOf(const FakeDataplane& dp, const std::string& policy, bool inbound, int index) {
  const pb::Policy* p = dp.policy(policy);
  REQUIRE(p != nullptr);
  const auto& rules = inbound ? p->inbound_rules() : p->outbound_rules();
  REQUIRE(index < rules.size());
  return rules[index];
}

inline std::set<std::string> setMembers(const FakeDataplane& dp,
                                        const google::protobuf::RepeatedPtrField<std::string>& ids) {
  REQUIRE(ids.size() == 1);
  REQUIRE(dp.sets.count(ids[0]) == 1);
  return dp.members(ids[0]);
}

inline std::vector<std::string> tierNames(const google::protobuf::RepeatedPtrField<pb::TierInfo>& tiers) {
  std::vector<std::string> out;
  for (const auto& t : tiers) out.push_back(t.name());
  return out;
}

inline std::vector<std::string> listOf(const google::protobuf::RepeatedPtrField<std::string>& list) {
  return {list.begin(), list.end()};
}

using K = model::Kind;
using Set = std::set<std::string>;
using Names = std::vector<std::string>;

// Every replay of every scenario must reach the same state, pass the scenario's check and never
// break the sender's contract.
inline void checkReplays(const std::vector<Scenario>& scenarios) {
  for (const Scenario& scenario : scenarios) {
    std::string reference;
    for (Replay mode : {Replay::kGiven, Replay::kBatch, Replay::kSplit, Replay::kSquashed,
                        Replay::kSquashedReversed, Replay::kDuplicated}) {
      INFO("scenario: " << scenario.name);
      INFO("replay: " << replayName(mode));
      FakeDataplane dp;
      const std::string state = replay(scenario, mode, dp);
      INFO("state:\n" << state);
      CHECK(dp.violations == std::vector<std::string>{});
      CHECK(dp.inSyncCount == 1);
      scenario.check(dp);
      if (reference.empty()) {
        reference = state;
      } else {
        CHECK(state == reference);
      }
    }
  }
}

}  // namespace tartan::calc::testing
