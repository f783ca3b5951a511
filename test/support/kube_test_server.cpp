// The test API server's HTTP side: TLS, authentication, routing, discovery, watch streams.
// See kube_test_server.hpp for what it serves and why it is a fake.
#include "support/kube_test_server.hpp"

#include "support/kube_test_table.hpp"
#include "support/openapi_schema.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tartan::test {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Stream = beast::ssl_stream<tcp::socket>;

std::string percentDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (text[i] == '+') {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

struct Connection {
  std::thread thread;
  std::atomic<bool> done{false};
  int fd = -1;
};

std::string base64(const std::string& text) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    unsigned n = (unsigned char)text[i] << 16 | (unsigned char)text[i + 1] << 8 | (unsigned char)text[i + 2];
    for (int s : {18, 12, 6, 0}) out += table[(n >> s) & 63];
  }
  if (i + 1 == text.size()) {
    unsigned n = (unsigned char)text[i] << 16;
    out += std::string{table[(n >> 18) & 63], table[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == text.size()) {
    unsigned n = (unsigned char)text[i] << 16 | (unsigned char)text[i + 1] << 8;
    out += std::string{table[(n >> 18) & 63], table[(n >> 12) & 63], table[(n >> 6) & 63], '='};
  }
  return out;
}

}  // namespace

struct KubeTestServer::Impl {
  Options options;
  TestPki pki;
  KubeTestStore store;
  ssl::context context{ssl::context::tls_server};
  uint16_t port = 0;

  net::io_context ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread acceptThread;
  std::atomic<bool> stopping{false};
  std::atomic<int> watchGeneration{0};
  std::atomic<int> openWatches{0};
  std::atomic<int> accepted{0};

  mutable std::mutex mutex;  // guards what follows
  std::vector<std::string> tokens;
  std::vector<std::string> requestLog;
  std::list<std::shared_ptr<Connection>> connections;
  std::function<void(const std::string&)> hook;

  explicit Impl(Options o)
      : options(std::move(o)), pki(TestPki::generate(options.serverNames)), tokens(options.tokens) {
    context.use_certificate_chain(net::buffer(pki.server.certPem));
    context.use_private_key(net::buffer(pki.server.keyPem), ssl::context::pem);
    context.add_certificate_authority(net::buffer(pki.ca.certPem));
    // A client certificate is asked for, not required: a token is the other way in.
    context.set_verify_mode(ssl::verify_peer);
  }

  void listen() {
    acceptor = std::make_unique<tcp::acceptor>(ioc);
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    acceptor->open(endpoint.protocol());
    acceptor->set_option(net::socket_base::reuse_address(true));
    acceptor->bind(endpoint);
    acceptor->listen();
    port = acceptor->local_endpoint().port();
    stopping = false;
    acceptThread = std::thread([this] { acceptLoop(); });
  }

  void acceptLoop() {
    for (;;) {
      tcp::socket socket(ioc);
      beast::error_code ec;
      acceptor->accept(socket, ec);
      if (stopping) return;
      if (ec) continue;
      ++accepted;
      auto connection = std::make_shared<Connection>();
      connection->fd = socket.native_handle();
      std::lock_guard lock(mutex);
      for (auto it = connections.begin(); it != connections.end();) {
        if ((*it)->done) {
          (*it)->thread.join();
          it = connections.erase(it);
        } else {
          ++it;
        }
      }
      connection->thread = std::thread([this, connection, s = std::move(socket)]() mutable {
        serve(std::move(s));
        connection->done = true;
      });
      connections.push_back(connection);
    }
  }

  // Ends the listener and every connection (a blocked read returns when its socket is shut down).
  void shutdown() {
    if (!acceptor) return;
    stopping = true;
    ::shutdown(acceptor->native_handle(), SHUT_RDWR);
    acceptThread.join();
    acceptor->close();
    acceptor.reset();
    std::list<std::shared_ptr<Connection>> all;
    {
      std::lock_guard lock(mutex);
      for (auto& c : connections) ::shutdown(c->fd, SHUT_RDWR);
      all.swap(connections);
    }
    for (auto& c : all) c->thread.join();
  }

  bool authorized(const http::request<http::string_body>& req, bool clientCertificate) {
    if (clientCertificate) return true;
    const std::string auth(req[http::field::authorization]);
    if (auth.rfind("Bearer ", 0) != 0) return false;
    std::lock_guard lock(mutex);
    for (const std::string& t : tokens) {
      if (auth.substr(7) == t) return true;
    }
    return false;
  }

  void serve(tcp::socket socket) {
    Stream stream(std::move(socket), context);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    bool certificate = false;
    if (X509* peer = SSL_get1_peer_certificate(stream.native_handle())) {
      certificate = SSL_get_verify_result(stream.native_handle()) == X509_V_OK;
      X509_free(peer);
    }
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(std::uint64_t{64} * 1024 * 1024);
      http::read(stream, buffer, parser, ec);
      if (ec || stopping) return;
      const auto& req = parser.get();
      const std::string line = std::string(req.method_string()) + " " + std::string(req.target());
      std::function<void(const std::string&)> onRequest;
      {
        std::lock_guard lock(mutex);
        requestLog.push_back(line);
        onRequest = hook;
      }
      if (onRequest) onRequest(line);
      if (!authorized(req, certificate)) {
        if (!respond(stream, req, 401, statusBody(401, "Unauthorized", "Unauthorized"))) return;
        continue;
      }
      if (!handle(stream, req)) return;
      if (!req.keep_alive()) return;
    }
  }

  bool respond(Stream& stream, const http::request<http::string_body>& req, int status, const Json& body) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = body.dump();
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream, res, ec);
    return !ec;
  }

  Json resourceList(const std::string& groupVersion) {
    Json list = Json::array();
    for (const ApiResource& r : store.resources()) {
      if (r.apiVersion() != groupVersion) continue;
      list.push_back({{"name", r.plural},
                      {"singularName", r.singular},
                      {"namespaced", r.namespaced},
                      {"kind", r.kind},
                      {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}},
                      {"shortNames", r.shortNames}});
      if (r.statusSubresource) {
        list.push_back({{"name", r.plural + "/status"},
                        {"singularName", ""},
                        {"namespaced", r.namespaced},
                        {"kind", r.kind},
                        {"verbs", {"get", "patch", "update"}}});
      }
    }
    return {{"kind", "APIResourceList"},
            {"apiVersion", "v1"},
            {"groupVersion", groupVersion},
            {"resources", list}};
  }

  Json groupList() {
    std::map<std::string, std::set<std::string>> groups;
    for (const ApiResource& r : store.resources()) {
      if (!r.group.empty()) groups[r.group].insert(r.version);
    }
    Json out = Json::array();
    for (const auto& [name, versions] : groups) out.push_back(group(name, versions));
    return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", out}};
  }

  static Json group(const std::string& name, const std::set<std::string>& versions) {
    Json list = Json::array();
    for (const std::string& v : versions) {
      std::string groupVersion = name;
      groupVersion += "/" + v;
      list.push_back({{"groupVersion", groupVersion}, {"version", v}});
    }
    return {{"kind", "APIGroup"},
            {"apiVersion", "v1"},
            {"name", name},
            {"versions", list},
            {"preferredVersion", list[0]}};
  }

  // OpenAPI v3, only as far as kubectl reads it: the root names a document per group/version,
  // and each document has the PATCH operation of every kind with its fieldValidation parameter,
  // which tells kubectl to have the server validate (see strictProblem) instead of downloading
  // schemas. No schemas are served.
  Json openApiRoot() {
    Json paths = Json::object();
    for (const ApiResource& r : store.resources()) {
      const std::string gv = r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
      paths[gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + std::to_string(store.revision())}};
    }
    return {{"paths", paths}};
  }

  Json openApiGroupVersion(const std::string& gv) {
    Json paths = Json::object();
    for (const ApiResource& r : store.resources()) {
      const std::string mine = r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
      if (mine != gv) continue;
      const std::string item =
          "/" + gv + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.plural + "/{name}";
      paths[item] = {{"patch",
                      {{"x-kubernetes-group-version-kind",
                        {{"group", r.group}, {"version", r.version}, {"kind", r.kind}}},
                       {"parameters",
                        {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
                       {"responses", {{"200", {{"description", "OK"}}}}}}}};
    }
    if (paths.empty()) return nullptr;
    return {
        {"openapi", "3.0.0"}, {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}}, {"paths", paths}};
  }

  // fieldValidation=Strict, as far as this fake knows the schema: the top level of every kind,
  // ObjectMeta, and the whole of a custom resource (its CRD's schema). An unknown field there is
  // refused as the API server refuses it.
  static std::optional<std::string> strictProblem(const ApiResource& r, const Json& object) {
    if (!object.is_object()) return std::nullopt;
    static const std::set<std::string> top = {"apiVersion", "kind", "metadata", "spec", "status"};
    static const std::map<std::string, std::set<std::string>> extra = {
        {"ServiceAccount", {"secrets", "imagePullSecrets", "automountServiceAccountToken"}},
        {"EndpointSlice", {"addressType", "endpoints", "ports"}}};
    static const std::set<std::string> objectMeta = {"name",
                                                     "generateName",
                                                     "namespace",
                                                     "uid",
                                                     "resourceVersion",
                                                     "generation",
                                                     "creationTimestamp",
                                                     "deletionTimestamp",
                                                     "deletionGracePeriodSeconds",
                                                     "labels",
                                                     "annotations",
                                                     "ownerReferences",
                                                     "finalizers",
                                                     "managedFields",
                                                     "selfLink"};
    for (const auto& [key, value] : object.items()) {
      auto kindExtra = extra.find(r.kind);
      if (!top.count(key) && (kindExtra == extra.end() || !kindExtra->second.count(key))) {
        return "strict decoding error: unknown field \"" + key + "\"";
      }
    }
    if (object.contains("metadata") && object["metadata"].is_object()) {
      for (const auto& [key, value] : object["metadata"].items()) {
        if (!objectMeta.count(key)) return "strict decoding error: unknown field \"metadata." + key + "\"";
      }
    }
    if (r.schema.is_object()) {  // a custom resource: its CRD's schema says what is known
      Json copy = object;
      std::string unknown;
      for (const std::string& field : checkAgainstSchema(r.schema, copy).unknownFields) {
        unknown += (unknown.empty() ? "" : ", ") + std::string("unknown field \"") + field + "\"";
      }
      if (!unknown.empty()) return "strict decoding error: " + unknown;
    }
    return std::nullopt;
  }

  // False when the connection must close.
  bool handle(Stream& stream, const http::request<http::string_body>& req) {
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    std::map<std::string, std::string> query;
    if (auto q = target.find('?'); q != std::string::npos) {
      for (const std::string& pair : split(target.substr(q + 1), '&')) {
        auto eq = pair.find('=');
        query[percentDecode(pair.substr(0, eq))] =
            eq == std::string::npos ? "" : percentDecode(pair.substr(eq + 1));
      }
    }
    const std::string method(req.method_string());
    if (path == "/version") {
      return respond(stream, req, 200,
                     {{"major", "1"},
                      {"minor", "32"},
                      {"gitVersion", "v1.32.0-tartan-test"},
                      {"platform", "linux/amd64"}});
    }
    if (path == "/api") {
      return respond(
          stream, req, 200,
          {{"kind", "APIVersions"},
           {"versions", {"v1"}},
           {"serverAddressByClientCIDRs",
            {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:" + std::to_string(port)}}}}});
    }
    if (path == "/apis") return respond(stream, req, 200, groupList());
    if (path == "/openapi/v3") return respond(stream, req, 200, openApiRoot());
    if (path.rfind("/openapi/v3/", 0) == 0) {
      Json doc = openApiGroupVersion(path.substr(std::string("/openapi/v3/").size()));
      if (doc.is_null()) {
        return respond(stream, req, 404,
                       statusBody(404, "NotFound", "the server could not find the requested resource"));
      }
      return respond(stream, req, 200, doc);
    }
    if (path == "/api/v1") return respond(stream, req, 200, resourceList("v1"));
    std::vector<std::string> parts = split(path.substr(1), '/');
    if (!parts.empty() && parts.back().empty()) parts.pop_back();
    size_t at = 0;
    std::string groupName, version;
    if (parts.size() >= 2 && parts[0] == "api") {
      version = parts[1];
      at = 2;
    } else if (parts.size() >= 2 && parts[0] == "apis") {
      groupName = parts[1];
      if (parts.size() == 2) {
        Json groups = groupList()["groups"];
        for (const Json& g : groups) {
          if (g["name"] == groupName) return respond(stream, req, 200, g);
        }
        return respond(stream, req, 404,
                       statusBody(404, "NotFound", "the server could not find the requested resource"));
      }
      version = parts[2];
      at = 3;
      if (parts.size() == 3) {
        Json list = resourceList(groupName + "/" + version);
        if (list["resources"].empty()) {
          return respond(stream, req, 404,
                         statusBody(404, "NotFound", "the server could not find the requested resource"));
        }
        return respond(stream, req, 200, list);
      }
    } else {
      return respond(stream, req, 404,
                     statusBody(404, "NotFound", "the server could not find the requested resource"));
    }
    // [namespaces/NS/]PLURAL[/NAME[/status]]
    std::vector<std::string> rest(parts.begin() + static_cast<long>(at), parts.end());
    std::string ns;
    if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status") {
      ns = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
    std::optional<ApiResource> r = rest.empty() ? std::nullopt : store.find(groupName, version, rest[0]);
    if (!r || rest.size() > 3 || (rest.size() == 3 && (rest[2] != "status" || !r->statusSubresource)) ||
        (!ns.empty() && !r->namespaced)) {
      return respond(stream, req, 404,
                     statusBody(404, "NotFound", "the server could not find the requested resource"));
    }
    const std::string name = rest.size() >= 2 ? rest[1] : "";
    const bool status = rest.size() == 3;
    Json body = Json::parse(req.body().empty() ? "null" : req.body(), nullptr, false);
    if (body.is_discarded())
      return respond(stream, req, 400, statusBody(400, "BadRequest", "the body is not JSON"));
    if (query["fieldValidation"] == "Strict" && (method == "POST" || method == "PUT")) {
      if (auto problem = strictProblem(*r, body))
        return respond(stream, req, 400, statusBody(400, "BadRequest", *problem));
    }
    ApiOutcome out;
    if (method == "GET" && name.empty()) {
      Selector selector{query["labelSelector"], query["fieldSelector"]};
      if (auto problem = selector.check())
        return respond(stream, req, 400, statusBody(400, "BadRequest", *problem));
      if (query["watch"] == "true" || query["watch"] == "1") {
        const int timeout = query.count("timeoutSeconds") ? std::stoi(query["timeoutSeconds"]) : 1800;
        serveWatch(stream, *r, ns, selector, query["resourceVersion"], query["allowWatchBookmarks"] == "true",
                   timeout);
        return false;
      }
      out = store.list(*r, ns, selector, query.count("limit") ? std::stoll(query["limit"]) : 0,
                       query["continue"]);
    } else if (method == "GET") {
      out = store.get(*r, ns, name);
    } else if (method == "POST" && name.empty()) {
      out = store.create(*r, ns, body);
    } else if (method == "PUT" && !name.empty()) {
      out = store.update(*r, ns, name, body, status);
    } else if (method == "PATCH" && !name.empty()) {
      out = store.patch(*r, ns, name, std::string(req[http::field::content_type]), req.body(), status);
    } else if (method == "DELETE" && !name.empty() && !status) {
      out = store.remove(*r, ns, name, body);
    } else {
      out = {405, statusBody(405, "MethodNotAllowed", method + " is not supported on " + path)};
    }
    // kubectl get asks for a Table; a CRD's printer columns make one, as the API server's do.
    if (method == "GET" && out.status == 200 && r->columns.is_array() && !r->columns.empty() &&
        std::string(req[http::field::accept]).find("as=Table") != std::string::npos) {
      out.body = printerTable(r->columns, out.body);
    }
    return respond(stream, req, out.status, out.body);
  }

  void serveWatch(Stream& stream, const ApiResource& r, const std::string& ns, const Selector& selector,
                  const std::string& resourceVersion, bool bookmarks, int timeoutSeconds) {
    beast::error_code ec;
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.chunked(true);
    http::response_serializer<http::empty_body> serializer{res};
    http::write_header(stream, serializer, ec);
    if (ec) return;
    auto send = [&](const std::string& type, const Json& object) {
      const std::string line = Json{{"type", type}, {"object", object}}.dump() + "\n";
      net::write(stream, http::make_chunk(net::buffer(line)), ec);
      return !ec;
    };
    auto inScope = [&](const Json& object) {
      if (object.is_null()) return false;
      if (r.namespaced && !ns.empty() && object["metadata"].value("namespace", "") != ns) return false;
      return selector.matches(object);
    };
    ++openWatches;
    struct Count {
      std::atomic<int>& n;
      ~Count() { --n; }
    } count{openWatches};
    int64_t cursor = 0;
    if (resourceVersion.empty() || resourceVersion == "0") {
      auto [objects, revision] = store.snapshot(r, ns);
      for (const Json& object : objects) {
        if (inScope(object) && !send("ADDED", object)) return;
      }
      cursor = revision;
    } else {
      try {
        cursor = std::stoll(resourceVersion);
      } catch (const std::exception&) {
        send("ERROR", statusBody(400, "BadRequest", "invalid resourceVersion " + resourceVersion));
        net::write(stream, http::make_chunk_last(), ec);
        return;
      }
    }
    const int generation = watchGeneration.load();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    auto nextBookmark = std::chrono::steady_clock::now() + options.bookmarkInterval;
    auto cut = [&] {
      if (!stopping && watchGeneration.load() == generation) return false;
      // No final chunk, as a connection that breaks; nothing is sent after the cut was asked for.
      beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(stream).close(ec);
      return true;
    };
    for (;;) {
      if (cut()) return;
      if (std::chrono::steady_clock::now() >= deadline) break;
      auto changes = store.changesAfter(r.id(), cursor, std::chrono::milliseconds(100));
      if (cut()) return;
      if (!changes) {
        send("ERROR", statusBody(410, "Expired", "too old resource version: " + std::to_string(cursor)));
        break;
      }
      for (const StoredEvent& e : changes->events) {
        const bool now = e.type != "DELETED" && inScope(e.object);
        const bool before = e.type == "DELETED" ? inScope(e.object) : inScope(e.previous);
        std::string type;
        if (now && before) type = "MODIFIED";
        if (now && !before) type = "ADDED";
        if (!now && before) type = "DELETED";
        if (!type.empty() && !send(type, e.object)) return;
      }
      cursor = changes->revision;
      if (bookmarks && std::chrono::steady_clock::now() >= nextBookmark) {
        if (!send("BOOKMARK", {{"kind", r.kind},
                               {"apiVersion", r.apiVersion()},
                               {"metadata", {{"resourceVersion", std::to_string(cursor)}}}})) {
          return;
        }
        nextBookmark = std::chrono::steady_clock::now() + options.bookmarkInterval;
      }
    }
    net::write(stream, http::make_chunk_last(), ec);
  }
};

KubeTestServer::KubeTestServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->listen();
}

KubeTestServer::~KubeTestServer() {
  try {
    stop();
  } catch (const std::exception&) {
    // A thread that cannot be joined at exit: nothing more a destructor can do.
  }
}

uint16_t KubeTestServer::port() const { return impl_->port; }
std::string KubeTestServer::url() const { return "https://127.0.0.1:" + std::to_string(impl_->port); }
const TestPki& KubeTestServer::pki() const { return impl_->pki; }
KubeTestStore& KubeTestServer::store() { return impl_->store; }

void KubeTestServer::setTokens(std::vector<std::string> tokens) {
  std::lock_guard lock(impl_->mutex);
  impl_->tokens = std::move(tokens);
}

void KubeTestServer::compact() { impl_->store.compact(); }
void KubeTestServer::breakWatches() { ++impl_->watchGeneration; }

void KubeTestServer::restart() {
  impl_->shutdown();
  impl_->listen();
}

void KubeTestServer::stop() { impl_->shutdown(); }

void KubeTestServer::onRequest(std::function<void(const std::string& request)> hook) {
  std::lock_guard lock(impl_->mutex);
  impl_->hook = std::move(hook);
}

int KubeTestServer::openWatches() const { return impl_->openWatches.load(); }
int KubeTestServer::acceptedConnections() const { return impl_->accepted.load(); }

std::vector<std::string> KubeTestServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requestLog;
}

void KubeTestServer::writeKubeconfig(const std::string& path, const std::string& token) const {
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
      << "clusters:\n- name: test\n  cluster:\n    server: " << url()
      << "\n    certificate-authority-data: " << base64(impl_->pki.ca.certPem) << "\n"
      << "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: default\n"
      << "users:\n- name: test\n  user:\n";
  if (token.empty()) {
    out << "    client-certificate-data: " << base64(impl_->pki.client.certPem) << "\n"
        << "    client-key-data: " << base64(impl_->pki.client.keyPem) << "\n";
  } else {
    out << "    token: " << token << "\n";
  }
}

}  // namespace tartan::test
