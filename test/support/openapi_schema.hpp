// test/support/openapi_schema.hpp — a custom resource checked against its CRD's structural
// OpenAPI v3 schema, as the API server checks one (for the test API server, kube_test_server.hpp).
//
// Written from the Kubernetes rules for CRD validation and pruning: `type` (integer, number,
// string, boolean, object, array), `x-kubernetes-int-or-string`, `nullable`, `enum`, `pattern`
// (Go's syntax; only the (?i) flag at the start is translated), `minimum`/`maximum`, `required`,
// `properties`, `additionalProperties`, `items` and `x-kubernetes-preserve-unknown-fields`. A field
// the schema does not know is pruned (the API server's default) and listed, so that a request
// with fieldValidation=Strict can be refused for it. The root's metadata is the server's own
// concern and is not looked into. Errors read as the API server writes them
// ("spec.ingress[0].action: Unsupported value: \"Allw\": supported values: \"Allow\", ...").
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tartan::test {

struct SchemaCheck {
  std::vector<std::string> errors;         // "path: what", in document order
  std::vector<std::string> unknownFields;  // paths of the fields pruned ("spec.colour")
};

// Checks `object` (a whole custom resource) against `schema` (the version's openAPIV3Schema),
// removing unknown fields from it.
SchemaCheck checkAgainstSchema(const nlohmann::json& schema, nlohmann::json& object);

}  // namespace tartan::test
