// The ctnetlink codec, byte for byte, and which flows an address release takes: pure, no kernel.
#include <tartan/netlink/conntrack.hpp>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>

#include <cstring>

using namespace tartan::netlink;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// A tuple's nested attributes: addresses, then TCP and ports.
void putTuple(nlmsghdr* header, uint16_t type, const IpAddress& src, const IpAddress& dst, uint16_t sport,
              uint16_t dport) {
  nlattr* tuple = mnl_attr_nest_start(header, type);
  nlattr* addresses = mnl_attr_nest_start(header, CTA_TUPLE_IP);
  const bool v4 = src.family == Family::V4;
  mnl_attr_put(header, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, src.size(), src.bytes.data());
  mnl_attr_put(header, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, dst.size(), dst.bytes.data());
  mnl_attr_nest_end(header, addresses);
  nlattr* proto = mnl_attr_nest_start(header, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(header, CTA_PROTO_NUM, IPPROTO_TCP);
  mnl_attr_put_u16(header, CTA_PROTO_SRC_PORT, htons(sport));
  mnl_attr_put_u16(header, CTA_PROTO_DST_PORT, htons(dport));
  mnl_attr_nest_end(header, proto);
  mnl_attr_nest_end(header, tuple);
}

// An IPCTNL_MSG_CT_NEW as a dump carries it: a TCP flow, replied to by `replySrc` (DNAT when it
// is not the original destination).
std::vector<uint8_t> flowMessage(const char* src, const char* dst, const char* replySrc, uint16_t zone = 0) {
  std::vector<uint8_t> bytes(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* header = mnl_nlmsg_put_header(bytes.data());
  header->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
  auto* nf = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
  nf->nfgen_family = ip(src).family == Family::V4 ? AF_INET : AF_INET6;
  putTuple(header, CTA_TUPLE_ORIG, ip(src), ip(dst), 40000, 80);
  putTuple(header, CTA_TUPLE_REPLY, ip(replySrc), ip(src), 80, 40000);
  if (zone != 0) mnl_attr_put_u16(header, CTA_ZONE, htons(zone));
  mnl_attr_put_u32(header, CTA_MARK, htonl(0x10000));
  bytes.resize(header->nlmsg_len);
  return bytes;
}

}  // namespace

TEST_CASE("a dumped flow decodes to both tuples, its zone and its original tuple's bytes", "[conntrack]") {
  const auto message = flowMessage("10.65.0.2", "10.96.0.10", "10.65.0.3", 7);
  auto flow = decodeConntrackFlow(message);
  REQUIRE(flow.has_value());
  REQUIRE(flow->has_value());
  const ConntrackFlow& f = **flow;
  CHECK(f.family == Family::V4);
  CHECK(f.originalSource == ip("10.65.0.2"));
  CHECK(f.originalDestination == ip("10.96.0.10"));
  CHECK(f.replySource == ip("10.65.0.3"));
  CHECK(f.replyDestination == ip("10.65.0.2"));
  CHECK(f.zone == 7);
  // The original tuple, as sent: two nests (addresses 2 x 8 + 4, protocol 8 + 2 x 8 + 4).
  CHECK(f.originalTuple.size() == 20 + 28);

  auto v6 = decodeConntrackFlow(flowMessage("fd00::2", "fd00::3", "fd00::3"));
  REQUIRE(v6.has_value());
  REQUIRE(v6->has_value());
  CHECK((*v6)->family == Family::V6);
  CHECK((*v6)->originalDestination == ip("fd00::3"));
}

TEST_CASE("a delete names the flow by its original tuple, and its zone only when it has one", "[conntrack]") {
  for (uint16_t zone : {0, 7}) {
    INFO("zone " << zone);
    const auto flow = **decodeConntrackFlow(flowMessage("10.65.0.2", "10.65.0.3", "10.65.0.3", zone));
    const auto bytes = encodeConntrackDelete(flow, 42);
    const auto* header = reinterpret_cast<const nlmsghdr*>(bytes.data());
    CHECK(header->nlmsg_len == bytes.size());
    CHECK(header->nlmsg_type == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE));
    CHECK(header->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
    CHECK(header->nlmsg_seq == 42);
    CHECK(static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(header))->nfgen_family == AF_INET);
    std::vector<int> types;
    const char* end = reinterpret_cast<const char*>(bytes.data()) + bytes.size();
    for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(header, sizeof(nfgenmsg)));
         mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const char*>(attr)));
         attr = static_cast<const nlattr*>(mnl_attr_next(attr))) {
      types.push_back(mnl_attr_get_type(attr));
      if (mnl_attr_get_type(attr) == CTA_TUPLE_ORIG) {
        CHECK((attr->nla_type & NLA_F_NESTED) != 0);
        CHECK(mnl_attr_get_payload_len(attr) == flow.originalTuple.size());
        CHECK(std::memcmp(mnl_attr_get_payload(attr), flow.originalTuple.data(), flow.originalTuple.size()) ==
              0);
      }
      if (mnl_attr_get_type(attr) == CTA_ZONE) CHECK(ntohs(mnl_attr_get_u16(attr)) == zone);
    }
    CHECK(types ==
          (zone == 0 ? std::vector<int>{CTA_TUPLE_ORIG} : std::vector<int>{CTA_TUPLE_ORIG, CTA_ZONE}));
  }
}

TEST_CASE("messages that are no flow are skipped; a flow without its tuples is an error", "[conntrack]") {
  auto dump = encodeConntrackDump(1);  // a request, not a flow: another type
  auto skipped = decodeConntrackFlow(dump);
  REQUIRE(skipped.has_value());
  CHECK(!skipped->has_value());
  auto truncated = flowMessage("10.65.0.2", "10.65.0.3", "10.65.0.3");
  truncated.resize(10);
  CHECK(!decodeConntrackFlow(truncated).has_value());
  std::vector<uint8_t> bare(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* header = mnl_nlmsg_put_header(bare.data());
  header->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
  static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)))->nfgen_family = AF_INET;
  bare.resize(header->nlmsg_len);
  CHECK(!decodeConntrackFlow(bare).has_value());
}

TEST_CASE("a released address takes every flow it is in, in either direction, and no other", "[conntrack]") {
  const std::vector<ConntrackFlow> flows = {
      **decodeConntrackFlow(flowMessage("10.65.0.2", "10.65.0.3", "10.65.0.3")),  // to it
      **decodeConntrackFlow(flowMessage("10.65.0.3", "10.65.0.4", "10.65.0.4")),  // from it
      **decodeConntrackFlow(flowMessage("10.65.0.2", "10.96.0.1", "10.65.0.3")),  // to it through a DNAT
      **decodeConntrackFlow(flowMessage("10.65.0.2", "10.65.0.4", "10.65.0.4")),  // not its
      **decodeConntrackFlow(flowMessage("fd00::3", "fd00::4", "fd00::4")),        // another family
  };
  const auto taken = flowsInvolving(flows, {ip("10.65.0.3")});
  REQUIRE(taken.size() == 3);
  CHECK(taken[0] == flows[0]);
  CHECK(taken[1] == flows[1]);
  CHECK(taken[2] == flows[2]);
  CHECK(flowsInvolving(flows, {}).empty());
  CHECK(flowsInvolving(flows, {ip("fd00::3"), ip("10.65.0.4")}).size() == 3);
}
