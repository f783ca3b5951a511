// Kubeconfig parsing: what a good file gives, and a one-line error naming the file and the field
// for each bad one.
#include "util.hpp"

namespace tartan::kube {
namespace {

using testing::base64;
using testing::TempDir;

const std::string kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";

std::string kubeconfig(const std::string& cluster, const std::string& user, const std::string& extraTop = {},
                       const std::string& context = "    cluster: c1\n    user: u1\n") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n" + extraTop +
         "clusters:\n- name: c1\n  cluster:\n" + cluster + "contexts:\n- name: ctx\n  context:\n" + context +
         "- name: other\n  context:\n    cluster: c1\n    namespace: calico-system\n" +
         "users:\n- name: u1\n  user:\n" + user;
}

TEST_CASE("a kubeconfig gives the server, trust, credentials and namespace of its context",
          "[kube][kubeconfig]") {
  TempDir dir;
  dir.write("ca.crt", kPem);
  dir.write("client.crt", kPem);
  dir.write("client.key", kKey);
  dir.write("token", "file-token\n");
  const std::string server = "    server: https://10.0.0.1:6443\n";

  struct Case {
    std::string name;
    std::string text;
    std::string context;
    std::function<void(const Config&)> check;
  };
  const std::vector<Case> cases = {
      {"token and CA data",
       kubeconfig(server + "    certificate-authority-data: " + base64(kPem) + "\n", "    token: abc\n", "",
                  "    cluster: c1\n    user: u1\n    namespace: kube-system\n"),
       "",
       [](const Config& c) {
         CHECK(c.server == "https://10.0.0.1:6443");
         CHECK(c.caPem == kPem);
         CHECK(c.token == "abc");
         CHECK(c.namespace_ == "kube-system");
         CHECK_FALSE(c.insecureSkipTlsVerify);
       }},
      {"files relative to the kubeconfig",
       kubeconfig(server + "    certificate-authority: ca.crt\n",
                  "    client-certificate: client.crt\n    client-key: " + dir.file("client.key") + "\n"),
       "",
       [](const Config& c) {
         CHECK(c.caPem == kPem);
         CHECK(c.clientCertPem == kPem);
         CHECK(c.clientKeyPem == kKey);
         CHECK(c.namespace_ == "default");
       }},
      {"insecure-skip-tls-verify honoured when set",
       kubeconfig(server + "    insecure-skip-tls-verify: true\n", "    token: abc\n"), "",
       [](const Config& c) { CHECK(c.insecureSkipTlsVerify); }},
      {"a token file, re-read later, takes precedence",
       kubeconfig(server, "    token: fixed\n    tokenFile: token\n"), "",
       [&](const Config& c) { CHECK(c.tokenFile == dir.file("token")); }},
      {"another context chosen by name", kubeconfig(server, "    token: abc\n"), "other",
       [](const Config& c) {
         CHECK(c.namespace_ == "calico-system");
         CHECK(c.token.empty());
       }},
      {"extensions and preferences are allowed",
       kubeconfig(server + "    extensions: []\n", "    token: abc\n", "preferences: {}\n"), "",
       [](const Config& c) { CHECK(c.token == "abc"); }},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string path = dir.write("config", c.text);
      auto config = loadKubeconfig(path, c.context);
      INFO(c.text);
      REQUIRE(config);
      CHECK(config->source == path);
      c.check(*config);
    }
  }
}

TEST_CASE("a bad kubeconfig is refused with the file, the field and what is wrong", "[kube][kubeconfig]") {
  TempDir dir;
  dir.write("ca.crt", kPem);
  const std::string server = "    server: https://10.0.0.1:6443\n";
  struct Case {
    std::string name;
    std::string text;
    std::string field;  // the field path the error names
    std::string what;   // part of the message
  };
  const std::vector<Case> cases = {
      {"not YAML", "clusters: [\n", "", "not YAML"},
      {"not a mapping", "- a\n- b\n", "(document)", "must be a mapping"},
      {"unknown top-level field", kubeconfig(server, "    token: a\n", "clusterz: []\n"), "clusterz",
       "unknown field"},
      {"unknown cluster field", kubeconfig(server + "    sever: x\n", "    token: a\n"),
       "clusters[0].cluster.sever", "unknown field"},
      {"wrong kind", "apiVersion: v1\nkind: Pod\n", "kind", "must be Config"},
      {"no current context", "apiVersion: v1\nkind: Config\n", "current-context", "is not set"},
      {"a current context that is not defined", "apiVersion: v1\nkind: Config\ncurrent-context: nope\n",
       "current-context", "no context named \"nope\""},
      {"a context naming no cluster",
       kubeconfig(server, "    token: a\n", "", "    cluster: c9\n    user: u1\n"),
       "contexts[0].context.cluster", "no cluster named \"c9\""},
      {"a context naming no user",
       kubeconfig(server, "    token: a\n", "", "    cluster: c1\n    user: u9\n"),
       "contexts[0].context.user", "no user named \"u9\""},
      {"no server", kubeconfig("    insecure-skip-tls-verify: true\n", "    token: a\n"),
       "clusters[0].cluster.server", "must be set"},
      {"a plain http server", kubeconfig("    server: http://10.0.0.1:8080\n", "    token: a\n"),
       "clusters[0].cluster.server", "https://"},
      {"CA data that is not base64",
       kubeconfig(server + "    certificate-authority-data: '***'\n", "    token: a\n"),
       "clusters[0].cluster.certificate-authority-data", "not base64"},
      {"CA data that is not PEM",
       kubeconfig(server + "    certificate-authority-data: " + base64("hello") + "\n", "    token: a\n"),
       "clusters[0].cluster.certificate-authority-data", "not PEM"},
      {"CA as file and data",
       kubeconfig(server + "    certificate-authority: ca.crt\n    certificate-authority-data: " +
                      base64(kPem) + "\n",
                  "    token: a\n"),
       "clusters[0].cluster.certificate-authority", "both"},
      {"a CA file that is missing",
       kubeconfig(server + "    certificate-authority: missing.crt\n", "    token: a\n"),
       "clusters[0].cluster.certificate-authority", "cannot read"},
      {"insecure-skip-tls-verify that is not a boolean",
       kubeconfig(server + "    insecure-skip-tls-verify: yes\n", "    token: a\n"),
       "clusters[0].cluster.insecure-skip-tls-verify", "true or false"},
      {"insecure together with a CA",
       kubeconfig(server + "    certificate-authority: ca.crt\n    insecure-skip-tls-verify: true\n",
                  "    token: a\n"),
       "clusters[0].cluster.insecure-skip-tls-verify", "certificate authority"},
      {"an exec credential plugin", kubeconfig(server, "    exec: {command: aws}\n"), "users[0].user.exec",
       "not supported"},
      {"a client certificate without its key", kubeconfig(server, "    client-certificate: ca.crt\n"),
       "users[0].user.client-key", "both the certificate and its key"},
      {"a token that is not a string", kubeconfig(server, "    token: [a]\n"), "users[0].user.token",
       "must be a string"},
      {"a token file that is missing", kubeconfig(server, "    tokenFile: nowhere\n"),
       "users[0].user.tokenFile", "cannot read"},
      {"a cluster defined twice",
       "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: c1\n  cluster: {server: "
       "'https://a'}\n- name: c1\n  cluster: {server: 'https://b'}\n",
       "clusters[1].name", "defined twice"},
      {"clusters that are not a list", "apiVersion: v1\nkind: Config\nclusters: {}\n", "clusters",
       "must be a list"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string path = dir.write("config", c.text);
      auto config = loadKubeconfig(path);
      INFO(c.text);
      REQUIRE_FALSE(config);
      const Error& error = config.error();
      CHECK(error.where.rfind(path, 0) == 0);
      CHECK(error.field == c.field);
      CHECK_THAT(error.what, Catch::Contains(c.what));
      CHECK(error.toString().find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("in-cluster configuration comes from the service environment and the service account files",
          "[kube][kubeconfig]") {
  TempDir dir;
  InClusterPaths paths{dir.write("token", "sa-token\n"), dir.write("ca.crt", kPem),
                       dir.write("namespace", "calico-system")};
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = inClusterConfig(paths);
  REQUIRE(config);
  CHECK(config->server == "https://[fd00::1]:443");
  CHECK(config->tokenFile == paths.tokenFile);
  CHECK(config->caPem == kPem);
  CHECK(config->namespace_ == "calico-system");

  ::setenv("KUBERNETES_SERVICE_PORT", "https", 1);
  CHECK_FALSE(inClusterConfig(paths));
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  auto outside = inClusterConfig(paths);
  REQUIRE_FALSE(outside);
  CHECK_THAT(outside.error().what, Catch::Contains("not running in a pod"));
}

TEST_CASE("the --kubeconfig flag comes before KUBECONFIG", "[kube][kubeconfig]") {
  TempDir dir;
  const std::string a = dir.write("a", kubeconfig("    server: https://a:1\n", "    token: a\n"));
  const std::string b = dir.write("b", kubeconfig("    server: https://b:2\n", "    token: b\n"));
  ::setenv("KUBECONFIG", (b + ":" + a).c_str(), 1);
  auto fromEnv = loadConfig(std::nullopt);
  REQUIRE(fromEnv);
  CHECK(fromEnv->server == "https://b:2");
  auto fromFlag = loadConfig(a);
  REQUIRE(fromFlag);
  CHECK(fromFlag->server == "https://a:1");
  ::unsetenv("KUBECONFIG");
}

}  // namespace
}  // namespace tartan::kube
