// Watch and the reflector against the test API server: events in order, bookmarks, 410 Gone,
// a broken stream resumed from the last resourceVersion, a relist that delivers only differences.
#include "tartan/kube/reflector.hpp"

#include "support/eventually.hpp"
#include "util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

namespace tartan::kube {
namespace {

using testing::clientFor;
using testing::named;
using testing::rv;

// What a reflector delivered, in order: "update ns/name rv", "remove ns/name", "insync".
class Recorder {
 public:
  ReflectorCallbacks callbacks() {
    return {[this](const Json& o) {
              add("update " + objectKey(o) + " " + o["metadata"].value("resourceVersion", ""));
            },
            [this](const Json& o) { add("remove " + objectKey(o)); },
            [this](const std::string&) { add("insync"); },
            [this](const KubeError& e) { addError(e.toString()); }};
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  size_t count(const std::string& prefix) const {
    std::lock_guard lock(mutex_);
    return std::count_if(lines_.begin(), lines_.end(),
                         [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  }
  bool has(const std::string& line) const {
    std::lock_guard lock(mutex_);
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }

 private:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  void addError(std::string line) {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::move(line));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<std::string> errors_;
};

TEST_CASE("a watch from a list's resourceVersion delivers every later change in order, and bookmarks",
          "[kube][watch]") {
  test::KubeTestServer::Options options;
  options.bookmarkInterval = std::chrono::milliseconds(100);
  test::KubeTestServer server(options);
  auto client = clientFor(server);
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "demo")));
  auto a = client->create(resources::pods(), named("Pod", "v1", "a", "demo"));
  REQUIRE(a);
  auto listed = client->list(resources::pods());
  REQUIRE(listed);

  WatchOptions watchOptions;
  watchOptions.resourceVersion = listed->resourceVersion;
  watchOptions.idleTimeout = std::chrono::seconds(10);
  auto stream = client->watch(resources::pods(), watchOptions);
  REQUIRE(stream);
  REQUIRE(client->create(resources::pods(), named("Pod", "v1", "b", "demo")));
  REQUIRE(client->patch(resources::pods(), "demo", "a", PatchType::Merge,
                        {{"metadata", {{"labels", {{"x", "1"}}}}}}));
  REQUIRE(client->remove(resources::pods(), "demo", "b"));

  std::vector<std::string> seen;
  std::string lastRv = listed->resourceVersion;
  bool bookmark = false;
  while (seen.size() < 3 || !bookmark) {
    auto event = (*stream)->next();
    REQUIRE(event);
    REQUIRE(*event);
    const std::string eventRv = (*event)->object["metadata"]["resourceVersion"];
    CHECK(std::stoll(eventRv) >= std::stoll(lastRv));
    lastRv = eventRv;
    if ((*event)->type == WatchEventType::Bookmark) {
      bookmark = seen.size() == 3;  // one after the changes, carrying the store's revision
      continue;
    }
    seen.push_back(std::string(toString((*event)->type)) + " " + objectKey((*event)->object));
  }
  CHECK(seen == std::vector<std::string>{"ADDED demo/b", "MODIFIED demo/a", "DELETED demo/b"});
  CHECK(lastRv == std::to_string(server.store().revision()));
  CHECK(server.openWatches() == 1);
  (*stream)->stop();
  auto stopped = (*stream)->next();
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().kind == ErrorKind::Stopped);
}

TEST_CASE("a watch from a compacted resourceVersion is told 410 Gone; one cut off fails as Transport",
          "[kube][watch]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "demo")));
  const std::string old = std::to_string(server.store().revision());
  REQUIRE(client->create(resources::pods(), named("Pod", "v1", "a", "demo")));
  server.compact();

  WatchOptions gone;
  gone.resourceVersion = old;
  auto stream = client->watch(resources::pods(), gone);
  REQUIRE(stream);
  auto event = (*stream)->next();
  REQUIRE(event);
  REQUIRE(*event);
  REQUIRE((*event)->type == WatchEventType::Error);
  CHECK(errorFromStatus(0, (*event)->object.dump(), "watch").kind == ErrorKind::Gone);

  WatchOptions current;
  current.resourceVersion = std::to_string(server.store().revision());
  auto live = client->watch(resources::pods(), current);
  REQUIRE(live);
  REQUIRE(test::eventually([&] { return server.openWatches() >= 1; }));
  server.breakWatches();
  for (;;) {
    auto next = (*live)->next();
    if (next && *next && (*next)->type == WatchEventType::Bookmark) continue;
    REQUIRE_FALSE(next);
    CHECK(next.error().kind == ErrorKind::Transport);
    break;
  }
}

TEST_CASE("the reflector lists, then watches, and resumes a broken stream from where it was",
          "[kube][reflector]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "demo")));
  REQUIRE(client->create(resources::pods(), named("Pod", "v1", "a", "demo")));
  Recorder recorder;
  ReflectorOptions options;
  options.initialBackoff = std::chrono::milliseconds(50);
  Reflector reflector(*client, resources::pods(), recorder.callbacks(), options);
  REQUIRE(test::eventually([&] { return recorder.has("insync") && server.openWatches() == 1; }));
  CHECK(recorder.lines().front().rfind("update demo/a ", 0) == 0);

  auto b = client->create(resources::pods(), named("Pod", "v1", "b", "demo"));
  REQUIRE(b);
  REQUIRE(test::eventually([&] { return recorder.has("update demo/b " + rv(*b)); }));

  // Cut the stream, change things while it is down, and see each change once.
  server.breakWatches();
  REQUIRE(client->remove(resources::pods(), "demo", "a"));
  auto c = client->create(resources::pods(), named("Pod", "v1", "c", "demo"));
  REQUIRE(c);
  REQUIRE(test::eventually([&] { return recorder.has("update demo/c " + rv(*c)); }));
  CHECK(recorder.count("remove demo/a") == 1);
  CHECK(recorder.count("update demo/b") == 1);
  const ReflectorStats stats = reflector.stats();
  CHECK(stats.lists == 1);
  CHECK(stats.relists == 0);
  CHECK(stats.reconnects >= 1);
  // The new watch asked for what followed the last event seen.
  const auto log = server.requests();
  const std::string resumed = "resourceVersion=" + rv(*b);
  CHECK(std::any_of(log.begin(), log.end(), [&](const std::string& r) {
    return r.find("watch=true") != std::string::npos && r.find(resumed) != std::string::npos;
  }));
  CHECK(reflector.cache().size() == 2);
}

TEST_CASE("a watch the server ends on time is started again at once from where it was, with no list",
          "[kube][reflector]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "demo")));
  Recorder recorder;
  ReflectorOptions options;
  options.watchTimeout = std::chrono::seconds(1);
  Reflector reflector(*client, resources::pods(), recorder.callbacks(), options);
  REQUIRE(test::eventually([&] { return reflector.stats().watches >= 3; }));
  auto pod = client->create(resources::pods(), named("Pod", "v1", "p", "demo"));
  REQUIRE(pod);
  REQUIRE(test::eventually([&] { return recorder.has("update demo/p " + rv(*pod)); }));
  const ReflectorStats stats = reflector.stats();
  CHECK(stats.lists == 1);
  CHECK(stats.relists == 0);
  CHECK(recorder.count("update demo/p") == 1);
  CHECK(recorder.count("insync") == 1);
}

TEST_CASE("stopping a reflector does not wait for a watch that is still being opened", "[kube][reflector]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  Recorder recorder;
  Reflector reflector(*client, resources::namespaces(), recorder.callbacks());
  REQUIRE(test::eventually([&] { return server.openWatches() == 1; }));
  // The server goes silent: its listener is replaced by one that never answers.
  const uint16_t port = server.port();
  server.stop();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  // The reflector's next watch hangs in its TLS handshake (the request timeout is 10 s).
  const auto before = server.requests().size();
  pollfd pending{fd, POLLIN, 0};
  REQUIRE(::poll(&pending, 1, 10000) == 1);  // its connection waits in the listener's backlog
  const auto start = std::chrono::steady_clock::now();
  reflector.stop();
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  CHECK(took < std::chrono::seconds(5));
  CHECK(server.requests().size() == before);
}

TEST_CASE("after 410 Gone the reflector lists again and delivers only the differences", "[kube][reflector]") {
  test::KubeTestServer server;
  auto client = clientFor(server);
  REQUIRE(client->create(resources::namespaces(), named("Namespace", "v1", "demo")));
  for (const char* name : {"same", "changed", "removed"}) {
    REQUIRE(client->create(resources::pods(), named("Pod", "v1", name, "demo")));
  }
  Recorder recorder;
  ReflectorOptions options;
  options.initialBackoff = std::chrono::milliseconds(50);
  options.list.limit = 2;
  Reflector reflector(*client, resources::pods(), recorder.callbacks(), options);
  REQUIRE(test::eventually([&] { return recorder.has("insync") && server.openWatches() == 1; }));
  CHECK(recorder.count("update ") == 3);

  // While the server is down the history it would resume from is compacted away.
  server.stop();
  auto pods = *server.store().find("", "v1", "pods");
  auto changed = server.store().patch(pods, "demo", "changed", "application/merge-patch+json",
                                      R"({"metadata":{"labels":{"v":"2"}}})", false);
  REQUIRE(changed.status == 200);
  REQUIRE(server.store().remove(pods, "demo", "removed", nullptr).status == 200);
  auto added = server.store().create(pods, "demo", named("Pod", "v1", "added", "demo"));
  REQUIRE(added.status == 201);
  server.compact();
  server.restart();

  REQUIRE(test::eventually([&] { return recorder.count("insync") == 2; }));
  const auto lines = recorder.lines();
  const std::vector<std::string> afterRelist(lines.begin() + 4, lines.end());
  std::vector<std::string> expected = {"update demo/added " + rv(added.body),
                                       "update demo/changed " + rv(changed.body), "remove demo/removed",
                                       "insync"};
  CHECK(afterRelist == expected);
  CHECK(reflector.stats().relists == 1);
  CHECK(reflector.cache().size() == 3);

  // And it watches again from the new list.
  REQUIRE(client->remove(resources::pods(), "demo", "same"));
  REQUIRE(test::eventually([&] { return recorder.has("remove demo/same"); }));
}

}  // namespace
}  // namespace tartan::kube
