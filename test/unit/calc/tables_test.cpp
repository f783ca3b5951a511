// The calc graph's flat tables against std:: containers, under random churn: the item-key
// table (including arena compaction) and the member counts (including backward-shift deletion).
#include "item_keys.hpp"
#include "members.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace tartan::calc {
namespace {

TEST_CASE("item keys: random inserts and erases agree with std::map, across compactions") {
  ItemKeys keys;
  std::map<std::string, uint32_t> reference;
  std::vector<uint32_t> freeIds;
  uint32_t nextId = 0;
  std::mt19937 rng(7);
  for (int round = 0; round < 200000; ++round) {
    const std::string key =
        "w:ns-" + std::to_string(rng() % 50) + "/pod-with-a-long-name-" + std::to_string(rng() % 20000);
    auto it = reference.find(key);
    if (it == reference.end()) {
      uint32_t id = nextId++;
      if (!freeIds.empty()) {
        id = freeIds.back();
        freeIds.pop_back();
        --nextId;
      }
      keys.insert(key, id);
      reference.emplace(key, id);
    } else if (rng() % 3 != 0) {
      keys.erase(key);
      freeIds.push_back(it->second);
      reference.erase(it);
    }
  }
  CHECK(keys.size() == reference.size());
  for (const auto& [key, id] : reference) REQUIRE(keys.find(key) == id);
  CHECK(keys.find("w:absent/pod") == ItemKeys::kAbsent);
}

TEST_CASE("item keys: erasing most keys compacts the arena and keeps the rest findable") {
  ItemKeys keys;
  auto keyOf = [](int i) {
    return "w:namespace-" + std::to_string(i % 97) + "/frontend-replicaset-7d9f8c-" + std::to_string(i);
  };
  for (int i = 0; i < 40000; ++i) keys.insert(keyOf(i), static_cast<uint32_t>(i));
  // 35k erased keys are ~1.7 MB of garbage against ~0.25 MB stored: compaction must run.
  for (int i = 0; i < 35000; ++i) keys.erase(keyOf(i));
  for (int i = 40000; i < 41000; ++i) keys.insert(keyOf(i), static_cast<uint32_t>(i - 40000));
  CHECK(keys.size() == 6000);
  for (int i = 35000; i < 40000; ++i) REQUIRE(keys.find(keyOf(i)) == static_cast<uint32_t>(i));
  for (int i = 40000; i < 41000; ++i) REQUIRE(keys.find(keyOf(i)) == static_cast<uint32_t>(i - 40000));
  CHECK(keys.find(keyOf(0)) == ItemKeys::kAbsent);
}

TEST_CASE("item keys: findOrInsert makes an id only for a new key; the interner builds on it") {
  ItemKeys keys;
  uint32_t made = 0;
  auto make = [&] { return made++; };
  CHECK(keys.findOrInsert("a", make) == 0);
  CHECK(keys.findOrInsert("b", make) == 1);
  CHECK(keys.findOrInsert("a", make) == 0);
  CHECK(made == 2);
  CHECK(keys.key(1) == "b");
  Interner interner;
  std::vector<std::string> words;
  for (int i = 0; i < 5000; ++i) words.push_back("value-" + std::to_string(i % 1700));
  words.push_back("");
  for (const std::string& w : words) REQUIRE(interner.text(interner.intern(w)) == w);
  CHECK(interner.size() == 1701);
  CHECK(interner.find("value-17") == interner.intern("value-17"));
  CHECK(interner.find("absent") == kNoStr);
}

TEST_CASE("member counts: random increments and decrements agree with std::map") {
  MemberCounts counts;
  std::map<Member, uint32_t> reference;
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200000; ++round) {
    const Member m = rng() % 5000;
    if (rng() % 2 == 0) {
      CHECK(counts.increment(m) == ++reference[m]);
    } else {
      auto it = reference.find(m);
      const uint32_t expected = it == reference.end() ? 0 : --it->second;
      if (it != reference.end() && it->second == 0) reference.erase(it);
      CHECK(counts.decrement(m) == expected);
    }
  }
  CHECK(counts.size() == reference.size());
  std::size_t seen = 0;
  counts.forEach([&](Member m) {
    ++seen;
    CHECK(reference.count(m) == 1);
  });
  CHECK(seen == reference.size());
}

TEST_CASE("member counts: a member shared by hundreds of items counts past the 8-bit slot") {
  MemberCounts counts;
  counts.reserve(3);
  const Member shared = 42;
  for (uint32_t n = 1; n <= 600; ++n) REQUIRE(counts.increment(shared) == n);
  CHECK(counts.increment(7) == 1);
  CHECK(counts.size() == 2);
  for (uint32_t n = 599; n > 0; --n) REQUIRE(counts.decrement(shared) == n);
  CHECK(counts.decrement(shared) == 0);
  CHECK(counts.decrement(shared) == 0);  // absent
  CHECK(counts.size() == 1);
  for (int n = 0; n < 300; ++n) counts.increment(shared);
  CHECK(counts.erase(shared));  // set semantics drop the whole count
  CHECK(counts.increment(shared) == 1);
}

TEST_CASE("member counts: reserved, then grown by half, keep every member") {
  MemberCounts counts;
  counts.reserve(1000);
  for (Member m = 0; m < 5000; ++m) REQUIRE(counts.insert(m * 2654435761u));
  CHECK(counts.size() == 5000);
  for (Member m = 0; m < 5000; m += 2) REQUIRE(counts.erase(m * 2654435761u));
  for (Member m = 1; m < 5000; m += 2) REQUIRE(!counts.insert(m * 2654435761u));
  CHECK(counts.size() == 2500);
}

TEST_CASE("members encode IPv4, named ports and anything else, and print back") {
  Interner strings;
  const Member ip = encodeMember("10.1.2.3", strings);
  CHECK((ip & kInternedBit) == 0);
  CHECK(memberText(ip, strings) == "10.1.2.3");
  CHECK(memberText(withPort(ip, protocolCode("udp"), 53, strings), strings) == "10.1.2.3,udp:53");
  const Member v6 = encodeMember("fd00::1", strings);
  CHECK(memberText(v6, strings) == "fd00::1");
  CHECK(memberText(withPort(v6, protocolCode("tcp"), 8080, strings), strings) == "fd00::1,tcp:8080");
  const Member net = encodeMember("10.0.0.0/8", strings);
  CHECK(isNet(net, strings));
  CHECK(memberText(net, strings) == "10.0.0.0/8");
  CHECK(memberText(encodeMember("0.0.0.0", strings), strings) == "0.0.0.0");
  CHECK(memberText(encodeMember("255.255.255.255", strings), strings) == "255.255.255.255");
}

}  // namespace
}  // namespace tartan::calc
