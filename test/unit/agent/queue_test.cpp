// The merging queue between the agent's loops.
#include "batches.hpp"
#include "merging_queue.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace tartan::agent;

namespace {

SyncerBatch update(const std::string& name, int64_t revision, bool present = true) {
  SyncerBatch b;
  tartan::syncer::Update u;
  u.key = {"GlobalNetworkPolicy", "", name};
  u.kind = tartan::model::Kind::kGlobalNetworkPolicy;
  if (present) u.resource = tartan::model::GlobalNetworkPolicy{};
  u.revision = revision;
  b.updates.emplace(u.key, u);
  b.received = 1;
  return b;
}

}  // namespace

TEST_CASE("a pending update of a key is replaced by a newer one, so a slow consumer sees the latest") {
  MergingQueue<SyncerBatch> q;
  q.push(update("a", 1));
  q.push(update("b", 2));
  q.push(update("a", 3, false));
  SyncerBatch in;
  in.inSync = true;
  q.push(std::move(in));
  auto batch = q.pop(std::chrono::milliseconds(0));
  REQUIRE(batch);
  CHECK(batch->updates.size() == 2);
  CHECK(batch->received == 3);
  CHECK(batch->inSync);
  const auto& a = batch->updates.at({"GlobalNetworkPolicy", "", "a"});
  CHECK(a.revision == 3);
  CHECK_FALSE(a.resource);
  CHECK_FALSE(q.pop(std::chrono::milliseconds(0)));
}

TEST_CASE("dataplane batches append, because their messages are deltas") {
  MergingQueue<DataplaneBatch> q;
  DataplaneBatch one, two;
  one.messages.emplace_back().mutable_in_sync();
  two.messages.emplace_back().mutable_ipset_remove()->set_id("s");
  two.config = AgentConfig{};
  q.push(std::move(one));
  q.push(std::move(two));
  auto batch = q.pop(std::chrono::milliseconds(0));
  REQUIRE(batch);
  REQUIRE(batch->messages.size() == 2);
  CHECK(batch->messages[0].has_in_sync());
  CHECK(batch->messages[1].has_ipset_remove());
  CHECK(batch->config);
}

TEST_CASE("closing the queue wakes a waiting consumer, which then sees nothing") {
  MergingQueue<SyncerBatch> q;
  std::thread closer([&] { q.close(); });
  CHECK_FALSE(q.pop(std::chrono::seconds(30)));
  closer.join();
  CHECK(q.closed());
  q.push(update("a", 1));
  CHECK_FALSE(q.pop(std::chrono::milliseconds(0)));
}
