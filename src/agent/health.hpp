// src/agent/health.hpp — what /liveness and /readiness report.
//
// Each loop beats its heart at least once a second (its queue wait times out); liveness is every
// loop having beaten within kStale. Readiness is set once by the dataplane loop when the first
// full sync is programmed, and withdrawn while the datastore is unavailable: the last state stays
// enforced meanwhile, but it may be stale. Damaged resources leave the agent ready (their last
// valid versions are enforced) and are named in the readiness detail until repaired.
// Threading: atomics and a mutex for the texts; any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tartan::agent {

class Health {
 public:
  enum class Loop { kCalc, kDataplane };
  static constexpr std::chrono::seconds kStale{30};

  void beat(Loop loop, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    slot(loop).store(now.time_since_epoch().count());
  }
  bool live(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) const {
    for (Loop loop : {Loop::kCalc, Loop::kDataplane}) {
      const auto last =
          std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(slot(loop).load()));
      if (slot(loop).load() == 0 || now - last > kStale) return false;
    }
    return true;
  }
  void setReady() { ready_ = true; }
  bool ready() const { return ready_ && !unavailable_; }

  // Why the datastore is unavailable; nothing once it is back and resynced.
  void setDatastoreOutage(std::optional<std::string> why) {
    std::lock_guard lock(mutex_);
    unavailable_ = why.has_value();
    outage_ = std::move(why);
  }
  // The damaged resources, one description each ("PATH: PROBLEM; serving ..."); empty: none.
  void setDamaged(std::vector<std::string> damaged) {
    std::lock_guard lock(mutex_);
    damaged_ = std::move(damaged);
  }
  // What readiness should say beyond its status, one line each: the outage, then every damaged
  // resource. Empty when all is well.
  std::string readinessDetail() const {
    std::lock_guard lock(mutex_);
    std::string out;
    if (outage_) out += "datastore unavailable: " + *outage_ + "\n";
    for (const auto& damaged : damaged_) out += "damaged resource: " + damaged + "\n";
    return out;
  }

 private:
  std::atomic<int64_t>& slot(Loop loop) { return loop == Loop::kCalc ? calc_ : dataplane_; }
  const std::atomic<int64_t>& slot(Loop loop) const { return loop == Loop::kCalc ? calc_ : dataplane_; }
  std::atomic<int64_t> calc_{0};
  std::atomic<int64_t> dataplane_{0};
  std::atomic<bool> ready_{false};
  std::atomic<bool> unavailable_{false};
  mutable std::mutex mutex_;
  std::optional<std::string> outage_;
  std::vector<std::string> damaged_;
};

}  // namespace tartan::agent
