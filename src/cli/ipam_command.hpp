// tartanctl ipam: calicoctl's ipam show, check, release and configure. What they compute is
// tartan::ipam's (tartan/ipam/check.hpp); these only read the store, print, and write what the
// user asked for. Output follows calicoctl's, line for line where calicoctl has a line.
#pragma once

#include "cli.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tartan::cli {

struct IpamShowOptions {
  std::optional<std::string> ip;   // --ip: is it allocated, and to what
  bool showBlocks = false;         // --show-blocks: a row per block under its pool
  bool showBorrowed = false;       // --show-borrowed: addresses taken from another node's block
  bool showConfiguration = false;  // --show-configuration: the IPAM configuration
};

struct IpamCheckOptions {
  bool showAllIPs = false;
  bool showProblemIPs = false;
  std::string output;  // -o: where to write calicoctl's JSON report
};

struct IpamReleaseOptions {
  std::optional<std::string> ip;
  std::vector<std::string> reports;  // --from-report, repeatable
  bool force = false;
};

struct IpamConfigureOptions {
  std::optional<std::string> strictAffinity;    // true or false (Go's ParseBool spellings)
  std::optional<std::string> maxBlocksPerHost;  // a whole number, 0 for no limit
};

int runIpamShow(const Context& ctx, const IpamShowOptions& options);
// Exits 0 when the check ran, whatever it found (as calicoctl does); 1 when it could not run.
int runIpamCheck(const Context& ctx, const IpamCheckOptions& options, const std::string& version);
int runIpamRelease(const Context& ctx, const IpamReleaseOptions& options, const std::string& version);
int runIpamConfigure(const Context& ctx, const IpamConfigureOptions& options);

}  // namespace tartan::cli
