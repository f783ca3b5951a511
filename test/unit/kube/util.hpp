// Helpers of the kube client's tests: a scratch folder, files, base64, a client of a test server.
#pragma once

#include "support/kube_test_client.hpp"
#include "support/kube_test_server.hpp"
#include "tartan/kube/client.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace tartan::kube {
// For Catch's messages about results (found by argument-dependent lookup).
inline std::ostream& operator<<(std::ostream& os, const Config& c) {
  return os << "Config{" << c.server << "}";
}
inline std::ostream& operator<<(std::ostream& os, const ListResult& l) {
  return os << "ListResult{" << l.items.size() << " items at " << l.resourceVersion << "}";
}
inline std::ostream& operator<<(std::ostream& os, const WatchEvent& e) {
  return os << toString(e.type) << " " << e.object.dump();
}
inline std::ostream& operator<<(std::ostream& os, const std::optional<WatchEvent>& e) {
  return e ? os << *e : os << "(end)";
}
}  // namespace tartan::kube

namespace tartan::kube::testing {

using TempDir = test::ScratchDir;

inline std::string base64(const std::string& text) {
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

// A configuration for `server`: its CA, `token`, no rate limit worth the name, short timeouts.
inline Config configFor(const test::KubeTestServer& server, const std::string& token = "test-token") {
  return test::kubeConfigFor(server, token);
}

inline std::unique_ptr<Client> clientFor(const test::KubeTestServer& server,
                                         const std::string& token = "test-token") {
  auto client = Client::create(configFor(server, token));
  REQUIRE(client);
  return std::move(*client);
}

inline Json named(const std::string& kind, const std::string& apiVersion, const std::string& name,
                  const std::string& ns = {}) {
  Json object = {{"apiVersion", apiVersion}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!ns.empty()) object["metadata"]["namespace"] = ns;
  return object;
}

inline std::string rv(const Json& object) { return object["metadata"]["resourceVersion"].get<std::string>(); }

}  // namespace tartan::kube::testing
