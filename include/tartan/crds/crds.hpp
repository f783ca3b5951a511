// tartan/crds/crds.hpp — the CustomResourceDefinitions of the Calico kinds Tartan stores in a
// Kubernetes cluster, as crd.projectcalico.org/v1 custom resources, generated from the model.
//
// What it does: generateCrds() writes one apiextensions.k8s.io/v1 CustomResourceDefinition per
// kind the Kubernetes datastore keeps as a custom resource, with Calico's names and scope from
// the storage layout (tartan/datastore/calico_layout.hpp: kind, plural, scope; the singular is
// the kind in lower case, as in Calico's CRDs), the short names and printer columns Tartan adds
// (presentations()), and its schema from model::openApiSchemaJson() — the model's own field
// descriptions — so crds/ cannot drift from the decoder. A printer column's type is read from that schema,
// and a column naming a field the schema lacks is an error, not a column that shows nothing. `tartan-crdgen`
// writes the files to crds/; a unit test regenerates them in memory and fails when crds/ differs. Owns:
// nothing; pure. Threading: any thread. Failure: returned as an Error value.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/model/kind.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::crds {

inline constexpr std::string_view kVersion = "v1";

// A column `kubectl get` shows: its header and the field (a JSONPath into the object).
struct PrinterColumn {
  std::string_view name;
  std::string_view jsonPath;
  int priority = 0;  // 0: always shown; 1: with -o wide
};

// What Tartan's CRD of a kind adds to Calico's: short names and printer columns.
struct Presentation {
  model::Kind kind;
  std::span<const std::string_view> shortNames;
  std::span<const PrinterColumn> columns;  // an Age column follows them when there are any
};

// The kinds that have any, in the order of the Kind enum.
std::span<const Presentation> presentations();
const Presentation* findPresentation(model::Kind kind);

// The file of one CRD: its name in crds/ ("crd.projectcalico.org_ippools.yaml") and its YAML.
struct CrdFile {
  std::string name;
  std::string text;
};

// A CRD for every kind the storage layout keeps as a custom resource
// (datastore::calico::kinds(), storage kCustomResource), in its order.
Result<std::vector<CrdFile>> generateCrds();

// How the CRD files in `dir` differ from `files`: one line per file that differs, is missing,
// or is a CRD of the group that `files` does not have ("crds/x.yaml: differs from ..."). Empty
// when they are the same. (Reads the directory: the one function here that does I/O.)
std::vector<std::string> compareWithDirectory(const std::vector<CrdFile>& files, const std::string& dir);

}  // namespace tartan::crds
