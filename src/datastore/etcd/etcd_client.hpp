// etcd_client.hpp — a small etcd v3 client: the calls the etcd datastore makes, in plain C++.
//
// What: KV Range/Txn/Compact, a Watch stream, Lease grant/keep-alive/revoke and Auth, over gRPC
// to one cluster reached through one or more endpoints. gRPC and the generated messages stay in
// etcd_client.cpp (pimpl): nothing that includes this header compiles gRPC.
//
// Endpoints: one channel per endpoint, the one that last answered is tried first. A call that
// fails because its endpoint is unreachable or has no leader moves on to the next endpoint, each
// endpoint at most twice per call. A read also moves on after a deadline; a write only when it
// cannot have been applied (its channel was not connected, or the member said it has no leader),
// so a compare-and-swap is never sent twice.
// Deadlines: every unary call has one (callTimeout). A watch stream has none; its liveness is the
// caller's (progress requests, see WatchStream).
// TLS: an https:// endpoint uses the CA, certificate and key files of the config (read once, at
// connect). Auth: with a username, the client authenticates at connect and sends the token with
// every call; a token the server no longer accepts is renewed once per call.
// Threading: a Client may be used from any number of threads; a WatchStream by one reader thread
// plus any thread for requestProgress() and cancel().
// Failure: every failure is a StoreError: Unavailable (no endpoint answered), Compacted (a revision
// below the compaction point), Invalid (bad configuration), Io (anything else the server said).
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tartan::datastore::etcd {

struct ClientConfig {
  std::vector<std::string> endpoints;  // "http://H:P" or "https://H:P"
  std::string caFile;                  // PEM; https only
  std::string certFile;                // client certificate, PEM (with keyFile)
  std::string keyFile;
  std::string username;  // empty: no auth
  std::string password;
  std::chrono::milliseconds callTimeout{10000};
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t createRevision = 0;
  int64_t modRevision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeResult {
  int64_t revision = 0;  // the store revision the range was read at
  std::vector<KeyValue> kvs;
  bool more = false;  // a limit cut the range short
};

// One compare of a transaction: the key's version or mod_revision equals `value` (version 0: the
// key does not exist).
struct Compare {
  enum class Target { Version, ModRevision };
  std::string key;
  Target target = Target::Version;
  int64_t value = 0;
};

struct TxnOp {
  enum class Type { Get, Put, Delete };
  Type type = Type::Get;
  std::string key;
  std::string value;  // Put
  int64_t lease = 0;  // Put
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  // Per op of the branch that ran, for Get ops: what it read (empty for Put and Delete); for
  // Delete ops: how many keys it deleted in `deleted`.
  std::vector<std::vector<KeyValue>> reads;
  std::vector<int64_t> deleted;
};

struct StreamEvent {
  bool isDelete = false;
  KeyValue kv;  // Delete: modRevision is the deletion's revision, value empty
  std::optional<KeyValue> prevKv;
};

struct WatchResponse {
  int64_t revision = 0;  // the header's revision
  bool created = false;
  bool canceled = false;
  bool progress = false;        // a progress notification (no events)
  int64_t compactRevision = 0;  // > 0: the start revision was compacted
  std::string cancelReason;
  std::vector<StreamEvent> events;
};

// One watch over a range on its own gRPC stream.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Blocks for the next response; nothing when the stream has ended (then see error()).
  virtual std::optional<WatchResponse> read() = 0;
  // Asks the server for a progress notification (etcd ≥ 3.4). False if the stream is gone.
  virtual bool requestProgress() = 0;
  // Ends the stream from any thread; a blocked read() returns nothing.
  virtual void cancel() = 0;
  // Why the stream ended.
  virtual StoreError error() const = 0;
  // The endpoint this stream talks to.
  virtual std::string endpoint() const = 0;
};

class Client {
 public:
  // Validates the configuration (endpoints, files) and creates the channels; authenticates when
  // a username is given. Does not wait for a connection otherwise.
  static StoreResult<std::shared_ptr<Client>> connect(const ClientConfig& config);
  virtual ~Client() = default;

  // Keys in [key, rangeEnd) (rangeEnd empty: just `key`), sorted by key, at `revision` (0: now),
  // at most `limit` of them (0: all).
  virtual StoreResult<RangeResult> range(const std::string& key, const std::string& rangeEnd,
                                         int64_t revision = 0, bool keysOnly = false, int64_t limit = 0) = 0;
  virtual StoreResult<TxnResult> txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                                     const std::vector<TxnOp>& failure) = 0;
  // Compacts the history up to `revision` (tests and maintenance).
  virtual StoreResult<void> compact(int64_t revision) = 0;

  // Leases: grant returns the lease ID and the TTL the server chose.
  virtual StoreResult<std::pair<int64_t, int64_t>> grantLease(int64_t ttlSeconds) = 0;
  // One keep-alive round trip; returns the remaining TTL (NotFound when the lease is gone).
  virtual StoreResult<int64_t> keepAlive(int64_t leaseId) = 0;
  virtual StoreResult<void> revokeLease(int64_t leaseId) = 0;

  // Starts a watch of [key, rangeEnd) from `startRevision` (inclusive), with previous values,
  // on the first endpoint that accepts the stream, starting after `failed` (the endpoint of a
  // stream that broke or went silent) when given; the first response is the creation's.
  virtual StoreResult<std::unique_ptr<WatchStream>> watch(const std::string& key, const std::string& rangeEnd,
                                                          int64_t startRevision,
                                                          const std::string& failed = "") = 0;

  // "http://H:P,…" for messages.
  virtual std::string describe() const = 0;
};

// The end of the range of every key that starts with `prefix`.
std::string prefixEnd(const std::string& prefix);

}  // namespace tartan::datastore::etcd
