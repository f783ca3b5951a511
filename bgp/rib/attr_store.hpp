// bgp/rib/attr_store.hpp — interned path attribute sets.
//
// Why: a full table has a million prefixes but only thousands of distinct attribute sets. Every
// route holds an Attrs handle (one pointer); equal sets are stored once and shared, and equality
// of handles is pointer equality, which is what update packing groups by.
// Owns: the attribute sets, each freed when its last handle goes.
// Threading: not thread-safe; one store per RIB, used from the RIB's strand.
// Lifetime: the store must outlive every handle it gave out (the Rib declares it first).
#pragma once

#include "codec/attributes.hpp"

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace tartan::bgp {

class AttrStore;

class Attrs {
 public:
  Attrs() = default;
  Attrs(const Attrs& other) : node_(other.node_) { retain(); }
  Attrs(Attrs&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
  Attrs& operator=(const Attrs& other) {
    if (node_ != other.node_) {
      release();
      node_ = other.node_;
      retain();
    }
    return *this;
  }
  Attrs& operator=(Attrs&& other) noexcept {
    if (this != &other) {
      release();
      node_ = other.node_;
      other.node_ = nullptr;
    }
    return *this;
  }
  ~Attrs() { release(); }

  explicit operator bool() const { return node_ != nullptr; }
  const PathAttributes& operator*() const { return node_->attrs; }
  const PathAttributes* operator->() const { return &node_->attrs; }
  std::uint32_t useCount() const { return node_ ? node_->refs : 0; }
  // Interned: equal sets are the same node.
  bool operator==(const Attrs& other) const { return node_ == other.node_; }
  std::size_t hash() const { return node_ ? node_->hash : 0; }

 private:
  friend class AttrStore;
  struct Node {
    PathAttributes attrs;
    std::size_t hash;
    std::uint32_t refs;
    AttrStore* store;
  };
  explicit Attrs(Node* node) : node_(node) { retain(); }
  void retain() {
    if (node_) ++node_->refs;
  }
  void release();

  Node* node_ = nullptr;
};

class AttrStore {
 public:
  AttrStore() = default;
  AttrStore(const AttrStore&) = delete;
  AttrStore& operator=(const AttrStore&) = delete;
  ~AttrStore();

  Attrs intern(const PathAttributes& attrs);  // copies only a set not yet stored
  // Number of distinct sets alive.
  std::size_t size() const { return nodes_.size(); }

 private:
  friend class Attrs;
  void erase(Attrs::Node* node);

  std::unordered_multimap<std::size_t, Attrs::Node*> nodes_;
};

}  // namespace tartan::bgp

template <>
struct std::hash<tartan::bgp::Attrs> {
  std::size_t operator()(const tartan::bgp::Attrs& a) const noexcept { return a.hash(); }
};
