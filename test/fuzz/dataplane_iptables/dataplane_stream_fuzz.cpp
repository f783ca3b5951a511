// Fuzz target: any bytes on the driver's stdin decode to frames or to an error, never a crash or
// an allocation bigger than the frame limit; whatever decodes re-encodes to a stream that decodes
// to the same messages. "The same" is protobuf's field-by-field equality, not equal bytes: a map
// (ConfigUpdate.config) serializes in no fixed order.
#include "tartan/dataplane/stream_codec.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace dp = tartan::dataplane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dp::FrameDecoder decoder(1 << 20);
  // Split the input in two feeds so that frames crossing reads are exercised too.
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  decoder.feed(bytes.substr(0, size / 2));
  std::vector<dp::proto::ToDataplane> messages;
  dp::proto::ToDataplane message;
  bool fed = false;
  for (;;) {
    auto next = decoder.next(message);
    if (!next) break;
    if (*next) {
      messages.push_back(message);
      continue;
    }
    if (fed) break;
    decoder.feed(bytes.substr(size / 2));
    fed = true;
  }
  std::string again;
  for (const auto& m : messages) dp::appendFrame(m, again);
  dp::FrameDecoder check;
  check.feed(again);
  for (const auto& m : messages) {
    dp::proto::ToDataplane round;
    auto r = check.next(round);
    if (!r || !*r || !google::protobuf::util::MessageDifferencer::Equals(round, m)) std::abort();
  }
  return 0;
}
