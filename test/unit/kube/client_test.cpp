// The client against the test API server: requests, errors as values, pagination, TLS and tokens.
#include "util.hpp"

#include "tartan/kube/reflector.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <set>

namespace tartan::kube {
namespace {

using testing::clientFor;
using testing::configFor;
using testing::named;
using testing::rv;
using testing::TempDir;

TEST_CASE("create, get, update, patch and delete follow the API's rules", "[kube][client]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "demo")));

  auto created = client->create(resources::pods(), named("Pod", "v1", "web", "demo"));
  REQUIRE(created);
  CHECK((*created)["metadata"]["uid"].is_string());
  auto fetched = client->get(resources::pods(), "demo", "web");
  REQUIRE(fetched);
  CHECK(rv(*fetched) == rv(*created));

  SECTION("a second create is AlreadyExists; a missing object is NotFound, with the API's message") {
    auto again = client->create(resources::pods(), named("Pod", "v1", "web", "demo"));
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == ErrorKind::AlreadyExists);
    CHECK(again.error().status == 409);
    auto missing = client->get(resources::pods(), "demo", "nope");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::NotFound);
    CHECK(missing.error().message == "pods \"nope\" in namespace \"demo\" not found");
    CHECK(missing.error().where == "GET /api/v1/namespaces/demo/pods/nope");
  }

  SECTION("an update with the current resourceVersion wins; one with a stale one is Conflict") {
    Json changed = *fetched;
    changed["metadata"]["labels"]["app"] = "web";
    auto updated = client->update(resources::pods(), changed);
    REQUIRE(updated);
    CHECK(std::stoll(rv(*updated)) > std::stoll(rv(*fetched)));
    changed["metadata"]["labels"]["app"] = "stale";
    auto stale = client->update(resources::pods(), changed);
    REQUIRE_FALSE(stale);
    CHECK(stale.error().kind == ErrorKind::Conflict);
    CHECK(stale.error().reason == "Conflict");
    CHECK_THAT(stale.error().message, Catch::Contains("the object has been modified"));
    CHECK((*client->get(resources::pods(), "demo", "web"))["metadata"]["labels"]["app"] == "web");
    // An update without a resourceVersion is refused before it is sent: it would not compare.
    Json blind = changed;
    blind["metadata"].erase("resourceVersion");
    auto refused = client->update(resources::pods(), blind);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::BadRequest);
  }

  SECTION("merge patch and JSON patch") {
    auto merged = client->patch(resources::pods(), "demo", "web", PatchType::Merge,
                                {{"metadata", {{"labels", {{"tier", "front"}, {"gone", "x"}}}}}});
    REQUIRE(merged);
    CHECK((*merged)["metadata"]["labels"]["tier"] == "front");
    auto jsonPatched = client->patch(resources::pods(), "demo", "web", PatchType::Json,
                                     Json::parse(R"([{"op":"remove","path":"/metadata/labels/gone"},
                                                    {"op":"replace","path":"/metadata/labels/tier","value":"back"}])"));
    REQUIRE(jsonPatched);
    CHECK((*jsonPatched)["metadata"]["labels"] == Json{{"tier", "back"}});
    auto bad = client->patch(resources::pods(), "demo", "web", PatchType::Json,
                             Json::parse(R"([{"op":"remove","path":"/metadata/labels/none"}])"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::Invalid);
  }

  SECTION("the status subresource writes only .status; the object itself keeps it") {
    Json withStatus = *fetched;
    withStatus["status"] = {{"phase", "Running"}, {"podIP", "10.65.0.2"}};
    withStatus["metadata"]["labels"]["ignored"] = "yes";
    auto statusWritten = client->updateStatus(resources::pods(), withStatus);
    REQUIRE(statusWritten);
    CHECK((*statusWritten)["status"]["podIP"] == "10.65.0.2");
    CHECK_FALSE((*statusWritten)["metadata"].contains("labels"));
    Json main = *statusWritten;
    main["status"] = {{"phase", "Failed"}};
    auto mainWritten = client->update(resources::pods(), main);
    REQUIRE(mainWritten);
    CHECK((*mainWritten)["status"]["phase"] == "Running");
    auto patched = client->patch(resources::pods(), "demo", "web", PatchType::Merge,
                                 {{"status", {{"phase", "Succeeded"}}}}, "status");
    REQUIRE(patched);
    CHECK((*patched)["status"]["phase"] == "Succeeded");
  }

  SECTION("delete honours uid and resourceVersion preconditions") {
    auto wrongUid =
        client->remove(resources::pods(), "demo", "web", {std::nullopt, std::string("other-uid")});
    REQUIRE_FALSE(wrongUid);
    CHECK(wrongUid.error().kind == ErrorKind::Conflict);
    CHECK_THAT(wrongUid.error().message, Catch::Contains("Precondition failed"));
    auto wrongRv = client->remove(resources::pods(), "demo", "web", {std::string("1"), std::nullopt});
    REQUIRE_FALSE(wrongRv);
    CHECK(wrongRv.error().kind == ErrorKind::Conflict);
    auto removed = client->remove(resources::pods(), "demo", "web",
                                  {rv(*fetched), (*fetched)["metadata"]["uid"].get<std::string>()});
    REQUIRE(removed);
    CHECK(client->get(resources::pods(), "demo", "web").error().kind == ErrorKind::NotFound);
  }
}

TEST_CASE("a CustomResourceDefinition makes its kind served", "[kube][client]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  const ResourceType tiers = resources::calico("tiers", "Tier", false);
  CHECK(client->list(tiers).error().kind == ErrorKind::NotFound);
  Json crd = named("CustomResourceDefinition", "apiextensions.k8s.io/v1", "tiers.crd.projectcalico.org");
  crd["spec"] = {
      {"group", "crd.projectcalico.org"},
      {"scope", "Cluster"},
      {"names", {{"plural", "tiers"}, {"singular", "tier"}, {"kind", "Tier"}, {"listKind", "TierList"}}},
      {"versions", {{{"name", "v1"}, {"served", true}, {"storage", true}}}}};
  REQUIRE(client->create(resources::customResourceDefinitions(), crd));
  Json tier = named("Tier", "crd.projectcalico.org/v1", "security");
  tier["spec"] = {{"order", 100}};
  REQUIRE(client->create(tiers, tier));
  auto listed = client->list(tiers);
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0]["spec"]["order"] == 100);
  CHECK(listed->items[0]["kind"] == "Tier");
  auto discovery = client->getPath("/apis/crd.projectcalico.org/v1");
  REQUIRE(discovery);
  CHECK((*discovery)["resources"][0]["name"] == "tiers");
}

TEST_CASE("list pages through limit and continue, with selectors", "[kube][client][list]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  for (const char* ns : {"a", "b"})
    REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", ns)));
  for (int i = 0; i < 25; ++i) {
    Json pod = named("Pod", "v1", "pod-" + std::to_string(100 + i), i % 2 ? "a" : "b");
    pod["metadata"]["labels"] = {{"parity", i % 2 ? "odd" : "even"}, {"index", std::to_string(i)}};
    REQUIRE(client->create(resources::pods(), pod));
  }
  struct Case {
    std::string name;
    ListOptions options;
    size_t items;
    int pages;
  };
  const std::vector<Case> cases = {
      {"every namespace, pages of 10", {"", "", "", 10}, 25, 3},
      {"one namespace", {"a", "", "", 5}, 12, 3},
      {"unpaginated", {"", "", "", 0}, 25, 1},
      {"a label selector", {"", "parity=even", "", 4}, 13, 4},
      {"a set-based label selector", {"", "index in (1,2,3),parity!=odd", "", 10}, 1, 1},
      {"a field selector", {"", "", "metadata.name=pod-107", 10}, 1, 1},
      {"a negated field selector", {"", "", "metadata.namespace!=a", 100}, 13, 1},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto listed = client->list(resources::pods(), c.options);
      REQUIRE(listed);
      CHECK(listed->items.size() == c.items);
      CHECK(listed->pages == c.pages);
      CHECK(listed->restarts == 0);
      CHECK(listed->resourceVersion == std::to_string(server.store().revision()));
      std::set<std::string> names;
      for (const Json& item : listed->items) names.insert(objectKey(item));
      CHECK(names.size() == c.items);
    }
  }
  SECTION("a selector the server cannot parse is BadRequest") {
    auto bad = client->list(resources::pods(), {"", "a in b", "", 10});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::BadRequest);
  }
}

TEST_CASE("a continue token that expired restarts the list, which still gives each object once",
          "[kube][client][list]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "a")));
  for (int i = 0; i < 25; ++i)
    REQUIRE(client->create(resources::pods(), named("Pod", "v1", "p" + std::to_string(i), "a")));
  std::atomic<int> compactions{0};
  server.onRequest([&](const std::string& request) {
    // The first continued page finds its snapshot compacted away.
    if (request.find("continue=") != std::string::npos && compactions++ == 0) {
      auto pods = *server.store().find("", "v1", "pods");
      server.store().create(pods, "a", named("Pod", "v1", "late", "a"));
      server.compact();
    }
  });
  auto listed = client->list(resources::pods(), {"a", "", "", 10});
  REQUIRE(listed);
  CHECK(listed->restarts == 1);
  CHECK(listed->items.size() == 26);
  std::set<std::string> names;
  for (const Json& item : listed->items) names.insert(objectKey(item));
  CHECK(names.size() == 26);
  CHECK(names.count("a/late"));
}

TEST_CASE("TLS is verified: a wrong CA or a certificate for another name fails, unless told to skip",
          "[kube][client][tls]") {
  test::KubeTestServer server;
  Config wrongCa = configFor(server);
  wrongCa.caPem = server.pki().otherCa.certPem;
  auto client = Client::create(wrongCa);
  REQUIRE(client);
  auto refused = (*client)->getPath("/version");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::Transport);
  CHECK_THAT(refused.error().message, Catch::Contains("certificate verify failed"));

  Config insecure = configFor(server);
  insecure.caPem.clear();
  insecure.insecureSkipTlsVerify = true;
  auto skipping = Client::create(insecure);
  REQUIRE(skipping);
  CHECK((*skipping)->getPath("/version"));

  test::KubeTestServer::Options elsewhere;
  elsewhere.serverNames = {"DNS:kubernetes.example"};
  test::KubeTestServer misnamed(elsewhere);
  auto namedClient = Client::create(configFor(misnamed));
  REQUIRE(namedClient);
  auto mismatch = (*namedClient)->getPath("/version");
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().kind == ErrorKind::Transport);
}

TEST_CASE("credentials: a bad token is Unauthorized; a client certificate from the kubeconfig is accepted",
          "[kube][client][auth]") {
  test::KubeTestServer server;
  auto wrong = clientFor(server, "wrong-token");
  auto refused = wrong->getPath("/api/v1/namespaces");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::Unauthorized);
  CHECK(refused.error().status == 401);

  TempDir dir;
  server.writeKubeconfig(dir.file("config"), "");
  auto config = loadKubeconfig(dir.file("config"));
  REQUIRE(config);
  CHECK(config->token.empty());
  auto client = Client::create(*config);
  REQUIRE(client);
  CHECK((*client)->getPath("/api/v1/namespaces"));
}

TEST_CASE("a rotated token file is read again: when it changes, and after a 401", "[kube][client][auth]") {
  test::KubeTestServer server(test::KubeTestServer::Options{{"token-1"}});
  TempDir dir;
  const std::string file = dir.write("token", "token-1\n");
  Config config = configFor(server, "");
  config.tokenFile = file;
  auto created = Client::create(config);
  REQUIRE(created);
  Client& client = **created;
  REQUIRE(client.getPath("/version"));

  // The kubelet replaces the file: a new inode is seen at the next request.
  server.setTokens({"token-2"});
  dir.write("token.new", "token-2\n");
  std::filesystem::rename(dir.file("token.new"), file);
  CHECK(client.getPath("/version"));

  // Rewritten in place with the same size and time: only the server's 401 tells.
  struct stat before {};
  REQUIRE(::stat(file.c_str(), &before) == 0);
  server.setTokens({"token-3"});
  { std::ofstream(file, std::ios::in | std::ios::out) << "token-3\n"; }
  const timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
  CHECK(client.getPath("/version"));
  const auto log = server.requests();
  CHECK(std::count(log.begin(), log.end(), "GET /version") == 4);
}

TEST_CASE("GETs reuse a kept-alive connection, and are sent again when the server closed it; writes are not",
          "[kube][client]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  for (int i = 0; i < 10; ++i) REQUIRE(client->getPath("/version"));
  CHECK(server.acceptedConnections() == 1);
  // The server drops every connection (as an idle timeout would): the next GET is sent again.
  server.restart();
  REQUIRE(client->getPath("/version"));
  CHECK(server.acceptedConnections() == 2);
  // Each write has a connection of its own.
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "a")));
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "b")));
  CHECK(server.acceptedConnections() == 4);
}

TEST_CASE("every request has a deadline: a server that never answers is a Timeout", "[kube][client]") {
  // A listening socket that accepts (in the kernel's backlog) and then says nothing.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  Config config;
  config.server = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  config.insecureSkipTlsVerify = true;
  config.timeout = std::chrono::milliseconds(300);
  auto client = Client::create(config);
  REQUIRE(client);
  auto silent = (*client)->getPath("/version");
  ::close(fd);
  REQUIRE_FALSE(silent);
  CHECK(silent.error().kind == ErrorKind::Timeout);
}

}  // namespace
}  // namespace tartan::kube
