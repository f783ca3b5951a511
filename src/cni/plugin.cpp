// The shell of tartan-cni: ADD, DEL and CHECK against the datastore, IPAM and the kernel.
#include "tartan/cni/cni.hpp"

#include "link.hpp"
#include "try.hpp"

#include "tartan/common/log.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/ipam/ipam.hpp"
#include "tartan/model/model.hpp"
#include "tartan/netlink/netlink.hpp"
#include "tartan/netlink/sysctl.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>

namespace tartan::cni {

namespace {

constexpr uint8_t kProtocolBoot = 3;  // RTPROT_BOOT, what Calico's plugin and `ip route` write

CniError pluginError(std::string msg, const Error& error) {
  return CniError{kPluginError, std::move(msg), error.toString()};
}

// A file descriptor closed at the end of its scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The steps of an ADD to undo, newest first, unless it completes.
class Rollback {
 public:
  ~Rollback() {
    if (done_) return;
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }
  void push(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void commit() { done_ = true; }

 private:
  std::vector<std::function<void()>> steps_;
  bool done_ = false;
};

// The node's IPAM lock (Calico's ipam_lock_file), held while this process changes IPAM: pods added
// at once on one node take their addresses one after another instead of racing for the same
// block until IPAM's retries run out. Best effort, as Calico's: without the file, no lock.
class IpamLock {
 public:
  explicit IpamLock(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      log::get("cni")->warn("IPAM lock {} cannot be opened ({}): going on without it", path,
                            std::strerror(errno));
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~IpamLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }
  IpamLock(const IpamLock&) = delete;
  IpamLock& operator=(const IpamLock&) = delete;

 private:
  int fd_ = -1;
};

std::string nodeName(const NetConf& conf) {
  if (!conf.nodename.empty()) return conf.nodename;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "localhost";
  return host;
}

CniResult<std::unique_ptr<datastore::Datastore>> openStore(const NetConf& conf) {
  datastore::OpenOptions options;
  options.create = false;  // the store holds the pools: a missing one is away, not empty
  auto store = datastore::open(conf.datastore, options);
  if (!store) {
    const auto& error = store.error();
    int code = error.kind == datastore::ErrorKind::Unavailable || error.kind == datastore::ErrorKind::Io
                   ? kTryAgainLater
                   : kInvalidNetworkConfig;
    return CniError{code, "cannot open the datastore", error.toString()};
  }
  return std::move(*store);
}

CniError storeError(std::string msg, const datastore::StoreError& error) {
  int code = error.kind == datastore::ErrorKind::Unavailable || error.kind == datastore::ErrorKind::Io ||
                     error.kind == datastore::ErrorKind::Conflict
                 ? kTryAgainLater
                 : kPluginError;
  return CniError{code, std::move(msg), error.toString()};
}

CniError ipamError(const ipam::IpamError& error) {
  switch (error.kind) {
    case ipam::ErrorKind::kExhausted:
      return CniError{kPluginError, "no address left in the pools this pod may use", error.toString()};
    case ipam::ErrorKind::kConflict:
    case ipam::ErrorKind::kStore:
      return CniError{kTryAgainLater, "IPAM could not write to the datastore", error.toString()};
    case ipam::ErrorKind::kInvalid:
      return CniError{kInvalidNetworkConfig, "IPAM refused the request", error.toString()};
    case ipam::ErrorKind::kAlreadyAllocated:
      return CniError{kPluginError, "the address asked for is in use", error.toString()};
    default:
      return CniError{kPluginError, "IPAM failed", error.toString()};
  }
}

datastore::Key endpointKey(const std::string& node, const Environment& env) {
  return {std::string(model::kindName(model::Kind::kWorkloadEndpoint)), env.podNamespace,
          workloadEndpointName(node, env.podName, env.ifName)};
}

template <class T>
std::optional<T> decodeOne(const std::string& text, const std::string& source) {
  auto decoded = model::decode(text, source);
  if (!decoded.ok() || decoded.resources.size() != 1) return std::nullopt;
  if (const T* value = std::get_if<T>(&decoded.resources.front())) return *value;
  return std::nullopt;
}

CniResult<int> openNetns(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int saved = errno;
    return CniError{saved == ENOENT ? kUnknownContainer : kInvalidEnvironment,
                    "cannot open CNI_NETNS " + path, std::strerror(saved)};
  }
  // The host's own namespace is never a pod's: DEL would delete the host's interface of that name.
  struct stat pod {};
  struct stat host {};
  if (fstat(fd, &pod) == 0 && stat("/proc/thread-self/ns/net", &host) == 0 && pod.st_dev == host.st_dev &&
      pod.st_ino == host.st_ino) {
    ::close(fd);
    return CniError{kInvalidEnvironment, "CNI_NETNS " + path + " is the host's own network namespace"};
  }
  return fd;
}

netlink::Prefix hostPrefix(const std::string& ip) {
  // IPAM hands out plain addresses; a host prefix is their /32 or /128.
  return netlink::Prefix::parse(ip).value();
}

// Sockets in the pod's namespace; they stay bound to it after the thread has left.
struct PodSockets {
  std::unique_ptr<netlink::Netlink> routes;
  std::unique_ptr<LinkSocket> links;
};

CniResult<PodSockets> podSockets(int netnsFd, const std::string& path) {
  auto inside = InNamespace::enter(netnsFd);
  if (!inside)
    return CniError{kInvalidEnvironment, "CNI_NETNS " + path + " is not a network namespace",
                    inside.error().toString()};
  PodSockets sockets;
  auto routes = netlink::Netlink::open();
  if (!routes) return pluginError("netlink in the pod's namespace", routes.error());
  auto links = LinkSocket::open();
  if (!links) return pluginError("netlink in the pod's namespace", links.error());
  sockets.routes = std::move(*routes);
  sockets.links = std::move(*links);
  return sockets;
}

// /proc/sys/net of the pod: IPv6 on for its interface (a runtime may have turned it off).
CniResult<void> podIpv6Sysctls(int netnsFd, const std::string& ifName) {
  auto inside = InNamespace::enter(netnsFd);
  if (!inside) return pluginError("setns into the pod", inside.error());
  netlink::ProcSysctls sysctls;
  auto set = sysctls.ensure(netlink::SysctlTree::Ipv6Conf, ifName, "disable_ipv6", "0");
  if (!set) return pluginError("cannot enable IPv6 on the pod's " + ifName, set.error());
  return {};
}

AddResult resultFor(const NetConf& conf, const Environment& env, const std::string& hostVeth,
                    const std::string& podMac, const std::vector<netlink::Prefix>& addresses) {
  AddResult result;
  result.cniVersion = conf.cniVersion;
  result.interfaces.push_back({hostVeth, std::string(kHostVethMac), ""});
  result.interfaces.push_back({env.ifName, podMac, env.netns});
  bool v4 = false;
  bool v6 = false;
  for (const auto& address : addresses) {
    result.ips.push_back({address.toString(), "", 1});
    (address.family() == netlink::Family::V4 ? v4 : v6) = true;
  }
  if (v4) result.routes.push_back({"0.0.0.0/0", std::string(kIpv4Gateway)});
  if (v6) result.routes.push_back({"::/0", std::string(kIpv6Gateway)});
  return result;
}

// The result of an earlier ADD of this very container, if it completed: its endpoint is stored
// and both ends of its veth are there.
std::optional<AddResult> repeatedAdd(const Environment& env, const NetConf& conf, const std::string& node,
                                     datastore::Datastore& store, PodSockets& pod, netlink::Netlink& hostNl) {
  auto key = endpointKey(node, env);
  auto kv = store.get(key);
  if (!kv) return std::nullopt;
  auto wep = decodeOne<model::WorkloadEndpoint>(kv->value, key.toString());
  if (!wep || wep->spec.containerID != env.containerID) return std::nullopt;
  auto podLink = pod.routes->linkByName(env.ifName);
  if (!podLink || !hostNl.linkByName(wep->spec.interfaceName)) return std::nullopt;
  std::vector<netlink::Prefix> addresses;
  for (const auto& net : wep->spec.ipNetworks) {
    auto prefix = netlink::Prefix::parse(net);
    if (!prefix) return std::nullopt;
    addresses.push_back(*prefix);
  }
  return resultFor(conf, env, wep->spec.interfaceName, netlink::macToString(podLink->mac), addresses);
}

CniResult<AddResult> add(const Environment& env, const NetConf& conf) {
  const std::string node = nodeName(conf);
  int rawFd = -1;
  CNI_ASSIGN(rawFd, openNetns(env.netns));
  Fd netnsFd(rawFd);
  PodSockets pod;
  CNI_ASSIGN(pod, podSockets(netnsFd.get(), env.netns));
  std::unique_ptr<datastore::Datastore> store;
  CNI_ASSIGN(store, openStore(conf));
  ipam::Ipam ipam(*store);
  auto hostNl = netlink::Netlink::open();
  if (!hostNl) return pluginError("netlink on the host", hostNl.error());
  auto hostLinks = LinkSocket::open();
  if (!hostLinks) return pluginError("netlink on the host", hostLinks.error());
  // Declared after everything its steps use, so it runs before they are gone.
  Rollback rollback;

  // The pod's labels, service account and annotations, and its namespace's annotations, when the
  // store holds them.
  std::map<std::string, std::string> podLabels;
  std::string serviceAccount;
  model::Labels podAnnotations;
  model::Labels namespaceAnnotations;
  if (auto kv = store->get(
          {std::string(model::kindName(model::Kind::kKubernetesPod)), env.podNamespace, env.podName})) {
    if (auto podResource = decodeOne<model::KubernetesPod>(kv->value, "Pod " + env.podName)) {
      podLabels.insert(podResource->metadata.labels.begin(), podResource->metadata.labels.end());
      serviceAccount = podResource->spec.serviceAccountName;
      podAnnotations = podResource->metadata.annotations;
    }
  }
  if (auto kv = store->get(
          {std::string(model::kindName(model::Kind::kKubernetesNamespace)), "", env.podNamespace})) {
    if (auto ns = decodeOne<model::KubernetesNamespace>(kv->value, "Namespace " + env.podNamespace))
      namespaceAnnotations = ns->metadata.annotations;
  }
  // Calico's order: the Pod's annotation, the Namespace's, then the network configuration.
  auto poolsFor = [&](std::string_view key,
                      const std::vector<std::string>& configured) -> CniResult<std::vector<std::string>> {
    for (const model::Labels* annotations : {&podAnnotations, &namespaceAnnotations})
      if (auto it = annotations->find(key); it != annotations->end())
        return parsePoolsAnnotation(key, it->second);
    return configured;
  };
  std::vector<std::string> ipv4Pools;
  std::vector<std::string> ipv6Pools;
  CNI_ASSIGN(ipv4Pools, poolsFor(kIpv4PoolsAnnotation, conf.ipv4Pools));
  CNI_ASSIGN(ipv6Pools, poolsFor(kIpv6PoolsAnnotation, conf.ipv6Pools));

  // An ADD repeated for a container whose ADD completed (a runtime that retries after a timeout)
  // answers with what is there; one whose ADD did not complete starts again from nothing.
  const std::string handle = ipam::podHandleID(env.containerID);
  if (auto done = repeatedAdd(env, conf, node, *store, pod, **hostNl)) return *done;
  auto ipamLock = std::make_unique<IpamLock>(conf.ipamLockFile);
  if (auto held = ipam.ipsByHandle(handle); held && !held->empty()) {
    if (auto released = ipam.releaseByHandle(handle); !released) return ipamError(released.error());
  }

  // 1. Addresses: those the runtime asked for (CNI_ARGS IP, else runtimeConfig ips), else one of
  // each family the configuration assigns, from the pools.
  const std::map<std::string, std::string> attributes{
      {"namespace", env.podNamespace}, {"pod", env.podName}, {"node", node}};
  const std::vector<std::string> requested =
      env.requestedIp.empty() ? conf.runtimeIps : std::vector<std::string>{env.requestedIp};
  ipam::AutoAssignResult assignedIps;
  if (!requested.empty()) {
    for (const auto& ip : requested) {
      auto taken = ipam.assignIP({ip, handle, attributes, node});
      if (!taken) {
        (void)ipam.releaseByHandle(handle);
        return ipamError(taken.error());
      }
      (ip.find(':') == std::string::npos ? assignedIps.ipv4 : assignedIps.ipv6).push_back(ip);
    }
  } else {
    ipam::AutoAssignArgs request;
    request.num4 = conf.assignIpv4 ? 1 : 0;
    request.num6 = conf.assignIpv6 ? 1 : 0;
    request.handleID = handle;
    request.hostname = node;
    request.attributes = attributes;
    request.ipv4Pools = ipv4Pools;
    request.ipv6Pools = ipv6Pools;
    auto assigned = ipam.autoAssign(request);
    if (!assigned) return ipamError(assigned.error());
    assignedIps = std::move(*assigned);
  }
  ipamLock.reset();
  rollback.push([&ipam, handle, lockFile = conf.ipamLockFile] {
    IpamLock relock(lockFile);
    (void)ipam.releaseByHandle(handle);
  });
  std::vector<netlink::Prefix> addresses;
  for (const auto& ip : assignedIps.ipv4) addresses.push_back(hostPrefix(ip));
  for (const auto& ip : assignedIps.ipv6) addresses.push_back(hostPrefix(ip));
  const bool haveV4 = !assignedIps.ipv4.empty();
  const bool haveV6 = !assignedIps.ipv6.empty();

  // 2. The veth, its pod end created straight in the pod's namespace.
  const std::string hostVeth = hostVethName(env.podNamespace, env.podName);
  // A veth of an earlier sandbox of the same pod is dead: the name is the pod's.
  if (auto old = (*hostLinks)->deleteLink(hostVeth); !old)
    return pluginError("cannot remove the old " + hostVeth, old.error());
  VethSpec veth;
  veth.name = hostVeth;
  veth.mac = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
  veth.peerName = env.ifName;
  veth.peerNamespaceFd = netnsFd.get();
  veth.mtu = static_cast<uint32_t>(conf.mtu);
  if (auto made = (*hostLinks)->createVeth(veth); !made)
    return pluginError("cannot create the veth", made.error());
  rollback.push([links = hostLinks->get(), hostVeth] { (void)links->deleteLink(hostVeth); });

  // 3. The host end: sysctls before it is up (accept_ra must be off before IPv6 starts), then up.
  // Every host end has the same link-local (from ee:ee:ee:ee:ee:ee), each alone on its link: DAD
  // there proves nothing and would leave the pod's IPv6 gateway unusable for its first seconds.
  netlink::ProcSysctls sysctls;
  auto hostSysctls = netlink::workloadInterfaceSysctls(hostVeth, haveV4, haveV6, "");
  if (haveV6) hostSysctls.push_back({netlink::SysctlTree::Ipv6Conf, hostVeth, "accept_dad", "0"});
  if (auto set = netlink::applySysctls(sysctls, hostSysctls); !set)
    return pluginError("cannot set the sysctls of " + hostVeth, set.error());
  if (auto up = (*hostLinks)->setUp(hostVeth); !up)
    return pluginError("cannot set " + hostVeth + " up", up.error());
  auto hostLink = (*hostNl)->linkByName(hostVeth);
  if (!hostLink) return pluginError("the veth vanished", hostLink.error());

  // 4. The pod end: up, addresses, the gateway routes.
  if (haveV6) CNI_CHECK(podIpv6Sysctls(netnsFd.get(), env.ifName));
  if (auto up = pod.links->setUp(env.ifName); !up)
    return pluginError("cannot set " + env.ifName + " up", up.error());
  auto podLink = pod.routes->linkByName(env.ifName);
  if (!podLink) return pluginError("the pod's interface vanished", podLink.error());
  for (const auto& address : addresses)
    if (auto added = pod.links->addAddress(podLink->ifindex, address, true); !added)
      return pluginError("cannot add " + address.toString() + " to the pod", added.error());
  if (haveV4) {
    auto gateway = netlink::IpAddress::parse(kIpv4Gateway).value();
    netlink::Prefix gatewayPrefix{gateway, 32};
    for (const auto& route : {netlink::Route::toInterface(gatewayPrefix, podLink->ifindex, kProtocolBoot),
                              netlink::Route::via(netlink::Prefix::parse("0.0.0.0/0").value(), gateway,
                                                  kProtocolBoot, podLink->ifindex)})
      if (auto added = pod.routes->addRoute(route); !added)
        return pluginError("cannot add the pod's route " + route.dst.toString(), added.error());
  }
  if (haveV6) {
    auto gateway = netlink::IpAddress::parse(kIpv6Gateway).value();
    auto route =
        netlink::Route::via(netlink::Prefix::parse("::/0").value(), gateway, kProtocolBoot, podLink->ifindex);
    if (auto added = pod.routes->addRoute(route); !added)
      return pluginError("cannot add the pod's IPv6 default route", added.error());
  }

  // 5. The host's routes to the pod. One that exists already is another interface's: refuse.
  for (const auto& address : addresses) {
    auto route = netlink::Route::toInterface(address, hostLink->ifindex, kProtocolBoot);
    if (auto added = (*hostNl)->addRoute(route); !added)
      return pluginError("cannot route " + address.toString() + " to " + hostVeth +
                             " (a route to it via another interface already exists?)",
                         added.error());
  }

  // 6. The WorkloadEndpoint, last: the agent polices the pod once it is there.
  EndpointInput input;
  input.node = node;
  input.env = env;
  input.hostVeth = hostVeth;
  input.mac = netlink::macToString(podLink->mac);
  for (const auto& address : addresses) input.ipNetworks.push_back(address.toString());
  input.podLabels = podLabels;
  input.serviceAccount = serviceAccount;
  model::Resource wep = makeWorkloadEndpoint(input);
  auto key = endpointKey(node, env);
  if (auto written = store->apply(key, model::encodeYaml(wep)); !written)
    return storeError("cannot write the WorkloadEndpoint " + key.name, written.error());

  rollback.commit();
  return resultFor(conf, env, hostVeth, input.mac, addresses);
}

CniResult<void> del(const Environment& env, const NetConf& conf) {
  const std::string node = nodeName(conf);
  std::unique_ptr<datastore::Datastore> store;
  CNI_ASSIGN(store, openStore(conf));

  // The pod's end of the veth (and with it the host end and its routes), if the namespace is
  // still there.
  if (!env.netns.empty()) {
    auto fd = openNetns(env.netns);
    if (!fd && fd.error().code == kInvalidEnvironment) return fd.error();
    if (fd) {
      Fd netnsFd(*fd);
      if (auto inside = InNamespace::enter(netnsFd.get())) {
        auto links = LinkSocket::open();
        inside->reset();
        if (!links) return pluginError("netlink in the pod's namespace", links.error());
        if (auto gone = (*links)->deleteLink(env.ifName); !gone)
          return pluginError("cannot delete " + env.ifName + " in the pod", gone.error());
      }
    }
  }

  // The endpoint, only if it is this container's: a newer sandbox of the pod keeps its own.
  if (!env.podNamespace.empty() && !env.podName.empty()) {
    auto key = endpointKey(node, env);
    auto kv = store->get(key);
    if (kv) {
      auto wep = decodeOne<model::WorkloadEndpoint>(kv->value, key.toString());
      if (wep && (wep->spec.containerID.empty() || wep->spec.containerID == env.containerID)) {
        auto removed = store->remove(key, kv->revision);
        if (!removed && removed.error().kind != datastore::ErrorKind::NotFound)
          return storeError("cannot delete the WorkloadEndpoint " + key.name, removed.error());
        // The host end is this container's too (its namespace may be gone while it is not).
        if (auto links = LinkSocket::open())
          (void)(*links)->deleteLink(hostVethName(env.podNamespace, env.podName));
      }
    } else if (kv.error().kind != datastore::ErrorKind::NotFound) {
      return storeError("cannot read the WorkloadEndpoint " + key.name, kv.error());
    }
  }

  ipam::Ipam ipam(*store);
  IpamLock lock(conf.ipamLockFile);
  if (auto released = ipam.releaseByHandle(ipam::podHandleID(env.containerID));
      !released && released.error().kind != ipam::ErrorKind::kNotFound)
    return ipamError(released.error());
  return {};
}

CniResult<void> check(const Environment& env, const NetConf& conf) {
  if (conf.cniVersion == "0.3.0" || conf.cniVersion == "0.3.1")
    return CniError{kIncompatibleVersion, "CHECK needs cniVersion 0.4.0 or later"};
  if (!conf.prevResult) return CniError{kInvalidNetworkConfig, "CHECK needs prevResult"};
  const AddResult& prev = *conf.prevResult;
  auto fail = [](std::string msg) { return CniError{kPluginError, std::move(msg)}; };

  int rawFd = -1;
  CNI_ASSIGN(rawFd, openNetns(env.netns));
  Fd netnsFd(rawFd);
  PodSockets pod;
  CNI_ASSIGN(pod, podSockets(netnsFd.get(), env.netns));
  auto podLink = pod.routes->linkByName(env.ifName);
  if (!podLink) return fail("the pod has no interface " + env.ifName);
  if (!podLink->up) return fail(env.ifName + " is down in the pod");
  auto podAddresses = pod.routes->listAddresses(std::nullopt);
  if (!podAddresses) return pluginError("cannot list the pod's addresses", podAddresses.error());
  auto podRoutes = pod.routes->listRoutes({std::nullopt, netlink::kTableMain, std::nullopt});
  if (!podRoutes) return pluginError("cannot list the pod's routes", podRoutes.error());

  auto hostNl = netlink::Netlink::open();
  if (!hostNl) return pluginError("netlink on the host", hostNl.error());
  const std::string hostVeth = hostVethName(env.podNamespace, env.podName);
  auto hostLink = (*hostNl)->linkByName(hostVeth);
  if (!hostLink) return fail("the host has no interface " + hostVeth);
  if (!hostLink->up) return fail(hostVeth + " is down");
  auto hostRoutes = (*hostNl)->listRoutes({std::nullopt, netlink::kTableMain, std::nullopt});
  if (!hostRoutes) return pluginError("cannot list the host's routes", hostRoutes.error());

  for (const auto& ip : prev.ips) {
    auto prefix = netlink::Prefix::parse(ip.address);
    netlink::IpAddress address;
    if (prefix) {
      address = prefix->address;
    } else {  // host bits set: an address with its length
      auto slash = ip.address.find('/');
      auto parsed = netlink::IpAddress::parse(ip.address.substr(0, slash));
      if (!parsed) return CniError{kInvalidNetworkConfig, "prevResult: bad address " + ip.address};
      address = *parsed;
    }
    bool onPod = std::any_of(podAddresses->begin(), podAddresses->end(), [&](const auto& a) {
      return a.ifindex == podLink->ifindex && a.prefix.address == address;
    });
    if (!onPod) return fail("the pod's " + env.ifName + " lacks " + ip.address);
    netlink::Prefix host{address, static_cast<uint8_t>(address.family == netlink::Family::V4 ? 32 : 128)};
    bool routed = std::any_of(hostRoutes->begin(), hostRoutes->end(), [&](const netlink::Route& r) {
      return r.dst == host && r.nexthops.size() == 1 && r.nexthops[0].ifindex == hostLink->ifindex;
    });
    if (!routed) return fail("the host has no route " + host.toString() + " to " + hostVeth);
  }
  for (const auto& route : prev.routes) {
    auto dst = netlink::Prefix::parse(route.dst);
    if (!dst) return CniError{kInvalidNetworkConfig, "prevResult: bad route " + route.dst};
    std::optional<netlink::IpAddress> gw;
    if (!route.gw.empty()) {
      auto parsed = netlink::IpAddress::parse(route.gw);
      if (!parsed) return CniError{kInvalidNetworkConfig, "prevResult: bad gateway " + route.gw};
      gw = *parsed;
    }
    bool present = std::any_of(podRoutes->begin(), podRoutes->end(), [&](const netlink::Route& r) {
      if (r.dst != *dst) return false;
      if (!gw) return true;
      return std::any_of(r.nexthops.begin(), r.nexthops.end(),
                         [&](const auto& n) { return n.gateway == gw; });
    });
    if (!present)
      return fail("the pod has no route " + route.dst + (route.gw.empty() ? "" : " via " + route.gw));
  }

  std::unique_ptr<datastore::Datastore> store;
  CNI_ASSIGN(store, openStore(conf));
  ipam::Ipam ipam(*store);
  auto held = ipam.ipsByHandle(ipam::podHandleID(env.containerID));
  if (!held) return fail("IPAM holds no addresses for this container");
  for (const auto& ip : prev.ips) {
    std::string bare = ip.address.substr(0, ip.address.find('/'));
    if (std::find(held->begin(), held->end(), bare) == held->end())
      return fail("IPAM does not hold " + bare + " for this container");
  }
  return {};
}

// CNI 1.1 STATUS: ADD can be served when the store is there and holds a pool.
CniResult<void> status(const NetConf& conf) {
  auto store = openStore(conf);
  if (!store) return CniError{kPluginUnavailable, "the datastore is not available", store.error().details};
  auto pools = (*store)->list(std::string(model::kindName(model::Kind::kIPPool)));
  if (!pools) return CniError{kPluginUnavailable, "the datastore is not available", pools.error().toString()};
  if (pools->items.empty()) return CniError{kPluginUnavailable, "the datastore holds no IPPool"};
  return {};
}

// CNI 1.1 GC: what this node holds for containers the runtime no longer has.
CniResult<void> gc(const NetConf& conf) {
  if (!conf.validAttachments) return CniError{kInvalidNetworkConfig, "GC needs cni.dev/valid-attachments"};
  const std::string node = nodeName(conf);
  std::set<std::pair<std::string, std::string>> valid;
  std::set<std::string> validContainers;
  for (const auto& a : *conf.validAttachments) {
    valid.insert({a.containerID, a.ifName});
    validContainers.insert(a.containerID);
  }
  std::unique_ptr<datastore::Datastore> store;
  CNI_ASSIGN(store, openStore(conf));
  auto links = LinkSocket::open();
  if (!links) return pluginError("netlink on the host", links.error());

  // Endpoints of this node's pods: the attachment is (containerID, endpoint).
  auto endpoints = store->list(std::string(model::kindName(model::Kind::kWorkloadEndpoint)));
  if (!endpoints) return storeError("cannot list WorkloadEndpoints", endpoints.error());
  for (const auto& kv : endpoints->items) {
    auto wep = decodeOne<model::WorkloadEndpoint>(kv.value, kv.key.toString());
    if (!wep || wep->spec.node != node || wep->spec.orchestrator != "k8s" || wep->spec.containerID.empty())
      continue;
    if (valid.count({wep->spec.containerID, wep->spec.endpoint}) != 0) continue;
    auto removed = store->remove(kv.key, kv.revision);
    if (!removed && removed.error().kind != datastore::ErrorKind::NotFound)
      return storeError("cannot delete " + kv.key.name, removed.error());
    if (!wep->spec.interfaceName.empty()) (void)(*links)->deleteLink(wep->spec.interfaceName);
  }

  // Pod handles whose every address was given to this node.
  ipam::Ipam ipam(*store);
  IpamLock lock(conf.ipamLockFile);
  auto handles = store->list(std::string(model::kindName(model::Kind::kIPAMHandle)));
  if (!handles) return storeError("cannot list IPAMHandles", handles.error());
  const std::string prefix = ipam::podHandleID("");
  for (const auto& kv : handles->items) {
    const std::string& handle = kv.key.name;
    if (handle.rfind(prefix, 0) != 0 || validContainers.count(handle.substr(prefix.size())) != 0) continue;
    auto ips = ipam.ipsByHandle(handle);
    if (!ips) continue;
    bool ours = !ips->empty() && std::all_of(ips->begin(), ips->end(), [&](const std::string& ip) {
      auto allocation = ipam.allocation(ip);
      if (!allocation) return false;
      auto it = allocation->attributes.find("node");
      return it != allocation->attributes.end() && it->second == node;
    });
    if (!ours) continue;
    if (auto released = ipam.releaseByHandle(handle);
        !released && released.error().kind != ipam::ErrorKind::kNotFound)
      return ipamError(released.error());
  }
  return {};
}

const char* commandName(Command command) {
  switch (command) {
    case Command::kAdd:
      return "ADD";
    case Command::kDel:
      return "DEL";
    case Command::kCheck:
      return "CHECK";
    case Command::kVersion:
      return "VERSION";
    case Command::kStatus:
      return "STATUS";
    case Command::kGc:
      return "GC";
  }
  return "?";
}

std::string toString(const CniError& error) {
  std::ostringstream os;
  os << error;
  return os.str();
}

std::string versionOf(std::string_view stdinText) {
  auto conf = parseNetConf(stdinText);
  return conf ? conf->cniVersion : std::string("1.0.0");
}

}  // namespace

int run(const Environment& env, std::string_view stdinText, std::ostream& out) {
  if (env.command == Command::kVersion) {
    out << versionJson(versionOf(stdinText));
    return 0;
  }
  auto conf = parseNetConf(stdinText);
  if (!conf) {
    out << errorJson("", conf.error());
    return 1;
  }
  // One line per call on stderr, which the runtime keeps: the pod and container as context.
  auto logger = log::get("cni");
  const std::string context = env.podNamespace + "/" + env.podName + " container " + env.containerID;
  auto fail = [&](const CniError& error) {
    logger->error("{} {}: {}", commandName(env.command), context, toString(error));
    out << errorJson(conf->cniVersion, error);
    return 1;
  };
  switch (env.command) {
    case Command::kAdd: {
      auto result = add(env, *conf);
      if (!result) return fail(result.error());
      std::string ips;
      for (const auto& ip : result->ips) ips += " " + ip.address;
      logger->info("ADD {}: {} ->{}", context, result->interfaces.front().name, ips);
      out << resultJson(*result);
      return 0;
    }
    case Command::kDel: {
      auto done = del(env, *conf);
      if (!done) return fail(done.error());
      logger->info("DEL {}: done", context);
      return 0;
    }
    case Command::kCheck: {
      auto done = check(env, *conf);
      if (!done) return fail(done.error());
      return 0;
    }
    case Command::kStatus: {
      auto done = status(*conf);
      if (!done) return fail(done.error());
      return 0;
    }
    case Command::kGc: {
      auto done = gc(*conf);
      if (!done) return fail(done.error());
      return 0;
    }
    case Command::kVersion:
      break;
  }
  return 0;
}

int runMain() {
  auto env = parseEnvironment([](const char* name) { return std::getenv(name); });
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (!env) {
    std::cout << errorJson("", env.error());
    return 1;
  }
  return run(*env, input, std::cout);
}

}  // namespace tartan::cni
