// The watch stream splitter and the rate limiter: pure pieces, tested exhaustively.
#include "util.hpp"

namespace tartan::kube {
namespace {

std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return Json{{"type", type},
              {"object", {{"kind", "Pod"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
      .dump();
}

std::vector<WatchEvent> drain(WatchDecoder& decoder) {
  std::vector<WatchEvent> out;
  for (;;) {
    auto next = decoder.next();
    REQUIRE(next);
    if (!*next) return out;
    out.push_back(**next);
  }
}

TEST_CASE("watch events are split wherever the stream's chunks cut them", "[kube][decoder]") {
  // Braces, quotes and newlines inside strings must not split an event.
  const std::string tricky = Json{{"type", "MODIFIED"},
                                  {"object",
                                   {{"metadata", {{"name", "a}b{\"c\n"}, {"resourceVersion", "7"}}},
                                    {"data", {{"x", "\\\"}"}, {"y", Json::array({1, {{"z", "]"}}})}}}}}}
                                 .dump();
  const std::string stream = event("ADDED", "p1", "5") + "\n" + tricky + "\n" + event("BOOKMARK", "", "9") +
                             event("DELETED", "p1", "10") + "\r\n  ";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    for (size_t cut2 = cut; cut2 <= stream.size(); cut2 += 17) {
      WatchDecoder decoder;
      std::vector<WatchEvent> events;
      for (auto [from, to] :
           {std::pair{size_t{0}, cut}, std::pair{cut, cut2}, std::pair{cut2, stream.size()}}) {
        decoder.feed(std::string_view(stream).substr(from, to - from));
        auto more = drain(decoder);
        events.insert(events.end(), more.begin(), more.end());
      }
      REQUIRE(events.size() == 4);
      CHECK(events[0].type == WatchEventType::Added);
      CHECK(events[1].type == WatchEventType::Modified);
      CHECK(events[1].object["metadata"]["name"] == "a}b{\"c\n");
      CHECK(events[2].type == WatchEventType::Bookmark);
      CHECK(events[3].type == WatchEventType::Deleted);
      CHECK_FALSE(decoder.partial());
    }
  }
}

TEST_CASE("an ERROR event carries the Status that says why", "[kube][decoder]") {
  WatchDecoder decoder;
  decoder.feed(R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)json"
               R"json("message":"too old resource version: 5 (9)","reason":"Expired","code":410}})json");
  auto next = decoder.next();
  REQUIRE(next);
  REQUIRE(*next);
  CHECK((*next)->type == WatchEventType::Error);
  KubeError error = errorFromStatus(0, (*next)->object.dump(), "watch");
  CHECK(error.kind == ErrorKind::Gone);
  CHECK(error.status == 410);
  CHECK(error.reason == "Expired");
}

TEST_CASE("a stream that is not a sequence of events fails and stays failed", "[kube][decoder]") {
  struct Case {
    std::string name;
    std::string bytes;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"not an object", "[1,2]", "does not start with '{'"},
      {"garbage", "hello", "does not start with '{'"},
      {"no type", R"({"object":{}})", "no type"},
      {"an unknown type", R"({"type":"RENAMED","object":{}})", "unknown event type"},
      {"no object", R"({"type":"ADDED"})", "no object"},
      {"no resourceVersion", R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})", "resourceVersion"},
      {"a bookmark without metadata", R"({"type":"BOOKMARK","object":{}})", "no metadata"},
      {"broken JSON inside balanced braces", R"({"type": "ADDED", "object": {,}})", "not a JSON object"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      WatchDecoder decoder;
      decoder.feed(c.bytes);
      auto next = decoder.next();
      REQUIRE_FALSE(next);
      CHECK(next.error().kind == ErrorKind::Decode);
      CHECK_THAT(next.error().message, Catch::Contains(c.what));
      decoder.feed(event("ADDED", "p", "1"));
      CHECK_FALSE(decoder.next());
    }
  }
}

TEST_CASE("an event larger than the limit fails before it is buffered whole", "[kube][decoder]") {
  WatchDecoder decoder(1024);
  decoder.feed(R"({"type":"ADDED","object":{"data":")" + std::string(2000, 'x'));
  auto next = decoder.next();
  REQUIRE_FALSE(next);
  CHECK_THAT(next.error().message, Catch::Contains("larger than 1024"));
}

TEST_CASE("a Status body becomes an error kind, its reason and message", "[kube][errors]") {
  struct Case {
    int status;
    std::string reason;
    ErrorKind kind;
  };
  for (const Case& c : std::vector<Case>{{409, "Conflict", ErrorKind::Conflict},
                                         {409, "AlreadyExists", ErrorKind::AlreadyExists},
                                         {404, "NotFound", ErrorKind::NotFound},
                                         {410, "Expired", ErrorKind::Gone},
                                         {401, "Unauthorized", ErrorKind::Unauthorized},
                                         {403, "Forbidden", ErrorKind::Forbidden},
                                         {422, "Invalid", ErrorKind::Invalid},
                                         {429, "TooManyRequests", ErrorKind::TooManyRequests},
                                         {500, "InternalError", ErrorKind::Server}}) {
    const std::string body =
        Json{{"kind", "Status"}, {"reason", c.reason}, {"message", "m"}, {"code", c.status}}.dump();
    KubeError error = errorFromStatus(c.status, body, "GET /x");
    CHECK(error.kind == c.kind);
    CHECK(error.reason == c.reason);
    CHECK(error.toString() == "GET /x: " + std::to_string(c.status) + " " + c.reason + ": m");
  }
  KubeError notStatus = errorFromStatus(502, "<html>bad gateway</html>", "GET /y");
  CHECK(notStatus.kind == ErrorKind::Server);
  CHECK(notStatus.message == "<html>bad gateway</html>");
}

TEST_CASE("the rate limiter lets a burst through, then one request per 1/qps", "[kube][ratelimit]") {
  using namespace std::chrono;
  const auto t0 = TokenBucket::Clock::time_point{} + hours(1);
  TokenBucket bucket(5, 10, t0);
  for (int i = 0; i < 10; ++i) CHECK(bucket.take(t0) == TokenBucket::Clock::duration::zero());
  // The 11th waits 200 ms, the 12th 400 ms: waits queue up.
  CHECK(duration_cast<milliseconds>(bucket.take(t0)).count() == 200);
  CHECK(duration_cast<milliseconds>(bucket.take(t0)).count() == 400);
  // A second later five tokens have come back, two of them already promised.
  CHECK(duration_cast<milliseconds>(bucket.take(t0 + seconds(1))).count() == 0);
  // Idle for a minute: at most a burst is saved up.
  const auto later = t0 + minutes(1);
  for (int i = 0; i < 10; ++i) CHECK(bucket.take(later) == TokenBucket::Clock::duration::zero());
  CHECK(bucket.take(later) > TokenBucket::Clock::duration::zero());
}

TEST_CASE("resource paths follow the API's layout", "[kube][paths]") {
  CHECK(resources::pods().path("default", "p1") == "/api/v1/namespaces/default/pods/p1");
  CHECK(resources::pods().path("") == "/api/v1/pods");
  CHECK(resources::nodes().path("ignored", "n1") == "/api/v1/nodes/n1");
  CHECK(resources::networkPolicies().path("ns") ==
        "/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies");
  CHECK(resources::calico("globalnetworkpolicies", "GlobalNetworkPolicy", false).path("", "gnp") ==
        "/apis/crd.projectcalico.org/v1/globalnetworkpolicies/gnp");
}

}  // namespace
}  // namespace tartan::kube
