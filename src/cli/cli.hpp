// tartanctl's private parts: the commands, and what they share — reading manifests from files,
// folders or stdin, decoding them all before anything is written, and mapping a resource to its
// datastore key.
//
// Every command writes what it reports to `out`, one line per problem to `err` (prefixed
// "tartanctl: "), and returns the process exit status: 0 success, 1 failure. A command that
// writes to the datastore writes everything or nothing.
#pragma once

#include "tartan/datastore/datastore.hpp"
#include "tartan/model/model.hpp"
#include "tartan/syncer/syncer.hpp"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::cli {

struct Context {
  std::string datastoreSpec;  // "" for the embedded default
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;

  // Prints "tartanctl: <message>" on err and returns 1.
  int fail(const std::string& message) const;
  // Opens the datastore, or prints why not.
  std::unique_ptr<datastore::Datastore> openStore() const;
};

// The API group a person reads resources in. Stored documents are always in Tartan's; Calico's is
// projectcalico.org/v3 with Calico's kind names (FelixConfiguration), crd.projectcalico.org/v1 for
// the IPAM block, affinity and handle kinds, so that `get -o yaml` of a Calico user applies back.
enum class Group { kTartan, kCalico };

// A kind as typed on a command line: "gnp", "globalnetworkpolicies.projectcalico.org",
// "felixconfiguration.crd.projectcalico.org", "ippool.tartan.dev", optionally followed by
// "/NAME". `group` is set only when the text names one.
struct KindArg {
  model::Kind kind{};
  std::optional<Group> group;
  std::optional<std::string> name;
};
Result<KindArg> parseKindArg(const std::string& text);
// "--api-version VALUE": projectcalico.org/v3 (or crd.projectcalico.org/v1) or tartan.dev/v1.
Result<Group> parseApiVersion(const std::string& text);

std::string groupApiVersion(model::Kind kind, Group group);
std::string groupKindName(model::Kind kind, Group group);
// One resource as YAML or as a JSON value in `group`; `exported` leaves out uid,
// resourceVersion and creationTimestamp (calicoctl's --export).
std::string encodeYamlIn(model::Resource resource, Group group, bool exported);
std::string encodeJsonIn(model::Resource resource, Group group, bool exported);

// The document stored for a resource: uid and creationTimestamp kept from `current` (or made
// new), no resourceVersion (the store's revision is the only one).
std::string storedDocument(model::Resource resource, const std::optional<model::Resource>& current);

// One input text and the name errors give it ("policy.yaml", "<stdin>").
struct Input {
  std::string source;
  std::string text;
};

// Reads every -f argument: "-" is stdin, a folder gives its .yaml, .yml and .json files in name
// order (and its subfolders' with `recursive`). Errors name the path.
Result<std::vector<Input>> readInputs(const std::vector<std::string>& paths, bool recursive);

struct DecodedInputs {
  std::vector<model::Resource> resources;
  std::vector<Error> errors;
};

// Decodes every input, then settles namespaces: a namespaced resource without one gets
// `defaultNamespace`; a namespace that contradicts an explicit -n, or one on a cluster-scoped
// kind, is an error; so is the same resource twice.
DecodedInputs decodeInputs(const std::vector<Input>& inputs, const std::string& defaultNamespace,
                           bool namespaceExplicit);

using syncer::decodeStored;
using syncer::keyOf;

struct FileOptions {
  std::vector<std::string> files;
  bool recursive = false;
  std::string namespaceName;
  bool namespaceExplicit = false;
  bool skipExists = false;     // create: leave existing resources alone
  bool skipNotExists = false;  // delete: ignore resources that are not there
};

enum class WriteMode { Apply, Create, Replace };

int runWrite(const Context& ctx, WriteMode mode, const FileOptions& options);
int runValidate(const Context& ctx, const FileOptions& options);
int runDeleteFiles(const Context& ctx, const FileOptions& options);
int runDeleteNamed(const Context& ctx, const std::string& kind, const std::vector<std::string>& names,
                   const std::string& namespaceName, bool skipNotExists);

struct GetOptions {
  std::string kind;
  std::vector<std::string> names;
  std::string namespaceName = "default";
  bool allNamespaces = false;
  std::string output = "table";  // table, wide, yaml, json, custom-columns=..., jsonpath=...
  std::string selector;          // -l: Calico's selector language or Kubernetes' k=v,k2!=v
  bool exported = false;         // --export
  std::string apiVersion;        // --api-version
};

int runGet(const Context& ctx, const GetOptions& options);

// Prints the table (or wide table) for resources of one kind.
void printTable(std::ostream& out, model::Kind kind, const std::vector<model::Resource>& resources,
                bool wide);

// Rows padded into columns as printTable pads them; the first row is the header.
void printRows(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// tartan-bgpd's status over its unix socket.
int runNodeStatus(const Context& ctx, const std::string& socketPath);
int runBgpRoutes(const Context& ctx, const std::string& socketPath, const std::optional<std::string>& prefix);

// patch KIND NAME -p PATCH [--type merge|json]; label KIND NAME k=v... k- [--overwrite].
// Both read the resource, change its JSON document, decode the result strictly and write it back
// guarded by the revision they read (read again and retried on a conflict).
enum class PatchType { kMerge, kJson };
int runPatch(const Context& ctx, const KindArg& target, const std::string& namespaceName,
             const std::string& patch, PatchType type);
int runLabel(const Context& ctx, const KindArg& target, const std::string& namespaceName,
             const std::vector<std::string>& changes, bool overwrite);

// version: the client's, and the cluster's from the datastore's ClusterInformation.
int runVersion(const Context& ctx, std::string_view clientVersion);
// node checksystem: what the agent needs from this host's kernel and tools, read under `root`
// ("/" normally; the host's root as a container mounts it). Only reads.
int runCheckSystem(const Context& ctx, const std::string& root);

int runSelector(const Context& ctx, const std::string& expression, const std::optional<std::string>& labels);

}  // namespace tartan::cli
