// tartan/model/schema.hpp — the OpenAPI v3 schema of each kind, written from the same field
// descriptions the decoder walks (a third visitor of describe()), so a CustomResourceDefinition
// made from it cannot drift from what Tartan decodes.
//
// The schema is structural, as Kubernetes requires of a CRD: every object, list and scalar has a
// type; an int-or-string (a protocol, a port, an AS number) is x-kubernetes-int-or-string; a field
// the decoder requires is required; a string whose values the validator fixes has an enum (a
// (?i) pattern where the validator ignores case). Metadata is a bare object: the API server
// validates it. A kind the decoder reads leniently (the Kubernetes Namespace, Pod,
// ServiceAccount and Node) keeps unknown fields everywhere (x-kubernetes-preserve-unknown-fields).
// Other rules the validator applies (CIDRs, selectors, ranges between fields) are not expressed.
// Pure; any thread.
#pragma once

#include "tartan/model/kind.hpp"

#include <string>

namespace tartan::model {

// The schema of a whole object of the kind (apiVersion, kind, metadata, spec), as pretty-printed
// JSON with its properties in the order of Calico's Go structs.
std::string openApiSchemaJson(Kind kind);

}  // namespace tartan::model
