// Decoding nf_tables change notifications: a NEWGEN per transaction gives its generation and the
// committing process; the objects of the transaction and everything else are skipped.
#include "tartan/dataplane/iptables/nft_monitor.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <vector>

using namespace tartan::dataplane::iptables;

namespace {

// Appends one netlink message (nfgenmsg header, then attributes) to a datagram.
class Datagram {
 public:
  nlmsghdr* message(std::uint16_t subsystem, std::uint16_t type) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + 1024, 0);
    auto* nlh = mnl_nlmsg_put_header(bytes_.data() + at);
    nlh->nlmsg_type = static_cast<std::uint16_t>((subsystem << 8) | type);
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    last_ = at;
    return nlh;
  }
  // Call after the attributes of the last message are in: trims the spare room.
  void close() {
    auto* nlh = reinterpret_cast<nlmsghdr*>(bytes_.data() + last_);
    bytes_.resize(last_ + MNL_ALIGN(nlh->nlmsg_len));
  }
  const std::vector<char>& bytes() const { return bytes_; }

 private:
  std::vector<char> bytes_;
  std::size_t last_ = 0;
};

void newGeneration(Datagram& d, std::uint32_t id, std::uint32_t pid, const char* name) {
  auto* nlh = d.message(NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWGEN);
  mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(id));
  if (pid != 0) mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(pid));
  if (name != nullptr) mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, name);
  d.close();
}

}  // namespace

TEST_CASE("a NEWGEN gives the generation and the process that committed it", "[nft]") {
  Datagram d;
  newGeneration(d, 42, 4711, "iptables-nft");
  auto changes = decodeNftChanges(d.bytes().data(), d.bytes().size());
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == NftChange::Kind::kGeneration);
  CHECK(changes[0].generation == 42);
  CHECK(changes[0].pid == 4711);
  CHECK(changes[0].process == "iptables-nft");
}

TEST_CASE("a NEWGEN without the process attributes still counts as a change", "[nft]") {
  Datagram d;
  newGeneration(d, 7, 0, nullptr);
  auto changes = decodeNftChanges(d.bytes().data(), d.bytes().size());
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].pid == 0);
  CHECK(changes[0].process.empty());
}

TEST_CASE("the objects of a transaction and other subsystems' messages are skipped", "[nft]") {
  Datagram d;
  auto* rule = d.message(NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWRULE);
  mnl_attr_put_strz(rule, NFTA_RULE_TABLE, "filter");
  mnl_attr_put_strz(rule, NFTA_RULE_CHAIN, "INPUT");
  d.close();
  auto* chain = d.message(NFNL_SUBSYS_NFTABLES, NFT_MSG_DELCHAIN);
  mnl_attr_put_strz(chain, NFTA_CHAIN_NAME, "tartan-x");
  d.close();
  d.message(NFNL_SUBSYS_CTNETLINK, 0);  // conntrack shares the netlink family
  d.close();
  newGeneration(d, 9, 100, "iptables-restor");
  newGeneration(d, 10, 101, "iptables-nft");
  auto changes = decodeNftChanges(d.bytes().data(), d.bytes().size());
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].generation == 9);
  CHECK(changes[1].generation == 10);
  CHECK(changes[1].pid == 101);
}

TEST_CASE("a truncated datagram ends the decode without reading past it", "[nft]") {
  Datagram d;
  newGeneration(d, 1, 2, "a");
  newGeneration(d, 3, 4, "b");
  const auto& bytes = d.bytes();
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    // A copy of exactly `size` bytes, so ASan notices any read beyond.
    std::vector<char> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
    auto changes = decodeNftChanges(cut.data(), cut.size());
    CHECK(changes.size() <= 2);
  }
  // A wrong attribute length is dropped, not trusted.
  std::vector<char> bad = bytes;
  auto* nlh = reinterpret_cast<nlmsghdr*>(bad.data());
  auto* attr = static_cast<nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
  attr->nla_len = 2;
  auto changes = decodeNftChanges(bad.data(), bad.size());
  CHECK(changes.size() == 2);
  CHECK(changes[0].generation == 0);
}
