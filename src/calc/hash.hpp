// src/calc/hash.hpp — the calculation graph's one string hash, for the ids it gives IP sets and
// policies. The ids name kernel objects, so the hash must never change: its offset basis is the
// graph's own (FNV-1a's prime with a shorter basis), and a different value would rename every set
// and chain on upgrade.
#pragma once

#include <cstdint>
#include <string_view>

namespace tartan::calc {

inline constexpr uint64_t kHashBasis = 1469598103934665603ull;
inline constexpr uint64_t kHashPrime = 1099511628211ull;

// FNV-1a over `text`, continuing from `h`.
inline uint64_t fnv1a(std::string_view text, uint64_t h = kHashBasis) {
  for (unsigned char c : text) {
    h ^= c;
    h *= kHashPrime;
  }
  return h;
}

}  // namespace tartan::calc
