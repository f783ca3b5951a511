// etcd_client.cpp — the gRPC side of the etcd client; the only file of the backend that sees gRPC.
#include "etcd_client.hpp"

#include "tartan/proto/etcd_v3.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace tartan::datastore::etcd {

namespace pb = etcdserverpb;

namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

struct Endpoint {
  std::string url;  // as configured
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Watch::Stub> watch;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Auth::Stub> auth;
};

struct ParsedEndpoint {
  bool tls = false;
  std::string target;  // "host:port" for gRPC
};

StoreResult<ParsedEndpoint> parseEndpoint(const std::string& url) {
  auto bad = [&](const std::string& what) {
    return makeStoreError(ErrorKind::Invalid, "etcd endpoint '" + url + "'", what);
  };
  ParsedEndpoint out;
  std::string_view rest(url);
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    out.tls = true;
  } else {
    return bad("expected http://HOST:PORT or https://HOST:PORT");
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || rest.find('/') != std::string_view::npos) {
    return bad("expected http://HOST:PORT or https://HOST:PORT");
  }
  std::string_view host = rest.substr(0, colon);
  std::string_view port = rest.substr(colon + 1);
  if (host.front() == '[' ? host.back() != ']' : host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address must be in brackets: [ADDR]:PORT");
  }
  int number = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || number > 65535) return bad("the port is not a number from 1 to 65535");
    number = number * 10 + (c - '0');
  }
  if (port.empty() || number < 1 || number > 65535) return bad("the port is not a number from 1 to 65535");
  out.target = std::string(rest);
  return out;
}

StoreResult<std::string> readPemFile(const std::string& path, const char* what) {
  std::string where = std::string(what) + " '" + path + "'";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return makeStoreError(ErrorKind::Invalid, where, "cannot be read");
  if (!S_ISREG(st.st_mode)) return makeStoreError(ErrorKind::Invalid, where, "is not a regular file");
  if (static_cast<size_t>(st.st_size) > kMaxFileBytes) {
    return makeStoreError(ErrorKind::Invalid, where, "is larger than 1 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return makeStoreError(ErrorKind::Invalid, where, "cannot be read");
  if (text.str().find("-----BEGIN") == std::string::npos) {
    return makeStoreError(ErrorKind::Invalid, where, "holds no PEM block");
  }
  return text.str();
}

KeyValue fromPb(const pb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(), kv.lease()};
}

bool mentions(const grpc::Status& status, std::string_view text) {
  return status.error_message().find(text) != std::string::npos;
}

// What a failed call means for the caller, once no other endpoint is worth a try.
StoreError toStoreError(const grpc::Status& status, const std::string& where) {
  std::string what = status.error_message().empty() ? "gRPC status " + std::to_string(status.error_code())
                                                    : status.error_message();
  if (mentions(status, "required revision has been compacted")) {
    return makeStoreError(ErrorKind::Compacted, where, what);
  }
  if (mentions(status, "required revision is a future revision")) {
    // The store is behind the revision asked for (restored from a backup): history is gone.
    return makeStoreError(ErrorKind::Compacted, where, what);
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return makeStoreError(ErrorKind::Unavailable, where, what);
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return makeStoreError(ErrorKind::Invalid, where, what);
    default:
      return makeStoreError(ErrorKind::Io, where, what);
  }
}

bool isAuthFailure(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED || mentions(status, "invalid auth token") ||
         mentions(status, "user name is empty");
}

class GrpcWatchStream final : public WatchStream {
 public:
  GrpcWatchStream(std::string endpoint, std::unique_ptr<grpc::ClientContext> context)
      : endpoint_(std::move(endpoint)), context_(std::move(context)) {}

  ~GrpcWatchStream() override {
    cancel();
    finish();
  }

  bool open(pb::Watch::Stub& stub, const pb::WatchRequest& create) {
    stream_ = stub.Watch(context_.get());
    std::lock_guard lock(writeMutex_);
    if (!stream_->Write(create)) {
      ended_ = true;
      return false;
    }
    return true;
  }

  std::optional<WatchResponse> read() override {
    pb::WatchResponse in;
    if (!stream_ || !stream_->Read(&in)) {
      finish();
      return std::nullopt;
    }
    WatchResponse out;
    out.revision = in.header().revision();
    out.created = in.created();
    out.canceled = in.canceled();
    out.compactRevision = in.compact_revision();
    out.cancelReason = in.cancel_reason();
    out.progress = !in.created() && !in.canceled() && in.events_size() == 0;
    out.events.reserve(in.events_size());
    for (const pb::Event& event : in.events()) {
      StreamEvent e;
      e.isDelete = event.type() == pb::Event::DELETE;
      e.kv = fromPb(event.kv());
      if (event.has_prev_kv()) e.prevKv = fromPb(event.prev_kv());
      out.events.push_back(std::move(e));
    }
    return out;
  }

  bool requestProgress() override {
    std::lock_guard lock(writeMutex_);
    if (ended_ || !stream_) return false;
    pb::WatchRequest request;
    request.mutable_progress_request();
    return stream_->Write(request);
  }

  void cancel() override { context_->TryCancel(); }

  StoreError error() const override {
    std::lock_guard lock(writeMutex_);
    return error_;
  }
  std::string endpoint() const override { return endpoint_; }

 private:
  void finish() {
    std::lock_guard lock(writeMutex_);
    if (finished_ || !stream_) return;
    ended_ = true;
    finished_ = true;
    grpc::Status status = stream_->Finish();
    error_ = status.ok()
                 ? makeStoreError(ErrorKind::Unavailable, "etcd " + endpoint_, "the watch stream ended")
                 : toStoreError(status, "etcd " + endpoint_ + " watch");
  }

  std::string endpoint_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>> stream_;
  mutable std::mutex writeMutex_;
  bool ended_ = false;
  bool finished_ = false;
  StoreError error_ = makeStoreError(ErrorKind::Unavailable, "etcd", "the watch stream ended");
};

class GrpcClient final : public Client {
 public:
  explicit GrpcClient(ClientConfig config) : config_(std::move(config)) {}

  StoreResult<void> init() {
    if (config_.endpoints.empty()) return makeStoreError(ErrorKind::Invalid, "etcd", "no endpoint given");
    if (config_.certFile.empty() != config_.keyFile.empty()) {
      return makeStoreError(ErrorKind::Invalid, "etcd",
                            "a client certificate needs both a certificate and a key file");
    }
    if (config_.username.empty() && !config_.password.empty()) {
      return makeStoreError(ErrorKind::Invalid, "etcd", "a password was given without a username");
    }
    grpc::SslCredentialsOptions ssl;
    if (!config_.caFile.empty()) {
      auto ca = readPemFile(config_.caFile, "etcd CA file");
      if (!ca) return ca.error();
      ssl.pem_root_certs = *ca;
    }
    if (!config_.certFile.empty()) {
      auto cert = readPemFile(config_.certFile, "etcd certificate file");
      if (!cert) return cert.error();
      auto key = readPemFile(config_.keyFile, "etcd key file");
      if (!key) return key.error();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    grpc::ChannelArguments args;
    // A member that comes back is found again within a second or two, not grpc's two minutes.
    // (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: it is also each connection attempt's timeout, and a
    // busy member needs more than a few hundred milliseconds to send its first SETTINGS frame.)
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // etcd's default keep-alive enforcement allows a ping every 5 s.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    args.SetMaxReceiveMessageSize(64 << 20);
    for (const std::string& url : config_.endpoints) {
      auto parsed = parseEndpoint(url);
      if (!parsed) return parsed.error();
      if (!parsed->tls && (!config_.caFile.empty() || !config_.certFile.empty())) {
        return makeStoreError(ErrorKind::Invalid, "etcd endpoint '" + url + "'",
                              "TLS files are given but the endpoint is http://; use https://");
      }
      auto creds = parsed->tls ? grpc::SslCredentials(ssl) : grpc::InsecureChannelCredentials();
      auto endpoint = std::make_unique<Endpoint>();
      endpoint->url = url;
      endpoint->channel = grpc::CreateCustomChannel(parsed->target, creds, args);
      endpoint->kv = pb::KV::NewStub(endpoint->channel);
      endpoint->watch = pb::Watch::NewStub(endpoint->channel);
      endpoint->lease = pb::Lease::NewStub(endpoint->channel);
      endpoint->auth = pb::Auth::NewStub(endpoint->channel);
      endpoints_.push_back(std::move(endpoint));
    }
    if (!config_.username.empty()) {
      auto token = authenticate();
      if (!token) return token.error();
    }
    return {};
  }

  StoreResult<RangeResult> range(const std::string& key, const std::string& rangeEnd, int64_t revision,
                                 bool keysOnly, int64_t limit) override {
    pb::RangeRequest request;
    request.set_limit(limit);
    request.set_key(key);
    request.set_range_end(rangeEnd);
    request.set_revision(revision);
    request.set_keys_only(keysOnly);
    request.set_sort_order(pb::RangeRequest::ASCEND);
    request.set_sort_target(pb::RangeRequest::KEY);
    pb::RangeResponse response;
    auto done = call("range " + key, true, [&](Endpoint& e, grpc::ClientContext& context) {
      response.Clear();
      return e.kv->Range(&context, request, &response);
    });
    if (!done) return done.error();
    RangeResult out;
    out.revision = response.header().revision();
    out.more = response.more();
    out.kvs.reserve(response.kvs_size());
    for (const pb::KeyValue& kv : response.kvs()) out.kvs.push_back(fromPb(kv));
    return out;
  }

  StoreResult<TxnResult> txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                             const std::vector<TxnOp>& failure) override {
    pb::TxnRequest request;
    for (const Compare& compare : compares) {
      pb::Compare* out = request.add_compare();
      out->set_key(compare.key);
      out->set_result(pb::Compare::EQUAL);
      if (compare.target == Compare::Target::Version) {
        out->set_target(pb::Compare::VERSION);
        out->set_version(compare.value);
      } else {
        out->set_target(pb::Compare::MOD);
        out->set_mod_revision(compare.value);
      }
    }
    auto addOps = [](const std::vector<TxnOp>& ops, auto* list) {
      for (const TxnOp& op : ops) {
        pb::RequestOp* out = list->Add();
        switch (op.type) {
          case TxnOp::Type::Get:
            out->mutable_request_range()->set_key(op.key);
            break;
          case TxnOp::Type::Put: {
            pb::PutRequest* put = out->mutable_request_put();
            put->set_key(op.key);
            put->set_value(op.value);
            put->set_lease(op.lease);
            break;
          }
          case TxnOp::Type::Delete:
            out->mutable_request_delete_range()->set_key(op.key);
            break;
        }
      }
    };
    addOps(success, request.mutable_success());
    addOps(failure, request.mutable_failure());
    bool writes = false;
    for (const auto* ops : {&success, &failure}) {
      for (const TxnOp& op : *ops) writes = writes || op.type != TxnOp::Type::Get;
    }
    pb::TxnResponse response;
    std::string what = compares.empty() ? "txn" : "txn on " + compares.front().key;
    auto done = call(what, !writes, [&](Endpoint& e, grpc::ClientContext& context) {
      response.Clear();
      return e.kv->Txn(&context, request, &response);
    });
    if (!done) return done.error();
    TxnResult out;
    out.succeeded = response.succeeded();
    out.revision = response.header().revision();
    for (const pb::ResponseOp& op : response.responses()) {
      std::vector<KeyValue> reads;
      int64_t deleted = 0;
      if (op.has_response_range()) {
        for (const pb::KeyValue& kv : op.response_range().kvs()) reads.push_back(fromPb(kv));
      } else if (op.has_response_delete_range()) {
        deleted = op.response_delete_range().deleted();
      }
      out.reads.push_back(std::move(reads));
      out.deleted.push_back(deleted);
    }
    return out;
  }

  StoreResult<void> compact(int64_t revision) override {
    pb::CompactionRequest request;
    request.set_revision(revision);
    request.set_physical(true);
    pb::CompactionResponse response;
    return call("compact", false, [&](Endpoint& e, grpc::ClientContext& context) {
      return e.kv->Compact(&context, request, &response);
    });
  }

  StoreResult<std::pair<int64_t, int64_t>> grantLease(int64_t ttlSeconds) override {
    pb::LeaseGrantRequest request;
    request.set_ttl(ttlSeconds);
    pb::LeaseGrantResponse response;
    auto done = call("lease grant", false, [&](Endpoint& e, grpc::ClientContext& context) {
      return e.lease->LeaseGrant(&context, request, &response);
    });
    if (!done) return done.error();
    if (!response.error().empty()) return makeStoreError(ErrorKind::Io, "etcd lease grant", response.error());
    return std::pair{response.id(), response.ttl()};
  }

  StoreResult<int64_t> keepAlive(int64_t leaseId) override {
    pb::LeaseKeepAliveResponse response;
    auto done = call("lease keep-alive", true, [&](Endpoint& e, grpc::ClientContext& context) {
      auto stream = e.lease->LeaseKeepAlive(&context);
      pb::LeaseKeepAliveRequest request;
      request.set_id(leaseId);
      response.Clear();
      if (stream->Write(request)) stream->Read(&response);
      stream->WritesDone();
      return stream->Finish();
    });
    if (!done) return done.error();
    if (response.ttl() <= 0) {
      return makeStoreError(ErrorKind::NotFound, "etcd lease " + std::to_string(leaseId),
                            "the lease has expired");
    }
    return response.ttl();
  }

  StoreResult<void> revokeLease(int64_t leaseId) override {
    pb::LeaseRevokeRequest request;
    request.set_id(leaseId);
    pb::LeaseRevokeResponse response;
    return call("lease revoke", false, [&](Endpoint& e, grpc::ClientContext& context) {
      return e.lease->LeaseRevoke(&context, request, &response);
    });
  }

  StoreResult<std::unique_ptr<WatchStream>> watch(const std::string& key, const std::string& rangeEnd,
                                                  int64_t startRevision, const std::string& failed) override {
    pb::WatchRequest create;
    pb::WatchCreateRequest* request = create.mutable_create_request();
    request->set_key(key);
    request->set_range_end(rangeEnd);
    request->set_start_revision(startRevision);
    request->set_prev_kv(true);
    request->set_progress_notify(true);
    StoreError last = makeStoreError(ErrorKind::Unavailable, "etcd " + describe(), "no endpoint answered");
    size_t first = preferred_.load();
    for (size_t i = 0; i < endpoints_.size() && !failed.empty(); ++i) {
      if (endpoints_[i]->url == failed) first = i + 1;
    }
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      size_t index = (first + i) % endpoints_.size();
      Endpoint& e = *endpoints_[index];
      auto deadline =
          std::chrono::system_clock::now() +
          std::min<std::chrono::milliseconds>(config_.callTimeout, std::chrono::milliseconds(3000));
      if (!e.channel->WaitForConnected(deadline)) {
        last = makeStoreError(ErrorKind::Unavailable, "etcd " + e.url, "cannot connect");
        continue;
      }
      auto context = std::make_unique<grpc::ClientContext>();
      // A member that loses its leader ends the stream, so the watch moves to one that has it.
      context->AddMetadata("hasleader", "true");
      addToken(*context);
      auto stream = std::make_unique<GrpcWatchStream>(e.url, std::move(context));
      if (!stream->open(*e.watch, create)) {
        last = stream->error();
        continue;
      }
      preferred_ = index;
      return std::unique_ptr<WatchStream>(std::move(stream));
    }
    return last;
  }

  std::string describe() const override {
    std::string out;
    for (const std::string& url : config_.endpoints) out += (out.empty() ? "" : ",") + url;
    return out;
  }

 private:
  void addToken(grpc::ClientContext& context) {
    std::lock_guard lock(tokenMutex_);
    if (!token_.empty()) context.AddMetadata("token", token_);
  }

  StoreResult<void> authenticate() {
    pb::AuthenticateRequest request;
    request.set_name(config_.username);
    request.set_password(config_.password);
    pb::AuthenticateResponse response;
    auto authenticateCall = [&](Endpoint& e, grpc::ClientContext& context) {
      return e.auth->Authenticate(&context, request, &response);
    };
    auto done = callOnce("authenticate as " + config_.username, true, authenticateCall, false);
    if (!done) return done.error();
    std::lock_guard lock(tokenMutex_);
    token_ = response.token();
    return {};
  }

  template <class Fn>
  StoreResult<void> call(const std::string& what, bool idempotent, Fn&& fn) {
    auto done = callOnce(what, idempotent, fn, true);
    if (done || config_.username.empty() || !authFailed_) return done;
    // The token expired (etcd's simple tokens live 5 minutes) or the member restarted: once more.
    if (auto renewed = authenticate(); !renewed) return renewed.error();
    return callOnce(what, idempotent, fn, true);
  }

  // Tries the endpoints in turn, the one that answered last first, each at most twice.
  template <class Fn>
  StoreResult<void> callOnce(const std::string& what, bool idempotent, Fn& fn, bool withToken) {
    authFailed_ = false;
    size_t n = endpoints_.size();
    size_t first = preferred_.load();
    grpc::Status status;
    std::string where;
    for (size_t attempt = 0; attempt < 2 * n; ++attempt) {
      if (attempt == n) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      size_t index = (first + attempt) % n;
      Endpoint& e = *endpoints_[index];
      where = "etcd " + e.url + " " + what;
      bool wasConnected = e.channel->GetState(true) == GRPC_CHANNEL_READY;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + config_.callTimeout);
      if (withToken) addToken(context);
      status = fn(e, context);
      if (status.ok()) {
        preferred_ = index;
        return {};
      }
      if (isAuthFailure(status)) {
        authFailed_ = withToken && !config_.username.empty();
        return makeStoreError(ErrorKind::Io, where, "authentication failed: " + status.error_message());
      }
      bool notApplied = !wasConnected || mentions(status, "no leader") || mentions(status, "not capable") ||
                        mentions(status, "failed to connect") || mentions(status, "Connection refused");
      bool transient = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                       (idempotent && status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
      if (!transient) return toStoreError(status, where);
      if (!idempotent && !notApplied) {
        return makeStoreError(ErrorKind::Unavailable, where,
                              status.error_message() + " (the write may or may not have been applied)");
      }
    }
    StoreError error = toStoreError(status, where);
    error.kind = ErrorKind::Unavailable;
    error.error.what = "no endpoint of " + describe() + " answered; last: " + error.error.what;
    return error;
  }

  ClientConfig config_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::atomic<size_t> preferred_{0};
  std::mutex tokenMutex_;
  std::string token_;
  static thread_local bool authFailed_;
};

thread_local bool GrpcClient::authFailed_ = false;

}  // namespace

std::string prefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

StoreResult<std::shared_ptr<Client>> Client::connect(const ClientConfig& config) {
  auto client = std::make_shared<GrpcClient>(config);
  if (auto ok = client->init(); !ok) return ok.error();
  return std::shared_ptr<Client>(std::move(client));
}

}  // namespace tartan::datastore::etcd
