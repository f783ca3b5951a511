// tartanctl ipam show | check | release | configure, printed as calicoctl prints them: boxed
// tables in go-pretty's default style for show, calicoctl's progress lines for check, its
// messages for release and configure.
#include "ipam_command.hpp"

#include "tartan/ipam/check.hpp"
#include "tartan/ipam/ipam.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

namespace tartan::cli {

namespace {

using Row = std::vector<std::string>;

// go-pretty's default table: +---+ borders, headers centred, cells left-aligned unless the
// column is in `right`.
void printBoxTable(std::ostream& out, const Row& header, const std::vector<Row>& rows,
                   const std::set<size_t>& right) {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) widths[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  auto border = [&] {
    out << "+";
    for (size_t w : widths) out << std::string(w + 2, '-') << "+";
    out << "\n";
  };
  auto line = [&](const Row& row, bool centre) {
    out << "|";
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      const size_t pad = widths[c] - cell.size();
      size_t left = 0;
      if (centre) {
        left = pad / 2;
      } else if (right.count(c)) {
        left = pad;
      }
      out << " " << std::string(left, ' ') << cell << std::string(pad - left, ' ') << " |";
    }
    out << "\n";
  };
  border();
  line(header, true);
  border();
  for (const auto& row : rows) line(row, false);
  border();
}

// Go's %.5g and %.f (both round half to even, as printf does).
std::string general(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.5g", value);
  return text;
}

std::string withPercentage(double n, double capacity) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", capacity > 0 ? 100 * n / capacity : 0.0);
  return general(n) + " (" + text + "%)";
}

Row usageRow(const std::string& grouping, const std::string& cidr, double capacity, double inUse,
             double free) {
  return {grouping, cidr, general(capacity), withPercentage(inUse, capacity), withPercentage(free, capacity)};
}

int showIP(const Context& ctx, ipam::Ipam& client, const std::string& ip) {
  auto allocation = client.allocation(ip);
  if (!allocation) {
    if (allocation.error().kind == ipam::ErrorKind::kNotFound) {
      *ctx.out << ip << " is not assigned\n";
      return 0;
    }
    if (allocation.error().kind == ipam::ErrorKind::kInvalid)
      return ctx.fail("--ip \"" + ip + "\": not an IP address");
    return ctx.fail(allocation.error().toString());
  }
  *ctx.out << "IP " << allocation->ip << " is in use\n";
  *ctx.out << "Handle ID: " << allocation->handleID.value_or("<none>") << "\n";
  if (allocation->attributes.empty()) {
    *ctx.out << "No Active Owner attributes defined\n";
  } else {
    *ctx.out << "Active Owner Attributes:\n";
    for (const auto& [k, v] : allocation->attributes) *ctx.out << "  " << k << ": " << v << "\n";
  }
  return 0;
}

void showUtilization(const Context& ctx, const ipam::IpamSnapshot& snapshot, bool showBlocks) {
  const ipam::Utilization usage = ipam::utilization(snapshot);
  std::vector<Row> rows;
  for (const auto& pool : usage.pools) {
    rows.push_back(usageRow("IP Pool", pool.cidr, pool.capacity, static_cast<double>(pool.inUse), pool.free));
    if (!showBlocks) continue;
    for (const auto& b : pool.blocks) {
      rows.push_back(usageRow("Block", b.cidr, static_cast<double>(b.capacity), static_cast<double>(b.inUse),
                              static_cast<double>(b.free)));
    }
  }
  if (showBlocks) {
    // Blocks of no pool: listed so that stray allocations stay visible, without a pool row.
    for (const auto& b : usage.orphanBlocks) {
      rows.push_back(usageRow("Block", b.cidr, static_cast<double>(b.capacity), static_cast<double>(b.inUse),
                              static_cast<double>(b.free)));
    }
  }
  printBoxTable(*ctx.out, {"GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE"}, rows, {2});
}

void showBorrowed(const Context& ctx, const ipam::IpamSnapshot& snapshot) {
  const ipam::Borrowed borrowed = ipam::borrowedAddresses(snapshot);
  std::vector<Row> rows;
  for (const auto& a : borrowed.addresses) {
    rows.push_back({a.ip, a.borrowingNode, a.block, a.blockOwner, a.type, a.allocatedTo});
  }
  printBoxTable(*ctx.out, {"IP", "BORROWING-NODE", "BLOCK", "BLOCK OWNER", "TYPE", "ALLOCATED-TO"}, rows, {});
  if (borrowed.unclassified != 0) {
    *ctx.out << "\nNote: found " << borrowed.unclassified
             << " IP allocations without an explicit node association. Unable to determine if they are "
                "borrowed.\n";
  }
}

void showConfiguration(const Context& ctx, const model::IPAMConfigurationSpec& config) {
  auto boolean = [](bool b) { return std::string(b ? "true" : "false"); };
  printBoxTable(*ctx.out, {"PROPERTY", "VALUE"},
                {{"StrictAffinity", boolean(config.strictAffinity)},
                 {"AutoAllocateBlocks", boolean(config.autoAllocateBlocks)},
                 {"MaxBlocksPerHost", std::to_string(config.maxBlocksPerHost)}},
                {});
}

}  // namespace

int runIpamShow(const Context& ctx, const IpamShowOptions& options) {
  auto store = ctx.openStore();
  if (!store) return 1;
  ipam::Ipam client(*store);
  if (options.ip) return showIP(ctx, client, *options.ip);
  if (options.showConfiguration && !options.showBlocks && !options.showBorrowed) {
    auto config = client.ipamConfig();
    if (!config) return ctx.fail(config.error().toString());
    showConfiguration(ctx, *config);
    return 0;
  }
  auto snapshot = ipam::readSnapshot(*store);
  if (!snapshot) return ctx.fail(snapshot.error().toString());
  if (options.showBorrowed && !options.showBlocks) {
    showBorrowed(ctx, *snapshot);
  } else {
    showUtilization(ctx, *snapshot, options.showBlocks);
  }
  return 0;
}

namespace {

using ipam::FindingKind;

// calicoctl's progress lines, then Tartan's further scans, then the total.
void printCheck(std::ostream& out, const ipam::CheckResult& r, const IpamCheckOptions& options) {
  const bool showProblems = options.showAllIPs || options.showProblemIPs;
  auto details = [&](FindingKind kind, bool show) {
    if (!show) return;
    for (const auto& f : r.findings) {
      if (f.kind == kind) out << "  " << f.detail << "\n";
    }
  };
  out << "Checking IPAM for inconsistencies...\n\n";
  out << "Loading all IPAM blocks...\n";
  out << "Found " << r.blocks.size() << " IPAM blocks.\n";
  for (const auto& block : r.blocks) {
    out << " IPAM block " << block.cidr << " affinity=" << block.affinity << ":\n";
    if (!options.showAllIPs) continue;
    for (const auto& ip : block.ips) {
      for (const auto& a : r.allocations.at(ip)) {
        if (a.block == block.cidr) out << "  " << ip << " allocated; attrs " << a.attributes << "\n";
      }
    }
  }
  out << "IPAM blocks record " << r.allocationCount() << " allocations.\n\n";

  out << "Loading all IPAM pools...\n";
  for (const auto& cidr : r.activePools) out << "  " << cidr << "\n";
  out << "Found " << r.activePools.size() << " active IP pools.\n\n";

  auto belongs = [&](bool nodes) {
    if (!options.showAllIPs) return;
    for (const auto& [ip, owners] : r.inUse) {
      for (const auto& owner : owners) {
        if ((owner.rfind("Node(", 0) == 0) == nodes) out << "  " << ip << " belongs to " << owner << "\n";
      }
    }
  };
  out << "Loading all nodes.\n";
  belongs(true);
  out << "Found " << r.nodeIPs << " node tunnel IPs.\n\n";
  out << "Loading all workload endpoints.\n";
  belongs(false);
  out << "Found " << r.workloadIPs << " workload IPs.\n";
  out << "Workloads and nodes are using " << r.inUse.size() << " IPs.\n\n";

  out << "Loading all handles\n";
  constexpr size_t kNodesToPrint = 20;
  out << "Looking for top (up to " << kNodesToPrint << ") nodes by allocations...\n";
  for (size_t i = 0; i < r.allocationsByNode.size() && i < kNodesToPrint; ++i) {
    out << "  " << r.allocationsByNode[i].first << " has " << r.allocationsByNode[i].second
        << " allocations\n";
  }
  if (!r.allocationsByNode.empty()) {
    out << "Node with most allocations has " << r.allocationsByNode.front().second << "; median is "
        << r.allocationsByNode[r.allocationsByNode.size() / 2].second << "\n";
  }
  out << "\n";

  out << "Scanning for IPs that are allocated but not actually in use...\n";
  if (showProblems) {
    for (const auto& f : r.findings) {
      if (f.kind != FindingKind::kLeakedAddress) continue;
      for (const auto& a : r.allocations.at(f.subject))
        out << "  " << a.ip << " leaked; attrs " << a.attributes << "\n";
    }
  }
  out << "Found " << r.count(FindingKind::kLeakedAddress)
      << " IPs that are allocated in IPAM but not actually in use.\n";
  out << "Scanning for IPs that are in use by a workload or node but not allocated in IPAM...\n";
  if (showProblems) {
    for (const auto& [ip, owners] : r.inUse) {
      if (owners.size() > 1) out << "  " << ip << " has multiple owners.\n";
    }
  }
  details(FindingKind::kNotInActivePool, showProblems);
  details(FindingKind::kNotAllocated, showProblems);
  out << "Found " << r.count(FindingKind::kNotInActivePool)
      << " in-use IPs that are not in active IP pools.\n";
  out << "Found " << r.count(FindingKind::kNotAllocated)
      << " in-use IPs that are in active IP pools but have no corresponding IPAM allocation.\n\n";

  out << "Scanning for IPAM handles with no matching IPs...\n";
  details(FindingKind::kLeakedHandle, options.showAllIPs);
  out << "Found " << r.count(FindingKind::kLeakedHandle) << " handles with no matching IPs (and "
      << r.handlesWithAddresses << " handles with matches).\n";
  out << "Scanning for IPs with missing handle...\n";
  details(FindingKind::kMissingHandle, showProblems);
  out << "Found " << r.count(FindingKind::kMissingHandle)
      << " handles mentioned in blocks with no matching handle resource.\n";
  out << "Validating IPAMBlock structures...\n";
  details(FindingKind::kInvalidBlock, true);
  out << "Found " << r.count(FindingKind::kInvalidBlock) << " invalid IPAMBlocks.\n";

  out << "Scanning for IPs with more than one owner...\n";
  details(FindingKind::kSeveralOwners, showProblems);
  out << "Found " << r.count(FindingKind::kSeveralOwners) << " IPs with more than one owner.\n";
  out << "Scanning for IPAM handles whose counts disagree with their blocks...\n";
  details(FindingKind::kHandleCountMismatch, showProblems);
  out << "Found " << r.count(FindingKind::kHandleCountMismatch)
      << " handles whose counts disagree with their blocks.\n";
  out << "Scanning for IPAM blocks outside every IP pool...\n";
  details(FindingKind::kBlockOutsidePools, true);
  out << "Found " << r.count(FindingKind::kBlockOutsidePools) << " IPAM blocks in no IP pool.\n";
  out << "Scanning block affinities...\n";
  size_t affinityProblems = 0;
  for (auto kind : {FindingKind::kAffinityNotConfirmed, FindingKind::kAffinityWithoutBlock,
                    FindingKind::kAffinityBlockMismatch, FindingKind::kBlockWithoutAffinity}) {
    details(kind, true);
    affinityProblems += r.count(kind);
  }
  out << "Found " << affinityProblems << " block affinity problems.\n";
  out << "Check complete; found " << r.findings.size() << " problems.\n";
}

}  // namespace

int runIpamCheck(const Context& ctx, const IpamCheckOptions& options, const std::string& version) {
  auto store = ctx.openStore();
  if (!store) return 1;
  auto snapshot = ipam::readSnapshot(*store);
  if (!snapshot) return ctx.fail(snapshot.error().toString());
  const ipam::CheckResult result = ipam::check(*snapshot);
  printCheck(*ctx.out, result, options);
  if (!options.output.empty()) {
    const auto report = ipam::makeReport(ipam::clusterMeta(snapshot->clusterInformation), result, version);
    std::ofstream file(options.output, std::ios::trunc);
    file << ipam::encodeReport(report);
    if (!file.flush()) return ctx.fail("-o " + options.output + ": cannot write the report");
  }
  return 0;
}

namespace {

int releaseFromReports(const Context& ctx, datastore::Datastore& store, const IpamReleaseOptions& options,
                       const std::string& version) {
  auto cluster = ipam::readClusterMeta(store);
  if (!cluster) return ctx.fail(cluster.error().toString());
  std::vector<ipam::CheckReport> reports;
  bool foundCurrent = false;
  for (const auto& path : options.reports) {
    std::ifstream file(path);
    if (!file) return ctx.fail("--from-report " + path + ": cannot read it");
    std::stringstream text;
    text << file.rdbuf();
    auto report = ipam::decodeReport(text.str(), path);
    if (!report) return ctx.fail(report.error().toString());
    if (report->clusterGUID != cluster->guid) {
      return ctx.fail("cluster does not match the provided report (" + path +
                      "): mismatched cluster GUID. Refusing to release");
    }
    if (report->version != version) {
      if (!options.force) {
        return ctx.fail("the provided report (" + path + ") was produced using a different version (" +
                        report->version + ") of tartanctl. Refusing to release");
      }
      *ctx.out
          << "WARNING: Report was produced using a different version of tartanctl. Ignoring due to --force "
             "option\n";
    }
    if (report->clusterInformationRevision == cluster->revision) foundCurrent = true;
    reports.push_back(std::move(*report));
  }
  if (!foundCurrent) {
    return ctx.fail(
        "the provided reports are all stale - at least one should be up-to-date. Please generate a new "
        "report "
        "while the data store is locked and try again");
  }
  if (!cluster->datastoreLocked) {
    if (!options.force)
      return ctx.fail("data store is not locked. Either lock the data store, or re-run with --force");
    *ctx.out << "WARNING: Data store is not locked. Ignoring due to --force option\n";
  }

  const ipam::ReleasePlan plan = ipam::mergeReports(reports);
  ipam::Ipam client(store);
  int errors = 0;
  if (plan.addresses.empty()) {
    *ctx.out << "Report didn't contain any leaked IPs to clean up.\n";
  } else {
    *ctx.out << "Releasing " << plan.addresses.size() << " old IPs...\n";
    auto unallocated = client.releaseIPs(plan.addresses);
    if (!unallocated) {
      ++errors;
      *ctx.out << "An error occurred while releasing some IPs: " << unallocated.error().toString()
               << ".  Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM "
                  "report and retry.\n";
    } else {
      *ctx.out << "Released " << plan.addresses.size() - unallocated->size() << " IPs successfully\n";
      if (!unallocated->empty()) {
        *ctx.out << unallocated->size()
                 << " addresses marked as leaked in the report had already been cleaned up.\n";
      }
    }
  }
  if (plan.handles.empty()) {
    *ctx.out << "Report didn't contain any handles to clean up.\n";
  } else {
    *ctx.out << "Deleting " << plan.handles.size() << " handles...\n";
    *ctx.out << "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n";
    int released = 0, skipped = 0;
    std::string failures;
    for (const auto& h : plan.handles) {
      int64_t revision = 0;
      try {
        revision = std::stoll(h.revision);
      } catch (const std::exception&) {
        revision = -1;  // no stored handle has it: skipped
      }
      auto deleted = client.deleteHandleAt(h.id, revision, h.uid);
      if (!deleted) {
        ++errors;
        *ctx.out << "\nDeleting handle " << h.id << " failed: " << deleted.error().toString() << ".\n";
      } else if (*deleted) {
        ++released;
        *ctx.out << ".";
      } else {
        ++skipped;
        *ctx.out << "x";
      }
    }
    *ctx.out << "\nReleased " << released << " handles; " << skipped << " skipped; " << errors
             << " errors.\n";
  }
  *ctx.out << "You may now unlock the data store.\n";
  return errors == 0 ? 0 : 1;
}

// Go's strconv.ParseBool.
std::optional<bool> parseGoBool(const std::string& text) {
  static const std::set<std::string> yes = {"1", "t", "T", "TRUE", "true", "True"};
  static const std::set<std::string> no = {"0", "f", "F", "FALSE", "false", "False"};
  if (yes.count(text)) return true;
  if (no.count(text)) return false;
  return std::nullopt;
}

std::optional<int> parseCount(const std::string& text) {
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used, 10);
    if (used != text.size() || value < INT32_MIN || value > INT32_MAX) return std::nullopt;
    return static_cast<int>(value);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

int runIpamRelease(const Context& ctx, const IpamReleaseOptions& options, const std::string& version) {
  if (!options.ip && options.reports.empty())
    return ctx.fail("ipam release needs --ip=ADDRESS or --from-report=FILE");
  auto store = ctx.openStore();
  if (!store) return 1;
  if (!options.reports.empty()) return releaseFromReports(ctx, *store, options, version);
  ipam::Ipam client(*store);
  auto unallocated = client.releaseIPs({ipam::ReleaseOptions{*options.ip, std::nullopt, std::nullopt}});
  if (!unallocated) {
    if (unallocated.error().kind == ipam::ErrorKind::kInvalid)
      return ctx.fail("--ip \"" + *options.ip + "\": not an IP address");
    return ctx.fail(unallocated.error().toString());
  }
  if (!unallocated->empty()) return ctx.fail("IP address " + *options.ip + " is not assigned");
  *ctx.out << "Successfully released IP address " << *options.ip << "\n";
  return 0;
}

int runIpamConfigure(const Context& ctx, const IpamConfigureOptions& options) {
  std::optional<bool> strict;
  if (options.strictAffinity) {
    strict = parseGoBool(*options.strictAffinity);
    if (!strict) {
      return ctx.fail("--strictaffinity \"" + *options.strictAffinity +
                      "\": invalid value. Use true or false to set "
                      "strictaffinity");
    }
  }
  std::optional<int> maxBlocks;
  if (options.maxBlocksPerHost) {
    maxBlocks = parseCount(*options.maxBlocksPerHost);
    if (!maxBlocks) {
      return ctx.fail("--max-blocks-per-host \"" + *options.maxBlocksPerHost +
                      "\": invalid value for maxblockhost. Use a valid number");
    }
  }
  if (!strict && !maxBlocks) return ctx.fail("at least one configuration option must be specified");
  auto store = ctx.openStore();
  if (!store) return 1;
  ipam::Ipam client(*store);
  auto config = client.ipamConfig();
  if (!config) return ctx.fail(config.error().toString());
  if (strict) config->strictAffinity = *strict;
  if (maxBlocks) config->maxBlocksPerHost = *maxBlocks;
  if (auto set = client.setIpamConfig(*config); !set) return ctx.fail(set.error().toString());
  if (strict) *ctx.out << "Successfully set StrictAffinity to: " << (*strict ? "true" : "false") << "\n";
  if (maxBlocks) *ctx.out << "Successfully set MaxBlocksPerHost to: " << *maxBlocks << "\n";
  return 0;
}

}  // namespace tartan::cli
