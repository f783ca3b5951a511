// The length-prefixed stream codec: frames survive any split of the byte stream, a real pipe,
// and corrupt input is an error, never a crash or a huge allocation.
#include "tartan/dataplane/stream_codec.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <thread>

namespace dp = tartan::dataplane;
namespace pb = tartan::dataplane::proto;

namespace {
std::vector<pb::ToDataplane> sampleMessages() {
  std::vector<pb::ToDataplane> out;
  pb::ToDataplane a;
  a.set_sequence_number(1);
  auto* set = a.mutable_ipset_update();
  set->set_id("s:abc");
  set->set_type(pb::IP_SET_TYPE_NET);
  for (int i = 0; i < 300; ++i)
    set->add_members("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250));
  out.push_back(a);
  pb::ToDataplane b;
  b.set_sequence_number(2);
  b.mutable_in_sync();  // an empty payload: a frame whose body is only a few bytes
  out.push_back(b);
  pb::ToDataplane c;  // a wholly empty message: a zero-length frame
  out.push_back(c);
  pb::ToDataplane d;
  d.set_sequence_number(4);
  auto* pol = d.mutable_active_policy_update();
  pol->mutable_id()->set_tier("default");
  pol->mutable_id()->set_name("allow-80");
  auto* rule = pol->mutable_policy()->add_inbound_rules();
  rule->set_action(pb::RULE_ACTION_ALLOW);
  rule->mutable_protocol()->set_name("tcp");
  auto* ports = rule->add_dst_ports();
  ports->set_first(80);
  ports->set_last(80);
  out.push_back(d);
  return out;
}
}  // namespace

TEST_CASE("frames decode identically however the stream is split", "[codec]") {
  auto messages = sampleMessages();
  std::string stream;
  for (const auto& m : messages) dp::appendFrame(m, stream);
  for (std::size_t chunk :
       {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{1000}, stream.size()}) {
    dp::FrameDecoder decoder;
    std::vector<pb::ToDataplane> got;
    for (std::size_t i = 0; i < stream.size(); i += chunk) {
      decoder.feed(std::string_view(stream).substr(i, chunk));
      pb::ToDataplane m;
      for (;;) {
        auto r = decoder.next(m);
        REQUIRE(r.has_value());
        if (!*r) break;
        got.push_back(m);
      }
    }
    REQUIRE(got.size() == messages.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      CHECK(got[i].SerializeAsString() == messages[i].SerializeAsString());
    CHECK(decoder.pending() == 0);
  }
}

TEST_CASE("an oversized length is refused before any allocation", "[codec]") {
  dp::FrameDecoder decoder(1024);
  decoder.feed(std::string("\xff\xff\x7f", 3));  // 2 MiB
  pb::ToDataplane m;
  auto r = decoder.next(m);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().field == "length");
  // The stream has lost its framing: it stays failed.
  CHECK_FALSE(decoder.next(m).has_value());
}

TEST_CASE("a varint longer than 64 bits and a body that does not parse are errors", "[codec]") {
  {
    dp::FrameDecoder decoder;
    decoder.feed(std::string(11, '\xff'));
    pb::ToDataplane m;
    CHECK_FALSE(decoder.next(m).has_value());
  }
  {
    dp::FrameDecoder decoder;
    decoder.feed(std::string("\x02\xff\xff", 3));  // field 31, wire type 7: invalid
    pb::ToDataplane m;
    CHECK_FALSE(decoder.next(m).has_value());
  }
}

TEST_CASE("frames cross a real pipe in both directions of a driver", "[codec]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto messages = sampleMessages();
  std::thread writer([&] {
    for (int round = 0; round < 50; ++round)
      for (const auto& m : messages) REQUIRE(dp::writeFrame(fds[1], m).has_value());
    ::close(fds[1]);
  });
  dp::FrameDecoder decoder;
  std::size_t count = 0;
  for (;;) {
    pb::ToDataplane m;
    auto r = dp::readFrame(fds[0], decoder, m);
    REQUIRE(r.has_value());
    if (!*r) break;
    CHECK(m.SerializeAsString() == messages[count % messages.size()].SerializeAsString());
    ++count;
  }
  writer.join();
  ::close(fds[0]);
  CHECK(count == 50 * messages.size());
}

TEST_CASE("a stream that ends inside a frame is an error", "[codec]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string frame;
  dp::appendFrame(sampleMessages()[0], frame);
  REQUIRE(::write(fds[1], frame.data(), frame.size() / 2) > 0);
  ::close(fds[1]);
  dp::FrameDecoder decoder;
  pb::ToDataplane m;
  CHECK_FALSE(dp::readFrame(fds[0], decoder, m).has_value());
  ::close(fds[0]);
}
