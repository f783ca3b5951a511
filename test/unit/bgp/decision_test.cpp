// The decision process, one tie-break at a time: two candidates equal in everything but the
// step under test, and the step must both pick the right one and be named as the decider.
#include "rib/decision.hpp"
#include "hex.hpp"

#include <catch2/catch.hpp>

using namespace tartan::bgp;
using namespace tartan::bgp::test;

namespace {

PathAttributes base() {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.asPath = AsPath{{AsSegmentType::kSequence, {65002}}};
  a.nextHop = addr("10.0.0.2");
  a.localPref = 100;
  return a;
}

Candidate cand(const PathAttributes& a, std::uint32_t routerId = 0x0a000002, const char* peer = "10.0.0.2") {
  Candidate c;
  c.attrs = &a;
  c.external = true;
  c.peerRouterId = routerId;
  c.peerAddress = addr(peer);
  return c;
}

// Runs both orders, so the winner does not depend on position.
void expectWinner(Candidate better, Candidate worse, DecisionStep step) {
  {
    const Candidate list[] = {better, worse};
    const auto sel = selectBest(list);
    CHECK(sel.best == 0);
    CHECK(decisionStepName(sel.decidedBy) == decisionStepName(step));
  }
  {
    const Candidate list[] = {worse, better};
    const auto sel = selectBest(list);
    CHECK(sel.best == 1);
    CHECK(decisionStepName(sel.decidedBy) == decisionStepName(step));
  }
}

}  // namespace

TEST_CASE("a single candidate wins by default") {
  const auto a = base();
  const Candidate list[] = {cand(a)};
  const auto sel = selectBest(list);
  CHECK(sel.best == 0);
  CHECK(sel.decidedBy == DecisionStep::kOnlyCandidate);
  CHECK(sel.multipath == std::vector<std::size_t>{0});
}

TEST_CASE("tie-break: locally originated routes first") {
  auto a = base(), b = base();
  auto local = cand(a);
  local.local = true;
  expectWinner(local, cand(b), DecisionStep::kLocalOrigin);
}

TEST_CASE("tie-break: highest LOCAL_PREF, missing counting as 100") {
  auto a = base(), b = base();
  a.localPref = 200;
  expectWinner(cand(a), cand(b), DecisionStep::kLocalPref);
  auto c = base();
  c.localPref.reset();
  auto d = base();
  d.localPref = 99;
  expectWinner(cand(c), cand(d), DecisionStep::kLocalPref);
}

TEST_CASE("tie-break: shortest AS_PATH, a set counting one and confederation segments none") {
  auto a = base(), b = base();
  b.asPath = AsPath{{AsSegmentType::kSequence, {65002, 65003}}};
  expectWinner(cand(a), cand(b), DecisionStep::kAsPathLength);
  auto c = base(), d = base();
  c.asPath = AsPath{{AsSegmentType::kConfedSequence, {1, 2, 3}},
                    {AsSegmentType::kSequence, {65002}},
                    {AsSegmentType::kSet, {7, 8, 9}}};
  d.asPath = AsPath{{AsSegmentType::kSequence, {65002, 65003, 65004}}};
  expectWinner(cand(c), cand(d), DecisionStep::kAsPathLength);
}

TEST_CASE("tie-break: lowest ORIGIN") {
  auto a = base(), b = base();
  b.origin = Origin::kEgp;
  expectWinner(cand(a), cand(b), DecisionStep::kOrigin);
  auto c = base(), d = base();
  c.origin = Origin::kEgp;
  d.origin = Origin::kIncomplete;
  expectWinner(cand(c), cand(d), DecisionStep::kOrigin);
}

TEST_CASE("tie-break: lowest MED among routes from the same neighbour AS, missing counting as 0") {
  auto a = base(), b = base();
  a.med = 10;
  b.med = 20;
  expectWinner(cand(a), cand(b), DecisionStep::kMed);
  auto c = base(), d = base();
  d.med = 1;
  expectWinner(cand(c), cand(d), DecisionStep::kMed);
}

TEST_CASE("MED is not compared across neighbour ASes") {
  auto a = base(), b = base();
  a.med = 100;
  b.med = 1;
  b.asPath = AsPath{{AsSegmentType::kSequence, {65003}}};
  // Different neighbour AS: MED does not decide; the router ID does.
  const Candidate list[] = {cand(a, 1, "10.0.0.2"), cand(b, 2, "10.0.0.3")};
  const auto sel = selectBest(list);
  CHECK(sel.best == 0);
  CHECK(sel.decidedBy == DecisionStep::kRouterId);
}

TEST_CASE("MED elimination is per AS, so the result does not depend on order (RFC 4271 §9.1.2.2 c)") {
  // A (AS1, MED 10), B (AS1, MED 5), C (AS2, MED 0). B eliminates A; then B and C tie to router ID.
  auto a = base(), b = base(), c = base();
  a.asPath = AsPath{{AsSegmentType::kSequence, {1}}};
  a.med = 10;
  b.asPath = AsPath{{AsSegmentType::kSequence, {1}}};
  b.med = 5;
  c.asPath = AsPath{{AsSegmentType::kSequence, {2}}};
  c.med = 0;
  const Candidate ca = cand(a, 1, "10.0.0.1"), cb = cand(b, 3, "10.0.0.3"), cc = cand(c, 2, "10.0.0.2");
  const Candidate order1[] = {ca, cb, cc};
  const Candidate order2[] = {cc, cb, ca};
  CHECK(order1[selectBest(order1).best].peerRouterId == 2);
  CHECK(order2[selectBest(order2).best].peerRouterId == 2);
}

TEST_CASE("tie-break: eBGP over iBGP") {
  auto a = base(), b = base();
  auto ibgp = cand(b);
  ibgp.external = false;
  expectWinner(cand(a), ibgp, DecisionStep::kExternal);
}

TEST_CASE("tie-break: lowest IGP cost when given") {
  auto a = base(), b = base();
  auto near = cand(a, 2, "10.0.0.2"), far = cand(b, 1, "10.0.0.1");
  near.igpCost = 5;
  far.igpCost = 10;
  expectWinner(near, far, DecisionStep::kIgpCost);
}

TEST_CASE("tie-break: lowest router ID, ORIGINATOR_ID standing in for it (RFC 4456 §9)") {
  auto a = base(), b = base();
  expectWinner(cand(a, 1, "10.0.0.9"), cand(b, 2, "10.0.0.1"), DecisionStep::kRouterId);
  auto c = base(), d = base();
  c.originatorId = 5;  // reflected: its originator's ID counts, not the reflector's (9)
  expectWinner(cand(c, 9, "10.0.0.9"), cand(d, 6, "10.0.0.1"), DecisionStep::kRouterId);
}

TEST_CASE("tie-break: shortest CLUSTER_LIST") {
  auto a = base(), b = base();
  a.clusterList = std::vector<std::uint32_t>{1};
  b.clusterList = std::vector<std::uint32_t>{1, 2};
  a.originatorId = b.originatorId = 7;
  expectWinner(cand(a, 3, "10.0.0.9"), cand(b, 3, "10.0.0.1"), DecisionStep::kClusterListLength);
}

TEST_CASE("tie-break: lowest peer address") {
  auto a = base(), b = base();
  expectWinner(cand(a, 3, "10.0.0.1"), cand(b, 3, "10.0.0.2"), DecisionStep::kPeerAddress);
}

TEST_CASE("tie-break: lowest path ID between ADD-PATH paths of one peer") {
  auto a = base(), b = base();
  auto p1 = cand(a), p2 = cand(b);
  p1.pathId = 1;
  p2.pathId = 2;
  expectWinner(p1, p2, DecisionStep::kPathId);
}

TEST_CASE("ECMP: candidates equal up to the IGP cost form the multipath set, best first") {
  auto a = base(), b = base(), c = base();
  c.localPref = 50;
  const Candidate list[] = {cand(a, 9, "10.0.0.9"), cand(b, 1, "10.0.0.1"), cand(c, 0, "10.0.0.0")};
  const auto sel = selectBest(list);
  CHECK(sel.best == 1);
  CHECK(sel.multipath == std::vector<std::size_t>{1, 0});
}
