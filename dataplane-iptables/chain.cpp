// Rule hashing and naming; see tartan/dataplane/iptables/chain.hpp.
#include "tartan/dataplane/iptables/chain.hpp"

#include <openssl/sha.h>

#include <cassert>

namespace tartan::dataplane::iptables {

std::string shortHash(std::string_view text, std::size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  assert(length * 5 <= SHA256_DIGEST_LENGTH * 8);
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    const std::size_t bit = i * 5;
    const unsigned word = (static_cast<unsigned>(digest[bit / 8]) << 8) |
                          (bit / 8 + 1 < SHA256_DIGEST_LENGTH ? digest[bit / 8 + 1] : 0u);
    out.push_back(kAlphabet[(word >> (11 - bit % 8)) & 0x1f]);
  }
  return out;
}

std::vector<std::string> ruleHashes(const Chain& chain) {
  std::vector<std::string> hashes;
  hashes.reserve(chain.rules.size());
  std::string previous = chain.name;
  for (const Rule& rule : chain.rules) {
    std::string input = previous;
    input += '\n';
    input += rule.match;
    input += '\n';
    input += rule.action;
    hashes.push_back(shortHash(input, 16));
    previous = hashes.back();
  }
  return hashes;
}

std::string ruleText(const Rule& rule, std::string_view hash) {
  std::string out = "-m comment --comment \"";
  out += kHashCommentPrefix;
  out += hash;
  out += '"';
  if (!rule.match.empty()) {
    out += ' ';
    out += rule.match;
  }
  out += ' ';
  out += rule.action;
  return out;
}

namespace names {
namespace {
std::string withSuffix(std::string_view prefix, std::string_view suffix) {
  std::string name(prefix);
  name += suffix;
  // Interface names are at most 15 characters (IFNAMSIZ - 1), so the longest prefix
  // ("tartan-thfw-", 12) still fits; anything longer is hashed rather than truncated.
  if (name.size() > kMaxChainNameLength)
    name = std::string(prefix) + shortHash(suffix, kMaxChainNameLength - prefix.size());
  return name;
}
std::string ifaceSuffix(std::string_view ifname) {
  return ifname == "*" ? std::string(kAnyInterface) : std::string(ifname);
}
}  // namespace

std::string policyChain(bool inbound, std::string_view tier, std::string_view name) {
  std::string key(tier);
  key += '/';
  key += name;
  return std::string(inbound ? "tartan-pi-" : "tartan-po-") + shortHash(key, 18);
}
std::string profileChain(bool inbound, std::string_view profile) {
  return std::string(inbound ? "tartan-pri-" : "tartan-pro-") + shortHash(profile, 17);
}
std::string toWorkloadChain(std::string_view ifname) { return withSuffix("tartan-tw-", ifname); }
std::string fromWorkloadChain(std::string_view ifname) { return withSuffix("tartan-fw-", ifname); }
std::string fromWorkloadDispatchChild(std::string_view key) { return withSuffix("tartan-from-wl-", key); }
std::string toWorkloadDispatchChild(std::string_view key) { return withSuffix("tartan-to-wl-", key); }
std::string toHostChain(std::string_view ifname) { return withSuffix("tartan-th-", ifaceSuffix(ifname)); }
std::string fromHostChain(std::string_view ifname) { return withSuffix("tartan-fh-", ifaceSuffix(ifname)); }
std::string toHostForwardChain(std::string_view ifname) {
  return withSuffix("tartan-thfw-", ifaceSuffix(ifname));
}
std::string fromHostForwardChain(std::string_view ifname) {
  return withSuffix("tartan-fhfw-", ifaceSuffix(ifname));
}
namespace {
std::string setKey(std::string_view id, bool namedPort) {
  std::string key(id);
  if (namedPort) key += "\nhash:ip,port";
  return key;
}
}  // namespace
bool isDriverSetId(std::string_view id) { return id == kAllIpamPoolsSet || id == kMasqIpamPoolsSet; }
std::string ipSet(IpFamily family, std::string_view id, bool namedPort) {
  // A hash never holds '-', so the clear names cannot meet a hashed one.
  const std::string prefix = family == IpFamily::kV4 ? "tartan-" : "tartan6-";
  if (!namedPort && isDriverSetId(id)) return prefix + std::string(id);
  return prefix + shortHash(setKey(id, namedPort), 20);
}
std::string ipSetTemporary(IpFamily family, std::string_view id, bool namedPort) {
  return std::string(family == IpFamily::kV4 ? "tartan-t" : "tartan6t") +
         shortHash(setKey(id, namedPort), 20);
}
bool isOurs(std::string_view name) { return name.starts_with("tartan-") || name.starts_with("tartan6"); }
}  // namespace names

}  // namespace tartan::dataplane::iptables
