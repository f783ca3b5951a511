// Several processes on three nodes assign and release at once on one file datastore; afterwards
// every address is held by exactly the handle that was given it, and the stored bookkeeping adds
// up, and ipam check finds nothing. The pool is small enough that blocks are claimed in races and
// borrowed from. Then one process of three is killed (SIGKILL) while it claims block after block,
// each round at another write of a claim or release, and whatever it left half done is exactly
// what ipam check reports, and what check's report lets release clean up.
#include "block.hpp"
#include "conflict_store.hpp"
#include "fixture.hpp"

#include "tartan/ipam/check.hpp"
#include "tartan/ipam/ipam.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

// The endpoint of the pod that holds `ip` under `handle`, as the CNI plugin writes it.
void putEndpoint(datastore::Datastore& store, const std::string& handle, const std::string& ip) {
  model::WorkloadEndpoint w;
  w.metadata.name = "node-k8s-" + handle.substr(handle.rfind('.') + 1) + "-eth0";
  w.metadata.namespaceName = "default";
  w.spec.ipNetworks = {ip + "/32"};
  REQUIRE(
      store.apply({"WorkloadEndpoint", "default", w.metadata.name}, model::encodeYaml(model::Resource{w})));
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

  // With an endpoint for every address held, ipam check finds nothing at all.
  for (const auto& [ip, handle] : owner) putEndpoint(*store, handle, ip);
  auto snapshot = readSnapshot(*store);
  REQUIRE(snapshot.has_value());
  const CheckResult checked = check(*snapshot);
  for (const auto& f : checked.findings) UNSCOPED_INFO(toString(f.kind) << ": " << f.detail);
  CHECK(checked.findings.empty());
  CHECK(checked.allocationCount() == owner.size());
}

namespace {

// Assigns one address per handle (every assignment a claim: the pool's blocks are /32s), gives
// back about a quarter, and journals each step once it has returned: "+ handle ip", "- handle".
// Returns 0 after `assignments`; the victim is killed long before.
// With `stopAfterWrites`, the claimer stops itself (SIGSTOP) right after that many writes to the
// store, for its parent to kill it there: a claim is five writes (pending affinity, block,
// confirmed affinity, handle, block), a release by handle two, so successive counts stop it at
// each point of both.
int claimer(const std::string& spec, const std::string& node, int assignments, const std::string& journal,
            int stopAfterWrites) {
  auto opened = datastore::open(spec);
  if (!opened) return 10;
  ConflictStore store(**opened);
  int writes = 0;
  store.afterWrite = [&] {
    if (++writes == stopAfterWrites) ::raise(SIGSTOP);
  };
  Ipam ipam(store);
  std::ofstream out(journal);
  std::mt19937 random(static_cast<uint32_t>(std::hash<std::string>{}(journal)));
  std::vector<std::string> held;
  for (int i = 0; i < assignments; ++i) {
    const std::string handle = podHandleID(node + "-" + std::to_string(i));
    auto r = persist([&] { return ipam.autoAssign(v4(node, handle)); });
    if (!r || r->ipv4.size() != 1) {
      std::ofstream(journal + ".error") << (r ? "wrong count" : r.error().toString());
      return 11;
    }
    out << "+ " << handle << " " << r->ipv4[0] << std::endl;
    held.push_back(handle);
    if (random() % 4 == 0) {
      const auto victim = held.begin() + static_cast<long>(random() % held.size());
      if (!persist([&] { return ipam.releaseByHandle(*victim); })) return 12;
      out << "- " << *victim << std::endl;
      held.erase(victim);
    }
  }
  return 0;
}

// handle -> address, from a journal.
std::map<std::string, std::string> heldIn(const std::string& journal) {
  std::map<std::string, std::string> held;
  std::ifstream in(journal);
  for (std::string op, handle; in >> op >> handle;) {
    if (op == "+") {
      in >> held[handle];
    } else {
      held.erase(handle);
    }
  }
  return held;
}

bool ofNode(const std::string& handle, const std::string& node) {
  return handle.rfind(podHandleID(node + "-"), 0) == 0;
}

}  // namespace

TEST_CASE("a process killed in the middle of claims leaves nothing that ipam check does not report",
          "[unit][ipam]") {
  const std::vector<std::string> nodes = {"node-a", "node-b", "node-c"};
  constexpr int kRounds = 6;
  int killedMidway = 0;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    {
      auto store = openStore(dir);
      putPool(*store, {"claims", "10.66.0.0/23", 32});
    }
    std::mt19937 random(static_cast<uint32_t>(round * 104729 + 7));
    const size_t victim = random() % nodes.size();
    const std::string& victimNode = nodes[victim];
    std::vector<pid_t> pids;
    std::vector<std::string> journals;
    for (size_t n = 0; n < nodes.size(); ++n) {
      const std::string journal = dir.path() + "-journal-" + std::to_string(n);
      journals.push_back(journal);
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0)
        ::_exit(claimer(dir.spec(), nodes[n], n == victim ? 400 : 12, journal, n == victim ? 13 + round : 0));
      pids.push_back(pid);
    }
    // Killed where it stopped itself, while the others carry on.
    int stopped = 0;
    REQUIRE(::waitpid(pids[victim], &stopped, WUNTRACED) == pids[victim]);
    CHECK(WIFSTOPPED(stopped));
    REQUIRE(::kill(pids[victim], SIGKILL) == 0);  // our own child, by its PID
    std::map<std::string, std::string> survivorsHold;
    for (size_t n = 0; n < nodes.size(); ++n) {
      int status = 0;
      REQUIRE(::waitpid(pids[n], &status, 0) == pids[n]);
      std::ifstream error(journals[n] + ".error");
      INFO("round " << round << " " << nodes[n] << ": "
                    << std::string(std::istreambuf_iterator<char>(error), {}));
      if (n == victim) {
        if (WIFSIGNALED(status)) ++killedMidway;
      } else {
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        auto held = heldIn(journals[n]);
        survivorsHold.insert(held.begin(), held.end());
      }
    }
    for (const auto& journal : journals) {
      std::filesystem::remove(journal);
      std::filesystem::remove(journal + ".error");
    }

    auto store = openStore(dir);
    for (const auto& [handle, ip] : survivorsHold) putEndpoint(*store, handle, ip);
    auto snapshot = readSnapshot(*store);
    REQUIRE(snapshot.has_value());
    const CheckResult checked = check(*snapshot);
    INFO("round " << round << ", victim " << victimNode);
    for (const auto& f : checked.findings) UNSCOPED_INFO(toString(f.kind) << ": " << f.detail);

    // What the victim left, found by looking at the records directly.
    std::set<std::string> victimAddresses, victimHandlesAmiss, victimAffinitiesAmiss, victimBlocksAmiss;
    std::map<std::string, std::map<std::string, int>> held;  // handle -> block -> addresses
    for (const auto& b : snapshot->blocks) {
      CHECK_FALSE(blockProblem(b.spec));  // no write is ever half done
      for (size_t o = 0; o < b.spec.allocations.size(); ++o) {
        if (!b.spec.allocations[o]) continue;
        const auto& handle = *b.spec.attributes.at(static_cast<size_t>(*b.spec.allocations[o])).handleID;
        held[handle][b.spec.cidr] += 1;
        const std::string ip = b.spec.cidr.substr(0, b.spec.cidr.find('/'));
        if (ofNode(handle, victimNode)) {
          victimAddresses.insert(ip);
        } else {
          CHECK(survivorsHold.at(handle) == ip);
        }
      }
      const bool affine =
          std::any_of(snapshot->affinities.begin(), snapshot->affinities.end(), [&](const auto& a) {
            return "host:" + a.spec.node == b.spec.affinity && a.spec.cidr == b.spec.cidr;
          });
      if (!affine) victimBlocksAmiss.insert(b.spec.cidr);
    }
    for (const auto& h : snapshot->handles) {
      if (held[h.value.metadata.name] != h.value.spec.block) victimHandlesAmiss.insert(h.value.metadata.name);
    }
    for (const auto& a : snapshot->affinities) {
      auto block = std::find_if(snapshot->blocks.begin(), snapshot->blocks.end(),
                                [&](const auto& b) { return b.spec.cidr == a.spec.cidr; });
      if (a.spec.state != "confirmed" || block == snapshot->blocks.end() ||
          block->spec.affinity != "host:" + a.spec.node) {
        victimAffinitiesAmiss.insert(a.metadata.name);
      }
    }
    for (const auto& h : victimHandlesAmiss) CHECK(ofNode(h, victimNode));
    for (const auto& a : victimAffinitiesAmiss) CHECK(a.rfind(victimNode + "-", 0) == 0);

    // ... is exactly what the check reports: every victim address as leaked, every handle,
    // affinity and block amiss by name, and nothing of the survivors.
    std::set<std::string> leaked, handles, affinities, blocks;
    for (const auto& f : checked.findings) {
      switch (f.kind) {
        case FindingKind::kLeakedAddress:
          leaked.insert(f.subject);
          break;
        case FindingKind::kLeakedHandle:
        case FindingKind::kHandleCountMismatch:
          handles.insert(f.subject);
          break;
        case FindingKind::kAffinityNotConfirmed:
        case FindingKind::kAffinityWithoutBlock:
        case FindingKind::kAffinityBlockMismatch:
          affinities.insert(f.subject);
          break;
        case FindingKind::kBlockWithoutAffinity:
          blocks.insert(f.subject);
          break;
        default:
          FAIL_CHECK("unexpected finding: " << f.detail);
      }
    }
    CHECK(leaked == victimAddresses);
    CHECK(handles == victimHandlesAmiss);
    CHECK(affinities == victimAffinitiesAmiss);
    CHECK(blocks == victimBlocksAmiss);

    // The report is enough to clean up the addresses and handles: after releasing what it
    // names, only affinities (which the victim's node takes up again on its next claim) remain.
    Ipam ipam(*store);
    const ReleasePlan plan =
        mergeReports({makeReport(clusterMeta(snapshot->clusterInformation), checked, "t")});
    CHECK(plan.addresses.size() == victimAddresses.size());
    auto left = ipam.releaseIPs(plan.addresses);
    REQUIRE(left.has_value());
    CHECK(left->empty());
    for (const auto& h : plan.handles) {
      CHECK(ipam.deleteHandleAt(h.id, std::stoll(h.revision), h.uid).value());
    }
    auto after = readSnapshot(*store);
    REQUIRE(after.has_value());
    for (const auto& f : check(*after).findings) {
      INFO(f.detail);
      CHECK((f.kind == FindingKind::kAffinityNotConfirmed || f.kind == FindingKind::kAffinityWithoutBlock ||
             f.kind == FindingKind::kAffinityBlockMismatch || f.kind == FindingKind::kBlockWithoutAffinity));
    }
  }
  CHECK(killedMidway == kRounds);
}
