// Fuzz target for the BGP message codec. For arbitrary bytes, under each of a few negotiated
// contexts (4-octet AS or not, ADD-PATH or not, external peer), decoding must not crash, and any
// message it accepts must survive encode → decode unchanged. The stream framer is fed the same
// bytes and must never claim more than it was given. An accepted UPDATE is also run through a
// small RIB, and what the RIB exports must pack into UPDATEs that decode cleanly.
#include "codec/message.hpp"
#include "rib/packing.hpp"
#include "rib/rib.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace tartan::bgp;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "bgp_message fuzz: %s\n", what);
    std::abort();
  }
}

void throughRib(const Update& update, const UpdateOutcome& outcome, const CodecContext& ctx) {
  RibConfig config;
  config.localAs = 65001;
  config.routerId = 0x01010101;
  config.routeReflector = true;
  Rib rib(config);
  PeerInfo from;
  from.id = 1;
  from.asn = ctx.externalPeer ? 65002 : 65001;
  from.routerId = 0x02020202;
  from.routeReflectorClient = true;
  from.enforceFirstAs = false;
  PeerInfo to = from;
  to.id = 2;
  to.asn = 65003;
  to.localAddress = Address::v4(0x0a000001);
  to.localAddressV6 = Address::parse("2001:db8::1");
  PeerInfo client = from;  // an iBGP route-reflector client: next hops pass unchanged
  client.id = 3;
  client.asn = 65001;
  client.routerId = 0x03030303;
  rib.addPeer(from);
  rib.addPeer(to);
  rib.addPeer(client);
  rib.applyUpdate(1, update, outcome);
  CodecContext out;
  out.fourOctetAs = !ctx.addPathIpv4;  // exercise both AS widths on the way out
  for (PeerId peer : {PeerId{2}, PeerId{3}}) {
    for (const auto& u : packUpdates(rib.takeOutbound(peer), out)) {
      const wire::Bytes bytes = encodeMessage(u, out);
      check(bytes.size() <= kMaxMessageSize, "packed UPDATE exceeds 4096 bytes");
      const Decoded d = decodeMessage(bytes, out);
      check(d.outcome.action == ErrorAction::kNone || d.outcome.action == ErrorAction::kAttributeDiscard,
            "packed UPDATE does not decode cleanly");
    }
  }
  rib.removePeer(1);
  check(rib.locRibSize() == 0, "routes outlive their peer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wire::ByteView bytes(data, size);
  const CodecContext contexts[] = {
      {true, false, false, false},
      {false, false, false, true},
      {true, true, true, false},
      {false, true, false, false},
  };
  for (const auto& ctx : contexts) {
    const Decoded first = decodeMessage(bytes, ctx);
    check(first.message.has_value() == (first.outcome.action != ErrorAction::kSessionReset),
          "a message is returned exactly when the session is not reset");
    if (!first.message) continue;
    const wire::Bytes again = encodeMessage(*first.message, ctx);
    check(again.size() <= kMaxMessageSize, "re-encoded message exceeds 4096 bytes");
    const Decoded second = decodeMessage(again, ctx);
    check(second.message.has_value(), "re-encoded message does not decode");
    check(*second.message == *first.message, "encode(decode(x)) decodes to a different value");
    if (const auto* update = std::get_if<Update>(&*first.message)) throughRib(*update, first.outcome, ctx);
  }
  // Framing a stream: every complete frame lies within the buffer.
  wire::ByteView rest = bytes;
  while (!rest.empty()) {
    const Frame frame = frameMessage(rest);
    if (frame.status != Frame::Status::kComplete) break;
    check(frame.length >= kHeaderSize && frame.length <= rest.size(), "frame length out of range");
    rest = rest.subspan(frame.length);
  }
  return 0;
}
