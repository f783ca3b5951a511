// The libipset edge against the real kernel, in a namespace of its own: the socket is opened on a
// thread inside it, so nothing reaches the host's sets.
#include "support/netns.hpp"
#include "tartan/dataplane/iptables/ip_sets.hpp"
#include "tartan/dataplane/iptables/kernel.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>

using namespace tartan::dataplane::iptables;
namespace tt = tartan::test;

TEST_CASE("libipset creates, fills, lists, swaps and destroys sets of both types and families", "[kernel]") {
  if (!tt::haveNetAdmin()) {
    WARN("needs root and network namespaces: skipped");
    return;
  }
  tt::NetNamespace ns("ipset");
  tt::EnterNamespace in(ns);
  auto kernel = makeLibIpSetKernel();
  REQUIRE(kernel->create("tartan-k1", IpSetType::kNet, IpFamily::kV4, 1024).has_value());
  REQUIRE(kernel->create("tartan6-k1", IpSetType::kNet, IpFamily::kV6, 1024).has_value());
  REQUIRE(kernel->create("tartan-k2", IpSetType::kIpPort, IpFamily::kV4, 1024).has_value());
  CHECK_FALSE(kernel->create("tartan-k1", IpSetType::kNet, IpFamily::kV4, 1024).has_value());
  REQUIRE(kernel->add("tartan-k1", "10.0.0.0/24").has_value());
  REQUIRE(kernel->add("tartan-k1", "10.0.0.0/24").has_value());  // present: not an error
  REQUIRE(kernel->add("tartan-k1", "10.1.2.3").has_value());
  REQUIRE(kernel->add("tartan6-k1", "fd00::/64").has_value());
  REQUIRE(kernel->add("tartan-k2", "10.0.0.5,tcp:8080").has_value());
  REQUIRE(kernel->del("tartan-k1", "10.9.9.9").has_value());  // absent: not an error
  auto bad = kernel->add("tartan-k1", "not-an-address");
  REQUIRE_FALSE(bad.has_value());
  CHECK_FALSE(bad.error().what.empty());

  auto sets = kernel->listOurs();
  REQUIRE(sets.has_value());
  std::map<std::string, KernelIpSet> byName;
  for (auto& s : *sets) byName[s.name] = s;
  REQUIRE(byName.size() == 3);
  CHECK(byName["tartan-k1"].members == std::set<std::string>{"10.0.0.0/24", "10.1.2.3"});
  CHECK(byName["tartan6-k1"].family == IpFamily::kV6);
  CHECK(byName["tartan6-k1"].members == std::set<std::string>{"fd00::/64"});
  CHECK(byName["tartan-k2"].type == "hash:ip,port");
  CHECK(byName["tartan-k2"].members == std::set<std::string>{"10.0.0.5,tcp:8080"});

  REQUIRE(kernel->create("tartan-tk1", IpSetType::kNet, IpFamily::kV4, 1024).has_value());
  REQUIRE(kernel->add("tartan-tk1", "192.168.0.0/16").has_value());
  REQUIRE(kernel->swap("tartan-k1", "tartan-tk1").has_value());
  CHECK_FALSE(kernel->swap("tartan-k1", "tartan-k2").has_value());  // the kernel refuses across types
  for (const char* name : {"tartan-k1", "tartan6-k1", "tartan-k2", "tartan-tk1"})
    REQUIRE(kernel->destroy(name).has_value());
  CHECK(kernel->listOurs()->empty());
}

TEST_CASE("libipset applies many members in one batch, and single commands still work after it", "[kernel]") {
  if (!tt::haveNetAdmin()) {
    WARN("needs root and network namespaces: skipped");
    return;
  }
  tt::NetNamespace ns("ipsetb");
  tt::EnterNamespace in(ns);
  auto kernel = makeLibIpSetKernel();
  REQUIRE(kernel->create("tartan-b1", IpSetType::kNet, IpFamily::kV4, 65536).has_value());
  REQUIRE(kernel->create("tartan6-b1", IpSetType::kNet, IpFamily::kV6, 65536).has_value());
  REQUIRE(kernel->create("tartan-b2", IpSetType::kIpPort, IpFamily::kV4, 65536).has_value());
  std::set<std::string> v4, v6, ports;
  for (int i = 0; i < 5000; ++i) {
    v4.insert("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1");
    v6.insert("fd00:" + std::to_string(i) + "::/64");
    ports.insert("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
                 ",tcp:" + std::to_string(1000 + i % 7));
  }
  REQUIRE(kernel->update("tartan-b1", {}, v4).has_value());
  REQUIRE(kernel->update("tartan6-b1", {}, v6).has_value());
  REQUIRE(kernel->update("tartan-b2", {}, ports).has_value());
  {
    // In the kernel as soon as update() returns, not when the handle's next command flushes it.
    auto other = makeLibIpSetKernel();
    auto now = other->listOurs();
    REQUIRE(now.has_value());
    for (const auto& set : *now)
      if (set.name == "tartan-b2") CHECK(set.members == ports);
  }
  // A delta of both kinds: half the members go, new ones come, absent ones are no error.
  std::set<std::string> gone, added{"192.168.0.1", "192.168.0.2"};
  int n = 0;
  for (const auto& m : v4)
    if (n++ % 2 == 0) gone.insert(m);
  gone.insert("172.16.0.1");
  REQUIRE(kernel->update("tartan-b1", gone, added).has_value());
  REQUIRE(kernel->add("tartan-b1", "192.168.0.3").has_value());  // one by one still works
  std::set<std::string> expected;
  std::set_difference(v4.begin(), v4.end(), gone.begin(), gone.end(),
                      std::inserter(expected, expected.end()));
  expected.insert(added.begin(), added.end());
  expected.insert("192.168.0.3");

  auto bad = kernel->update("tartan-b1", {}, {"10.200.0.1", "not-an-address"});
  REQUIRE_FALSE(bad.has_value());
  INFO(bad.error().toString());
  CHECK(bad.error().what.find("cannot parse") != std::string::npos);
  CHECK(bad.error().what.find("line 2") != std::string::npos);  // the line of this batch
  kernel->del("tartan-b1", "10.200.0.1");                       // whatever the failed batch left

  auto sets = kernel->listOurs();
  REQUIRE(sets.has_value());
  std::map<std::string, KernelIpSet> byName;
  for (auto& s : *sets) byName[s.name] = s;
  CHECK(byName["tartan-b1"].members == expected);
  CHECK(byName["tartan6-b1"].members.size() == v6.size());
  CHECK(byName["tartan-b2"].members == ports);
  for (const char* name : {"tartan-b1", "tartan6-b1", "tartan-b2"})
    REQUIRE(kernel->destroy(name).has_value());
}

TEST_CASE("IpSets reaches the same kernel state from deltas, bulk swaps and a cold resync", "[kernel]") {
  if (!tt::haveNetAdmin()) {
    WARN("needs root and network namespaces: skipped");
    return;
  }
  tt::NetNamespace ns("ipsets");
  tt::EnterNamespace in(ns);
  auto kernel = makeLibIpSetKernel();
  IpSets sets(IpFamily::kV4);
  REQUIRE(sets.resync(*kernel).has_value());
  sets.replace("s", IpSetType::kNet, {"10.0.0.1/32", "10.0.1.0/24", "fd00::1", "0.0.0.0/0"});
  REQUIRE(sets.applyAdditions(*kernel).has_value());
  std::vector<std::string> bulk;
  for (int i = 0; i < 1000; ++i)
    bulk.push_back("10.2." + std::to_string(i / 250) + "." + std::to_string(i % 250));
  sets.applyDelta("s", bulk, {"0.0.0.0/0"});
  REQUIRE(sets.applyAdditions(*kernel).has_value());
  CHECK(sets.stats().swaps == 1);
  auto listed = kernel->listOurs();
  REQUIRE(listed.has_value());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().members == *sets.desiredMembers("s"));
  CHECK(listed->front().members.size() == 1002);
  // A cold start over that kernel finds nothing to do.
  IpSets again(IpFamily::kV4);
  REQUIRE(again.resync(*kernel).has_value());
  std::vector<std::string> members(listed->front().members.begin(), listed->front().members.end());
  again.replace("s", IpSetType::kNet, members);
  REQUIRE(again.applyAdditions(*kernel).has_value());
  CHECK(again.stats().adds + again.stats().dels + again.stats().creates == 0);
  again.remove("s");
  REQUIRE(again.applyRemovals(*kernel).has_value());
  CHECK(kernel->listOurs()->empty());
}
