#include <tartan/netlink/sysctl.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace tartan::netlink {

namespace {
constexpr size_t kInterfaceNameMax = 15;  // IFNAMSIZ - 1

std::string_view subtree(SysctlTree tree) {
  switch (tree) {
    case SysctlTree::Ipv4Conf:
      return "ipv4/conf";
    case SysctlTree::Ipv4Neigh:
      return "ipv4/neigh";
    case SysctlTree::Ipv6Conf:
      return "ipv6/conf";
    case SysctlTree::Ipv6Neigh:
      return "ipv6/neigh";
  }
  return "";
}

bool safeComponent(std::string_view part, size_t max) {
  return !part.empty() && part.size() <= max && part != "." && part != ".." &&
         part.find('/') == std::string_view::npos && part.find('\0') == std::string_view::npos;
}

std::string relative(SysctlTree tree, std::string_view interface, std::string_view key) {
  return std::string(subtree(tree)) + "/" + std::string(interface) + "/" + std::string(key);
}
}  // namespace

Result<std::string> sysctlPath(SysctlTree tree, std::string_view interface, std::string_view key) {
  // "all" and "default" are valid here too: they are names in the same directory.
  if (!safeComponent(interface, kInterfaceNameMax))
    return makeError("sysctl", "interface", "bad interface name '" + std::string(interface) + "'");
  if (!safeComponent(key, 64)) return makeError("sysctl", "key", "bad key '" + std::string(key) + "'");
  // Error is constructible from a string too, so the value is placed explicitly.
  return Result<std::string>(boost::system::in_place_value,
                             "/proc/sys/net/" + relative(tree, interface, key));
}

Result<void> InterfaceSysctls::ensure(SysctlTree tree, std::string_view interface, std::string_view key,
                                      std::string_view value) {
  auto current = get(tree, interface, key);
  if (!current) return current.error();
  if (*current == value) return {};
  return set(tree, interface, key, value);
}

Result<std::string> ProcSysctls::get(SysctlTree tree, std::string_view interface, std::string_view key) {
  auto checked = sysctlPath(tree, interface, key);
  if (!checked) return checked.error();
  std::string path = root_ + "/" + relative(tree, interface, key);
  // Opened now, by this thread: that is what picks the namespace.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return makeError(path, "", std::strerror(errno));
  std::string value;
  char buffer[256];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int saved = errno;
      ::close(fd);
      return makeError(path, "", std::strerror(saved));
    }
    if (got == 0) break;
    value.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return Result<std::string>(boost::system::in_place_value, std::move(value));
}

Result<void> ProcSysctls::set(SysctlTree tree, std::string_view interface, std::string_view key,
                              std::string_view value) {
  auto checked = sysctlPath(tree, interface, key);
  if (!checked) return checked.error();
  std::string path = root_ + "/" + relative(tree, interface, key);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return makeError(path, "", std::strerror(errno));
  std::string line = std::string(value) + "\n";
  ssize_t wrote = -1;
  do {
    wrote = ::write(fd, line.data(), line.size());
  } while (wrote < 0 && errno == EINTR);
  int saved = errno;
  ::close(fd);
  // The kernel parses the value inside write(): EINVAL here is "not a value this knob takes".
  if (wrote < 0) return makeError(path, "", "write '" + std::string(value) + "': " + std::strerror(saved));
  if (static_cast<size_t>(wrote) != line.size()) return makeError(path, "", "short write");
  return {};
}

std::vector<SysctlSetting> workloadInterfaceSysctls(std::string_view interface, bool ipv4, bool ipv6,
                                                    std::string_view rpFilter) {
  std::vector<SysctlSetting> settings;
  auto add = [&](SysctlTree tree, const char* key, std::string_view value) {
    settings.push_back(SysctlSetting{tree, std::string(interface), key, std::string(value)});
  };
  if (ipv4) {
    add(SysctlTree::Ipv4Conf, "forwarding", "1");
    add(SysctlTree::Ipv4Conf, "proxy_arp", "1");
    add(SysctlTree::Ipv4Neigh, "proxy_delay", "0");
    add(SysctlTree::Ipv4Conf, "route_localnet", "1");
    if (!rpFilter.empty()) add(SysctlTree::Ipv4Conf, "rp_filter", rpFilter);
  }
  if (ipv6) {
    add(SysctlTree::Ipv6Conf, "disable_ipv6", "0");
    add(SysctlTree::Ipv6Conf, "forwarding", "1");
    add(SysctlTree::Ipv6Conf, "proxy_ndp", "1");
    add(SysctlTree::Ipv6Conf, "accept_ra", "0");
  }
  return settings;
}

Result<void> applySysctls(InterfaceSysctls& sysctls, const std::vector<SysctlSetting>& settings) {
  std::optional<Error> first;
  for (const SysctlSetting& setting : settings) {
    auto done = sysctls.ensure(setting.tree, setting.interface, setting.key, setting.value);
    if (!done && !first) first = done.error();
  }
  if (first) return *first;
  return {};
}

}  // namespace tartan::netlink
