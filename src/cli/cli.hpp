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
  std::string output = "table";  // table, wide, yaml, json
};

int runGet(const Context& ctx, const GetOptions& options);

// Prints the table (or wide table) for resources of one kind.
void printTable(std::ostream& out, model::Kind kind, const std::vector<model::Resource>& resources,
                bool wide);

// tartan-bgpd's status over its unix socket.
int runNodeStatus(const Context& ctx, const std::string& socketPath);
int runBgpRoutes(const Context& ctx, const std::string& socketPath, const std::optional<std::string>& prefix);

int runSelector(const Context& ctx, const std::string& expression,
                const std::optional<std::string>& labels);

}  // namespace tartan::cli
