// Several processes on three nodes assign and release at once on one file datastore; afterwards
// every address is held by exactly the handle that was given it, and the stored bookkeeping adds
// up. The pool is small enough that blocks are claimed in races and borrowed from.
#include "block.hpp"
#include "fixture.hpp"

#include "tartan/ipam/ipam.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>

using namespace tartan;
using namespace tartan::ipam;
using namespace tartan::ipam::test;

namespace {

constexpr int kProcessesPerNode = 2;
constexpr int kAssignments = 24;

// A transient failure (the retries of one write ran out) is retried by the caller, as a CNI
// plugin's caller retries ADD.
template <class F>
auto persist(F call) {
  for (int i = 0;; ++i) {
    auto r = call();
    if (r || r.error().kind != ErrorKind::kConflict || i == 50) return r;
  }
}

// The child's work: assign one address per handle, release about a third again (by handle or by
// address), and write the handle and address of each one it still holds to `out`. 0 on success.
int child(const std::string& spec, const std::string& node, int index, const std::string& out) {
  auto opened = datastore::open(spec);
  if (!opened) return 10;
  Ipam ipam(**opened);
  std::mt19937 random(static_cast<uint32_t>(index * 7919 + 1));
  std::map<std::string, std::string> held;  // handle -> address
  for (int i = 0; i < kAssignments; ++i) {
    const std::string handle = podHandleID(node + "-" + std::to_string(index) + "-" + std::to_string(i));
    auto r = persist([&] { return ipam.autoAssign(v4(node, handle)); });
    if (!r || r->ipv4.size() != 1) {
      std::ofstream(out + ".error") << (r ? "wrong count" : r.error().toString());
      return 11;
    }
    held[handle] = r->ipv4[0];
    if (random() % 3 == 0) {
      auto victim = std::next(held.begin(), static_cast<long>(random() % held.size()));
      if (random() % 2 == 0) {
        if (!persist([&] { return ipam.releaseByHandle(victim->first); })) return 12;
      } else {
        auto left = persist([&] { return ipam.releaseIPs({{victim->second, victim->first, std::nullopt}}); });
        if (!left || !left->empty()) return 13;
      }
      held.erase(victim);
    }
  }
  std::ofstream file(out);
  for (const auto& [handle, ip] : held) file << handle << " " << ip << "\n";
  return file ? 0 : 14;
}

}  // namespace

TEST_CASE("processes on three nodes assigning and releasing at once never share an address", "[unit][ipam]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    // 16 blocks of 8 for 3 x 2 x 24 = 144 assignments, about 96 held at the end.
    putPool(*store, {"pool", "10.65.0.0/25", 29});
  }
  const std::vector<std::string> nodes = {"node-a", "node-b", "node-c"};
  std::vector<pid_t> children;
  std::vector<std::string> outputs;
  int index = 0;
  for (const auto& node : nodes) {
    for (int p = 0; p < kProcessesPerNode; ++p, ++index) {
      // Beside the store's folder, not in it: the store owns everything in there.
      const std::string out = dir.path() + "-held-" + std::to_string(index);
      outputs.push_back(out);
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) ::_exit(child(dir.spec(), node, index, out));
      children.push_back(pid);
    }
  }
  for (size_t i = 0; i < children.size(); ++i) {
    int status = 0;
    REQUIRE(::waitpid(children[i], &status, 0) == children[i]);
    std::ifstream error(outputs[i] + ".error");
    std::string why((std::istreambuf_iterator<char>(error)), {});
    INFO("process " << i << ": " << why);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }

  std::map<std::string, std::string> owner;  // address -> handle
  for (const auto& out : outputs) {
    std::ifstream file(out);
    std::string handle, ip;
    while (file >> handle >> ip) {
      auto [it, added] = owner.emplace(ip, handle);
      INFO(ip << " held by " << handle << " and " << it->second);
      CHECK(added);
    }
    std::filesystem::remove(out);
    std::filesystem::remove(out + ".error");
  }
  CHECK(owner.size() >= 60);

  auto store = openStore(dir);
  Ipam ipam(*store);
  size_t allocated = 0;
  auto blocks = store->list("IPAMBlock");
  REQUIRE(blocks);
  for (const auto& kv : blocks->items) {
    auto block = get<model::IPAMBlock>(*store, kv.key.name);
    REQUIRE(block);
    INFO(kv.key.name);
    CHECK_FALSE(blockProblem(block->spec));
    allocated += block->spec.allocations.size() - block->spec.unallocated.size();
  }
  CHECK(allocated == owner.size());  // nothing leaked, nothing lost
  for (const auto& [ip, handle] : owner) {
    auto a = ipam.allocation(ip);
    REQUIRE(a);
    CHECK(a->handleID == handle);
    CHECK(ipam.ipsByHandle(handle).value() == std::vector<std::string>{ip});
  }
  // A handle may outlive its last address only where taking back its count ran out of retries;
  // it then holds nothing.
  std::set<std::string> holders;
  for (const auto& [ip, handle] : owner) holders.insert(handle);
  auto handles = store->list("IPAMHandle");
  REQUIRE(handles);
  for (const auto& kv : handles->items) {
    if (holders.count(kv.key.name)) continue;
    INFO(kv.key.name);
    CHECK(ipam.ipsByHandle(kv.key.name).value().empty());
  }
  auto affinities = store->list("BlockAffinity");
  REQUIRE(affinities);
  for (const auto& kv : affinities->items) {
    INFO(kv.key.name);
    CHECK(get<model::BlockAffinity>(*store, kv.key.name)->spec.state == "confirmed");
  }
}
