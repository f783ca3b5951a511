// item_keys.hpp — item key ("w:<ns>/<pod>", "h:<name>", "n:<ns>/<name>") to item id.
//
// Why not std::unordered_map<std::string, uint32_t>: at 250k endpoints its nodes and key copies
// cost ~100 bytes an item. Here keys live back to back in one arena (spans indexed by item id)
// and the table is a flat array of item ids (open addressing, linear probing, backward-shift
// deletion): ~40 bytes an item. Removed keys leave garbage in the arena, compacted once it is
// half the arena.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::calc {

class ItemKeys {
 public:
  static constexpr uint32_t kAbsent = ~uint32_t{0};

  uint32_t find(std::string_view key) const {
    if (slots_.empty()) return kAbsent;
    const std::size_t i = probe(key);
    return slots_[i];
  }
  // `id` must not be in the table; `key` must not be either.
  void insert(std::string_view key, uint32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    if (spans_.size() <= id) {
      if (spans_.capacity() <= id) spans_.reserve(id + id / 4 + 64);  // grow by 1.25, not 2
      spans_.resize(id + 1);
    }
    if (arena_.size() + key.size() > arena_.capacity()) {
      arena_.reserve(arena_.capacity() + arena_.capacity() / 4 + 4096);
    }
    spans_[id] = Span{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size())};
    arena_.append(key);
    slots_[probe(key)] = id;
    ++size_;
  }
  void erase(std::string_view key) {
    if (slots_.empty()) return;
    std::size_t i = probe(key);
    if (slots_[i] == kAbsent) return;
    garbage_ += spans_[slots_[i]].length;
    spans_[slots_[i]] = Span{};
    const std::size_t mask = slots_.size() - 1;
    std::size_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (slots_[j] == kAbsent) break;
      const std::size_t home = hash(keyOf(slots_[j])) & mask;
      const bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = kAbsent;
    --size_;
    if (garbage_ > (1u << 20) && garbage_ * 2 > arena_.size()) compact();
  }
  std::size_t size() const { return size_; }

 private:
  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  static std::size_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  std::string_view keyOf(uint32_t id) const {
    return std::string_view(arena_).substr(spans_[id].offset, spans_[id].length);
  }
  // The slot holding `key`, or the empty slot where it would go.
  std::size_t probe(std::string_view key) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash(key) & mask;
    while (slots_[i] != kAbsent && keyOf(slots_[i]) != key) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<uint32_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, kAbsent);
    for (uint32_t id : old) {
      if (id != kAbsent) slots_[probe(keyOf(id))] = id;
    }
  }
  void compact() {
    std::string fresh;
    fresh.reserve(arena_.size() - garbage_);
    for (uint32_t id : slots_) {
      if (id == kAbsent) continue;
      const std::string_view key = keyOf(id);
      spans_[id].offset = static_cast<uint32_t>(fresh.size());
      fresh.append(key);
    }
    arena_ = std::move(fresh);
    garbage_ = 0;
  }

  std::string arena_;
  std::vector<Span> spans_;     // by item id
  std::vector<uint32_t> slots_;  // item ids
  std::size_t size_ = 0;
  std::size_t garbage_ = 0;
};

}  // namespace tartan::calc
