// The pure block arithmetic: the free list's order, sequence numbers, attributes, and a random
// walk checked step by step against a reference model.
#include "block.hpp"
#include "address.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <random>

using namespace tartan::ipam;

namespace {

Cidr cidrOf(const std::string& text) {
  auto cidr = parseCidr(text, true);
  REQUIRE(cidr);
  return *cidr;
}

AllocationAttribute handle(const std::string& id) {
  AllocationAttribute a;
  a.handleID = id;
  return a;
}

}  // namespace

TEST_CASE("addresses, prefixes and Calico's names", "[unit][ipam]") {
  struct Case {
    std::string text;
    std::string canonical;
    std::string name;
  };
  const Case cases[] = {
      {"10.65.0.0/26", "10.65.0.0/26", "10-65-0-0-26"},
      {"192.168.1.64/30", "192.168.1.64/30", "192-168-1-64-30"},
      {"fd00::/122", "fd00::/122", "fd00---122"},
      {"fd00:0:0:0:0:0:0:40/122", "fd00::40/122", "fd00--40-122"},
      {"10.0.0.7", "10.0.0.7/32", "10-0-0-7-32"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const Cidr cidr = cidrOf(c.text);
    CHECK(formatCidr(cidr) == c.canonical);
    CHECK(blockName(cidr) == c.name);
  }
  CHECK(affinityName("node-a", cidrOf("10.65.0.0/26")) == "node-a-10-65-0-0-26");
  CHECK_FALSE(parseCidr("10.65.0.1/26", true));
  CHECK(formatCidr(*parseCidr("10.65.0.1/26")) == "10.65.0.0/26");
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0/8", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "host"}) {
    INFO(bad);
    CHECK_FALSE(parseCidr(bad));
  }
  CHECK(cidrOf("10.65.0.0/24").contains(cidrOf("10.65.0.64/26")));
  CHECK_FALSE(cidrOf("10.65.0.64/26").contains(cidrOf("10.65.0.0/24")));
  CHECK_FALSE(cidrOf("10.65.0.0/24").contains(cidrOf("fd00::/122")));
  CHECK(cidrOf("fd00::/122").size() == 64);
}

TEST_CASE("a new block has every address free, in order", "[unit][ipam]") {
  const Cidr cidr = cidrOf("10.65.0.0/29");
  IPAMBlockSpec block = newBlockSpec(cidr, "host:node-a", false);
  CHECK(block.cidr == "10.65.0.0/29");
  CHECK(block.allocations.size() == 8);
  CHECK(block.unallocated == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(block.attributes.empty());
  CHECK(blockEmpty(block));
  CHECK_FALSE(blockProblem(block));
}

TEST_CASE("allocation takes the head of the free list and release appends to its tail", "[unit][ipam]") {
  const Cidr cidr = cidrOf("10.65.0.0/29");
  IPAMBlockSpec block = newBlockSpec(cidr, "host:node-a", false);
  CHECK(allocateFromBlock(block, cidr, 3, handle("h1"), {}) == std::vector<int>{0, 1, 2});
  CHECK(block.unallocated == std::vector<int>{3, 4, 5, 6, 7});
  // Released 1 then 0: 1 has been free longest once the fresh addresses are gone.
  releaseFromBlock(block, {{1, std::nullopt}});
  releaseFromBlock(block, {{0, std::nullopt}});
  CHECK(block.unallocated == std::vector<int>{3, 4, 5, 6, 7, 1, 0});
  CHECK(allocateFromBlock(block, cidr, 5, handle("h2"), {}) == std::vector<int>{3, 4, 5, 6, 7});
  CHECK(allocateFromBlock(block, cidr, 1, handle("h3"), {}) == std::vector<int>{1});
  CHECK(allocateFromBlock(block, cidr, 5, handle("h4"), {}) == std::vector<int>{0});
  CHECK(allocateFromBlock(block, cidr, 1, handle("h5"), {}).empty());
  CHECK(freeCount(block) == 0);
  CHECK_FALSE(blockProblem(block));
}

TEST_CASE("reserved addresses are skipped and stay free", "[unit][ipam]") {
  const Cidr cidr = cidrOf("10.65.0.0/29");
  IPAMBlockSpec block = newBlockSpec(cidr, std::nullopt, false);
  const std::vector<Cidr> reserved = {cidrOf("10.65.0.0/31"), cidrOf("10.65.0.5"), cidrOf("fd00::/8")};
  CHECK(allocateFromBlock(block, cidr, 8, handle("h"), reserved) == std::vector<int>{2, 3, 4, 6, 7});
  CHECK(block.unallocated == std::vector<int>{0, 1, 5});
  CHECK_FALSE(blockProblem(block));
}

TEST_CASE("a release with the sequence number of an earlier allocation frees nothing", "[unit][ipam]") {
  const Cidr cidr = cidrOf("10.65.0.0/32");
  IPAMBlockSpec block = newBlockSpec(cidr, "host:node-a", false);
  REQUIRE(allocateFromBlock(block, cidr, 1, handle("first"), {}) == std::vector<int>{0});
  const auto firstSequence = sequenceNumberOf(block, 0);
  REQUIRE(firstSequence);
  auto released = releaseFromBlock(block, {{0, firstSequence}});
  CHECK(released.outcomes == std::vector<ReleaseOutcome>{ReleaseOutcome::kReleased});
  CHECK(released.releasedByHandle == std::map<std::string, int>{{"first", 1}});
  REQUIRE(allocateFromBlock(block, cidr, 1, handle("second"), {}) == std::vector<int>{0});
  CHECK(sequenceNumberOf(block, 0) > firstSequence);

  // The first owner's late release: the address is somebody else's now.
  released = releaseFromBlock(block, {{0, firstSequence}});
  CHECK(released.outcomes == std::vector<ReleaseOutcome>{ReleaseOutcome::kStale});
  CHECK(ordinalsOfHandle(block, "second") == std::vector<int>{0});

  released = releaseFromBlock(block, {{0, sequenceNumberOf(block, 0)}});
  CHECK(released.outcomes == std::vector<ReleaseOutcome>{ReleaseOutcome::kReleased});
  released = releaseFromBlock(block, {{0, std::nullopt}, {7, std::nullopt}, {-1, std::nullopt}});
  CHECK(released.outcomes == std::vector<ReleaseOutcome>{ReleaseOutcome::kNotAllocated,
                                                         ReleaseOutcome::kNotAllocated,
                                                         ReleaseOutcome::kNotAllocated});
  CHECK_FALSE(blockProblem(block));
}

TEST_CASE("equal attributes are shared and unused ones are dropped", "[unit][ipam]") {
  const Cidr cidr = cidrOf("10.65.0.0/29");
  IPAMBlockSpec block = newBlockSpec(cidr, "host:node-a", false);
  allocateFromBlock(block, cidr, 2, handle("a"), {});
  allocateFromBlock(block, cidr, 2, handle("b"), {});
  allocateFromBlock(block, cidr, 1, handle("a"), {});
  CHECK(block.attributes.size() == 2);
  CHECK(ordinalsOfHandle(block, "a") == std::vector<int>{0, 1, 4});
  CHECK(ordinalsOfHandle(block, "b") == std::vector<int>{2, 3});
  std::vector<ReleaseRequest> all;
  for (int o : ordinalsOfHandle(block, "a")) all.push_back({o, std::nullopt});
  auto released = releaseFromBlock(block, all);
  CHECK(released.releasedByHandle == std::map<std::string, int>{{"a", 3}});
  REQUIRE(block.attributes.size() == 1);
  CHECK(block.attributes[0].handleID == "b");
  CHECK(ordinalsOfHandle(block, "b") == std::vector<int>{2, 3});
  CHECK_FALSE(blockProblem(block));
  CHECK(assignOrdinal(block, 1, handle("c")));
  CHECK_FALSE(assignOrdinal(block, 1, handle("d")));
  CHECK_FALSE(assignOrdinal(block, 8, handle("d")));
  CHECK(block.unallocated == std::vector<int>{5, 6, 7, 0, 4});
  CHECK_FALSE(blockProblem(block));
}

TEST_CASE("a random walk of allocations and releases matches a reference free list", "[unit][ipam]") {
  const Cidr cidr = cidrOf("10.65.0.0/28");
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    INFO("seed " << seed);
    std::mt19937 random(seed);
    IPAMBlockSpec block = newBlockSpec(cidr, "host:node-a", false);
    std::deque<int> freeList;  // the reference: FIFO of free ordinals
    for (int o = 0; o < 16; ++o) freeList.push_back(o);
    std::map<int, std::pair<std::string, uint64_t>> held;  // ordinal -> handle, sequence number
    for (int step = 0; step < 300; ++step) {
      if (random() % 2 == 0) {
        const int want = static_cast<int>(random() % 4) + 1;
        const std::string h = "h" + std::to_string(random() % 5);
        const auto got = allocateFromBlock(block, cidr, want, handle(h), {});
        std::vector<int> expected;
        while (static_cast<int>(expected.size()) < want && !freeList.empty()) {
          expected.push_back(freeList.front());
          freeList.pop_front();
        }
        REQUIRE(got == expected);
        for (int o : got) held[o] = {h, *sequenceNumberOf(block, o)};
      } else {
        const int o = static_cast<int>(random() % 16);
        const bool stale = random() % 4 == 0;
        std::optional<uint64_t> sequence;
        if (held.count(o)) sequence = held[o].second - (stale ? 1 : 0);
        const auto released = releaseFromBlock(block, {{o, sequence}});
        if (!held.count(o)) {
          REQUIRE(released.outcomes[0] == ReleaseOutcome::kNotAllocated);
        } else if (stale) {
          REQUIRE(released.outcomes[0] == ReleaseOutcome::kStale);
        } else {
          REQUIRE(released.outcomes[0] == ReleaseOutcome::kReleased);
          REQUIRE(released.releasedByHandle.at(held[o].first) == 1);
          held.erase(o);
          freeList.push_back(o);
        }
      }
      REQUIRE(std::vector<int>(freeList.begin(), freeList.end()) == block.unallocated);
      const auto problem = blockProblem(block);
      INFO(problem.value_or(""));
      REQUIRE_FALSE(problem);
    }
  }
}
