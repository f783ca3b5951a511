// tartan-lab — a whole Tartan cluster on one machine: nodes, pods, a top-of-rack router and the
// outside as network namespaces.
//
//   tartan-lab up LABFILE [--state-dir DIR] [--agent PATH]   build the cluster, start every daemon, wait for
//                                                            agents ready and BGP sessions Established
//   tartan-lab status [NAME]                                 each node's agent and BGP sessions, the ToR's
//   tartan-lab probe [NAME] [--json] [--timeout-ms N] [--family 4|6|both] [--outside]
//                                                            the pod x pod x port matrix across nodes, per
//                                                            family; --outside: each pod to the outside host,
//                                                            with the source address it saw
//   tartan-lab apply [NAME] -f FILE|DIR ...                  tartanctl apply against the lab's datastore
//   tartan-lab datastore [NAME]                              print the --datastore of the lab
//   tartan-lab add-pod NAME --node N --namespace NS POD [KEY=VALUE ...] [--port [PNAME:]PORT[/PROTO]]
//   tartan-lab del-pod NAME --namespace NS POD               the CNI chain's ADD / DEL, as a runtime runs it
//   tartan-lab restart-agent [NAME] [--node N]               stop a node's agent, start it again
//   tartan-lab restart-bgpd [NAME] [--node N]                stop a node's bgpd, start it again (graceful
//   restart) tartan-lab down [NAME] [--state-dir DIR]                 remove every namespace and process of
//   the lab tartan-lab serve --tcp PORT --udp PORT --peer-tcp PORT   (internal) servers in a pod or the
//   outside
#include "lab.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace tartan::lab;

namespace {

int fail(const tartan::Error& error) {
  std::cerr << "tartan-lab: " << error.toString() << "\n";
  return 1;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"tartan-lab: a Tartan cluster as network namespaces on this machine", "tartan-lab"};
  app.require_subcommand(1);
  std::string stateDir, agentPath, ctlPath, labName, nodeName;
  app.add_option("--state-dir", stateDir, "the lab's state dir (default /run/tartan-lab/<name>)");
  app.add_option("--agent", agentPath, "the tartan-agent binary");
  app.add_option("--tartanctl", ctlPath, "the tartanctl binary");

  std::string labFile, logLevel = "info";
  int readyTimeout = 90;
  auto* upCmd = app.add_subcommand("up", "build a cluster from a lab file");
  upCmd->add_option("labfile", labFile, "the lab file (YAML)")->required();
  upCmd->add_option("--log-level", logLevel, "the daemons' log level");
  upCmd->add_option("--ready-timeout", readyTimeout, "seconds to wait for agents and BGP sessions");

  bool asJson = false;
  ProbeOptions probeOptions;
  auto* probeCmd =
      app.add_subcommand("probe", "try every pod -> pod port (or pod -> outside) and print the result");
  probeCmd->add_option("name", labName, "the lab");
  probeCmd->add_flag("--json", asJson, "print JSON");
  probeCmd->add_option("--timeout-ms", probeOptions.timeoutMs, "how long a connection may take");
  probeCmd->add_option("--parallelism", probeOptions.parallelism, "how many cells to probe at once");
  probeCmd->add_flag("--outside", probeOptions.outside,
                     "from every pod to the outside host, which names the source address it saw");
  std::string family = "both";
  probeCmd->add_option("--family", family, "which addresses to probe: 4, 6 or both (default)")
      ->check(CLI::IsMember({"4", "6", "both"}));

  auto* statusCmd = app.add_subcommand("status", "each node's agent and BGP sessions, and the ToR's");
  statusCmd->add_option("name", labName, "the lab");

  std::vector<std::string> files;
  bool recursive = false;
  auto* applyCmd = app.add_subcommand("apply", "apply manifests to the lab's datastore (tartanctl apply)");
  applyCmd->add_option("name", labName, "the lab");
  applyCmd->add_option("-f,--filename", files, "manifest file or folder")->required();
  applyCmd->add_flag("-R,--recursive", recursive, "read folders recursively");

  auto* datastoreCmd = app.add_subcommand("datastore", "print the --datastore of the lab, for tartanctl");
  datastoreCmd->add_option("name", labName, "the lab");

  std::string podNamespaceName, podName, serviceAccount;
  std::vector<std::string> podLabels, podPorts;
  auto* addPodCmd = app.add_subcommand("add-pod", "add a pod on a node, through tartan-cni and portmap");
  addPodCmd->add_option("lab", labName, "the lab")->required();
  addPodCmd->add_option("pod", podName, "the pod's name")->required();
  addPodCmd->add_option("labels", podLabels, "the pod's labels, KEY=VALUE");
  addPodCmd->add_option("--node", nodeName, "the node")->required();
  addPodCmd->add_option("--namespace", podNamespaceName, "the pod's namespace")->required();
  addPodCmd->add_option("--port", podPorts, "a port to serve: [NAME:]PORT[/TCP|UDP] (repeatable)");
  addPodCmd->add_option("--service-account", serviceAccount, "the pod's service account");

  auto* delPodCmd =
      app.add_subcommand("del-pod", "delete a pod: the CNI chain's DEL, its sandbox and its Pod");
  delPodCmd->add_option("lab", labName, "the lab")->required();
  delPodCmd->add_option("pod", podName, "the pod's name")->required();
  delPodCmd->add_option("--namespace", podNamespaceName, "the pod's namespace")->required();

  auto* restartCmd =
      app.add_subcommand("restart-agent", "stop a node's agent and start it again (its rules stay)");
  restartCmd->add_option("name", labName, "the lab");
  restartCmd->add_option("--node", nodeName, "the node (default: every node)");
  restartCmd->add_option("--ready-timeout", readyTimeout, "seconds to wait for the new agent to be ready");

  auto* restartBgpdCmd = app.add_subcommand(
      "restart-bgpd", "stop a node's tartan-bgpd and start it again (graceful restart: its routes stay)");
  restartBgpdCmd->add_option("name", labName, "the lab");
  restartBgpdCmd->add_option("--node", nodeName, "the node (default: every node)");
  restartBgpdCmd->add_option("--ready-timeout", readyTimeout, "seconds to wait for its sessions");

  auto* downCmd = app.add_subcommand("down", "remove the lab's namespaces and processes");
  downCmd->add_option("name", labName, "the lab");

  std::vector<uint16_t> tcpPorts, udpPorts, peerPorts;
  auto* serveCmd = app.add_subcommand("serve", "echo servers (run inside a pod namespace)");
  serveCmd->add_option("--tcp", tcpPorts, "TCP echo ports");
  serveCmd->add_option("--udp", udpPorts, "UDP echo ports");
  serveCmd->add_option("--peer-tcp", peerPorts, "TCP ports that answer with the client's address");

  CLI11_PARSE(app, argc, argv);

  if (*serveCmd) return serve(tcpPorts, udpPorts, peerPorts);

  if (*upCmd) {
    std::ifstream in(labFile);
    if (!in) return fail(tartan::makeError(labFile, "", "cannot read the lab file"));
    std::stringstream text;
    text << in.rdbuf();
    const std::string stem = std::filesystem::path(labFile).stem().string();
    ParseResult parsed = parseLabFile(text.str(), labFile, stem);
    if (!parsed.ok()) {
      for (const auto& e : parsed.errors) std::cerr << e.toString() << "\n";
      return 2;
    }
    UpOptions options{stateDir, logLevel, readyTimeout};
    if (auto r = up(parsed.lab, text.str(), findTools(agentPath, ctlPath), options); !r) {
      fail(r.error());
      std::cerr << "tartan-lab: the lab is partly built; `tartan-lab down " << parsed.lab.name
                << (stateDir.empty() ? "" : " --state-dir " + stateDir) << "` removes it\n";
      return 1;
    }
    return 0;
  }

  auto dir = resolveStateDir(stateDir, labName);
  if (!dir) return fail(dir.error());

  if (*probeCmd) {
    if (family == "4") probeOptions.families = {4};
    if (family == "6") probeOptions.families = {6};
    auto cells = probe(*dir, probeOptions);
    if (!cells) return fail(cells.error());
    std::cout << (asJson ? renderJson(*cells) : renderTable(*cells));
    return 0;
  }
  if (*statusCmd) {
    auto report = status(*dir, findTools(agentPath, ctlPath));
    if (!report) return fail(report.error());
    std::cout << report->text;
    return report->allEstablished ? 0 : 3;
  }
  if (*applyCmd) {
    std::vector<std::string> args;
    for (const auto& f : files) {
      args.push_back("-f");
      args.push_back(f);
    }
    if (recursive) args.push_back("-R");
    return applyManifests(*dir, findTools(agentPath, ctlPath), args);
  }
  if (*datastoreCmd) {
    std::cout << datastoreSpec(*dir) << "\n";
    return 0;
  }
  if (*addPodCmd) {
    LabPod pod;
    pod.name = podName;
    pod.namespaceName = podNamespaceName;
    pod.node = nodeName;
    pod.serviceAccount = serviceAccount;
    for (const auto& [what, value] : {std::pair{"pod", &podName}, std::pair{"--namespace", &podNamespaceName},
                                      std::pair{"--node", &nodeName}})
      if (!isDnsLabel(*value))
        return fail(tartan::makeError(what, "", "'" + *value + "' is not a DNS label"));
    if (!serviceAccount.empty() && !isDnsLabel(serviceAccount))
      return fail(tartan::makeError("--service-account", "", "'" + serviceAccount + "' is not a DNS label"));
    for (const auto& label : podLabels) {
      const auto eq = label.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail(tartan::makeError("labels", label, "a label is KEY=VALUE"));
      pod.labels[label.substr(0, eq)] = label.substr(eq + 1);
    }
    for (const auto& spec : podPorts) {
      auto port = parsePortSpec(spec);
      if (!port) return fail(port.error());
      pod.ports.push_back(*port);
    }
    if (auto r = addPod(*dir, pod); !r) return fail(r.error());
    return 0;
  }
  if (*delPodCmd) {
    if (auto r = delPod(*dir, podNamespaceName, podName); !r) return fail(r.error());
    std::cout << "pod " << podNamespaceName << "/" << podName << " deleted\n";
    return 0;
  }
  if (*restartCmd) {
    auto tools = findTools(agentPath, ctlPath);
    if (agentPath.empty()) tools.agent.clear();  // the binary the lab was started with, unless given
    if (auto r = restartAgent(*dir, tools, nodeName, readyTimeout); !r) return fail(r.error());
    return 0;
  }
  if (*restartBgpdCmd) {
    if (auto r = restartBgpd(*dir, nodeName, readyTimeout); !r) return fail(r.error());
    return 0;
  }
  if (*downCmd) {
    if (auto r = down(*dir, labName); !r) return fail(r.error());
    std::cout << "lab removed\n";
    return 0;
  }
  return 0;
}

// A state file edited or cut short by hand can hold the wrong types: a clear error, not an abort.
int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a plugin that exits before reading its configuration
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "tartan-lab: " << e.what() << "\n";
    return 1;
  }
}
