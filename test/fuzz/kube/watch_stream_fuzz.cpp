// Fuzzes the watch stream splitter and event decoder: an API server (or whatever answers in its
// place) may send anything, cut anywhere. Nothing may crash or hang, and the events decoded must
// not depend on where the bytes were cut: the input fed whole and fed in pieces (cut where its
// first byte says) give the same events and the same failure.
#include "tartan/kube/client.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tartan::kube::WatchDecoder;

struct Outcome {
  std::vector<std::string> events;  // "TYPE object"
  bool failed = false;
};

Outcome decode(std::string_view input, size_t piece) {
  WatchDecoder decoder(1 << 16);
  Outcome out;
  for (size_t at = 0; at < input.size() && !out.failed; at += piece) {
    decoder.feed(input.substr(at, piece));
    for (;;) {
      auto next = decoder.next();
      if (!next) {
        if (next.error().message.empty()) __builtin_trap();
        out.failed = true;
        break;
      }
      if (!*next) break;
      out.events.push_back(std::string(tartan::kube::toString((*next)->type)) + " " + (*next)->object.dump());
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t piece = size == 0 ? 1 : 1 + data[0] % 23;
  const Outcome whole = decode(input, size == 0 ? 1 : size);
  const Outcome pieces = decode(input, piece);
  if (whole.failed != pieces.failed || whole.events != pieces.events) __builtin_trap();
  // Every event decoded alone decodes the same way again.
  for (const std::string& event : whole.events) {
    const auto space = event.find(' ');
    auto again = tartan::kube::decodeWatchEvent("{\"type\":\"" + event.substr(0, space) +
                                                "\",\"object\":" + event.substr(space + 1) + "}");
    if (!again) __builtin_trap();
  }
  return 0;
}
