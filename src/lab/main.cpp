// tartan-lab — a Tartan node and its pods as network namespaces on this machine.
//
//   tartan-lab up LABFILE [--state-dir DIR] [--agent PATH]   build the lab, start the agent, wait for ready
//   tartan-lab probe [NAME] [--json] [--timeout-ms N] [--family 4|6|both]
//                                                            the pod x pod x port matrix, per family
//   tartan-lab apply [NAME] -f FILE|DIR ...                  tartanctl apply against the lab's datastore
//   tartan-lab datastore [NAME]                              print the --datastore of the lab
//   tartan-lab restart-agent [NAME]                          stop the node's agent, start it again
//   tartan-lab down [NAME] [--state-dir DIR]                 remove every namespace and process of the lab
//   tartan-lab serve --tcp PORT --udp PORT ...               (internal) echo servers in a pod
#include "lab.hpp"

#include <CLI/CLI.hpp>

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

int main(int argc, char** argv) {
  CLI::App app{"tartan-lab: a Tartan node and its pods as network namespaces", "tartan-lab"};
  app.require_subcommand(1);
  std::string stateDir, agentPath, ctlPath, labName;
  app.add_option("--state-dir", stateDir, "the lab's state dir (default /run/tartan-lab/<name>)");
  app.add_option("--agent", agentPath, "the tartan-agent binary");
  app.add_option("--tartanctl", ctlPath, "the tartanctl binary");

  std::string labFile, logLevel = "info";
  int readyTimeout = 60;
  auto* upCmd = app.add_subcommand("up", "build a lab from a lab file");
  upCmd->add_option("labfile", labFile, "the lab file (YAML)")->required();
  upCmd->add_option("--log-level", logLevel, "the agent's log level");
  upCmd->add_option("--ready-timeout", readyTimeout, "seconds to wait for the agent to be ready");

  bool asJson = false;
  ProbeOptions probeOptions;
  auto* probeCmd = app.add_subcommand("probe", "try every pod -> pod port and print the matrix");
  probeCmd->add_option("name", labName, "the lab");
  probeCmd->add_flag("--json", asJson, "print JSON");
  probeCmd->add_option("--timeout-ms", probeOptions.timeoutMs, "how long a connection may take");
  probeCmd->add_option("--parallelism", probeOptions.parallelism, "how many cells to probe at once");
  std::string family = "both";
  probeCmd->add_option("--family", family, "which addresses to probe: 4, 6 or both (default)")
      ->check(CLI::IsMember({"4", "6", "both"}));

  std::vector<std::string> files;
  bool recursive = false;
  auto* applyCmd = app.add_subcommand("apply", "apply manifests to the lab's datastore (tartanctl apply)");
  applyCmd->add_option("name", labName, "the lab");
  applyCmd->add_option("-f,--filename", files, "manifest file or folder")->required();
  applyCmd->add_flag("-R,--recursive", recursive, "read folders recursively");

  auto* datastoreCmd = app.add_subcommand("datastore", "print the --datastore of the lab, for tartanctl");
  datastoreCmd->add_option("name", labName, "the lab");

  auto* restartCmd = app.add_subcommand("restart-agent",
                                        "stop the lab's agent and start it again (its rules stay in place)");
  restartCmd->add_option("name", labName, "the lab");
  restartCmd->add_option("--ready-timeout", readyTimeout, "seconds to wait for the new agent to be ready");

  auto* downCmd = app.add_subcommand("down", "remove the lab's namespaces and processes");
  downCmd->add_option("name", labName, "the lab");

  std::vector<uint16_t> tcpPorts, udpPorts;
  auto* serveCmd = app.add_subcommand("serve", "echo servers (run inside a pod namespace)");
  serveCmd->add_option("--tcp", tcpPorts, "TCP ports");
  serveCmd->add_option("--udp", udpPorts, "UDP ports");

  CLI11_PARSE(app, argc, argv);

  if (*serveCmd) return serve(tcpPorts, udpPorts);

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
  if (*restartCmd) {
    auto tools = findTools(agentPath, ctlPath);
    if (agentPath.empty()) tools.agent.clear();  // the binary the lab was started with, unless given
    auto pid = restartAgent(*dir, tools, readyTimeout);
    if (!pid) return fail(pid.error());
    std::cout << "agent ready (pid " << *pid << ")\n";
    return 0;
  }
  if (*downCmd) {
    if (auto r = down(*dir, labName); !r) return fail(r.error());
    std::cout << "lab removed\n";
    return 0;
  }
  return 0;
}
