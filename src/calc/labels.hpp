// labels.hpp — interned strings and label sets, the calc graph's compact view of labels.
//
// Why: 250k endpoints with ~10 labels each would cost hundreds of MB as std::map<string,string>.
// Every key and value is interned once (a 32-bit id); a label set is a sorted vector of
// (key id, value id); an endpoint's effective labels are its own set plus two parents (its
// namespace's pcns.* labels and its service account's pcsa.* labels), looked up own-first, as
// Felix's label inheritance index does.
#pragma once

#include "item_keys.hpp"

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

// Strings back to back in 1 MiB chunks with a flat table of ids (the item-key table: ~20 bytes
// a string besides its text, where a deque of std::string plus a node-based map cost ~80).
// Nothing is ever erased, so text() views stay valid for the interner's life.
class Interner {
 public:
  StrId intern(std::string_view text) {
    return table_.findOrInsert(text, [this] { return size_++; });
  }
  // kNoStr if never interned (then no label can hold it).
  StrId find(std::string_view text) const {
    const uint32_t found = table_.find(text);
    return found == ItemKeys::kAbsent ? kNoStr : found;
  }
  std::string_view text(StrId id) const { return table_.key(id); }
  std::size_t size() const { return size_; }

 private:
  ItemKeys table_;
  StrId size_ = 0;
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
  auto it =
      std::lower_bound(labels.begin(), labels.end(), key, [](const Label& l, StrId k) { return l.key < k; });
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
