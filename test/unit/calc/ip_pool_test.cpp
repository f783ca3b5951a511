// IP pools through the calc graph: every pool, disabled or not, reaches the dataplane as an
// IPAMPoolUpdate (id = the pool's name, its CIDR, masquerade = natOutgoing); an edit is a new
// update, a deletion an IPAMPoolRemove; changes that cancel out within a batch send nothing.
// Each sequence is also replayed flushed after every step, in one batch and with every step
// twice, and must end in the same state.
#include "builders.hpp"
#include "fake_dataplane.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tartan::calc::testing {
namespace {

constexpr const char* kNode = "node1";

using Step = std::function<void(CalcGraph&)>;
Step add(model::IPPool pool) {
  return [pool](CalcGraph& g) { g.onUpdate(pool); };
}
Step del(std::string name) {
  return [name](CalcGraph& g) { g.onRemove(model::Kind::kIPPool, "", name); };
}

// "cidr masquerade" per pool id, as the dataplane holds it.
std::map<std::string, std::string> poolsOf(const FakeDataplane& dp) {
  std::map<std::string, std::string> out;
  for (const auto& [id, pool] : dp.pools) out[id] = pool.cidr() + (pool.masquerade() ? " masq" : " no-masq");
  return out;
}

struct Case {
  std::string rule;
  std::vector<Step> steps;
  std::map<std::string, std::string> expected;
};

std::vector<Case> cases() {
  return {
      {"a natOutgoing pool is sent with masquerade set",
       {add(ipPool("default-ipv4", "10.65.0.0/16", true))},
       {{"default-ipv4", "10.65.0.0/16 masq"}}},
      {"a pool without natOutgoing is sent too: its addresses are never NATed to",
       {add(ipPool("internal", "10.66.0.0/16", false))},
       {{"internal", "10.66.0.0/16 no-masq"}}},
      {"a disabled pool still masquerades",
       {add(ipPool("old", "10.67.0.0/16", true, true))},
       {{"old", "10.67.0.0/16 masq"}}},
      {"natOutgoing true then false: the pool stays, without masquerade",
       {add(ipPool("p", "10.65.0.0/16", true)), add(ipPool("p", "10.65.0.0/16", false))},
       {{"p", "10.65.0.0/16 no-masq"}}},
      {"a deleted pool is removed",
       {add(ipPool("p", "10.65.0.0/16", true)), add(ipPool("q", "fd00:65::/48", true)), del("p")},
       {{"q", "fd00:65::/48 masq"}}},
      {"an IPv6 pool is sent as an IPv6 CIDR",
       {add(ipPool("v6", "fd00:0065:0000::/48", true))},
       {{"v6", "fd00:65::/48 masq"}}},
      {"a pool deleted and made again with another CIDR",
       {add(ipPool("p", "10.65.0.0/16", true)), del("p"), add(ipPool("p", "10.70.0.0/16", true))},
       {{"p", "10.70.0.0/16 masq"}}},
      {"deleting an unknown pool sends nothing", {del("nothing")}, {}},
  };
}

enum class Replay { kGiven, kBatch, kDuplicated };

TEST_CASE("IP pools reach the dataplane as IPAMPoolUpdate/Remove, whatever the replay") {
  for (const Case& c : cases()) {
    for (Replay mode : {Replay::kGiven, Replay::kBatch, Replay::kDuplicated}) {
      INFO(c.rule << " (replay " << static_cast<int>(mode) << ")");
      FakeDataplane dp;
      CalcGraph graph(Config{kNode, "cali"}, dp);
      if (mode != Replay::kBatch) {
        graph.onInSync();
        graph.flush();
      }
      for (const Step& step : c.steps) {
        step(graph);
        if (mode == Replay::kDuplicated) step(graph);
        if (mode != Replay::kBatch) graph.flush();
      }
      if (mode == Replay::kBatch) graph.onInSync();
      graph.flush();
      CHECK(dp.violations == std::vector<std::string>{});
      CHECK(dp.inSyncCount == 1);
      CHECK(poolsOf(dp) == c.expected);
    }
  }
}

TEST_CASE("pool messages: an edit is one update, a delete one remove, a no-op edit nothing") {
  FakeDataplane dp;
  CalcGraph graph(Config{kNode, "cali"}, dp);
  graph.onUpdate(ipPool("p", "10.65.0.0/16", true));
  graph.flush();
  CHECK(dp.messages == 0);  // nothing before in sync
  graph.onInSync();
  graph.flush();
  CHECK(dp.poolMessages == 1);
  CHECK(dp.pools.at("p").masquerade());

  graph.onUpdate(ipPool("p", "10.65.0.0/16", false));
  graph.flush();
  CHECK(dp.poolMessages == 2);
  CHECK_FALSE(dp.pools.at("p").masquerade());

  graph.onUpdate(ipPool("p", "10.65.0.0/16", false, true));  // disabled: nothing NAT cares about
  graph.flush();
  CHECK(dp.poolMessages == 2);

  graph.onUpdate(ipPool("p", "10.65.0.0/16", true));  // cancelled within the batch
  graph.onUpdate(ipPool("p", "10.65.0.0/16", false));
  graph.flush();
  CHECK(dp.poolMessages == 2);

  graph.onRemove(model::Kind::kIPPool, "", "p");
  graph.flush();
  CHECK(dp.poolMessages == 3);
  CHECK(dp.pools.empty());
  graph.onRemove(model::Kind::kIPPool, "", "p");
  graph.flush();
  CHECK(dp.poolMessages == 3);
  CHECK(dp.violations == std::vector<std::string>{});
}

}  // namespace
}  // namespace tartan::calc::testing
