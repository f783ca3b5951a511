// local_index.hpp — this node's endpoints filed by their effective labels.
//
// Why: a policy is matched only against local endpoints, but there are 10k policies and every
// new or edited one used to be evaluated against every local endpoint (2M evaluations at Felix's
// shape, most of the policy load time). Filed under each (key, value) and each key of its
// effective labels (own, then namespace, then service account, own first as LabelView::get),
// an endpoint is offered to a policy only if it carries the label or key the policy's selector
// requires (its Anchor); unanchored selectors still see every local endpoint.
#pragma once

#include "labels.hpp"
#include "selector_program.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tartan::calc {

class LocalLabelIndex {
 public:
  // Files `item` under the labels of `view`, replacing whatever it was filed under before.
  void set(uint32_t item, const LabelView& view) {
    LabelVec effective;
    view.forEach([&](const Label& l) {
      // Own labels hide inherited ones of the same key: file only the value get() returns.
      if (view.get(l.key) == l.value) effective.push_back(l);
    });
    std::sort(effective.begin(), effective.end());
    effective.erase(std::unique(effective.begin(), effective.end()), effective.end());
    auto it = filed_.find(item);
    if (it != filed_.end()) {
      if (it->second == effective) return;
      unfile(item, it->second);
      it->second = std::move(effective);
    } else {
      it = filed_.emplace(item, std::move(effective)).first;
    }
    for (const Label& l : it->second) {
      byLabel_[labelKey(l.key, l.value)].push_back(item);
      byKey_[l.key].push_back(item);
    }
  }

  void erase(uint32_t item) {
    auto it = filed_.find(item);
    if (it == filed_.end()) return;
    unfile(item, it->second);
    filed_.erase(it);
  }

  // Calls f(item) once for every item a selector with this anchor could match.
  template <class F>
  void candidates(const Anchor& anchor, F&& f) const {
    switch (anchor.kind) {
      case Anchor::Kind::kLabels:
        // One value per key: an item is filed under at most one of the anchor's labels.
        for (StrId v : anchor.values) {
          if (auto it = byLabel_.find(labelKey(anchor.key, v)); it != byLabel_.end()) {
            for (uint32_t item : it->second) f(item);
          }
        }
        break;
      case Anchor::Kind::kKey:
        if (auto it = byKey_.find(anchor.key); it != byKey_.end()) {
          for (uint32_t item : it->second) f(item);
        }
        break;
      case Anchor::Kind::kNone:
        for (const auto& [item, labels] : filed_) f(item);
        break;
    }
  }

  std::size_t size() const { return filed_.size(); }

 private:
  static void eraseValue(std::vector<uint32_t>& vec, uint32_t value) {
    auto pos = std::find(vec.begin(), vec.end(), value);
    if (pos != vec.end()) {
      *pos = vec.back();
      vec.pop_back();
    }
  }
  template <class Map, class K>
  static void eraseFrom(Map& map, const K& key, uint32_t value) {
    auto it = map.find(key);
    if (it == map.end()) return;
    eraseValue(it->second, value);
    if (it->second.empty()) map.erase(it);
  }
  void unfile(uint32_t item, const LabelVec& labels) {
    for (const Label& l : labels) {
      eraseFrom(byLabel_, labelKey(l.key, l.value), item);
      eraseFrom(byKey_, l.key, item);
    }
  }

  std::unordered_map<uint64_t, std::vector<uint32_t>> byLabel_;
  std::unordered_map<StrId, std::vector<uint32_t>> byKey_;
  std::unordered_map<uint32_t, LabelVec> filed_;  // item -> the labels it is filed under
};

}  // namespace tartan::calc
