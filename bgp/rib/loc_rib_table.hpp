// bgp/rib/loc_rib_table.hpp — the Loc-RIB's storage: one compact entry per prefix.
//
// Why not a hash map of prefix → entry: an open-addressing map keeps its slots at most 7/8 full
// and doubles, so at a million prefixes it holds two million slots of key and value (and three
// million while it rehashes) — most of a full table's memory. Here the entries live in fixed
// chunks addressed by a 32-bit index (never moved, so no rehash copies them), and the hash index
// holds only those 4-byte indices, found by the prefix stored in the entry (heterogeneous lookup).
// A full table costs its entries (40 bytes each) plus about 8 bytes of index per prefix.
// An entry with one path (the common case) holds it inline; more paths go to a heap vector.
// Entries whose best path changed are also queued for the kernel (takeDirty); an entry whose last
// path went stays as an empty tombstone until the queue has taken it.
// Threading: none; the Rib's strand owns it.
#pragma once

#include "rib/attr_store.hpp"
#include "rib/decision.hpp"

#include <boost/unordered/unordered_flat_set.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

namespace tartan::bgp {

using PeerId = std::uint32_t;

struct Route {
  PeerId peer = 0;
  std::uint32_t pathId = 0;
  Attrs attrs;
};

// The candidate paths of one prefix: one held inline (the common case: no allocation), more in a
// heap vector. Reads like a const vector of Route. 16 bytes: a real path always has attributes, so
// a Route slot without them is free to say "none" (all zero) or to hold the vector's address in
// its peer and path id words.
class PathList {
 public:
  PathList() = default;
  PathList(const PathList&) = delete;
  PathList& operator=(const PathList&) = delete;
  ~PathList() { delete many(); }

  using const_iterator = const Route*;
  const Route* begin() const { return data(); }
  const Route* end() const { return data() + size(); }
  std::size_t size() const {
    if (one_.attrs) return 1;
    const auto* m = many();
    return m ? m->size() : 0;
  }
  bool empty() const { return size() == 0; }
  const Route& front() const { return *data(); }
  const Route& operator[](std::size_t i) const { return data()[i]; }

 private:
  friend class Rib;
  std::vector<Route>* many() const {
    if (one_.attrs) return nullptr;
    const std::uintptr_t p = std::uintptr_t{one_.peer} | (std::uintptr_t{one_.pathId} << 32);
    return reinterpret_cast<std::vector<Route>*>(p);
  }
  void setMany(std::vector<Route>* m) {
    const auto p = reinterpret_cast<std::uintptr_t>(m);
    one_.peer = static_cast<std::uint32_t>(p);
    one_.pathId = static_cast<std::uint32_t>(p >> 32);
  }
  const Route* data() const {
    const auto* m = many();
    return m ? m->data() : &one_;
  }
  Route* data() {
    auto* m = many();
    return m ? m->data() : &one_;
  }
  // The paths as one vector, e.g. while the decision reorders them; set() puts them back.
  std::vector<Route> take() {
    std::vector<Route> out;
    if (auto* m = many()) {
      out = std::move(*m);
      delete m;
    } else if (one_.attrs) {
      out.push_back(std::move(one_));
    }
    one_ = Route{};
    return out;
  }
  void set(std::vector<Route> paths) {
    delete many();
    one_ = Route{};
    if (paths.size() == 1)
      one_ = std::move(paths.front());
    else if (paths.size() > 1)
      setMany(new std::vector<Route>(std::move(paths)));
  }

  Route one_;
  static_assert(sizeof(std::uintptr_t) == 2 * sizeof(std::uint32_t), "a vector's address fits peer and path id");
};

// One prefix of the Loc-RIB. Every usable candidate is kept, ordered so that paths[0] is the
// best and paths[0, multipathCount) the ECMP set.
class LocRibEntry {
 public:
  LocRibEntry() = default;
  LocRibEntry(const LocRibEntry&) = delete;
  LocRibEntry& operator=(const LocRibEntry&) = delete;

  const Prefix& prefix() const { return prefix_; }
  const Route& bestRoute() const { return paths.front(); }
  std::span<const Route> multipath() const { return {paths.begin(), multipathCount}; }

 private:
  friend class Rib;
  friend class LocRibTable;
  Prefix prefix_;
  bool dirty_ = false;  // queued for the kernel

 public:
  std::uint8_t multipathCount = 0;
  DecisionStep decidedBy = DecisionStep::kOnlyCandidate;
  PathList paths;
};

// A full table holds a million of these.
static_assert(sizeof(LocRibEntry) <= 40);

class LocRibTable {
 public:
  LocRibTable() : index_(0, IndexHash{this}, IndexEqual{this}) {}
  LocRibTable(const LocRibTable&) = delete;
  LocRibTable& operator=(const LocRibTable&) = delete;

  // The live entry (at least one path) of a prefix, or nullptr.
  const LocRibEntry* find(const Prefix& prefix) const {
    const LocRibEntry* e = findAny(prefix);
    return e && !e->paths.empty() ? e : nullptr;
  }
  LocRibEntry* findAny(const Prefix& prefix) {
    auto it = index_.find(prefix);
    return it == index_.end() ? nullptr : &at(*it);
  }
  const LocRibEntry* findAny(const Prefix& prefix) const {
    auto it = index_.find(prefix);
    return it == index_.end() ? nullptr : &at(*it);
  }
  // The entry of a prefix, created empty if there is none.
  LocRibEntry& obtain(const Prefix& prefix) {
    if (auto* e = findAny(prefix)) return *e;
    std::uint32_t i;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      if (next_ % kChunk == 0) chunks_.push_back(std::make_unique<Chunk>());
      i = next_++;
    }
    LocRibEntry& e = at(i);
    e.prefix_ = prefix;
    e.multipathCount = 0;
    e.decidedBy = DecisionStep::kOnlyCandidate;
    index_.insert(i);
    return e;
  }
  // Live prefixes (tombstones are not counted).
  std::size_t size() const { return live_; }
  void addLive(std::ptrdiff_t delta) { live_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(live_) + delta); }

  // Queues an entry for the kernel once.
  void markDirty(LocRibEntry& e) {
    if (e.dirty_) return;
    e.dirty_ = true;
    dirty_.push_back(indexOf(e));
  }
  std::size_t dirtyCount() const { return dirty_.size(); }
  // Up to max changed prefixes, oldest first; tombstones among them are freed.
  std::vector<Prefix> takeDirty(std::size_t max) {
    std::vector<Prefix> out;
    out.reserve(std::min(max, dirtyCount()));
    while (!dirty_.empty() && out.size() < max) {
      LocRibEntry& e = at(dirty_.front());
      dirty_.pop_front();
      e.dirty_ = false;
      out.push_back(e.prefix_);
      if (e.paths.empty()) release(e);
    }
    if (dirty_.empty()) dirty_.shrink_to_fit();  // a full-table burst should not pin its queue
    return out;
  }
  // An entry left without paths: freed now unless the kernel queue still has to see it.
  void releaseIfUnused(LocRibEntry& e) {
    if (e.paths.empty() && !e.dirty_) release(e);
  }

  // Calls f(const LocRibEntry&) for every live entry.
  template <class F>
  void forEach(F&& f) const {
    for (std::uint32_t i : index_) {
      const LocRibEntry& e = at(i);
      if (!e.paths.empty()) f(e);
    }
  }

 private:
  static constexpr std::uint32_t kChunk = 4096;
  using Chunk = std::array<LocRibEntry, kChunk>;

  struct IndexHash {
    using is_transparent = void;
    const LocRibTable* table;
    std::size_t operator()(std::uint32_t i) const { return std::hash<Prefix>{}(table->at(i).prefix_); }
    std::size_t operator()(const Prefix& p) const { return std::hash<Prefix>{}(p); }
  };
  struct IndexEqual {
    using is_transparent = void;
    const LocRibTable* table;
    bool operator()(std::uint32_t a, std::uint32_t b) const { return a == b; }
    bool operator()(std::uint32_t a, const Prefix& b) const { return table->at(a).prefix_ == b; }
    bool operator()(const Prefix& a, std::uint32_t b) const { return a == table->at(b).prefix_; }
  };

  LocRibEntry& at(std::uint32_t i) { return (*chunks_[i / kChunk])[i % kChunk]; }
  const LocRibEntry& at(std::uint32_t i) const { return (*chunks_[i / kChunk])[i % kChunk]; }
  std::uint32_t indexOf(const LocRibEntry& e) const { return *index_.find(e.prefix_); }
  void release(LocRibEntry& e) {
    const std::uint32_t i = indexOf(e);
    index_.erase(i);
    e.prefix_ = Prefix{};
    free_.push_back(i);
  }

  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::uint32_t next_ = 0;
  std::vector<std::uint32_t> free_;
  boost::unordered_flat_set<std::uint32_t, IndexHash, IndexEqual> index_;
  std::size_t live_ = 0;
  // A deque: it grows in small blocks and frees them as it is taken, where a vector would copy
  // itself while doubling during a full-table load.
  std::deque<std::uint32_t> dirty_;
};

}  // namespace tartan::bgp
