// tartan/dataplane/iptables/kernel.hpp — the two kernel-facing edges of the iptables dataplane.
//
// RestoreRunner runs iptables-save / iptables-restore (nft or legacy backend, IPv4 or IPv6);
// IpSetKernel talks to the ipset subsystem (through libipset's netlink socket, no process per
// change). Everything above them is pure and unit-tested with the fakes in test/support/; the real
// implementations are proven in test/kernel/dataplane_iptables/.
// Threading: an instance is used by one thread. Both act in the network namespace of the thread
// that uses them: exec'd processes inherit the calling thread's namespace, and the libipset socket
// is opened on first use, so create and use an IpSetKernel on a thread that is already inside the
// namespace it should program.
// Failure: every call returns an Error value with the command's own message.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/dataplane/iptables/chain.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::dataplane::iptables {

enum class Backend { kAuto, kNft, kLegacy };

class RestoreRunner {
 public:
  virtual ~RestoreRunner() = default;
  // `iptables-save -t <table>` output.
  virtual Result<std::string> save(IpFamily family, std::string_view table) = 0;
  // `iptables-restore --noflush --wait <s>` fed `input` (one or more *table ... COMMIT blocks).
  virtual Result<void> restore(IpFamily family, std::string_view input) = 0;

  struct Input {
    IpFamily family;
    std::string_view text;
  };
  // One restore per input, each its own transaction; a result per input, in order. The real
  // runner runs them at once (IPv4 and IPv6 are independent transactions, and starting the two
  // binaries one after the other doubles an edit's latency); this default runs them in turn.
  virtual std::vector<Result<void>> restoreEach(const std::vector<Input>& inputs) {
    std::vector<Result<void>> results;
    for (const auto& input : inputs) results.push_back(restore(input.family, input.text));
    return results;
  }
  // Whether `pid` is one of the last restores this runner ran: nf_tables names the committing
  // process in its change notifications, and our own writes need no re-check.
  virtual bool ranRestore(int /*pid*/) const { return false; }
  // Whether MASQUERADE and SNAT take --random-fully: iptables 1.6.2 or later on Linux 3.14 or
  // later, as Felix detects it. Asked once per runner.
  virtual bool supportsRandomFully() { return false; }
};

// The real runner over the iptables 1.8 binaries. kAuto picks, once per runner, whichever backend
// already holds rules (legacy if it holds more than nft, else nft), as Felix does.
std::unique_ptr<RestoreRunner> makeExecRestoreRunner(Backend backend, int lockTimeoutSeconds);

// Which backend holds rules now: counts "-A" lines in each backend's iptables-save (IPv4).
Backend detectBackend();

enum class IpSetType { kNet, kIpPort };
std::string_view ipSetTypeName(IpSetType type);  // "hash:net", "hash:ip,port"

struct KernelIpSet {
  std::string name;
  std::string type;  // as the kernel names it, "hash:net"
  IpFamily family = IpFamily::kV4;
  std::set<std::string> members;  // canonical text (see canonicalMember)
};

class IpSetKernel {
 public:
  virtual ~IpSetKernel() = default;
  // Every set whose name passes names::isOurs, with its members.
  virtual Result<std::vector<KernelIpSet>> listOurs() = 0;
  virtual Result<void> create(std::string_view name, IpSetType type, IpFamily family,
                              std::uint32_t maxElements) = 0;
  virtual Result<void> destroy(std::string_view name) = 0;
  virtual Result<void> add(std::string_view name, std::string_view member) = 0;  // present is not an error
  virtual Result<void> del(std::string_view name, std::string_view member) = 0;  // absent is not an error
  virtual Result<void> swap(std::string_view a, std::string_view b) = 0;
  // Removes `dels`, then adds `adds`, in one set. The real edge sends them together (libipset's
  // restore mode packs many members into each netlink message); this default goes one by one.
  virtual Result<void> update(std::string_view name, const std::set<std::string>& dels,
                              const std::set<std::string>& adds) {
    for (const auto& m : dels)
      if (auto r = del(name, m); !r) return r;
    for (const auto& m : adds)
      if (auto r = add(name, m); !r) return r;
    return {};
  }
};

// The real IpSetKernel over libipset.
std::unique_ptr<IpSetKernel> makeLibIpSetKernel();

// The addresses of every interface of the calling thread's network namespace (getifaddrs), as
// canonical text without prefix length. Used to find host endpoints by their expected IPs.
using InterfaceAddresses = std::map<std::string, std::set<std::string>>;
InterfaceAddresses listInterfaceAddresses();

// A member as the kernel lists it: "10.0.0.1/32" -> "10.0.0.1", IPv6 in inet_ntop form,
// "10.0.0.1,TCP:80" -> "10.0.0.1,tcp:80". Returns "" for a member that is not valid for the type.
std::string canonicalMember(std::string_view member, IpSetType type);
// The family of a (valid) member.
IpFamily memberFamily(std::string_view member);

}  // namespace tartan::dataplane::iptables
