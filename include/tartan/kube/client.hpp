// tartan/kube/client.hpp — a Kubernetes API client: configuration, requests, list, watch.
//
// What: the HTTPS client the Kubernetes datastore stands on. It reads its configuration from a
// kubeconfig file or from the pod it runs in (service account token, CA bundle, namespace), and
// speaks the API's REST conventions: get, paginated list (limit/continue, a 410 Expired continue
// token restarts the list), create (POST), update (PUT, compare-and-swap on
// metadata.resourceVersion: a stale one is Conflict), delete with preconditions (resourceVersion,
// uid), JSON merge patch and JSON patch, the status subresource, and watch from a resourceVersion
// with bookmarks. Objects are JSON values (nlohmann::json) exactly as the API serves them.
// tartan/kube/reflector.hpp builds the syncer's contract on top: list then watch, a cache, and
// the differences after a relist delivered as updates and removals.
//
// Owns: one TLS configuration (verification on unless the kubeconfig says
// insecure-skip-tls-verify; the server's name or IP is checked against its certificate's SANs), a
// client-side rate limiter (token bucket, client-go's defaults of 5 QPS with bursts of 10), and the
// bearer token, re-read from its file when the file changes (a rotated service account token) and
// once more after a 401. Boost.Beast, Asio and OpenSSL stay behind the pimpl.
//
// Threading: a Client may be used from several threads at once; each request runs on the calling
// thread with its own connection and its own deadline (Config::timeout). A WatchStream belongs to
// one reading thread; its stop() may be called from any thread.
//
// Failure: every outside failure is a value (KubeResult) whose KubeError carries a kind to branch
// on, the HTTP status and the API's Status reason and message. Nothing throws across this API.
#pragma once

#include "tartan/common/result.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::kube {

using Json = nlohmann::json;

// ---- configuration -------------------------------------------------------------------------

struct Config {
  std::string server;  // "https://host:port"; only https is spoken
  // Trust: PEM bytes (from *-data or read from the file) — empty: the system's roots.
  std::string caPem;
  std::string clientCertPem;
  std::string clientKeyPem;
  std::string token;      // a bearer token, fixed
  std::string tokenFile;  // a bearer token read from this file, re-read when it changes
  bool insecureSkipTlsVerify = false;
  std::string namespace_ = "default";  // the context's (or the pod's) namespace
  double qps = 5;                      // client-side rate limit, as client-go's defaults
  int burst = 10;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // every request but a watch's body
  std::string source;  // where the configuration came from, for messages
};

// Parses a kubeconfig document strictly: unknown fields, wrong types and dangling context, cluster
// or user names are one-line errors naming `where` (the file) and the field. Files it names
// (certificate-authority, client-certificate, client-key, tokenFile) are resolved against
// `baseDir` and read. `context`: the context to use instead of current-context.
Result<Config> parseKubeconfig(std::string_view text, const std::string& where, const std::string& baseDir,
                               std::string_view context = {});
// Reads and parses one kubeconfig file.
Result<Config> loadKubeconfig(const std::string& path, std::string_view context = {});

// In-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT from the environment, the
// service account's token file (re-read as it rotates), CA bundle and namespace file.
struct InClusterPaths {
  std::string tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string caFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};
Result<Config> inClusterConfig(const InClusterPaths& paths = {});

// As the Calico components choose: the --kubeconfig flag if given, else $KUBECONFIG (the first
// file of the list), else in-cluster when KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
Result<Config> loadConfig(const std::optional<std::string>& kubeconfigFlag);

// ---- resources and errors ------------------------------------------------------------------

// Which collection a request is about: "" group is the core API (/api/v1).
struct ResourceType {
  std::string group;
  std::string version;
  std::string plural;
  bool namespaced = true;
  std::string kind;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1/namespaces/NS/pods[/NAME]"; an empty namespace of a namespaced kind is every one.
  std::string path(std::string_view namespace_, std::string_view name = {}) const;
};

namespace resources {
ResourceType namespaces();
ResourceType pods();
ResourceType services();
ResourceType serviceAccounts();
ResourceType nodes();
ResourceType endpointSlices();
ResourceType networkPolicies();
ResourceType customResourceDefinitions();
// A Calico kind stored as a crd.projectcalico.org/v1 custom resource.
ResourceType calico(std::string plural, std::string kind, bool namespaced);
}  // namespace resources

enum class ErrorKind {
  Config,            // the configuration cannot be used (bad PEM, bad server URL)
  Transport,         // connecting, TLS or the connection failed; nothing or part came back
  Timeout,           // the request's deadline passed
  BadRequest,        // 400
  Unauthorized,      // 401
  Forbidden,         // 403
  NotFound,          // 404
  MethodNotAllowed,  // 405
  AlreadyExists,     // 409 with reason AlreadyExists
  Conflict,          // 409: a stale resourceVersion, a failed precondition
  Gone,              // 410: the resourceVersion or continue token is older than the history kept
  Invalid,           // 422
  TooManyRequests,   // 429
  Server,            // 5xx and any other unexpected status
  Decode,            // the server's answer is not what the API promises
  Stopped,           // a watch stopped by its owner
};
std::string_view toString(ErrorKind kind);

struct KubeError {
  ErrorKind kind = ErrorKind::Transport;
  int status = 0;       // the HTTP status (or the Status code of a watch ERROR event); 0: none
  std::string reason;   // the Status reason ("Conflict", "Expired", "NotFound")
  std::string message;  // the Status message, or what failed
  std::string where;    // "GET /api/v1/pods"

  // "GET /api/v1/pods: 409 Conflict: the message"
  std::string toString() const;
};
std::ostream& operator<<(std::ostream& os, const KubeError& error);
[[noreturn]] void throw_exception_from_error(const KubeError& error, const boost::source_location& where);

template <class T>
using KubeResult = boost::system::result<T, KubeError>;

// The error a Status object or a failed HTTP exchange stands for (status, body as served).
KubeError errorFromStatus(int httpStatus, std::string_view body, std::string where);

// ---- requests --------------------------------------------------------------------------------

struct ListOptions {
  std::string namespace_;  // a namespaced kind: one namespace, or every one when empty
  std::string labelSelector;
  std::string fieldSelector;
  int64_t limit = 500;  // page size (0: unpaginated)
};

struct ListResult {
  std::vector<Json> items;
  std::string resourceVersion;  // the collection's: where a watch starts
  int pages = 0;
  int restarts = 0;  // lists started again after a continue token expired
};

struct Preconditions {
  std::optional<std::string> resourceVersion;
  std::optional<std::string> uid;
};

enum class PatchType { Merge, Json };  // application/merge-patch+json, application/json-patch+json

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };
std::string_view toString(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  Json object;  // the object; a Bookmark's carries only kind/apiVersion/metadata.resourceVersion;
                // an Error's is the Status
};

struct WatchOptions {
  std::string namespace_;
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;  // "" or "0": every current object first as ADDED
  bool allowBookmarks = true;
  std::chrono::seconds timeout{std::chrono::minutes(5)};  // the server ends the watch after this
  // A stream that delivers nothing (not even a bookmark) for this long is taken as broken.
  std::chrono::milliseconds idleTimeout{std::chrono::minutes(6)};
  // Opening the watch (connect, TLS, the response header) gives up with Stopped once this is
  // true, so an owner that stops is not held for the whole request timeout. Checked every 100 ms.
  const std::atomic<bool>* cancel = nullptr;
};

// One open watch. next() blocks until an event arrives, the stream ends (nullopt: the server closed
// it cleanly, watch again from the last resourceVersion), it fails (Transport, Timeout, Decode),
// or stop() is called (Stopped). An ERROR event is returned as an event; its Status says why
// (410: relist).
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual KubeResult<std::optional<WatchEvent>> next() = 0;
  virtual void stop() = 0;
};

class Client {
 public:
  // Reads the certificates, builds the TLS context. Config errors come back here.
  static KubeResult<std::unique_ptr<Client>> create(Config config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Config& config() const;

  KubeResult<Json> get(const ResourceType& type, std::string_view namespace_, std::string_view name);
  // Every page; a continue token that expired (410) restarts the list from the first page.
  KubeResult<ListResult> list(const ResourceType& type, const ListOptions& options = {});
  // The object's metadata.namespace says where (the config's namespace when it has none).
  KubeResult<Json> create(const ResourceType& type, const Json& object);
  // PUT: metadata.resourceVersion must be set; a stale one is ErrorKind::Conflict.
  KubeResult<Json> update(const ResourceType& type, const Json& object);
  // PUT to the status subresource: only .status is taken.
  KubeResult<Json> updateStatus(const ResourceType& type, const Json& object);
  KubeResult<Json> patch(const ResourceType& type, std::string_view namespace_, std::string_view name,
                         PatchType patchType, const Json& patch, std::string_view subresource = {});
  // The object as it was deleted (or the Status the server returned).
  KubeResult<Json> remove(const ResourceType& type, std::string_view namespace_, std::string_view name,
                          const Preconditions& preconditions = {});
  KubeResult<std::unique_ptr<WatchStream>> watch(const ResourceType& type, const WatchOptions& options);
  // Any GET, for discovery ("/version", "/apis").
  KubeResult<Json> getPath(const std::string& path);

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- pure pieces (exposed for tests and fuzzing) --------------------------------------------------

// Splits a watch response body into events as its bytes arrive: each event is one JSON object
// {"type": ..., "object": {...}}, whitespace (the server's newline) between them. The body may be
// cut anywhere. An event larger than the limit, or one that is not an event, is an error; after an
// error the decoder is spent.
class WatchDecoder {
 public:
  explicit WatchDecoder(size_t maxEventBytes = 64 * 1024 * 1024) : maxEventBytes_(maxEventBytes) {}
  void feed(std::string_view bytes);
  // The next complete event, nullopt if more bytes are needed, or the error.
  KubeResult<std::optional<WatchEvent>> next();
  // Whether bytes of an incomplete event are waiting.
  bool partial() const;

 private:
  std::string buffer_;
  size_t scanned_ = 0;  // how far the current object has been scanned
  size_t start_ = 0;    // where the current object starts
  int depth_ = 0;
  bool inString_ = false;
  bool escaped_ = false;
  bool failed_ = false;
  size_t maxEventBytes_;
};

// Decodes one event object (as the decoder splits them).
KubeResult<WatchEvent> decodeWatchEvent(std::string_view text);

// A token bucket: `qps` tokens a second, at most `burst` kept. take() returns how long the caller
// must wait before its request may go (zero when a token was there).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double qps, int burst, Clock::time_point now);
  Clock::duration take(Clock::time_point now);

 private:
  double qps_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace tartan::kube
