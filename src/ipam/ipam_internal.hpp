// ipam_internal.hpp (private) — the assignment shell's parts, shared by assign.cpp and release.cpp.
#pragma once

#include "block.hpp"
#include "store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tartan::ipam {

// What every block write of one assignment carries.
struct Request {
  std::string handleID;
  std::string hostname;
  AllocationAttribute attribute;
  std::vector<Cidr> reserved;
};

// The pools a request of `family` may take addresses from, in the order given (or stored).
IpamResult<std::vector<Pool>> choosePools(const std::vector<Pool>& all, int family,
                                          const std::vector<std::string>& requested,
                                          const model::Labels& labels, Use use);
const Pool* poolOf(const std::vector<Pool>& pools, const Cidr& block);

// One assignment's conversation with the store.
class Shell {
 public:
  Shell(datastore::Datastore& store, int attempts) : store_(store), attempts_(attempts) {}

  // Up to `want` addresses from the block: the node's own (borrowing false) or, borrowing,
  // another's that is not strictly affine. Empty if the block has none to give.
  IpamResult<std::vector<std::string>> takeFromBlock(const Cidr& block, int want, const Request& request,
                                                     bool borrowing);
  // Claims the block for the node: true once it is the node's (confirmed), false if another
  // node holds it.
  IpamResult<bool> claim(const Cidr& block, const std::string& hostname, bool strictAffinity);
  // Claims the first block of the pools that nobody holds; nothing if there is none.
  IpamResult<std::optional<Cidr>> claimNewBlock(const std::vector<Pool>& pools, const Request& request,
                                                bool strictAffinity);
  IpamResult<std::vector<std::string>> assignFamily(int family, int num,
                                                    const std::vector<std::string>& requested,
                                                    const Request& request, const Settings& settings,
                                                    const std::vector<Pool>& allPools,
                                                    const model::Labels& labels, Use use);

 private:
  datastore::Datastore& store_;
  int attempts_;
};

}  // namespace tartan::ipam
