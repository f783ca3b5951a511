// The re-check debounce; see tartan/dataplane/iptables/recheck_schedule.hpp.
#include "tartan/dataplane/iptables/recheck_schedule.hpp"

#include <algorithm>

namespace tartan::dataplane::iptables {

void RecheckSchedule::changed(Clock::time_point now) {
  if (!first_) first_ = now;
  last_ = now;
}

std::optional<RecheckSchedule::Clock::time_point> RecheckSchedule::dueAt() const {
  if (!first_) return std::nullopt;
  auto at = std::min(*last_ + options_.quiet, *first_ + options_.maxDelay);
  if (lastCheck_ && backoff_.count() > 0) at = std::max(at, *lastCheck_ + backoff_);
  return at;
}

void RecheckSchedule::checked(Clock::time_point now, bool repaired) {
  // A change seen before this check is covered by it; one seen later (a burst still going on, or
  // the notification of our own repair) stays pending.
  if (first_ && *last_ <= now) first_.reset(), last_.reset();
  lastCheck_ = now;
  if (!repaired) {
    repairsInARow_ = 0;
    backoff_ = Duration{0};
    return;
  }
  // Under back-off the repairs of a fight come a back-off apart: still close.
  const bool close = lastRepair_ && now - *lastRepair_ <= options_.fightWindow + backoff_;
  repairsInARow_ = close ? repairsInARow_ + 1 : 1;
  lastRepair_ = now;
  if (repairsInARow_ >= options_.fightAfter)
    backoff_ = backoff_.count() == 0 ? options_.backoff : std::min(backoff_ * 2, options_.maxBackoff);
}

}  // namespace tartan::dataplane::iptables
