// version, and node checksystem: what the agent needs from this host, found by reading files
// only — /proc/modules, /sys/module, the kernel's modules.builtin and modules.dep, its build
// configuration (/boot/config-RELEASE or /proc/config.gz), the tool folders — so the check
// changes nothing and needs no privilege.
#include "cli.hpp"

#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <sys/utsname.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>

namespace tartan::cli {

namespace fs = std::filesystem;

int runVersion(const Context& ctx, std::string_view clientVersion) {
  *ctx.out << "Client Version:    " << clientVersion << "\n";
  std::string clusterVersion = "unknown", clusterType;
  // Read only: a store that is not there is not made for this.
  datastore::OpenOptions options;
  options.create = false;
  auto store = datastore::open(ctx.datastoreSpec, options);
  if (store) {
    auto info = (*store)->get(datastore::Key{"ClusterInformation", "", "default"});
    if (info) {
      try {
        const YAML::Node spec = YAML::Load(info->value)["spec"];
        if (spec && spec["calicoVersion"]) clusterVersion = spec["calicoVersion"].as<std::string>();
        if (spec && spec["clusterType"]) clusterType = spec["clusterType"].as<std::string>();
      } catch (const YAML::Exception& e) {
        *ctx.err << "tartanctl: warning: ClusterInformation/default: " << e.what() << "\n";
      }
    } else if (info.error().kind != datastore::ErrorKind::NotFound &&
               info.error().kind != datastore::ErrorKind::Unavailable) {
      *ctx.err << "tartanctl: warning: " << info.error().toString() << "\n";
    }
  }
  *ctx.out << "Cluster Version:   " << clusterVersion << "\n";
  if (!clusterType.empty()) *ctx.out << "Cluster Type:      " << clusterType << "\n";
  return 0;
}

namespace {

std::string moduleName(std::string text) {
  // "kernel/net/netfilter/xt_set.ko.zst" -> "xt_set"; "nf-conntrack" -> "nf_conntrack".
  if (auto slash = text.rfind('/'); slash != std::string::npos) text = text.substr(slash + 1);
  if (auto ko = text.find(".ko"); ko != std::string::npos) text.resize(ko);
  for (char& c : text)
    if (c == '-') c = '_';
  return text;
}

// Module names of each line's first field (up to a space or a colon) of a file; empty if absent.
std::set<std::string> moduleNames(const fs::path& file) {
  std::set<std::string> names;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    auto end = line.find_first_of(" :");
    if (!line.empty()) names.insert(moduleName(line.substr(0, end)));
  }
  return names;
}

std::string firstLine(const fs::path& file, bool& readable) {
  std::ifstream in(file);
  std::string line;
  readable = static_cast<bool>(in) && static_cast<bool>(std::getline(in, line));
  return line;
}

// The CONFIG_X=y options of the kernel's build configuration, plain or gzipped (zlib reads both).
std::set<std::string> builtInOptions(const std::vector<fs::path>& candidates) {
  std::set<std::string> options;
  for (const auto& file : candidates) {
    gzFile in = gzopen(file.c_str(), "rb");
    if (!in) continue;
    char line[512];
    while (gzgets(in, line, sizeof line)) {
      std::string text(line);
      if (text.ends_with("=y\n")) options.insert(text.substr(0, text.size() - 3));
    }
    gzclose(in);
    if (!options.empty()) break;
  }
  return options;
}

bool isExecutable(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  return !ec && fs::is_regular_file(status) &&
         (status.permissions() & (fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec)) !=
             fs::perms::none;
}

class CheckSystem {
 public:
  CheckSystem(const Context& ctx, const std::string& root) : ctx_(ctx), root_(root) {
    bool readable = false;
    release_ = firstLine(under("/proc/sys/kernel/osrelease"), readable);
    if (!readable && root_ == "/") {
      utsname name{};
      if (uname(&name) == 0) release_ = name.release;
    }
    loaded_ = moduleNames(under("/proc/modules"));
    modulesDir_ = "/lib/modules/" + release_;
    builtIn_ = moduleNames(under(modulesDir_ + "/modules.builtin"));
    loadable_ = moduleNames(under(modulesDir_ + "/modules.dep"));
    config_ = builtInOptions({under("/boot/config-" + release_), under("/proc/config.gz")});
  }

  // One of `names` (each with its kernel build option) must be in the kernel or loadable into it.
  void module(const std::vector<std::pair<std::string, std::string>>& modules) {
    std::vector<std::string> names;
    for (const auto& entry : modules) names.push_back(entry.first);
    std::string label;
    for (const auto& name : names) label += (label.empty() ? "" : " or ") + name;
    for (const auto& [name, option] : modules) {
      std::error_code ec;
      std::string how;
      if (loaded_.count(name)) {
        how = "loaded";
      } else if (builtIn_.count(name)) {
        how = "built in";
      } else if (fs::exists(under("/sys/module/" + name), ec)) {
        how = "in the kernel";
      } else if (config_.count(option)) {
        how = "built in (" + option + "=y)";
      } else if (loadable_.count(name)) {
        how = "loadable from " + modulesDir_ + " (not loaded yet)";
      } else {
        continue;
      }
      report(true, "kernel module " + label, names.size() > 1 ? name + " " + how : how);
      return;
    }
    report(false, "kernel module " + label,
           "not loaded, not built in, not in " + modulesDir_ + "/modules.dep" +
               (config_.empty() ? " (no kernel config found to tell)" : "") +
               (release_.empty() ? " (kernel release unknown)" : ""));
  }

  void tool(const std::string& name) {
    std::vector<std::string> folders;
    if (root_ == "/") {
      if (const char* path = std::getenv("PATH")) {
        std::stringstream entries(path);
        for (std::string entry; std::getline(entries, entry, ':');)
          if (!entry.empty()) folders.push_back(entry);
      }
    }
    for (const char* standard :
         {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"})
      folders.push_back(standard);
    for (const auto& folder : folders) {
      if (isExecutable(under(folder + "/" + name))) {
        report(true, "tool " + name, folder + "/" + name);
        return;
      }
    }
    report(false, "tool " + name,
           "not found in " + std::string(root_ == "/" ? "$PATH, " : "") +
               "/usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin or /bin");
  }

  void readable(const std::string& file) {
    bool readable = false;
    std::string value = firstLine(under(file), readable);
    report(readable, file, readable ? "readable (" + value + ")" : "cannot be read");
  }

  int finish() {
    if (failed_ == 0) {
      *ctx_.out << "This node has what the agent needs\n";
      return 0;
    }
    return ctx_.fail(std::to_string(failed_) +
                     " required check(s) failed: the agent cannot run on this node");
  }

 private:
  fs::path under(const std::string& path) const {
    return root_ == "/" ? fs::path(path) : fs::path(root_ + path);
  }

  void report(bool ok, const std::string& what, const std::string& detail) {
    if (!ok) ++failed_;
    *ctx_.out << (ok ? "OK       " : "MISSING  ") << what << ": " << detail << "\n";
  }

  const Context& ctx_;
  std::string root_;
  std::string release_;
  std::string modulesDir_;
  std::set<std::string> loaded_, builtIn_, loadable_, config_;
  int failed_ = 0;
};

}  // namespace

int runCheckSystem(const Context& ctx, const std::string& root) {
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (base.empty()) base = "/";
  std::error_code ec;
  if (!fs::is_directory(base, ec)) return ctx.fail("--root " + root + ": not a folder");
  CheckSystem check(ctx, base);
  check.module({{"ip_tables", "CONFIG_IP_NF_IPTABLES"}, {"nf_tables", "CONFIG_NF_TABLES"}});
  check.module({{"ip_set", "CONFIG_IP_SET"}});
  check.module({{"xt_set", "CONFIG_NETFILTER_XT_SET"}});
  check.module({{"xt_conntrack", "CONFIG_NETFILTER_XT_MATCH_CONNTRACK"}});
  check.module({{"xt_multiport", "CONFIG_NETFILTER_XT_MATCH_MULTIPORT"}});
  check.module({{"xt_mark", "CONFIG_NETFILTER_XT_MARK"}});
  check.module({{"nf_conntrack_netlink", "CONFIG_NF_CT_NETLINK"}});
  check.tool("iptables-restore");
  check.tool("ipset");
  check.readable("/proc/sys/net/ipv4/ip_forward");
  return check.finish();
}

}  // namespace tartan::cli
