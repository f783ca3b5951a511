// Tables in calicoctl's layout: upper-case headers, columns padded to the widest cell and
// separated by three spaces; namespaced kinds lead with NAMESPACE. "wide" adds the columns that
// say what a resource does.
#include "cli.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace tartan::cli {

namespace {

using Row = std::vector<std::string>;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

std::string formatOrder(const std::optional<double>& order) {
  if (!order) return "";
  std::ostringstream text;
  text << *order;
  return text.str();
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// Extra columns per kind: {headers, cells(resource)}; the first `narrow` are shown without -o wide.
struct Columns {
  Row headers;
  size_t narrow = 0;
};

Columns columnsFor(model::Kind kind) {
  using model::Kind;
  switch (kind) {
    case Kind::kGlobalNetworkPolicy:
    case Kind::kNetworkPolicy:
      return {{"TIER", "ORDER", "SELECTOR", "TYPES"}, 1};
    case Kind::kTier:
      return {{"ORDER", "DEFAULTACTION"}, 2};
    case Kind::kGlobalNetworkSet:
    case Kind::kNetworkSet:
      return {{"NETS"}, 0};
    case Kind::kHostEndpoint:
      return {{"NODE", "INTERFACE", "EXPECTEDIPS"}, 2};
    case Kind::kWorkloadEndpoint:
      return {{"WORKLOAD", "NODE", "NETWORKS", "INTERFACE"}, 4};
    case Kind::kIPPool:
      return {{"CIDR", "SELECTOR", "IPIPMODE", "VXLANMODE", "NATOUTGOING", "DISABLED", "BLOCKSIZE"}, 2};
    case Kind::kBGPPeer:
      return {{"PEERIP", "NODE", "ASN"}, 3};
    case Kind::kNode:
      return {{"ASN", "IPV4", "IPV6"}, 0};
    case Kind::kKubernetesNetworkPolicy:
      return {{"POLICYTYPES"}, 0};
    case Kind::kKubernetesService:
      return {{"TYPE", "CLUSTER-IP", "PORTS", "SELECTOR"}, 3};
    case Kind::kKubernetesEndpointSlice:
      return {{"ADDRESSTYPE", "PORTS", "ENDPOINTS", "SERVICE"}, 3};
    default:
      return {{}, 0};
  }
}

Row cellsFor(const model::Resource& resource) {
  return std::visit(
      Overloaded{
          [](const model::GlobalNetworkPolicy& p) -> Row {
            return {p.spec.tier, formatOrder(p.spec.order), p.spec.selector, join(p.spec.types)};
          },
          [](const model::NetworkPolicy& p) -> Row {
            return {p.spec.tier, formatOrder(p.spec.order), p.spec.selector, join(p.spec.types)};
          },
          [](const model::Tier& t) -> Row {
            return {formatOrder(t.spec.order), t.spec.defaultAction.value_or("Deny")};
          },
          [](const model::GlobalNetworkSet& s) -> Row { return {join(s.spec.nets)}; },
          [](const model::NetworkSet& s) -> Row { return {join(s.spec.nets)}; },
          [](const model::HostEndpoint& h) -> Row {
            return {h.spec.node, h.spec.interfaceName, join(h.spec.expectedIPs)};
          },
          [](const model::WorkloadEndpoint& w) -> Row {
            return {w.spec.workload, w.spec.node, join(w.spec.ipNetworks), w.spec.interfaceName};
          },
          [](const model::IPPool& p) -> Row {
            return {p.spec.cidr,
                    p.spec.nodeSelector,
                    p.spec.ipipMode,
                    p.spec.vxlanMode,
                    p.spec.natOutgoing ? "true" : "false",
                    p.spec.disabled ? "true" : "false",
                    std::to_string(p.spec.blockSize)};
          },
          [](const model::BGPPeer& p) -> Row {
            return {p.spec.peerIP, p.spec.node.empty() ? "(global)" : p.spec.node,
                    std::to_string(p.spec.asNumber.value)};
          },
          [](const model::Node& n) -> Row {
            if (!n.spec.bgp) return {"", "", ""};
            return {n.spec.bgp->asNumber ? std::to_string(n.spec.bgp->asNumber->value) : "(64512)",
                    n.spec.bgp->ipv4Address, n.spec.bgp->ipv6Address};
          },
          [](const model::KubernetesNetworkPolicy& p) -> Row { return {join(p.spec.policyTypes)}; },
          [](const model::KubernetesService& s) -> Row {
            std::vector<std::string> ports, selector;
            for (const auto& p : s.spec.ports) ports.push_back(std::to_string(p.port) + "/" + p.protocol);
            for (const auto& [k, v] : s.spec.selector) selector.push_back(k + "=" + v);
            return {s.spec.type, s.spec.clusterIP.empty() ? "<none>" : s.spec.clusterIP, join(ports),
                    join(selector)};
          },
          [](const model::KubernetesEndpointSlice& s) -> Row {
            std::vector<std::string> ports, addresses;
            for (const auto& p : s.ports) {
              ports.push_back(p.port ? std::to_string(*p.port) + "/" + p.protocol.value_or("TCP") : "<all>");
            }
            for (const auto& e : s.endpoints) {
              if (!e.addresses.empty()) addresses.push_back(e.addresses.front());
            }
            auto service = s.metadata.labels.find(model::kServiceNameLabel);
            return {s.addressType, join(ports), join(addresses),
                    service == s.metadata.labels.end() ? "<none>" : service->second};
          },
          [](const auto&) -> Row { return {}; },
      },
      resource);
}

}  // namespace

void printTable(std::ostream& out, model::Kind kind, const std::vector<model::Resource>& resources,
                bool wide) {
  const bool namespaced = model::isNamespaced(kind);
  auto columns = columnsFor(kind);
  size_t extra = wide ? columns.headers.size() : columns.narrow;

  std::vector<Row> rows;
  Row header;
  if (namespaced) header.push_back("NAMESPACE");
  header.push_back("NAME");
  header.insert(header.end(), columns.headers.begin(), columns.headers.begin() + extra);
  rows.push_back(header);
  for (const auto& resource : resources) {
    const auto& meta = model::metadata(resource);
    Row row;
    if (namespaced) row.push_back(meta.namespaceName);
    row.push_back(meta.name);
    auto cells = cellsFor(resource);
    for (size_t i = 0; i < extra && i < cells.size(); ++i) row.push_back(cells[i]);
    rows.push_back(row);
  }

  printRows(out, rows);
}

void printRows(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

}  // namespace tartan::cli
