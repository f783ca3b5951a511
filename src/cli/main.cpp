// tartanctl — the command line for Tartan's resources (calicoctl's job).
//
//   tartanctl apply|create|replace|validate -f FILE|DIR|- [-R] [-n NS]
//   tartanctl delete KIND NAME... [-n NS] | delete -f FILE
//   tartanctl get KIND [NAME...] | KIND/NAME... [-n NS | -A] [-l SELECTOR] [--export]
//             [-o table|wide|yaml|json|custom-columns=HEADER:PATH,...|jsonpath=TEMPLATE]
//             [--api-version projectcalico.org/v3]   (or KIND.projectcalico.org: Calico's group)
//   tartanctl patch KIND NAME -p JSON [--type merge|json] [-n NS]
//   tartanctl label KIND NAME KEY=VALUE... KEY-... [--overwrite] [-n NS]
//   tartanctl selector SELECTOR [--labels JSON|k=v,...]
//   tartanctl node status [--socket PATH]
//   tartanctl node checksystem [--root DIR]
//   tartanctl bgp routes [PREFIX] [--socket PATH]
//   tartanctl config fields          (every AgentConfiguration field: honoured, refused or reported)
//   tartanctl ipam show [--ip=ADDR | --show-blocks | --show-borrowed | --show-configuration]
//   tartanctl ipam check [--show-all-ips] [--show-problem-ips] [-o REPORT]
//   tartanctl ipam release --ip=ADDR | --from-report=REPORT... [--force]
//   tartanctl ipam configure [--strictaffinity=true|false] [--max-blocks-per-host=N]
//   tartanctl version
//
// The datastore is --datastore (with --kubeconfig FILE, "kubernetes" means "kubernetes:FILE"),
// else the CalicoAPIConfig of --config, else $TARTAN_DATASTORE, else /etc/tartan/tartanctl.cfg if
// it exists, else Calico's DATASTORE_TYPE=kubernetes (KUBECONFIG, CALICO_-prefixed too), else the
// embedded default.
#include "cli.hpp"
#include "ipam_command.hpp"

#include "tartan/common/log.hpp"
#include "tartan/datastore/api_config.hpp"
#include "tartan/model/agent_configuration_fields.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

namespace {

constexpr const char* kVersion = "0.1.0";

// "file:DIR", "etcd:...", "kubernetes"; a bare path ("/var/lib/x", "./x") means a file
// datastore there. Anything else goes to the datastore as it is, to be refused there.
std::string normaliseSpec(std::string spec) {
  if (!spec.empty() && (spec.front() == '/' || spec.front() == '.')) return "file:" + spec;
  return spec;
}

void addFileOptions(CLI::App* command, tartan::cli::FileOptions& options) {
  command->add_option("-f,--filename", options.files, "manifest file, folder, or - for stdin")->required();
  command->add_flag("-R,--recursive", options.recursive, "read folders recursively");
  command->add_option("-n,--namespace", options.namespaceName, "namespace for namespaced resources");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tartan::cli;
  CLI::App app{"tartanctl: apply, read and check Tartan resources", "tartanctl"};
  app.require_subcommand(1);
  std::string datastoreSpec;
  std::string logLevel = "warn";
  app.add_option("--datastore", datastoreSpec,
                 "file:DIR or kubernetes[:KUBECONFIG] (default: $TARTAN_DATASTORE or the embedded default)");
  std::string apiConfig, kubeconfig;
  app.add_option(
      "--config", apiConfig,
      "a CalicoAPIConfig file naming the datastore (default: /etc/tartan/tartanctl.cfg if it exists)");
  app.add_option("--kubeconfig", kubeconfig, "the kubeconfig of --datastore kubernetes");
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error, off");

  FileOptions applyOptions, createOptions, replaceOptions, validateOptions, deleteOptions;
  for (auto* options : {&applyOptions, &createOptions, &replaceOptions, &validateOptions, &deleteOptions})
    options->namespaceName = "default";
  auto* apply = app.add_subcommand("apply", "create or update resources");
  addFileOptions(apply, applyOptions);
  auto* create = app.add_subcommand("create", "create resources that do not exist yet");
  addFileOptions(create, createOptions);
  create->add_flag("--skip-exists", createOptions.skipExists, "leave resources that exist alone");
  auto* replace = app.add_subcommand("replace", "replace resources that exist");
  addFileOptions(replace, replaceOptions);
  auto* validate = app.add_subcommand("validate", "check manifests as apply does, writing nothing");
  addFileOptions(validate, validateOptions);

  auto* remove = app.add_subcommand("delete", "delete resources by kind and name, or as named in files");
  std::vector<std::string> deleteArgs;
  remove->add_option("-f,--filename", deleteOptions.files, "manifest file, folder, or -");
  remove->add_flag("-R,--recursive", deleteOptions.recursive, "read folders recursively");
  remove->add_option("-n,--namespace", deleteOptions.namespaceName, "namespace");
  remove->add_flag("--skip-not-exists", deleteOptions.skipNotExists, "ignore resources that do not exist");
  remove->add_option("args", deleteArgs, "KIND NAME...");

  GetOptions getOptions;
  std::vector<std::string> getArgs;
  auto* get = app.add_subcommand("get", "list or show resources");
  get->add_option("args", getArgs,
                  "KIND [NAME...] or KIND/NAME...; KIND.projectcalico.org for Calico's group")
      ->required();
  get->add_option("-n,--namespace", getOptions.namespaceName, "namespace (default: default)");
  get->add_flag("-A,--all-namespaces", getOptions.allNamespaces, "every namespace");
  get->add_option("-o,--output", getOptions.output,
                  "table, wide, yaml, json, custom-columns=HEADER:PATH,... or jsonpath=TEMPLATE. "
                  "Paths: .field, ['field'], [N], [*], .*; templates add \"text\" and {range PATH}...{end}; "
                  "filters, slices, unions and .. are refused");
  get->add_option("-l,--selector", getOptions.selector,
                  "only resources whose labels match: a Calico selector (app == 'web' && has(tier)) "
                  "or Kubernetes' form (app=web,tier!=db,env in (a,b),!legacy)");
  get->add_flag("--export", getOptions.exported, "leave out uid, resourceVersion and creationTimestamp");
  get->add_option(
      "--api-version", getOptions.apiVersion,
      "write resources as projectcalico.org/v3 (Calico's kind names) or tartan.dev/v1 (the default)");

  std::vector<std::string> patchArgs;
  std::string patchText, patchType = "merge", patchNamespace = "default";
  auto* patch = app.add_subcommand("patch", "change fields of one resource");
  patch->add_option("args", patchArgs, "KIND NAME, or KIND/NAME")->required();
  patch->add_option("-p,--patch", patchText, "the patch, JSON")->required();
  patch->add_option("--type", patchType, "merge (RFC 7386, the default) or json (RFC 6902)");
  patch->add_option("-n,--namespace", patchNamespace, "namespace (default: default)");

  std::vector<std::string> labelArgs;
  bool labelOverwrite = false;
  std::string labelNamespace = "default";
  auto* label = app.add_subcommand("label", "set (KEY=VALUE) or remove (KEY-) labels of one resource");
  label->add_option("args", labelArgs, "KIND NAME KEY=VALUE... KEY-...")->required();
  label->add_flag("--overwrite", labelOverwrite, "change a label that is already set");
  label->add_option("-n,--namespace", labelNamespace, "namespace (default: default)");

  std::string expression;
  std::optional<std::string> labels;
  auto* selectorCommand =
      app.add_subcommand("selector", "print a selector's canonical form, or match it against labels");
  selectorCommand->add_option("selector", expression, "the selector")->required();
  selectorCommand->add_option("--labels", labels, "a JSON object or k=v,k2=v2");

  std::string statusSocket = "/run/tartan/bgpd.sock";
  auto* node = app.add_subcommand("node", "this node's BGP speaker");
  node->require_subcommand(1);
  auto* nodeStatus = node->add_subcommand("status", "BGP peers of tartan-bgpd and their state");
  nodeStatus->add_option("--socket", statusSocket, "tartan-bgpd's status socket");
  std::string checkRoot = "/";
  auto* nodeCheck = node->add_subcommand(
      "checksystem", "check, reading only, the kernel modules and tools the agent needs on this node");
  nodeCheck->add_option("--root", checkRoot, "the host's root folder (as mounted into a container)");
  std::optional<std::string> routePrefix;
  auto* bgp = app.add_subcommand("bgp", "tartan-bgpd's routing table");
  bgp->require_subcommand(1);
  auto* bgpRoutes = bgp->add_subcommand("routes", "the Loc-RIB, optionally only routes within a prefix");
  bgpRoutes->add_option("prefix", routePrefix, "only routes within this prefix");
  bgpRoutes->add_option("--socket", statusSocket, "tartan-bgpd's status socket");

  auto* config = app.add_subcommand("config", "what Tartan does with the agent's configuration");
  config->require_subcommand(1);
  auto* configFields = config->add_subcommand(
      "fields", "every AgentConfiguration (FelixConfiguration) field: honoured, refused or reported");

  auto* ipamCommand =
      app.add_subcommand("ipam", "IP address management: usage, consistency, release, settings");
  ipamCommand->require_subcommand(1);
  IpamShowOptions ipamShow;
  auto* ipamShowCommand =
      ipamCommand->add_subcommand("show", "usage of each IP pool (and block), or what holds one address");
  ipamShowCommand->add_option("--ip", ipamShow.ip, "report whether this address is in use, and by what");
  ipamShowCommand->add_flag("--show-blocks", ipamShow.showBlocks, "a row for every block under its pool");
  ipamShowCommand->add_flag("--show-borrowed", ipamShow.showBorrowed,
                            "addresses taken from another node's block");
  ipamShowCommand->add_flag("--show-configuration", ipamShow.showConfiguration, "the IPAM configuration");
  IpamCheckOptions ipamCheck;
  auto* ipamCheckCommand = ipamCommand->add_subcommand(
      "check", "check the IPAM records against each other and against WorkloadEndpoints and Nodes");
  ipamCheckCommand->add_flag("--show-all-ips", ipamCheck.showAllIPs, "print every address checked");
  ipamCheckCommand->add_flag("--show-problem-ips", ipamCheck.showProblemIPs,
                             "print every address with a problem");
  ipamCheckCommand->add_option("-o,--output", ipamCheck.output, "write calicoctl's JSON report to this file");
  IpamReleaseOptions ipamRelease;
  auto* ipamReleaseCommand = ipamCommand->add_subcommand(
      "release", "release one address, or the leaked addresses and handles of reports");
  ipamReleaseCommand->add_option("--ip", ipamRelease.ip, "the address to release");
  ipamReleaseCommand->add_option("--from-report", ipamRelease.reports,
                                 "a report of ipam check; several: only what all of them found leaked");
  ipamReleaseCommand->add_flag("--force", ipamRelease.force,
                               "release although the store is not locked or the report is another version's");
  IpamConfigureOptions ipamConfigure;
  auto* ipamConfigureCommand = ipamCommand->add_subcommand("configure", "change the IPAM configuration");
  ipamConfigureCommand->add_option("--strictaffinity", ipamConfigure.strictAffinity,
                                   "true: never borrow addresses from another node's block");
  ipamConfigureCommand->add_option("--max-blocks-per-host", ipamConfigure.maxBlocksPerHost,
                                   "the most blocks one node may hold (0: no limit)");

  auto* version = app.add_subcommand("version", "print the client's version and the cluster's");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!tartan::log::setLevel(logLevel)) {
    std::cerr << "tartanctl: --log-level \"" << logLevel << "\" is not a level\n";
    return 2;
  }
  if (datastoreSpec.empty() && !apiConfig.empty()) {
    auto chosen = tartan::datastore::loadApiConfig(apiConfig, true);
    if (!chosen) {
      std::cerr << "tartanctl: " << chosen.error().toString() << "\n";
      return 1;
    }
    datastoreSpec = **chosen;
  }
  if (datastoreSpec.empty()) {
    if (const char* env = std::getenv("TARTAN_DATASTORE")) datastoreSpec = env;
  }
  if (datastoreSpec.empty()) {
    auto chosen =
        tartan::datastore::loadApiConfig(std::string(tartan::datastore::kDefaultApiConfigPath), false);
    if (!chosen) {
      std::cerr << "tartanctl: " << chosen.error().toString() << "\n";
      return 1;
    }
    if (*chosen) datastoreSpec = **chosen;
  }
  if (!kubeconfig.empty()) {
    if (datastoreSpec.empty() || datastoreSpec == "kubernetes") {
      datastoreSpec = "kubernetes:" + kubeconfig;
    } else {
      std::cerr << "tartanctl: --kubeconfig is for the kubernetes datastore, not " << datastoreSpec << "\n";
      return 2;
    }
  }
  Context ctx{normaliseSpec(datastoreSpec), &std::cout, &std::cerr};

  auto explicitNamespace = [](CLI::App* command, FileOptions& options) {
    options.namespaceExplicit = command->count("-n") > 0;
  };
  if (*apply) {
    explicitNamespace(apply, applyOptions);
    return runWrite(ctx, WriteMode::Apply, applyOptions);
  }
  if (*create) {
    explicitNamespace(create, createOptions);
    return runWrite(ctx, WriteMode::Create, createOptions);
  }
  if (*replace) {
    explicitNamespace(replace, replaceOptions);
    return runWrite(ctx, WriteMode::Replace, replaceOptions);
  }
  if (*validate) {
    explicitNamespace(validate, validateOptions);
    return runValidate(ctx, validateOptions);
  }
  if (*remove) {
    explicitNamespace(remove, deleteOptions);
    if (!deleteOptions.files.empty()) {
      if (!deleteArgs.empty()) return ctx.fail("delete takes either -f or KIND NAME..., not both");
      return runDeleteFiles(ctx, deleteOptions);
    }
    if (deleteArgs.empty()) return ctx.fail("delete needs KIND NAME... or -f FILE");
    std::vector<std::string> names(deleteArgs.begin() + 1, deleteArgs.end());
    return runDeleteNamed(ctx, deleteArgs.front(), names, deleteOptions.namespaceName,
                          deleteOptions.skipNotExists);
  }
  if (*get) {
    getOptions.kind = getArgs.front();
    getOptions.names.assign(getArgs.begin() + 1, getArgs.end());
    return runGet(ctx, getOptions);
  }
  // KIND NAME or KIND/NAME, then what follows.
  auto target = [&](const std::vector<std::string>& args, size_t& rest) -> std::optional<KindArg> {
    auto parsed = parseKindArg(args.front());
    if (!parsed) {
      ctx.fail(parsed.error().toString());
      return std::nullopt;
    }
    rest = 1;
    if (!parsed->name) {
      if (args.size() < 2) {
        ctx.fail("\"" + args.front() + "\" needs a NAME (KIND NAME or KIND/NAME)");
        return std::nullopt;
      }
      parsed->name = args[1];
      rest = 2;
    }
    return *parsed;
  };
  if (*patch) {
    size_t rest = 0;
    auto kind = target(patchArgs, rest);
    if (!kind) return 1;
    if (rest != patchArgs.size())
      return ctx.fail("patch takes one resource; \"" + patchArgs[rest] + "\" is extra");
    if (patchType != "merge" && patchType != "json")
      return ctx.fail("--type \"" + patchType + "\": merge or json (strategic merge is not supported)");
    return runPatch(ctx, *kind, patchNamespace, patchText,
                    patchType == "merge" ? PatchType::kMerge : PatchType::kJson);
  }
  if (*label) {
    size_t rest = 0;
    auto kind = target(labelArgs, rest);
    if (!kind) return 1;
    return runLabel(ctx, *kind, labelNamespace,
                    {labelArgs.begin() + static_cast<long>(rest), labelArgs.end()}, labelOverwrite);
  }
  if (*nodeCheck) return runCheckSystem(ctx, checkRoot);
  if (*selectorCommand) return runSelector(ctx, expression, labels);
  if (*nodeStatus) return runNodeStatus(ctx, statusSocket);
  if (*bgpRoutes) return runBgpRoutes(ctx, statusSocket, routePrefix);
  if (*configFields) {
    std::cout << tartan::model::agentConfigurationFieldTable();
    return 0;
  }
  if (*ipamShowCommand) return runIpamShow(ctx, ipamShow);
  if (*ipamCheckCommand) return runIpamCheck(ctx, ipamCheck, kVersion);
  if (*ipamReleaseCommand) return runIpamRelease(ctx, ipamRelease, kVersion);
  if (*ipamConfigureCommand) return runIpamConfigure(ctx, ipamConfigure);
  if (*version) return runVersion(ctx, kVersion);
  return 2;
}
