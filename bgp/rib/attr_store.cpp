#include "rib/attr_store.hpp"

#include <cassert>

namespace tartan::bgp {

void Attrs::release() {
  if (node_ && --node_->refs == 0) node_->store->erase(node_);
  node_ = nullptr;
}

AttrStore::~AttrStore() {
  // Handles outliving the store would dangle: that is a bug of ours.
  assert(nodes_.empty() && "AttrStore destroyed while attribute handles are alive");
  for (auto& [hash, node] : nodes_) delete node;
}

Attrs AttrStore::intern(const PathAttributes& attrs) {
  const std::size_t hash = hashPathAttributes(attrs);
  auto [begin, end] = nodes_.equal_range(hash);
  for (auto it = begin; it != end; ++it)
    if (it->second->attrs == attrs) return Attrs(it->second);
  auto* node = new Attrs::Node{attrs, hash, 0, this};
  nodes_.emplace(hash, node);
  return Attrs(node);
}

void AttrStore::erase(Attrs::Node* node) {
  auto [begin, end] = nodes_.equal_range(node->hash);
  for (auto it = begin; it != end; ++it) {
    if (it->second == node) {
      nodes_.erase(it);
      break;
    }
  }
  delete node;
}

}  // namespace tartan::bgp
