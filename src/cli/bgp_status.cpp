// node status and bgp routes: what tartan-bgpd reports over its local status socket, laid out as
// calicoctl lays out `node status`.
#include "cli.hpp"

#include "tartan/bgp/status_client.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <ostream>

namespace tartan::cli {

namespace {

// A bordered table, as calicoctl prints node status.
void printBordered(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  auto rule = [&] {
    out << "+";
    for (auto width : widths) out << std::string(width + 2, '-') << "+";
    out << "\n";
  };
  rule();
  for (size_t r = 0; r < rows.size(); ++r) {
    out << "|";
    for (size_t i = 0; i < rows[r].size(); ++i)
      out << " " << rows[r][i] << std::string(widths[i] - rows[r][i].size(), ' ') << " |";
    out << "\n";
    if (r == 0) rule();
  }
  rule();
}

std::string sinceText(int64_t unix) {
  if (unix <= 0) return "";
  std::time_t t = unix;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &utc);
  return buffer;
}

struct Cidr {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
  int length = 0;
};

std::optional<Cidr> parseCidr(const std::string& text) {
  Cidr cidr;
  auto slash = text.find('/');
  std::string address = text.substr(0, slash);
  cidr.family = address.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (inet_pton(cidr.family, address.c_str(), cidr.bytes.data()) != 1) return std::nullopt;
  int max = cidr.family == AF_INET ? 32 : 128;
  cidr.length = max;
  if (slash != std::string::npos) {
    try {
      size_t used = 0;
      cidr.length = std::stoi(text.substr(slash + 1), &used);
      if (used != text.size() - slash - 1) return std::nullopt;
    } catch (...) {
      return std::nullopt;
    }
    if (cidr.length < 0 || cidr.length > max) return std::nullopt;
  }
  return cidr;
}

// True if `inner` lies within `outer`.
bool within(const Cidr& inner, const Cidr& outer) {
  if (inner.family != outer.family || inner.length < outer.length) return false;
  for (int bit = 0; bit < outer.length; ++bit) {
    int mask = 0x80 >> (bit % 8);
    if ((inner.bytes[bit / 8] & mask) != (outer.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace

int runNodeStatus(const Context& ctx, const std::string& socketPath) {
  auto status = bgp::status::getNodeStatus(socketPath);
  if (!status) return ctx.fail("tartan-bgpd is not answering: " + status.error().toString());
  *ctx.out << "tartan-bgpd is running on node " << status->node << " (AS " << status->localAs
           << ", router ID " << status->routerId << ")\n\n";
  std::vector<std::vector<std::string>> rows{
      {"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO", "RECEIVED", "ACCEPTED", "ADVERTISED"}};
  for (const auto& peer : status->peers) {
    rows.push_back({peer.address, peer.type, peer.state, sinceText(peer.sinceUnix),
                    // As calicoctl's INFO: an established session says so; an old error (the
                    // refused connect before the peer came up) is shown only while it is down.
                    peer.state == "Established" || peer.lastError.empty() ? peer.state : peer.lastError,
                    std::to_string(peer.prefixesReceived), std::to_string(peer.prefixesAccepted),
                    std::to_string(peer.prefixesAdvertised)});
  }
  *ctx.out << "BGP peers\n";
  printBordered(*ctx.out, rows);
  *ctx.out << "\nLoc-RIB routes: " << status->locRibRoutes
           << "; routes in the kernel: " << status->kernelRoutes << "\n";
  return 0;
}

int runBgpRoutes(const Context& ctx, const std::string& socketPath,
                 const std::optional<std::string>& filter) {
  std::optional<Cidr> filterCidr;
  if (filter) {
    filterCidr = parseCidr(*filter);
    if (!filterCidr) return ctx.fail("\"" + *filter + "\" is not an IP prefix");
  }
  auto routes = bgp::status::listRoutes(socketPath);
  if (!routes) return ctx.fail("tartan-bgpd is not answering: " + routes.error().toString());
  std::vector<std::vector<std::string>> rows{{"PREFIX", "NEXT HOPS", "FROM", "AS PATH", "BEST"}};
  for (const auto& route : *routes) {
    if (filterCidr) {
      auto prefix = parseCidr(route.prefix);
      if (!prefix || !within(*prefix, *filterCidr)) continue;
    }
    std::string hops, path;
    for (const auto& hop : route.nextHops) hops += (hops.empty() ? "" : ",") + hop;
    for (auto as : route.asPath) path += (path.empty() ? "" : " ") + std::to_string(as);
    rows.push_back({route.prefix, hops, route.from, path, route.best ? "*" : ""});
  }
  printBordered(*ctx.out, rows);
  return 0;
}

}  // namespace tartan::cli
