// Interface sysctls: the path rules, the fake, and ProcSysctls against a scratch directory
// (the real /proc/sys/net is proven in test/kernel/netlink, inside a namespace).
#include <tartan/netlink/sysctl.hpp>

#include "support/fake_netlink.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace tartan::netlink;

TEST_CASE("sysctlPath builds the per-interface file and refuses names that escape the tree") {
  CHECK(sysctlPath(SysctlTree::Ipv4Conf, "tart1234", "forwarding").value() ==
        "/proc/sys/net/ipv4/conf/tart1234/forwarding");
  CHECK(sysctlPath(SysctlTree::Ipv4Neigh, "eth0", "proxy_delay").value() ==
        "/proc/sys/net/ipv4/neigh/eth0/proxy_delay");
  CHECK(sysctlPath(SysctlTree::Ipv6Conf, "all", "forwarding").value() ==
        "/proc/sys/net/ipv6/conf/all/forwarding");
  CHECK(sysctlPath(SysctlTree::Ipv6Neigh, "eth0", "proxy_delay").value() ==
        "/proc/sys/net/ipv6/neigh/eth0/proxy_delay");
  for (const char* bad : {"", ".", "..", "a/b", "sixteen-chars-xx"}) {
    INFO(bad);
    CHECK_FALSE(sysctlPath(SysctlTree::Ipv4Conf, bad, "forwarding"));
  }
  CHECK_FALSE(sysctlPath(SysctlTree::Ipv4Conf, "eth0", "../../ipv4/ip_forward"));
}

TEST_CASE("ProcSysctls reads and writes files below its root; ensure writes only on change") {
  auto root = std::filesystem::temp_directory_path() / ("tartan-sysctl-" + std::to_string(getpid()));
  std::filesystem::create_directories(root / "ipv4/conf/tart0");
  std::ofstream(root / "ipv4/conf/tart0/proxy_arp") << "0\n";
  ProcSysctls sysctls(root.string());
  CHECK(sysctls.get(SysctlTree::Ipv4Conf, "tart0", "proxy_arp").value() == "0");
  CHECK(sysctls.set(SysctlTree::Ipv4Conf, "tart0", "proxy_arp", "1"));
  CHECK(sysctls.get(SysctlTree::Ipv4Conf, "tart0", "proxy_arp").value() == "1");
  auto before = std::filesystem::last_write_time(root / "ipv4/conf/tart0/proxy_arp");
  CHECK(sysctls.ensure(SysctlTree::Ipv4Conf, "tart0", "proxy_arp", "1"));
  CHECK(std::filesystem::last_write_time(root / "ipv4/conf/tart0/proxy_arp") == before);
  auto missing = sysctls.get(SysctlTree::Ipv4Conf, "nosuch0", "proxy_arp");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().toString().find("No such file or directory") != std::string::npos);
  std::filesystem::remove_all(root);
}

TEST_CASE("FakeSysctls starts interfaces at kernel defaults and refuses unknown interfaces") {
  tartan::test::FakeSysctls sysctls;
  sysctls.addInterface("tart0");
  CHECK(sysctls.get(SysctlTree::Ipv4Neigh, "tart0", "proxy_delay").value() == "80");
  CHECK(sysctls.ensure(SysctlTree::Ipv4Conf, "tart0", "forwarding", "1"));
  CHECK(sysctls.ensure(SysctlTree::Ipv4Conf, "tart0", "forwarding", "1"));
  CHECK(sysctls.writes() == 1);
  CHECK_FALSE(sysctls.set(SysctlTree::Ipv4Conf, "tart9", "forwarding", "1"));
  sysctls.removeInterface("tart0");
  CHECK_FALSE(sysctls.get(SysctlTree::Ipv4Conf, "tart0", "forwarding"));
}

TEST_CASE("a workload interface gets Calico's host-side knobs, applied only where they differ") {
  auto settings = workloadInterfaceSysctls("tart0", true, true);
  std::vector<std::string> lines;
  for (const auto& s : settings)
    lines.push_back(sysctlPath(s.tree, s.interface, s.key).value() + "=" + s.value);
  CHECK(lines == std::vector<std::string>{
                     "/proc/sys/net/ipv4/conf/tart0/forwarding=1",
                     "/proc/sys/net/ipv4/conf/tart0/proxy_arp=1",
                     "/proc/sys/net/ipv4/neigh/tart0/proxy_delay=0",
                     "/proc/sys/net/ipv4/conf/tart0/route_localnet=1",
                     "/proc/sys/net/ipv4/conf/tart0/rp_filter=1",
                     "/proc/sys/net/ipv6/conf/tart0/disable_ipv6=0",
                     "/proc/sys/net/ipv6/conf/tart0/forwarding=1",
                     "/proc/sys/net/ipv6/conf/tart0/proxy_ndp=1",
                     "/proc/sys/net/ipv6/conf/tart0/accept_ra=0",
                 });
  CHECK(workloadInterfaceSysctls("tart0", true, false, "").size() == 4);

  tartan::test::FakeSysctls sysctls;
  sysctls.addInterface("tart0");
  CHECK(applySysctls(sysctls, settings));
  CHECK(sysctls.writes() == 8);  // disable_ipv6 was already 0
  CHECK(applySysctls(sysctls, settings));
  CHECK(sysctls.writes() == 8);
  auto missing = applySysctls(sysctls, workloadInterfaceSysctls("tart9", true, false));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().toString() == "/proc/sys/net/ipv4/conf/tart9/forwarding: No such file or directory");
}
