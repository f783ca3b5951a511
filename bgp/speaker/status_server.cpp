// gRPC implementation of the status API (see status_server.hpp).
#include "status_server.hpp"

#include "tartan/proto/bgp_status.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>

namespace tartan::bgp::speaker {
namespace {

namespace pb = ::tartan::bgpstatus;

class Service final : public pb::BgpStatus::Service {
 public:
  explicit Service(Speaker& speaker) : speaker_(speaker) {}

  grpc::Status GetStatus(grpc::ServerContext*, const pb::StatusRequest* request,
                         pb::StatusReply* reply) override {
    const auto r = speaker_.report(!request->without_prefix_counts());
    reply->set_node(r.nodeName);
    reply->set_local_as(r.localAs);
    reply->set_router_id(Address::v4(r.routerId).toString());
    reply->set_loc_rib_routes(r.locRibSize);
    reply->set_kernel_routes(r.fib.installed);
    for (const auto& p : r.peers) {
      auto* out = reply->add_peers();
      out->set_key(p.status.key);
      out->set_address(p.status.address.toString());
      out->set_type(std::string(peerTypeName(p.status.type)));
      out->set_state(std::string(fsm::stateName(p.status.state)));
      out->set_since_unix(
          std::chrono::duration_cast<std::chrono::seconds>(p.status.since.time_since_epoch()).count());
      out->set_last_error(p.status.lastError);
      out->set_peer_as(p.status.peerAs);
      out->set_prefixes_received(p.received);
      out->set_prefixes_accepted(p.accepted);
      out->set_prefixes_advertised(p.advertised);
    }
    return grpc::Status::OK;
  }

  grpc::Status ListRoutes(grpc::ServerContext*, const pb::RoutesRequest*, pb::RoutesReply* reply) override {
    for (const auto& r : speaker_.routes()) {
      auto* out = reply->add_routes();
      out->set_prefix(r.prefix.toString());
      for (const auto& nh : r.nextHops) out->add_next_hops(nh.toString());
      out->set_from(r.from);
      for (auto as : r.asPath) out->add_as_path(as);
      out->set_best(r.best);
    }
    return grpc::Status::OK;
  }

 private:
  Speaker& speaker_;
};

class GrpcStatusServer final : public StatusServer {
 public:
  GrpcStatusServer(Speaker& speaker, std::string path) : service_(speaker), path_(std::move(path)) {}
  ~GrpcStatusServer() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  bool start() {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    std::filesystem::remove(path_, ec);  // a socket left by a previous run
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + path_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    return server_ != nullptr;
  }

 private:
  Service service_;
  std::string path_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace

Result<std::unique_ptr<StatusServer>> StatusServer::start(Speaker& speaker, const std::string& socketPath) {
  auto server = std::make_unique<GrpcStatusServer>(speaker, socketPath);
  if (!server->start()) return makeError("status API", socketPath, "cannot serve on the unix socket");
  return std::unique_ptr<StatusServer>(std::move(server));
}

}  // namespace tartan::bgp::speaker
