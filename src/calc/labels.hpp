// labels.hpp — interned strings and label sets, the calc graph's compact view of labels.
//
// Why: 250k endpoints with ~10 labels each would cost hundreds of MB as std::map<string,string>.
// Every key and value is interned once (a 32-bit id); a label set is a sorted vector of
// (key id, value id); an endpoint's effective labels are its own set plus two parents (its
// namespace's pcns.* labels and its service account's pcsa.* labels), looked up own-first, as
// Felix's label inheritance index does.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tartan::calc {

using StrId = uint32_t;
inline constexpr StrId kNoStr = ~StrId{0};

class Interner {
 public:
  StrId intern(std::string_view text) {
    auto it = ids_.find(text);
    if (it != ids_.end()) return it->second;
    strings_.emplace_back(text);
    const StrId id = static_cast<StrId>(strings_.size() - 1);
    ids_.emplace(std::string_view(strings_.back()), id);
    return id;
  }
  // kNoStr if never interned (then no label can hold it).
  StrId find(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? kNoStr : it->second;
  }
  std::string_view text(StrId id) const { return strings_[id]; }
  std::size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;  // stable addresses for the views in ids_
  std::unordered_map<std::string_view, StrId> ids_;
};

struct Label {
  StrId key;
  StrId value;
  bool operator==(const Label&) const = default;
  bool operator<(const Label& o) const { return key != o.key ? key < o.key : value < o.value; }
};

// Sorted by key; one value per key.
using LabelVec = std::vector<Label>;

inline const Label* findLabel(const LabelVec& labels, StrId key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const Label& l, StrId k) { return l.key < k; });
  return it != labels.end() && it->key == key ? &*it : nullptr;
}

inline uint64_t labelKey(StrId key, StrId value) { return (uint64_t{key} << 32) | value; }

// An endpoint's effective labels: own first, then the namespace's, then the service account's.
struct LabelView {
  const LabelVec* own = nullptr;
  const LabelVec* ns = nullptr;
  const LabelVec* sa = nullptr;

  std::optional<StrId> get(StrId key) const {
    for (const LabelVec* vec : {own, ns, sa}) {
      if (vec == nullptr) continue;
      if (const Label* l = findLabel(*vec, key)) return l->value;
    }
    return std::nullopt;
  }
  template <class F>
  void forEach(F&& f) const {
    for (const LabelVec* vec : {own, ns, sa}) {
      if (vec == nullptr) continue;
      for (const Label& l : *vec) f(l);
    }
  }
};

}  // namespace tartan::calc
