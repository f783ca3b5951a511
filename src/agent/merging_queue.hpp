// src/agent/merging_queue.hpp — the typed queue between two of the agent's loops.
//
// Open/R's habit: a producer never blocks on a slow consumer and memory stays bounded, because a
// new update is merged into the one still pending instead of queued behind it. The consumer
// takes everything pending at once. `T` says how it merges: `void merge(T&& newer)`, and
// `bool empty() const`. What "merge" means is the value's business (the syncer's batch keeps the
// latest state per key; a dataplane batch appends, since its messages are deltas).
// Threading: any number of producers, one consumer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

namespace tartan::agent {

template <class T>
class MergingQueue {
 public:
  void push(T value) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      if (pending_)
        pending_->merge(std::move(value));
      else
        pending_.emplace(std::move(value));
    }
    ready_.notify_one();
  }

  // Everything pending, merged; nullopt after `timeout` with nothing pending, or once closed and
  // drained.
  std::optional<T> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [&] { return closed_ || (pending_ && !pending_->empty()); });
    std::optional<T> out;
    if (pending_ && !pending_->empty()) out = std::move(pending_);
    pending_.reset();
    return out;
  }

  // Wakes the consumer; later pushes are dropped.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<T> pending_;
  bool closed_ = false;
};

}  // namespace tartan::agent
