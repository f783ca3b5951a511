// Fuzz target for the BGP message codec. For arbitrary bytes, under each of a few negotiated
// contexts (4-octet AS or not, ADD-PATH or not, external peer), decoding must not crash, and any
// message it accepts must survive encode → decode unchanged. The stream framer is fed the same
// bytes and must never claim more than it was given.
#include "codec/message.hpp"

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
