// members.hpp — IP-set members as 64-bit values, and the flat tables that count them.
//
// Why: the sets of a 250k-endpoint cluster hold hundreds of thousands of members; as strings in
// node-based hash maps they cost ~70 bytes and an allocation each. Almost every member is an
// IPv4 address, or an IPv4 address with a named port's protocol and number, which fit in 64 bits
// with no allocation. Anything else (IPv6, nets) is interned and tagged. The text form is made
// only when a message is sent.
//   bit 63 = 0: bits 0-31 IPv4 address, bit 50 has-port, bits 48-49 protocol, bits 32-47 port
//   bit 63 = 1: bits 0-31 id in the member interner (the whole member text)
#pragma once

#include "labels.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tartan::calc {

using Member = uint64_t;

inline constexpr Member kInternedBit = Member{1} << 63;
inline constexpr Member kPortBit = Member{1} << 50;

// Protocols a named port can carry (CNI and Kubernetes allow these three).
inline int protocolCode(std::string_view protocol) {
  if (protocol == "tcp") return 1;
  if (protocol == "udp") return 2;
  if (protocol == "sctp") return 3;
  return 0;
}
inline const char* protocolName(int code) {
  static const char* kNames[] = {"", "tcp", "udp", "sctp"};
  return kNames[code & 3];
}

inline Member encodeMember(std::string_view text, Interner& interner) {
  if (text.size() < INET_ADDRSTRLEN && text.find_first_not_of("0123456789.") == std::string_view::npos) {
    char buf[INET_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    in_addr addr{};
    if (inet_pton(AF_INET, buf, &addr) == 1) return ntohl(addr.s_addr);
  }
  return kInternedBit | interner.intern(text);
}

// The member "<ip>,<protocol>:<port>" for an address member.
inline Member withPort(Member address, int protocol, uint16_t port, Interner& interner) {
  if ((address & kInternedBit) == 0) {
    return address | kPortBit | (Member(protocol & 3) << 48) | (Member(port) << 32);
  }
  std::string text(interner.text(static_cast<StrId>(address)));
  text += ',';
  text += protocolName(protocol);
  text += ':';
  text += std::to_string(port);
  return kInternedBit | interner.intern(text);
}

inline bool isNet(Member m, const Interner& interner) {
  return (m & kInternedBit) != 0 && interner.text(static_cast<StrId>(m)).find('/') != std::string_view::npos;
}

// Decimal digits of n (< 100000) appended to p; returns the new end. (inet_ntop and
// to_string go through printf machinery, which showed in the first flush's profile.)
inline char* appendDecimal(char* p, uint32_t n) {
  char digits[5];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (count > 0) *p++ = digits[--count];
  return p;
}

inline std::string memberText(Member m, const Interner& interner) {
  if (m & kInternedBit) return std::string(interner.text(static_cast<StrId>(m)));
  char buf[40];
  char* p = buf;
  const auto address = static_cast<uint32_t>(m);
  for (int shift = 24; shift >= 0; shift -= 8) {
    p = appendDecimal(p, (address >> shift) & 255);
    if (shift != 0) *p++ = '.';
  }
  if (m & kPortBit) {
    *p++ = ',';
    const char* name = protocolName(static_cast<int>((m >> 48) & 3));
    while (*name != '\0') *p++ = *name++;
    *p++ = ':';
    p = appendDecimal(p, static_cast<uint32_t>((m >> 32) & 0xffff));
  }
  return std::string(buf, p);
}

// An open-addressing map from Member to a count: linear probing, backward-shift deletion, at
// most 80% full (the hash is a good mixer, so probe runs stay short). 9 bytes a slot in two
// parallel arrays and no allocation per entry: an 8-bit count, with the part of a count above
// 254 in a side map (a member contributed by 255 items is rare: an address is one pod's).
// The capacity is not a power of two (the slot is chosen by multiply-shift), so reserve() can
// size a set for the members it is about to receive and growth is by half, not double.
class MemberCounts {
 public:
  // Returns the count after adding one.
  uint32_t increment(Member key) {
    reserveOne();
    const std::size_t i = find(key);
    if (keys_[i] == kEmpty) {
      keys_[i] = key;
      counts_[i] = 1;
      ++size_;
      return 1;
    }
    if (counts_[i] < kSaturated) return ++counts_[i];
    return kSaturated + ++overflow_[key];
  }
  // Returns the count after removing one (0: the member is gone). Absent keys return 0.
  uint32_t decrement(Member key) {
    if (keys_.empty()) return 0;
    const std::size_t i = find(key);
    if (keys_[i] == kEmpty) return 0;
    if (counts_[i] == kSaturated) {
      if (auto it = overflow_.find(key); it != overflow_.end()) {
        const uint32_t rest = --it->second;
        if (rest == 0) overflow_.erase(it);
        return kSaturated + rest;
      }
    }
    if (--counts_[i] != 0) return counts_[i];
    eraseSlot(i);
    return 0;
  }
  bool insert(Member key) {  // set semantics; true if new
    reserveOne();
    const std::size_t i = find(key);
    if (keys_[i] != kEmpty) return false;
    keys_[i] = key;
    counts_[i] = 1;
    ++size_;
    return true;
  }
  bool erase(Member key) {
    if (keys_.empty()) return false;
    const std::size_t i = find(key);
    if (keys_[i] == kEmpty) return false;
    overflow_.erase(key);
    eraseSlot(i);
    return true;
  }
  // Makes room for `members` members in all, so that adding them never rehashes.
  void reserve(std::size_t members) {
    if (members * 5 > keys_.size() * 4) rehash(members * 5 / 4 + 1);
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    keys_ = {};
    counts_ = {};
    overflow_ = {};
    size_ = 0;
  }
  template <class F>
  void forEach(F&& f) const {
    for (Member k : keys_) {
      if (k != kEmpty) f(k);
    }
  }

 private:
  static constexpr Member kEmpty = ~Member{0};  // never a valid encoding
  static constexpr uint8_t kSaturated = 255;
  __extension__ using Wide = unsigned __int128;

  std::size_t slotOf(Member key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    key ^= key >> 33;
    return static_cast<std::size_t>((static_cast<Wide>(key) * keys_.size()) >> 64);
  }
  std::size_t next(std::size_t i) const { return i + 1 == keys_.size() ? 0 : i + 1; }
  void reserveOne() {
    if ((size_ + 1) * 5 > keys_.size() * 4) rehash(std::max<std::size_t>(8, keys_.size() * 3 / 2));
  }
  std::size_t find(Member key) const {
    std::size_t i = slotOf(key);
    while (keys_[i] != kEmpty && keys_[i] != key) i = next(i);
    return i;
  }
  void eraseSlot(std::size_t i) {
    std::size_t j = i;
    for (;;) {
      j = next(j);
      if (keys_[j] == kEmpty) break;
      const std::size_t home = slotOf(keys_[j]);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      const bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        keys_[i] = keys_[j];
        counts_[i] = counts_[j];
        i = j;
      }
    }
    keys_[i] = kEmpty;
    counts_[i] = 0;
    --size_;
  }
  void rehash(std::size_t capacity) {
    std::vector<Member> oldKeys = std::move(keys_);
    std::vector<uint8_t> oldCounts = std::move(counts_);
    keys_.assign(capacity, kEmpty);
    counts_.assign(capacity, 0);
    for (std::size_t s = 0; s < oldKeys.size(); ++s) {
      if (oldKeys[s] == kEmpty) continue;
      const std::size_t i = find(oldKeys[s]);
      keys_[i] = oldKeys[s];
      counts_[i] = oldCounts[s];
    }
  }

  std::vector<Member> keys_;
  std::vector<uint8_t> counts_;
  std::unordered_map<Member, uint32_t> overflow_;  // count - 255, for saturated members
  std::size_t size_ = 0;
};

// The members one item contributes, in one word (there is one per endpoint in the cluster):
// nearly always a single address, held inline. With more than one, the word holds a pointer to
// a heap array of the count then the members, tagged 01 in its top two bits, which no member
// encoding uses (an address member has bit 63 clear and bit 62 clear, an interned one bit 63 set
// and bit 62 clear) and no user-space pointer needs. All ones is the empty list.
class MemberList {
 public:
  MemberList() = default;
  MemberList(const MemberList& o) { *this = o; }
  MemberList& operator=(const MemberList& o) {
    if (this == &o) return *this;
    clear();
    for (Member m : o) push_back(m);
    return *this;
  }
  MemberList(MemberList&& o) noexcept : word_(o.word_) { o.word_ = kEmpty; }
  MemberList& operator=(MemberList&& o) noexcept {
    if (this != &o) {
      clear();
      word_ = o.word_;
      o.word_ = kEmpty;
    }
    return *this;
  }
  ~MemberList() { clear(); }

  void push_back(Member m) {
    const uint32_t n = size();
    if (n == 0) {
      word_ = m;
      return;
    }
    auto* bigger = new Member[n + 2];
    bigger[0] = n + 1;
    std::copy(begin(), end(), bigger + 1);
    bigger[n + 1] = m;
    clear();
    word_ = reinterpret_cast<uintptr_t>(bigger) | kHeapTag;
  }
  uint32_t size() const {
    if (isHeap()) return static_cast<uint32_t>(heap()[0]);
    return word_ == kEmpty ? 0 : 1;
  }
  const Member* begin() const { return isHeap() ? heap() + 1 : &word_; }
  const Member* end() const { return begin() + size(); }
  bool operator==(const MemberList& o) const {
    return size() == o.size() && std::equal(begin(), end(), o.begin());
  }

 private:
  static constexpr Member kEmpty = ~Member{0};
  static constexpr Member kTagMask = Member{3} << 62;
  static constexpr Member kHeapTag = Member{1} << 62;
  bool isHeap() const { return (word_ & kTagMask) == kHeapTag; }
  Member* heap() const { return reinterpret_cast<Member*>(static_cast<uintptr_t>(word_ & ~kTagMask)); }
  void clear() {
    if (isHeap()) delete[] heap();
    word_ = kEmpty;
  }
  Member word_ = kEmpty;
};
static_assert(sizeof(MemberList) == 8);

}  // namespace tartan::calc
