// bgp/rib/loc_rib_table.hpp — the Loc-RIB's storage: one compact entry per prefix.
//
// Why not a hash map of prefix → entry: an open-addressing map keeps its slots at most 7/8 full
// and doubles, so at a million prefixes it holds two million slots of key and value (and three
// million while it rehashes) — most of a full table's memory. Here the entries live in fixed
// chunks addressed by a 32-bit index (never moved, so no rehash copies them), and the hash index
// holds only those 4-byte indices, found by the prefix stored in the entry (heterogeneous lookup).
// An IPv4 entry holds its prefix as address and length: a full table costs 24 bytes an entry plus
// about 10 bytes of index per prefix. IPv6 entries carry the whole prefix (44 bytes).
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
#include <type_traits>
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
  static_assert(sizeof(std::uintptr_t) == 2 * sizeof(std::uint32_t),
                "a vector's address fits peer and path id");
};

// One prefix of the Loc-RIB. Every usable candidate is kept, ordered so that paths()[0] is the
// best and paths()[0, multipathCount()) the ECMP set.
// 24 bytes: an IPv4 prefix is held as its address and length; an IPv6 entry is the first member of
// a LocRibTable::V6Entry that holds the full prefix right after it.
class LocRibEntry {
 public:
  LocRibEntry() = default;
  LocRibEntry(const LocRibEntry&) = delete;
  LocRibEntry& operator=(const LocRibEntry&) = delete;

  Prefix prefix() const;
  const Route& bestRoute() const { return paths_.front(); }
  std::span<const Route> multipath() const { return {paths_.begin(), multipathCount_}; }
  const PathList& paths() const { return paths_; }
  std::uint8_t multipathCount() const { return multipathCount_; }
  DecisionStep decidedBy() const { return decidedBy_; }

 private:
  friend class Rib;
  friend class LocRibTable;
  static constexpr std::uint8_t kV6 = 1;     // the prefix is in the enclosing V6Entry
  static constexpr std::uint8_t kDirty = 2;  // queued for the kernel
  bool v6() const { return flags_ & kV6; }
  bool dirty() const { return flags_ & kDirty; }
  // Whether this entry's prefix is p, without building a Prefix for IPv4.
  bool holds(const Prefix& p) const;

  std::uint32_t v4_ = 0;  // IPv4: the address, host order
  std::uint8_t length_ = 0;
  std::uint8_t flags_ = 0;
  std::uint8_t multipathCount_ = 0;
  DecisionStep decidedBy_ = DecisionStep::kOnlyCandidate;
  PathList paths_;
};

// A full table holds a million of these.
static_assert(sizeof(LocRibEntry) == 24);

class LocRibTable {
 public:
  LocRibTable() : index_(0, IndexHash{this}, IndexEqual{this}) {}
  LocRibTable(const LocRibTable&) = delete;
  LocRibTable& operator=(const LocRibTable&) = delete;

  // The live entry (at least one path) of a prefix, or nullptr.
  const LocRibEntry* find(const Prefix& prefix) const {
    const LocRibEntry* e = findAny(prefix);
    return e && !e->paths_.empty() ? e : nullptr;
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
    const bool v6 = prefix.family() != Afi::kIpv4;
    const std::uint32_t i = v6 ? v6_.allocate() | kV6Index : v4_.allocate();
    LocRibEntry& e = at(i);
    e.length_ = prefix.length();
    e.multipathCount_ = 0;
    e.decidedBy_ = DecisionStep::kOnlyCandidate;
    if (v6) {
      e.flags_ = LocRibEntry::kV6;
      v6_.at(i & ~kV6Index).prefix = prefix;
    } else {
      e.flags_ = 0;
      e.v4_ = prefix.address().v4HostOrder();
    }
    index_.insert(i);
    return e;
  }
  // Live prefixes (tombstones are not counted).
  std::size_t size() const { return live_; }
  void addLive(std::ptrdiff_t delta) {
    live_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(live_) + delta);
  }

  // Queues an entry for the kernel once.
  void markDirty(LocRibEntry& e) {
    if (e.dirty()) return;
    e.flags_ |= LocRibEntry::kDirty;
    dirty_.push_back(indexOf(e));
  }
  std::size_t dirtyCount() const { return dirty_.size(); }
  // Up to max changed prefixes, oldest first; tombstones among them are freed.
  std::vector<Prefix> takeDirty(std::size_t max) {
    std::vector<Prefix> out;
    out.reserve(std::min(max, dirtyCount()));
    while (!dirty_.empty() && out.size() < max) {
      const std::uint32_t i = dirty_.front();
      LocRibEntry& e = at(i);
      dirty_.pop_front();
      e.flags_ &= static_cast<std::uint8_t>(~LocRibEntry::kDirty);
      out.push_back(e.prefix());
      if (e.paths_.empty()) release(i);
    }
    if (dirty_.empty()) dirty_.shrink_to_fit();  // a full-table burst should not pin its queue
    return out;
  }
  // An entry left without paths: freed now unless the kernel queue still has to see it.
  void releaseIfUnused(LocRibEntry& e) {
    if (e.paths_.empty() && !e.dirty()) release(indexOf(e));
  }

  // Calls f(const LocRibEntry&) for every live entry.
  template <class F>
  void forEach(F&& f) const {
    for (std::uint32_t i : index_) {
      const LocRibEntry& e = at(i);
      if (!e.paths_.empty()) f(e);
    }
  }

 private:
  friend class LocRibEntry;
  struct V6Entry {
    LocRibEntry entry;  // first: LocRibEntry::prefix() finds the prefix from the entry's address
    Prefix prefix;
  };
  static_assert(std::is_standard_layout_v<V6Entry>);

  // Entries of one kind in fixed chunks, never moved, addressed by a dense index; freed slots are
  // reused.
  template <class T>
  class Slab {
   public:
    std::uint32_t allocate() {
      if (!free_.empty()) {
        const std::uint32_t i = free_.back();
        free_.pop_back();
        return i;
      }
      if (next_ % kChunk == 0) chunks_.push_back(std::make_unique<Chunk>());
      return next_++;
    }
    void release(std::uint32_t i) { free_.push_back(i); }
    T& at(std::uint32_t i) { return (*chunks_[i / kChunk])[i % kChunk]; }
    const T& at(std::uint32_t i) const { return (*chunks_[i / kChunk])[i % kChunk]; }

   private:
    static constexpr std::uint32_t kChunk = 4096;
    using Chunk = std::array<T, kChunk>;
    std::vector<std::unique_ptr<Chunk>> chunks_;
    std::uint32_t next_ = 0;
    std::vector<std::uint32_t> free_;
  };
  static constexpr std::uint32_t kV6Index = 1u << 31;  // set in an index of the IPv6 slab

  struct IndexHash {
    using is_transparent = void;
    const LocRibTable* table;
    std::size_t operator()(std::uint32_t i) const { return std::hash<Prefix>{}(table->at(i).prefix()); }
    std::size_t operator()(const Prefix& p) const { return std::hash<Prefix>{}(p); }
  };
  struct IndexEqual {
    using is_transparent = void;
    const LocRibTable* table;
    bool operator()(std::uint32_t a, std::uint32_t b) const { return a == b; }
    bool operator()(std::uint32_t a, const Prefix& b) const { return table->at(a).holds(b); }
    bool operator()(const Prefix& a, std::uint32_t b) const { return table->at(b).holds(a); }
  };

  LocRibEntry& at(std::uint32_t i) { return i & kV6Index ? v6_.at(i & ~kV6Index).entry : v4_.at(i); }
  const LocRibEntry& at(std::uint32_t i) const {
    return i & kV6Index ? v6_.at(i & ~kV6Index).entry : v4_.at(i);
  }
  std::uint32_t indexOf(const LocRibEntry& e) const { return *index_.find(e.prefix()); }
  void release(std::uint32_t i) {
    index_.erase(i);
    if (i & kV6Index) {
      v6_.at(i & ~kV6Index).prefix = Prefix{};
      v6_.release(i & ~kV6Index);
    } else {
      v4_.release(i);
    }
  }

  Slab<LocRibEntry> v4_;
  Slab<V6Entry> v6_;
  boost::unordered_flat_set<std::uint32_t, IndexHash, IndexEqual> index_;
  std::size_t live_ = 0;
  // A deque: it grows in small blocks and frees them as it is taken, where a vector would copy
  // itself while doubling during a full-table load.
  std::deque<std::uint32_t> dirty_;
};

inline Prefix LocRibEntry::prefix() const {
  if (v6()) return reinterpret_cast<const LocRibTable::V6Entry*>(this)->prefix;
  return Prefix(Address::v4(v4_), length_);
}

inline bool LocRibEntry::holds(const Prefix& p) const {
  if (v6()) return reinterpret_cast<const LocRibTable::V6Entry*>(this)->prefix == p;
  return p.family() == Afi::kIpv4 && p.length() == length_ && p.address().v4HostOrder() == v4_;
}

}  // namespace tartan::bgp
