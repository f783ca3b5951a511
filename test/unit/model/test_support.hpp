// Helpers shared by the model tests.
#pragma once

#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace tartan::model::test {

inline std::string readTestdata(const std::string& name) {
  std::ifstream in(std::string(TARTAN_MODEL_TESTDATA) + "/" + name);
  REQUIRE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline std::string errorsText(const DecodeResult& result) {
  std::string out;
  for (const Error& e : result.errors) out += e.toString() + "\n";
  return out;
}

// decode(encode(x)) == x, and encoding what was decoded gives the same bytes, for YAML and JSON.
inline void requireRoundTrip(const Resource& resource) {
  std::string yaml = encodeYaml(resource);
  INFO(yaml);
  DecodeResult fromYaml = decode(yaml, "encoded.yaml");
  INFO(errorsText(fromYaml));
  REQUIRE(fromYaml.ok());
  REQUIRE(fromYaml.resources.size() == 1);
  CHECK(fromYaml.resources[0] == resource);
  CHECK(encodeYaml(fromYaml.resources[0]) == yaml);

  std::string json = encodeJson(resource);
  INFO(json);
  DecodeResult fromJson = decode(json, "encoded.json");
  INFO(errorsText(fromJson));
  REQUIRE(fromJson.ok());
  REQUIRE(fromJson.resources.size() == 1);
  CHECK(fromJson.resources[0] == resource);
  CHECK(encodeJson(fromJson.resources[0]) == json);
}

// Decodes text that must fail with exactly one error, and returns it.
inline Error onlyError(const std::string& text) {
  DecodeResult result = decode(text, "in.yaml");
  INFO(text);
  INFO(errorsText(result));
  REQUIRE(result.errors.size() == 1);
  CHECK(result.resources.empty());
  return result.errors[0];
}

}  // namespace tartan::model::test
