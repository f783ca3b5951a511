// Fuzzes everything that reads kernel replies: the datagram splitter, then each message as a
// route, a link, an address and an error ack. Outside input must give a value or an error,
// never a crash or an out-of-bounds read.
#include <tartan/netlink/codec.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tartan::netlink;
  auto messages = splitMessages(std::span<const uint8_t>(data, size));
  if (!messages) return 0;
  for (const Message& message : *messages) {
    if (auto route = decodeRoute(message.payload)) {
      // A route that decodes must survive re-encoding and decode to itself.
      std::vector<uint8_t> again;
      encodeRouteChange(again, RouteChange{RouteOp::Replace, *route}, 1);
      auto reparsed = splitMessages(again);
      if (!reparsed || reparsed->size() != 1) __builtin_trap();
      (void)route->toString();
    }
    if (auto link = decodeLink(message.payload)) (void)macToString(link->mac);
    if (auto address = decodeAddress(message.payload)) (void)address->prefix.toString();
    (void)decodeAck(message.payload, message.flags);
  }
  return 0;
}
