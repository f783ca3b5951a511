// gRPC client of the status API (see tartan/bgp/status_client.hpp).
#include <tartan/bgp/status_client.hpp>

#include "tartan/proto/bgp_status.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

namespace tartan::bgp::status {
namespace {

namespace pb = ::tartan::bgpstatus;

std::unique_ptr<pb::BgpStatus::Stub> stub(const std::string& path) {
  return pb::BgpStatus::NewStub(grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
}

Error callError(const std::string& path, const grpc::Status& s) {
  return makeError("tartan-bgpd at " + path, "",
                   s.error_message().empty() ? "call failed" : s.error_message());
}

}  // namespace

Result<NodeStatus> getNodeStatus(const std::string& socketPath, bool prefixCounts) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  pb::StatusReply reply;
  pb::StatusRequest request;
  request.set_without_prefix_counts(!prefixCounts);
  auto s = stub(socketPath)->GetStatus(&ctx, request, &reply);
  if (!s.ok()) return callError(socketPath, s);
  NodeStatus out;
  out.node = reply.node();
  out.localAs = reply.local_as();
  out.routerId = reply.router_id();
  out.locRibRoutes = reply.loc_rib_routes();
  out.kernelRoutes = reply.kernel_routes();
  for (const auto& p : reply.peers()) {
    out.peers.push_back({p.key(), p.address(), p.type(), p.state(), p.since_unix(), p.last_error(),
                         p.peer_as(), p.prefixes_received(), p.prefixes_accepted(), p.prefixes_advertised()});
  }
  return out;
}

Result<std::vector<RouteEntry>> listRoutes(const std::string& socketPath) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  pb::RoutesReply reply;
  auto s = stub(socketPath)->ListRoutes(&ctx, pb::RoutesRequest{}, &reply);
  if (!s.ok()) return callError(socketPath, s);
  std::vector<RouteEntry> out;
  out.reserve(static_cast<std::size_t>(reply.routes_size()));
  for (const auto& r : reply.routes()) {
    RouteEntry e;
    e.prefix = r.prefix();
    e.nextHops.assign(r.next_hops().begin(), r.next_hops().end());
    e.from = r.from();
    e.asPath.assign(r.as_path().begin(), r.as_path().end());
    e.best = r.best();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace tartan::bgp::status
