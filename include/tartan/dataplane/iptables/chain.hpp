// tartan/dataplane/iptables/chain.hpp — the values the iptables dataplane renders and compares.
//
// A Chain is an ordered list of rules in one table of one IP family. Every rule carries a comment
// "tartan:<hash>", where the hash covers the chain name, the previous rule's hash and this rule's
// text (Felix's scheme): a rule that changes or moves changes its hash and every hash after it,
// so comparing a chain read back from the kernel with the desired one needs only the hashes.
// Names: every chain and IP set we own starts with "tartan"; nothing else is ever touched.
// Pure values, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::dataplane::iptables {

inline constexpr std::string_view kChainPrefix = "tartan-";
inline constexpr std::string_view kHashCommentPrefix = "tartan:";
inline constexpr std::size_t kMaxChainNameLength = 28;  // iptables' limit (XT_EXTENSION_MAXNAMELEN - 1)
inline constexpr std::size_t kMaxIpSetNameLength = 31;  // IPSET_MAXNAMELEN - 1

// Mark bits, as Felix uses them: a policy that allows sets kMarkAccept and returns; a Pass sets
// kMarkPass and returns, so the rest of its tier is skipped.
inline constexpr std::uint32_t kMarkAccept = 0x10000;
inline constexpr std::uint32_t kMarkPass = 0x20000;
// Scratch bit for a rule iptables cannot say in one line: a -s/-d match with exceptions
// ("-s NET ! -s EXCEPT" is refused: one address match per direction per rule). The rule sets the
// bit on its positive matches, each exception clears it, and the action matches on the bit. Every
// such rule clears the bit first, so no value leaks from one rule to the next.
inline constexpr std::uint32_t kMarkScratch = 0x40000;

enum class IpFamily { kV4, kV6 };

struct Rule {
  std::string match;   // "-p tcp -m multiport --dports 80" (may be empty)
  std::string action;  // "-j DROP"
  bool operator==(const Rule&) const = default;
};

struct Chain {
  std::string name;
  std::vector<Rule> rules;
  bool operator==(const Chain&) const = default;
};

// The hash of every rule of the chain, in order (16 characters of base32 of SHA-256 each).
std::vector<std::string> ruleHashes(const Chain& chain);

// The text of one rule as written to iptables-restore after "-A <chain> ".
std::string ruleText(const Rule& rule, std::string_view hash);

// A short stable hash of `text`: `length` characters from [a-z2-7].
std::string shortHash(std::string_view text, std::size_t length);

// ---- Names. All fit kMaxChainNameLength / kMaxIpSetNameLength.
namespace names {
inline constexpr std::string_view kFilterInput = "tartan-INPUT";
inline constexpr std::string_view kFilterForward = "tartan-FORWARD";
inline constexpr std::string_view kFilterOutput = "tartan-OUTPUT";
inline constexpr std::string_view kPrerouting = "tartan-PREROUTING";  // raw and mangle
inline constexpr std::string_view kRawOutput = "tartan-OUTPUT";
inline constexpr std::string_view kFromWorkloadDispatch = "tartan-from-wl-dispatch";
inline constexpr std::string_view kToWorkloadDispatch = "tartan-to-wl-dispatch";
inline constexpr std::string_view kWorkloadToHost = "tartan-wl-to-host";
inline constexpr std::string_view kCidrBlock = "tartan-cidr-block";  // serviceLoopPrevention
inline constexpr std::string_view kFromHostDispatch = "tartan-from-host-endpoint";
inline constexpr std::string_view kToHostDispatch = "tartan-to-host-endpoint";
inline constexpr std::string_view kFromHostForwardDispatch = "tartan-from-hep-forward";
inline constexpr std::string_view kToHostForwardDispatch = "tartan-to-hep-forward";
inline constexpr std::string_view kFailsafeIn = "tartan-failsafe-in";
inline constexpr std::string_view kFailsafeOut = "tartan-failsafe-out";
// Outgoing NAT, in the nat table: POSTROUTING -> tartan-POSTROUTING -> tartan-nat-outgoing.
inline constexpr std::string_view kNatPostrouting = "tartan-POSTROUTING";
inline constexpr std::string_view kNatOutgoing = "tartan-nat-outgoing";
// The two IP sets of outgoing NAT (Felix's all-ipam-pools and masq-ipam-pools): ids the driver
// keeps for itself, named in the clear ("tartan-all-ipam-pools", "tartan6-masq-ipam-pools")
// rather than by hash. An IPSetUpdate naming one of these ids is refused.
inline constexpr std::string_view kAllIpamPoolsSet = "all-ipam-pools";
inline constexpr std::string_view kMasqIpamPoolsSet = "masq-ipam-pools";
bool isDriverSetId(std::string_view id);
// The suffix of host-endpoint chains for the "*" (every interface) host endpoint.
inline constexpr std::string_view kAnyInterface = "any-interface";

std::string policyChain(bool inbound, std::string_view tier, std::string_view name);  // tartan-pi-/po-
std::string profileChain(bool inbound, std::string_view profile);                     // tartan-pri-/pro-
std::string toWorkloadChain(std::string_view ifname);                                 // tartan-tw-
// Children of the two-level workload dispatch, for interfaces starting with `key` ("tart3").
std::string fromWorkloadDispatchChild(std::string_view key);  // tartan-from-wl-
std::string toWorkloadDispatchChild(std::string_view key);    // tartan-to-wl-
std::string fromWorkloadChain(std::string_view ifname);       // tartan-fw-
std::string toHostChain(std::string_view ifname);             // tartan-th-
std::string fromHostChain(std::string_view ifname);           // tartan-fh-
std::string toHostForwardChain(std::string_view ifname);      // tartan-thfw-
std::string fromHostForwardChain(std::string_view ifname);    // tartan-fhfw-
// "tartan-<hash>" for IPv4, "tartan6-<hash>" for IPv6 (the driver's own sets: "tartan-<id>",
// "tartan6-<id>"); temporary names for rebuild-and-swap
// are "tartan-t<hash>" / "tartan6t<hash>" (a length or a character apart, never equal).
// The set's type is part of the hash: the kernel cannot swap sets of different types, so a set
// whose type changes becomes a new set, and the rules move to it in their restore transaction.
std::string ipSet(IpFamily family, std::string_view id, bool namedPort = false);
std::string ipSetTemporary(IpFamily family, std::string_view id, bool namedPort = false);
bool isOurs(std::string_view chainOrSetName);
}  // namespace names

}  // namespace tartan::dataplane::iptables
