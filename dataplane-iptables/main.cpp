// tartan-dataplane-iptables: the iptables dataplane driver as its own process.
//
// The agent (or any calc graph) writes ToDataplane envelopes to our stdin and reads FromDataplane
// status reports from our stdout, each framed by a varint length (stream_codec.hpp). A batch is
// whatever has arrived when stdin runs dry; it is applied at once. With no input, the driver
// ticks once a second so the periodic read-back still repairs drift. End of input: apply what is
// pending and exit 0. A corrupt stream exits 2; the agent restarts us, and we take over in place.
#include "tartan/common/log.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/dataplane/stream_codec.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <CLI/CLI.hpp>

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace dp = tartan::dataplane;
namespace dpi = tartan::dataplane::iptables;

int main(int argc, char** argv) {
  CLI::App app{
      "Tartan iptables/ipset dataplane driver: ToDataplane frames on stdin, FromDataplane frames on stdout"};
  std::string level = "info";
  app.add_option("--log-level", level, "trace, debug, info, warn, error, off");
  CLI11_PARSE(app, argc, argv);
  if (!tartan::log::setLevel(level)) {
    std::fprintf(stderr, "unknown log level '%s'\n", level.c_str());
    return 2;
  }
  auto log = tartan::log::get("dataplane");

  dpi::Driver driver({}, [&](const dp::proto::FromDataplane& report) {
    if (auto r = dp::writeFrame(STDOUT_FILENO, report); !r)
      log->warn("status report lost: {}", r.error().toString());
  });
  auto applyBatch = [&] {
    if (auto r = driver.tick(std::chrono::steady_clock::now()); !r)
      log->error("apply failed, will read back and retry: {}", r.error().toString());
  };

  dp::FrameDecoder decoder;
  bool pending = false;
  for (;;) {
    pollfd in{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&in, 1, pending ? 0 : 1000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {  // input has run dry: the batch is complete (or it is time to tick)
      applyBatch();
      pending = false;
      continue;
    }
    char chunk[65536];
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      applyBatch();
      if (decoder.pending() != 0) {
        log->error("input ended inside a frame");
        return 2;
      }
      return 0;
    }
    decoder.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
    dp::proto::ToDataplane message;
    for (;;) {
      auto next = decoder.next(message);
      if (!next) {
        log->error("{}", next.error().toString());
        return 2;
      }
      if (!*next) break;
      driver.onMessage(message);
      pending = true;
    }
  }
}
