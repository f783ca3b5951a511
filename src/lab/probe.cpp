// tartan-lab probe (real TCP connects and UDP request/replies between pods, and from each pod to
// the outside host, which answers with the source address it saw) and serve (the servers those
// probes talk to).
#include "lab.hpp"

#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace tartan::lab {
using json = nlohmann::json;

namespace {

constexpr char kPing[] = "tartan-lab probe";

// An IPv4 or IPv6 socket address (by the text's form) and its length.
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Address address(const std::string& ip, uint16_t port) {
  Address a;
  if (ip.find(':') != std::string::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr);
    a.length = sizeof(sockaddr_in6);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr);
    a.length = sizeof(sockaddr_in);
  }
  return a;
}

// Waits for `events` on fd; false on timeout.
bool waitFor(int fd, short events, int timeoutMs) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeoutMs) == 1;
}

bool echoed(int fd, int timeoutMs) {
  char buf[64];
  if (!waitFor(fd, POLLIN, timeoutMs)) return false;
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n == static_cast<ssize_t>(sizeof kPing - 1) && std::memcmp(buf, kPing, sizeof kPing - 1) == 0;
}

std::string errnoResult(int err) {
  if (err == ECONNREFUSED) return "refused";
  if (err == ETIMEDOUT) return "denied";
  return std::string("error: ") + std::strerror(err);
}

// Connects the non-blocking TCP socket within the timeout. Empty when connected; else the verdict:
// a dropped SYN times out ("denied"), a closed port answers RST ("refused").
std::string connectWithin(int fd, const Address& a, int timeoutMs) {
  if (::connect(fd, a.get(), a.length) != 0 && errno != EINPROGRESS) return errnoResult(errno);
  if (!waitFor(fd, POLLOUT, timeoutMs)) return "denied";
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err != 0 ? errnoResult(err) : std::string();
}

std::string probeTcp(const std::string& ip, uint16_t port, int timeoutMs) {
  const Address a = address(ip, port);
  const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  std::string result = connectWithin(fd, a, timeoutMs);
  if (result.empty()) {
    if (::send(fd, kPing, sizeof kPing - 1, MSG_NOSIGNAL) < 0)
      result = errnoResult(errno);
    else
      result = echoed(fd, timeoutMs) ? "ok" : "denied";
  }
  ::close(fd);
  return result;
}

// UDP has no handshake: a request and its echo. Two tries within the timeout, so one lost
// datagram (an ARP or neighbour-discovery miss) does not read as a verdict.
std::string probeUdp(const std::string& ip, uint16_t port, int timeoutMs) {
  const Address a = address(ip, port);
  const int fd = ::socket(a.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::string result = "denied";
  if (::connect(fd, a.get(), a.length) != 0) {
    result = errnoResult(errno);
  } else {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (::send(fd, kPing, sizeof kPing - 1, 0) < 0) {
        result = errnoResult(errno);
        break;
      }
      if (echoed(fd, timeoutMs / 2)) {
        result = "ok";
        break;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == ECONNREFUSED) {
        result = "refused";
        break;
      }
    }
  }
  ::close(fd);
  return result;
}

// The outside's server answers a connection with the address it came from, then closes.
std::string probePeer(const std::string& ip, uint16_t port, int timeoutMs, std::string& seenFrom) {
  const Address a = address(ip, port);
  const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  std::string result = connectWithin(fd, a, timeoutMs);
  if (result.empty()) {
    if (!waitFor(fd, POLLIN, timeoutMs)) {
      result = "denied";
    } else {
      char buf[128];
      const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
      if (n <= 0) {
        result = "error: no answer";
      } else {
        seenFrom.assign(buf, static_cast<size_t>(n));
        while (!seenFrom.empty() && (seenFrom.back() == '\n' || seenFrom.back() == '\r')) seenFrom.pop_back();
        result = "ok";
      }
    }
  }
  ::close(fd);
  return result;
}

// The text of a peer's address, an IPv4-mapped IPv6 address as plain IPv4.
std::string peerText(const sockaddr_storage& peer) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (peer.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
      ::inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], buf, sizeof buf);
    else
      ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
  } else if (peer.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr, buf, sizeof buf);
  }
  return buf;
}

struct Target {
  std::string pod, netns;
};

std::string cellColumn(const ProbeCell& c) { return c.to + ":" + std::to_string(c.port) + "/" + c.protocol; }

std::string familyName(int family) { return family == 6 ? "IPv6" : "IPv4"; }

std::string renderFamilyTable(const std::vector<ProbeCell>& cells);

}  // namespace

Result<std::vector<ProbeCell>> probe(const std::string& stateDir, const ProbeOptions& options) {
  std::ifstream in(stateDir + "/state.json");
  if (!in) return makeError(stateDir, "", "no lab state here: is the lab up?");
  json state;
  try {
    state = json::parse(in);
  } catch (const json::exception& e) {
    return makeError(stateDir + "/state.json", "", e.what());
  }
  std::vector<ProbeCell> cells;
  std::vector<Target> sources;  // per cell
  for (int family : options.families) {
    const char* key = family == 6 ? "ip6" : "ip";
    if (options.outside) {
      const std::string outsideIp = state["outside"].value(family == 6 ? "ipv6" : "ipv4", "");
      for (const auto& from : state["pods"]) {
        if (outsideIp.empty() || from.value(key, "").empty()) continue;
        ProbeCell c;
        c.from = from["namespace"].get<std::string>() + "/" + from["name"].get<std::string>();
        c.to = "outside";
        c.family = family;
        c.toIp = outsideIp;
        c.port = state["outside"].value("port", kOutsidePort);
        c.protocol = "TCP";
        cells.push_back(c);
        sources.push_back({c.from, from["netns"].get<std::string>()});
      }
      continue;
    }
    for (const auto& from : state["pods"]) {
      for (const auto& to : state["pods"]) {
        if (&from == &to || to.value(key, "").empty() || from.value(key, "").empty()) continue;
        for (const auto& port : to["ports"]) {
          ProbeCell c;
          c.from = from["namespace"].get<std::string>() + "/" + from["name"].get<std::string>();
          c.to = to["namespace"].get<std::string>() + "/" + to["name"].get<std::string>();
          c.family = family;
          c.toIp = to[key].get<std::string>();
          c.port = port["port"].get<uint16_t>();
          c.protocol = port["protocol"].get<std::string>();
          cells.push_back(c);
          sources.push_back({c.from, from["netns"].get<std::string>()});
        }
      }
    }
  }
  // Workers take cells in turn; each enters the cell's source namespace (setns is per thread).
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < cells.size(); i = next++) {
      ProbeCell& c = cells[i];
      const auto start = std::chrono::steady_clock::now();
      if (auto entered = enterNetns(sources[i].netns); !entered) {
        c.result = "error: " + entered.error().toString();
        continue;
      }
      c.result = c.to == "outside"     ? probePeer(c.toIp, c.port, options.timeoutMs, c.seenFrom)
                 : c.protocol == "UDP" ? probeUdp(c.toIp, c.port, options.timeoutMs)
                                       : probeTcp(c.toIp, c.port, options.timeoutMs);
      c.millis = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
              .count());
    }
  };
  std::vector<std::thread> threads;
  const size_t n = std::min<size_t>(cells.size(), static_cast<size_t>(std::max(1, options.parallelism)));
  for (size_t i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return cells;
}

std::string renderTable(const std::vector<ProbeCell>& cells) {
  if (!cells.empty() && cells.front().to == "outside") {
    // One row per pod and family: what the outside saw as the connection's source.
    std::ostringstream out;
    size_t width = 4;
    for (const auto& c : cells) width = std::max(width, c.from.size());
    auto pad = [](const std::string& s, size_t w) {
      return s + std::string(w > s.size() ? w - s.size() : 0, ' ') + "  ";
    };
    out << pad("FROM", width) << pad("TO", 26) << pad("RESULT", 8) << "OUTSIDE SAW\n";
    for (const auto& c : cells)
      out << pad(c.from, width)
          << pad((c.family == 6 ? "[" + c.toIp + "]" : c.toIp) + ":" + std::to_string(c.port), 26)
          << pad(c.result, 8) << (c.seenFrom.empty() ? "-" : c.seenFrom) << "\n";
    return out.str();
  }
  std::vector<int> families;
  for (const auto& c : cells)
    if (std::find(families.begin(), families.end(), c.family) == families.end()) families.push_back(c.family);
  std::string out;
  for (int family : families) {
    std::vector<ProbeCell> ofFamily;
    for (const auto& c : cells)
      if (c.family == family) ofFamily.push_back(c);
    if (!out.empty()) out += "\n";
    out += familyName(family) + "\n" + renderFamilyTable(ofFamily);
  }
  return out;
}

namespace {

std::string renderFamilyTable(const std::vector<ProbeCell>& cells) {
  // Rows: source pods. Columns: destination pod, port and protocol. Cells: the verdict.
  std::vector<std::string> rows, columns;
  std::map<std::pair<std::string, std::string>, std::string> verdict;
  for (const auto& c : cells) {
    if (std::find(rows.begin(), rows.end(), c.from) == rows.end()) rows.push_back(c.from);
    if (std::find(columns.begin(), columns.end(), cellColumn(c)) == columns.end())
      columns.push_back(cellColumn(c));
    verdict[{c.from, cellColumn(c)}] = c.result;
  }
  for (const auto& c : cells) {
    if (std::find(rows.begin(), rows.end(), c.to) == rows.end()) rows.push_back(c.to);
  }
  size_t first = std::string("FROM \\ TO").size();
  for (const auto& r : rows) first = std::max(first, r.size());
  std::vector<size_t> widths;
  widths.reserve(columns.size());
  for (const auto& col : columns) widths.push_back(std::max<size_t>(col.size(), 7));
  std::ostringstream out;
  auto pad = [&](const std::string& s, size_t w) {
    out << s << std::string(w > s.size() ? w - s.size() : 0, ' ') << "  ";
  };
  pad("FROM \\ TO", first);
  for (size_t i = 0; i < columns.size(); ++i) pad(columns[i], widths[i]);
  out << "\n";
  for (const auto& r : rows) {
    pad(r, first);
    for (size_t i = 0; i < columns.size(); ++i) {
      auto it = verdict.find({r, columns[i]});
      pad(it == verdict.end() ? "-" : it->second, widths[i]);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace

std::string renderJson(const std::vector<ProbeCell>& cells) {
  json out = json::array();
  for (const auto& c : cells)
    out.push_back({{"from", c.from},
                   {"to", c.to},
                   {"family", c.family},
                   {"toIp", c.toIp},
                   {"port", c.port},
                   {"protocol", c.protocol},
                   {"result", c.result},
                   {"seenFrom", c.seenFrom},
                   {"millis", c.millis}});
  return out.dump(2) + "\n";
}

int serve(const std::vector<uint16_t>& tcpPorts, const std::vector<uint16_t>& udpPorts,
          const std::vector<uint16_t>& peerPorts) {
  std::vector<pollfd> fds;
  std::set<int> listeners, datagrams, peerListeners;
  auto bindTo = [&](int type, uint16_t port) {
    // One IPv6 socket with V6ONLY off takes IPv4 too (as mapped addresses): dual stack.
    const int fd = ::socket(AF_INET6, type | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_any;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        (type == SOCK_STREAM && ::listen(fd, 128) != 0)) {
      std::fprintf(stderr, "serve: port %u: %s\n", port, std::strerror(errno));
      std::exit(1);
    }
    fds.push_back({fd, POLLIN, 0});
    (type == SOCK_STREAM ? listeners : datagrams).insert(fd);
  };
  for (uint16_t p : tcpPorts) bindTo(SOCK_STREAM, p);
  for (uint16_t p : udpPorts) bindTo(SOCK_DGRAM, p);
  for (uint16_t p : peerPorts) {
    bindTo(SOCK_STREAM, p);
    listeners.erase(fds.back().fd);
    peerListeners.insert(fds.back().fd);
  }
  std::fprintf(stderr, "serve: echoing on %zu TCP and %zu UDP ports, naming the source on %zu\n",
               tcpPorts.size(), udpPorts.size(), peerPorts.size());
  constexpr size_t kMaxClients = 256;
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    std::vector<pollfd> added;
    std::set<int> closed;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      char buf[2048];
      if (peerListeners.contains(p.fd)) {
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        const int client = ::accept4(p.fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (client >= 0) {
          const std::string text = peerText(peer) + "\n";
          std::fprintf(stderr, "serve: connection from %s", text.c_str());
          (void)::send(client, text.data(), text.size(), MSG_NOSIGNAL);
          ::close(client);
        }
      } else if (listeners.contains(p.fd)) {
        const int client = ::accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0 && fds.size() + added.size() < kMaxClients)
          added.push_back({client, POLLIN, 0});
        else if (client >= 0)
          ::close(client);
      } else if (datagrams.contains(p.fd)) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(p.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) ::sendto(p.fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
      } else {
        const ssize_t n = ::read(p.fd, buf, sizeof buf);
        if (n <= 0 || ::send(p.fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) < 0) {
          ::close(p.fd);
          closed.insert(p.fd);
        }
      }
    }
    std::erase_if(fds, [&](const pollfd& p) { return closed.contains(p.fd); });
    for (auto& p : fds) p.revents = 0;
    fds.insert(fds.end(), added.begin(), added.end());
  }
}

}  // namespace tartan::lab
