// item_keys.hpp — item key ("w:<ns>/<pod>", "h:<name>", "n:<ns>/<name>") to item id.
//
// Why not std::unordered_map<std::string, uint32_t>: at 250k endpoints its nodes and key copies
// cost ~100 bytes an item. Here keys live back to back in one arena (spans indexed by item id)
// and the table is a flat array of item ids (open addressing, linear probing, backward-shift
// deletion): ~40 bytes an item. The arena is a list of 1 MiB chunks, so it grows without
// copying (a doubling string would briefly hold two copies). Removed keys leave garbage,
// compacted once it is half the arena.
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
    place(probe(key), key, id);
  }
  // The id of `key`; if absent, inserts it under newId() (called only then). One probe.
  template <class F>
  uint32_t findOrInsert(std::string_view key, F&& newId) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::size_t i = probe(key);
    if (slots_[i] != kAbsent) return slots_[i];
    const uint32_t id = newId();
    place(i, key, id);
    return id;
  }
  void erase(std::string_view key) {
    if (slots_.empty()) return;
    std::size_t i = probe(key);
    if (slots_[i] == kAbsent) return;
    garbage_ += spans_[slots_[i]].length;
    stored_ -= spans_[slots_[i]].length;
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
    if (garbage_ > kChunk && garbage_ > stored_) compact();
  }
  std::size_t size() const { return size_; }
  // The key `id` was inserted with (valid until it is erased or the arena is compacted).
  std::string_view key(uint32_t id) const { return keyOf(id); }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  struct Span {
    uint32_t chunk : 12 = 0;   // 4096 chunks of 1 MiB
    uint32_t offset : 20 = 0;  // within the chunk
    uint32_t length = 0;
  };
  Span append(std::vector<std::string>& chunks, std::string_view key) {
    if (chunks.empty() || chunks.back().size() + key.size() > kChunk) {
      // A key longer than a chunk gets a chunk of its own (offset 0).
      chunks.emplace_back();
      chunks.back().reserve(kChunk);
    }
    std::string& chunk = chunks.back();
    Span span{static_cast<uint32_t>(chunks.size() - 1), static_cast<uint32_t>(chunk.size()),
              static_cast<uint32_t>(key.size())};
    chunk.append(key);
    stored_ += key.size();
    return span;
  }
  static std::size_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  void place(std::size_t slot, std::string_view key, uint32_t id) {
    if (spans_.size() <= id) {
      if (spans_.capacity() <= id) spans_.reserve(id + id / 4 + 64);  // grow by 1.25, not 2
      spans_.resize(id + 1);
    }
    spans_[id] = append(chunks_, key);
    slots_[slot] = id;
    ++size_;
  }
  std::string_view keyOf(uint32_t id) const {
    return std::string_view(chunks_[spans_[id].chunk]).substr(spans_[id].offset, spans_[id].length);
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
    std::vector<std::string> fresh;
    stored_ = 0;
    for (uint32_t id : slots_) {
      if (id == kAbsent) continue;
      spans_[id] = append(fresh, keyOf(id));
    }
    chunks_ = std::move(fresh);
    garbage_ = 0;
  }

  std::vector<std::string> chunks_;
  std::size_t stored_ = 0;
  std::vector<Span> spans_;      // by item id
  std::vector<uint32_t> slots_;  // item ids
  std::size_t size_ = 0;
  std::size_t garbage_ = 0;
};

}  // namespace tartan::calc
