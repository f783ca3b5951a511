// The client's configuration: a kubeconfig file (strictly parsed), the pod it runs in, or the
// order Calico's components look for them in.
#include "tartan/kube/client.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace tartan::kube {
namespace {

// A string result (a std::string also converts to Error, so it is named as the value).
Result<std::string> ok(std::string text) {
  return Result<std::string>(boost::system::in_place_value, std::move(text));
}

// What a person typed, fit for a one-line message: control characters escaped, long text cut.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return text.size() > 200 ? out + "..." : out;
}

// Certificates, keys and tokens are small: a file that is not a regular file (a device, a fifo)
// or is larger than this is refused rather than read.
constexpr std::uintmax_t kFileLimit = 1 << 20;

Result<std::string> readFile(const std::string& path, const std::string& where, const std::string& field) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return makeError(where, field, "cannot read " + printable(path));
  if (std::filesystem::file_size(path, ec) > kFileLimit || ec) {
    return makeError(where, field, printable(path) + " is larger than 1 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(where, field, "cannot read " + printable(path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return makeError(where, field, "cannot read " + printable(path));
  return ok(text.str());
}

// Standard base64 (RFC 4648 §4), padding required, no whitespace but line breaks.
std::optional<std::string> decodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string clean;
  for (char c : text) {
    if (c != '\n' && c != '\r') clean += c;
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < clean.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = clean[i + j];
      if (c == '=' && i + 4 == clean.size() && j >= 2) {
        v[j] = 0;
        ++pad;
      } else if (pad > 0 || (v[j] = value(c)) < 0) {
        return std::nullopt;
      }
    }
    const unsigned n =
        (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
    out += char(n >> 16);
    if (pad < 2) out += char((n >> 8) & 0xff);
    if (pad < 1) out += char(n & 0xff);
  }
  return out;
}

// Reads one YAML mapping, refusing fields it does not know; known fields not supported are
// refused by name.
class Fields {
 public:
  Fields(const YAML::Node& node, std::string where, std::string path)
      : node_(node), where_(std::move(where)), path_(std::move(path)) {}

  Error error(const std::string& field, const std::string& what) const {
    return makeError(where_, join(field), what);
  }
  std::string join(const std::string& field) const {
    return path_.empty() ? printable(field) : path_ + "." + printable(field);
  }

  // The keys of the mapping that are not among `known` (the first one), or an error if the node is
  // not a mapping.
  std::optional<Error> check(const std::set<std::string>& known,
                             const std::set<std::string>& unsupported) const {
    if (!node_.IsMap()) return makeError(where_, path_.empty() ? "(document)" : path_, "must be a mapping");
    for (const auto& entry : node_) {
      if (!entry.first.IsScalar()) return makeError(where_, path_, "a key is not a string");
      const std::string key = entry.first.Scalar();
      if (unsupported.count(key)) return error(key, "is not supported by this client");
      if (!known.count(key)) return error(key, "unknown field");
    }
    return std::nullopt;
  }

  Result<std::string> string(const std::string& field) const {
    const YAML::Node v = node_[field];
    if (!v || v.IsNull()) return ok({});
    if (!v.IsScalar()) return error(field, "must be a string");
    return ok(v.Scalar());
  }
  Result<bool> boolean(const std::string& field) const {
    const YAML::Node v = node_[field];
    if (!v || v.IsNull()) return false;
    if (!v.IsScalar() || (v.Scalar() != "true" && v.Scalar() != "false")) {
      return error(field, "must be true or false");
    }
    return v.Scalar() == "true";
  }
  YAML::Node operator[](const std::string& field) const { return node_[field]; }

 private:
  YAML::Node node_;
  std::string where_;
  std::string path_;
};

// The named entries of a clusters/contexts/users list: name → (index, the inner mapping).
Result<std::map<std::string, std::pair<size_t, YAML::Node>>> namedList(const Fields& top,
                                                                       const std::string& list,
                                                                       const std::string& inner,
                                                                       const std::string& where) {
  std::map<std::string, std::pair<size_t, YAML::Node>> out;
  const YAML::Node node = top[list];
  if (!node || node.IsNull()) return out;
  if (!node.IsSequence()) return top.error(list, "must be a list");
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = list + "[" + std::to_string(i) + "]";
    Fields entry(node[i], where, path);
    if (auto bad = entry.check({"name", inner, "extensions"}, {})) return *bad;
    auto name = entry.string("name");
    if (!name) return name.error();
    if (name->empty()) return entry.error("name", "must be set");
    if (out.count(*name)) return entry.error("name", "\"" + printable(*name) + "\" is defined twice");
    if (!node[i][inner] || !node[i][inner].IsMap()) return entry.error(inner, "must be a mapping");
    out.emplace(*name, std::make_pair(i, node[i][inner]));
  }
  return out;
}

// A PEM from either FIELD-data (base64) or FIELD (a file); both is an error, as in client-go.
Result<std::string> pemFrom(const Fields& f, const std::string& field, const std::string& baseDir,
                            const std::string& where) {
  auto data = f.string(field + "-data");
  if (!data) return data.error();
  auto file = f.string(field);
  if (!file) return file.error();
  if (!data->empty() && !file->empty())
    return f.error(field, "both " + field + " and " + field + "-data are set");
  if (!data->empty()) {
    auto decoded = decodeBase64(*data);
    if (!decoded) return f.error(field + "-data", "is not base64");
    if (decoded->find("-----BEGIN") == std::string::npos) return f.error(field + "-data", "is not PEM");
    return ok(*decoded);
  }
  if (file->empty()) return ok({});
  const std::filesystem::path path = std::filesystem::path(*file).is_absolute()
                                         ? std::filesystem::path(*file)
                                         : std::filesystem::path(baseDir) / *file;
  auto pem = readFile(path.string(), where, f.join(field));
  if (!pem) return pem.error();
  if (pem->find("-----BEGIN") == std::string::npos)
    return f.error(field, printable(path.string()) + " is not PEM");
  return ok(*pem);
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  return text.substr(i);
}

}  // namespace

Result<Config> parseKubeconfig(std::string_view text, const std::string& where, const std::string& baseDir,
                               std::string_view contextName) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return makeError(where + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
                     "", "not YAML: " + printable(e.msg));
  }
  Fields top(root, where, "");
  if (auto bad = top.check({"apiVersion", "kind", "clusters", "contexts", "users", "current-context",
                            "preferences", "extensions"},
                           {})) {
    return *bad;
  }
  auto apiVersion = top.string("apiVersion");
  if (!apiVersion) return apiVersion.error();
  if (!apiVersion->empty() && *apiVersion != "v1") return top.error("apiVersion", "must be v1");
  auto kind = top.string("kind");
  if (!kind) return kind.error();
  if (!kind->empty() && *kind != "Config") return top.error("kind", "must be Config");

  auto clusters = namedList(top, "clusters", "cluster", where);
  if (!clusters) return clusters.error();
  auto contexts = namedList(top, "contexts", "context", where);
  if (!contexts) return contexts.error();
  auto users = namedList(top, "users", "user", where);
  if (!users) return users.error();

  std::string chosen(contextName);
  std::string contextField = "(context given)";
  if (chosen.empty()) {
    auto current = top.string("current-context");
    if (!current) return current.error();
    if (current->empty()) return top.error("current-context", "is not set and no context was given");
    chosen = *current;
    contextField = "current-context";
  }
  auto ctx = contexts->find(chosen);
  if (ctx == contexts->end())
    return makeError(where, contextField, "no context named \"" + printable(chosen) + "\"");
  const std::string ctxPath = "contexts[" + std::to_string(ctx->second.first) + "].context";
  Fields context(ctx->second.second, where, ctxPath);
  if (auto bad = context.check({"cluster", "user", "namespace", "extensions"}, {})) return *bad;

  Config config;
  config.source = where;
  auto ns = context.string("namespace");
  if (!ns) return ns.error();
  if (!ns->empty()) config.namespace_ = *ns;

  auto clusterName = context.string("cluster");
  if (!clusterName) return clusterName.error();
  auto cl = clusters->find(*clusterName);
  if (cl == clusters->end())
    return context.error("cluster", "no cluster named \"" + printable(*clusterName) + "\"");
  Fields cluster(cl->second.second, where, "clusters[" + std::to_string(cl->second.first) + "].cluster");
  if (auto bad = cluster.check({"server", "certificate-authority", "certificate-authority-data",
                                "insecure-skip-tls-verify", "disable-compression", "extensions"},
                               {"proxy-url", "tls-server-name"})) {
    return *bad;
  }
  auto server = cluster.string("server");
  if (!server) return server.error();
  if (server->empty()) return cluster.error("server", "must be set");
  if (server->rfind("https://", 0) != 0) return cluster.error("server", "must be an https:// URL");
  config.server = *server;
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  auto ca = pemFrom(cluster, "certificate-authority", baseDir, where);
  if (!ca) return ca.error();
  config.caPem = *ca;
  auto insecure = cluster.boolean("insecure-skip-tls-verify");
  if (!insecure) return insecure.error();
  config.insecureSkipTlsVerify = *insecure;
  if (config.insecureSkipTlsVerify && !config.caPem.empty()) {
    return cluster.error("insecure-skip-tls-verify", "is set together with a certificate authority");
  }
  if (auto compression = cluster.boolean("disable-compression"); !compression) return compression.error();

  auto userName = context.string("user");
  if (!userName) return userName.error();
  if (!userName->empty()) {
    auto us = users->find(*userName);
    if (us == users->end()) return context.error("user", "no user named \"" + printable(*userName) + "\"");
    Fields user(us->second.second, where, "users[" + std::to_string(us->second.first) + "].user");
    if (auto bad = user.check({"client-certificate", "client-certificate-data", "client-key",
                               "client-key-data", "token", "tokenFile", "extensions"},
                              {"exec", "auth-provider", "username", "password", "as", "as-uid", "as-groups",
                               "as-user-extra"})) {
      return *bad;
    }
    auto cert = pemFrom(user, "client-certificate", baseDir, where);
    if (!cert) return cert.error();
    auto key = pemFrom(user, "client-key", baseDir, where);
    if (!key) return key.error();
    if (cert->empty() != key->empty()) {
      return user.error(cert->empty() ? "client-certificate" : "client-key",
                        "a client certificate needs both the certificate and its key");
    }
    config.clientCertPem = *cert;
    config.clientKeyPem = *key;
    auto token = user.string("token");
    if (!token) return token.error();
    config.token = *token;
    auto tokenFile = user.string("tokenFile");
    if (!tokenFile) return tokenFile.error();
    if (!tokenFile->empty()) {
      // As client-go: the file's token, re-read as it changes, takes precedence over `token`.
      const std::filesystem::path path = std::filesystem::path(*tokenFile).is_absolute()
                                             ? std::filesystem::path(*tokenFile)
                                             : std::filesystem::path(baseDir) / *tokenFile;
      auto first = readFile(path.string(), where, user.join("tokenFile"));
      if (!first) return first.error();
      config.tokenFile = path.string();
    }
  }
  return config;
}

Result<Config> loadKubeconfig(const std::string& path, std::string_view context) {
  auto text = readFile(path, path, "");
  if (!text) return text.error();
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return parseKubeconfig(*text, path, dir.empty() ? "." : dir, context);
}

Result<Config> inClusterConfig(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return makeError("in-cluster", "KUBERNETES_SERVICE_HOST/PORT", "not set: not running in a pod");
  }
  const std::string hostText(host);
  for (char c : std::string(port)) {
    if (c < '0' || c > '9') return makeError("in-cluster", "KUBERNETES_SERVICE_PORT", "not a port number");
  }
  Config config;
  config.source = "in-cluster";
  // An IPv6 service address is bracketed in the URL.
  config.server =
      "https://" + (hostText.find(':') != std::string::npos ? "[" + hostText + "]" : hostText) + ":" + port;
  auto token = readFile(paths.tokenFile, "in-cluster", "service account token");
  if (!token) return token.error();
  config.tokenFile = paths.tokenFile;
  auto ca = readFile(paths.caFile, "in-cluster", "service account CA");
  if (!ca) return ca.error();
  if (ca->find("-----BEGIN") == std::string::npos) {
    return makeError("in-cluster", "service account CA", paths.caFile + " is not PEM");
  }
  config.caPem = *ca;
  if (auto ns = readFile(paths.namespaceFile, "in-cluster", "namespace"); ns && !trimmed(*ns).empty()) {
    config.namespace_ = trimmed(*ns);
  }
  return config;
}

Result<Config> loadConfig(const std::optional<std::string>& kubeconfigFlag) {
  if (kubeconfigFlag && !kubeconfigFlag->empty()) return loadKubeconfig(*kubeconfigFlag);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string list(env);
    std::string first = list.substr(0, list.find(':'));
    if (first.empty()) return makeError("KUBECONFIG", "", "its first entry is empty");
    return loadKubeconfig(first);
  }
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host != nullptr && *host != '\0') {
    return inClusterConfig();
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    return makeError("kubeconfig", "", "no --kubeconfig, KUBECONFIG or HOME");
  return loadKubeconfig(std::string(home) + "/.kube/config");
}

}  // namespace tartan::kube
