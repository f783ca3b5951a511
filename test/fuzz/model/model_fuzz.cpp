// Fuzz target for the manifest decoder: any input must decode without crashing, and anything
// accepted must round-trip: decode(encode(x)) == x and encoding it again gives the same bytes,
// through YAML and through JSON.
#include "tartan/model/model.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool condition, const char* what, const std::string& detail) {
  if (condition) return;
  std::fprintf(stderr, "model fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void checkRoundTrip(const tartan::model::Resource& resource) {
  using namespace tartan::model;
  for (bool json : {false, true}) {
    std::string text = json ? encodeJson(resource) : encodeYaml(resource);
    DecodeResult again = decode(text, "encoded");
    std::string errors;
    for (const auto& e : again.errors) errors += e.toString() + "\n";
    require(again.ok() && again.resources.size() == 1, "encoded output does not decode", text + errors);
    require(again.resources[0] == resource, "decode(encode(x)) != x", text);
    std::string second = json ? encodeJson(again.resources[0]) : encodeYaml(again.resources[0]);
    require(second == text, "encoding is not stable", text + "\n---\n" + second);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tartan::model::DecodeResult result = tartan::model::decode(text, "fuzz");
  for (const auto& resource : result.resources) checkRoundTrip(resource);
  return 0;
}
