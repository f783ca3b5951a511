// src/agent/batches.hpp — the values that travel on the agent's two queues.
//
//   syncer thread --SyncerBatch--> calc loop --DataplaneBatch--> dataplane loop
//
// A SyncerBatch is a set of full snapshots keyed by datastore key: merging keeps the newest
// state of each key, so a burst of writes to one policy costs the calc graph one update, and a
// slow calc loop holds at most one entry per stored resource. A DataplaneBatch is a run of
// dataplane API messages (deltas: order matters), so merging appends; the dataplane loop applies
// everything pending in one transaction, which is exactly the batching Felix does.
// Only the agent's own loops include this (it pulls in the generated protobuf header).
#pragma once

#include "config.hpp"
#include "tartan/proto/dataplane.pb.h"
#include "tartan/syncer/syncer.hpp"

#include <map>
#include <optional>
#include <vector>

namespace tartan::agent {

struct SyncerBatch {
  std::map<datastore::Key, syncer::Update> updates;
  bool inSync = false;    // the syncer's snapshot is complete (at or before the last update here)
  uint64_t received = 0;  // updates delivered, merged or not

  void merge(SyncerBatch&& newer) {
    for (auto& [key, update] : newer.updates) updates.insert_or_assign(key, std::move(update));
    inSync = inSync || newer.inSync;
    received += newer.received;
  }
  bool empty() const { return updates.empty() && !inSync; }
};

struct DataplaneBatch {
  std::vector<dataplane::proto::ToDataplane> messages;
  // The agent settings the dataplane loop uses itself (rp_filter, route refresh), when changed.
  std::optional<AgentConfig> config;

  void merge(DataplaneBatch&& newer) {
    messages.insert(messages.end(), std::make_move_iterator(newer.messages.begin()),
                    std::make_move_iterator(newer.messages.end()));
    if (newer.config) config = std::move(newer.config);
  }
  bool empty() const { return messages.empty() && !config; }
};

}  // namespace tartan::agent
