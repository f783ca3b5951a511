// tartan/cni/cni.hpp — tartan-cni, the CNI plugin: a pod's network, as Calico's plugin makes it.
//
// What it does: implements CNI spec 1.0.0 (and answers 0.3.0, 0.3.1 and 0.4.0 configurations)
// for ADD, DEL, CHECK and VERSION, and 1.1.0's STATUS and GC. ADD takes the pod's addresses from tartan::ipam
// (handle "k8s-pod-network.<containerID>", attributes namespace/pod/node), makes a veth whose host end is
// "cali" + 11 hex digits of sha1("<namespace>.<pod>") with MAC ee:ee:ee:ee:ee:ee, up, and whose
// pod end is created straight inside CNI_NETNS under the name CNI_IFNAME; the pod gets /32 and
// /128 addresses, a link route to 169.254.1.1 and a default route via it (IPv6: via the host
// end's link-local fe80::ecee:eeff:feee:eeee); the host end gets Calico's sysctls (forwarding,
// proxy_arp, proxy_delay 0, accept_ra 0, proxy_ndp) and a /32 (/128) route; the
// WorkloadEndpoint "<node>-k8s-<pod>-<iface>" (each '-' of a part doubled, as Calico escapes
// it) is written last, with the Pod's labels if the store holds the Pod. Calico's ipv4pools and
// ipv6pools annotations on the Pod, else its Namespace, choose the pools over the configuration. DEL undoes
// all of it and is idempotent; it removes the WorkloadEndpoint only if its containerID is this one, so the
// DEL of an old sandbox never takes the network of its successor. CHECK compares the veth,
// addresses and routes with prevResult. STATUS says whether the datastore and a pool are there
// (code 50 when not); GC removes the endpoints, veths and IPAM handles of this node's pods whose
// container is not among the runtime's valid attachments, never another node's. CNI_ARGS is read
// as libcni reads it for Calico (an unknown key needs IgnoreUnknown); IP there, or runtimeConfig
// ips, asks for an address. IPAM changes are made under the node's ipam_lock_file flock.
//
// Layers: this header is the pure core — the environment and network configuration parsed and
// validated, the result and error JSON, the names — tested without root (test/unit/cni). The
// shell (src/cni/plugin.cpp) does the I/O: datastore, IPAM, and the kernel through rtnetlink
// (tartan::netlink for routes, a private libmnl helper for links and addresses) with setns()
// into the pod's namespace. The host is the namespace the plugin runs in.
//
// Owns: nothing between calls; every call reads the store and the kernel afresh.
//
// Threading: one call per process, single-threaded (setns() is per thread).
//
// Failure: bad input is a CniError with the spec's code (1 incompatible version, 4 invalid
// network configuration, 7 invalid environment variables, 11 try again later — the datastore is
// away — and 999 for everything else), printed as CNI error JSON on stdout with a non-zero
// exit. A failing ADD undoes each step done so far in reverse (WorkloadEndpoint, veth — its
// routes and addresses go with it — and the IPAM handle), so nothing is left behind.
#pragma once

#include "tartan/model/endpoints.hpp"

#include <boost/system/result.hpp>

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tartan::cni {

// CNI spec §"Error": well-known codes; 100 and above are the plugin's own.
inline constexpr int kIncompatibleVersion = 1;
inline constexpr int kUnsupportedField = 2;
inline constexpr int kUnknownContainer = 3;
inline constexpr int kInvalidNetworkConfig = 4;
inline constexpr int kDecodeFailure = 5;
inline constexpr int kIoFailure = 6;
inline constexpr int kInvalidEnvironment = 7;
inline constexpr int kTryAgainLater = 11;
inline constexpr int kPluginUnavailable = 50;  // CNI 1.1 STATUS: cannot serve ADD now
inline constexpr int kPluginError = 999;

inline constexpr std::string_view kHostVethMac = "ee:ee:ee:ee:ee:ee";
inline constexpr std::string_view kIpv4Gateway = "169.254.1.1";
inline constexpr std::string_view kIpv6Gateway = "fe80::ecee:eeff:feee:eeee";  // EUI-64 of kHostVethMac
inline constexpr std::string_view kDefaultIpamLockFile = "/var/run/calico/ipam.lock";  // Calico's

struct CniError {
  // Not an aggregate: CniResult<int> and CniResult<bool> must not take a value for an error.
  CniError() = default;
  CniError(int code_, std::string msg_, std::string details_ = {})
      : code(code_), msg(std::move(msg_)), details(std::move(details_)) {}
  int code = kPluginError;
  std::string msg;
  std::string details;
  bool operator==(const CniError&) const = default;
};

std::ostream& operator<<(std::ostream& os, const CniError& error);
[[noreturn]] void throw_exception_from_error(const CniError& error, const boost::source_location& where);

template <class T>
using CniResult = boost::system::result<T, CniError>;

// The versions VERSION reports, oldest first.
const std::vector<std::string>& supportedVersions();

enum class Command { kAdd, kDel, kCheck, kVersion, kStatus, kGc };

// What the runtime passes in the environment (CNI spec §"Parameters").
struct Environment {
  Command command = Command::kVersion;
  std::string containerID;
  std::string netns;  // a path, e.g. /run/netns/<name>; may be empty for DEL
  std::string ifName;
  std::string path;  // CNI_PATH, kept for delegation; unused
  // CNI_ARGS, the keys Calico's plugin reads (libcni's LoadArgs semantics): K8S_* name the pod;
  // IP asks for that address instead of one from the pools.
  std::string podNamespace;
  std::string podName;
  std::string infraContainerID;
  std::string podUid;
  std::string requestedIp;                  // CNI_ARGS IP=, empty when not given
  std::map<std::string, std::string> args;  // every CNI_ARGS pair
};

// The CNI_ARGS keys the plugin reads; any other is refused unless IgnoreUnknown is 1 or true, as
// libcni's LoadArgs refuses it for Calico's plugin (kubelet and containerd send IgnoreUnknown=1).
const std::vector<std::string>& knownArgs();

// Reads and validates CNI_* variables through `getenv` (nullptr: unset). Code 7 on a missing or
// malformed one; CNI_COMMAND VERSION needs nothing else.
CniResult<Environment> parseEnvironment(const std::function<const char*(const char*)>& getenv);
// CNI_ARGS alone ("K=V;K=V"), into `env`: code 7 for a pair that is not KEY=VALUE, an unknown key
// without IgnoreUnknown, an IgnoreUnknown that is not a boolean, or an IP that is not an address.
CniResult<void> parseArgs(std::string_view args, Environment& env);

// Route, IP and interface of a CNI result (spec §"Success"); AddResult is the whole of it.
struct ResultInterface {
  std::string name;
  std::string mac;
  std::string sandbox;  // empty: on the host
  bool operator==(const ResultInterface&) const = default;
};
struct ResultIP {
  std::string address;  // CIDR: "10.65.0.1/32"
  std::string gateway;
  std::optional<int> interface;
  bool operator==(const ResultIP&) const = default;
};
struct ResultRoute {
  std::string dst;
  std::string gw;
  bool operator==(const ResultRoute&) const = default;
};
struct AddResult {
  std::string cniVersion;
  std::vector<ResultInterface> interfaces;
  std::vector<ResultIP> ips;
  std::vector<ResultRoute> routes;
  bool operator==(const AddResult&) const = default;
};

// The network configuration on stdin: the fields a Calico user knows.
struct NetConf {
  std::string cniVersion;
  std::string name;
  std::string type;
  std::string ipamType;  // "tartan-ipam" or "calico-ipam"
  bool assignIpv4 = true;
  bool assignIpv6 = false;
  std::vector<std::string> ipv4Pools;
  std::vector<std::string> ipv6Pools;
  int mtu = 0;  // 0: the kernel's default
  std::string nodename;
  std::string datastore;  // "file:DIR"; empty: $TARTAN_DATASTORE, then the default location
  // Calico's ipam_lock_file: every IPAM change on the node is made under an flock of it, so pods
  // added at once do not race for the same block (best effort, as Calico's: no lock if it
  // cannot be opened).
  std::string ipamLockFile = std::string(kDefaultIpamLockFile);
  // runtimeConfig (sent only for the capabilities the conflist declares): `ips`, the CNI
  // convention's addresses for the pod ("10.65.0.7/24" or "10.65.0.7", at most one per family),
  // taken in place of addresses from the pools. Other keys are other plugins' and ignored.
  std::vector<std::string> runtimeIps;
  std::optional<AddResult> prevResult;
  // CNI 1.1 GC: the attachments the runtime still has ("cni.dev/valid-attachments"); absent
  // when the key is.
  struct Attachment {
    std::string containerID;
    std::string ifName;
    bool operator==(const Attachment&) const = default;
  };
  std::optional<std::vector<Attachment>> validAttachments;
};

// Parses and validates the JSON network configuration. Code 4 on anything wrong (1 for a
// cniVersion this plugin does not speak); unknown fields are ignored, as runtimes add their own.
CniResult<NetConf> parseNetConf(std::string_view json);

// Calico's pool annotations on a Pod or its Namespace, which override ipv4_pools/ipv6_pools (the
// Pod's first): a JSON list of pool names or CIDRs.
inline constexpr std::string_view kIpv4PoolsAnnotation = "cni.projectcalico.org/ipv4pools";
inline constexpr std::string_view kIpv6PoolsAnnotation = "cni.projectcalico.org/ipv6pools";
CniResult<std::vector<std::string>> parsePoolsAnnotation(std::string_view key, std::string_view value);

// A CNI result as JSON in the layout of `cniVersion` (0.3.x and 0.4.0 carry each IP's version).
std::string resultJson(const AddResult& result);
// Reads a result (prevResult). Code 4 when it is malformed.
CniResult<AddResult> parseResult(std::string_view json);
// {"cniVersion", "code", "msg", "details"}.
std::string errorJson(std::string_view cniVersion, const CniError& error);
// {"cniVersion", "supportedVersions"}.
std::string versionJson(std::string_view cniVersion);

// Calico's names.
std::string hostVethName(std::string_view podNamespace, std::string_view podName);
// "<node>-k8s-<pod>-<iface>", each '-' inside a part doubled.
std::string workloadEndpointName(std::string_view node, std::string_view pod, std::string_view iface);

// The WorkloadEndpoint ADD writes: Calico's fields, profiles kns.<namespace>, the pod's labels
// plus projectcalico.org/namespace, /orchestrator and /serviceaccount.
struct EndpointInput {
  std::string node;
  Environment env;
  std::string hostVeth;
  std::string mac;  // the pod end's
  std::vector<std::string> ipNetworks;
  std::map<std::string, std::string> podLabels;
  std::string serviceAccount;
};
model::WorkloadEndpoint makeWorkloadEndpoint(const EndpointInput& input);

// The plugin: runs one command and writes its JSON to `out` (the result, or the error). Returns
// the process's exit code (0 on success). `stdinText` is the network configuration.
int run(const Environment& env, std::string_view stdinText, std::ostream& out);
// main(): the environment of the process, stdin, stdout.
int runMain();

}  // namespace tartan::cni
