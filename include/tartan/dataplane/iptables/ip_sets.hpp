// tartan/dataplane/iptables/ip_sets.hpp — desired-versus-programmed IP sets of one family.
//
// What: the IP sets the rules refer to, kept in step with the kernel through an IpSetKernel.
// Membership changes go as deltas (one libipset add/del each); a bulk change is written into a
// set under a temporary name that is then swapped in, so a rule never sees a half-filled set.
// The kernel only swaps sets of the same type, so the type is part of a set's name: a set whose
// type changes is a new set, and the old one goes once no rule refers to it. Sequencing (as Felix's):
// applyAdditions() before the iptables transaction that may start to use a set, applyRemovals() after the
// transaction that stopped using it. A set a rule refers to but no IPSetUpdate described is kept as an empty
// set of the type the reference implies, so the rule is valid and matches nothing. Owns: a copy of desired
// and programmed members; the kernel edge is passed to each call. Threading: one owner thread (which must be
// in the target network namespace, see kernel.hpp). Failure: a failed kernel call leaves the set marked for a
// full compare; resync() reads the kernel back.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/dataplane/iptables/kernel.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tartan::dataplane::iptables {

class IpSets {
 public:
  explicit IpSets(IpFamily family, std::uint32_t maxElements = 1048576)
      : family_(family), maxElements_(maxElements) {}
  void setMaxElements(std::uint32_t maxElements) { maxElements_ = maxElements; }

  // Desired state, from the dataplane API. Members of the other family are ignored.
  void replace(const std::string& id, IpSetType type, const std::vector<std::string>& members);
  void applyDelta(const std::string& id, const std::vector<std::string>& added,
                  const std::vector<std::string>& removed);
  void remove(const std::string& id);
  // References from rendered rules (counted); `namedPort` gives the placeholder's type.
  void addReference(const std::string& id, bool namedPort);
  void dropReference(const std::string& id, bool namedPort);

  // Reads what the kernel holds (our sets of this family); everything becomes a full compare.
  Result<void> resync(IpSetKernel& kernel);
  bool programmedKnown() const { return known_; }

  // Creates, fills and updates every wanted set. Call before the iptables transaction.
  Result<void> applyAdditions(IpSetKernel& kernel);
  // Destroys our sets nobody wants any more. Call after the iptables transaction.
  Result<void> applyRemovals(IpSetKernel& kernel);
  bool needsApply() const { return !dirty_.empty(); }

  std::size_t desiredCount() const { return desired_.size(); }
  // Members of a desired set (canonical), or nullptr.
  const std::set<std::string>* desiredMembers(const std::string& id) const;

  // Counters of kernel operations, for tests and metrics.
  struct Stats {
    std::uint64_t creates = 0, destroys = 0, adds = 0, dels = 0, swaps = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Wanted {
    std::string id;
    IpSetType type = IpSetType::kNet;
    bool described = false;  // an IPSetUpdate said what it is
    int references = 0;
    std::set<std::string> members;
    // Changes since the last apply, valid while !fullCompare.
    std::set<std::string> pendingAdds, pendingDels;
    bool fullCompare = true;
  };
  struct Programmed {
    IpSetType type = IpSetType::kNet;
    std::set<std::string> members;
    bool foreignType = false;  // a type we never create (someone else's set under our name)
  };
  std::vector<std::string> canonical(const std::vector<std::string>& members, IpSetType type) const;
  Wanted& wanted(const std::string& id, IpSetType type);
  void forgetIfUnwanted(const std::string& name);
  Result<void> rebuild(IpSetKernel& kernel, const std::string& name, Wanted& w);
  Result<void> sync(IpSetKernel& kernel, const std::string& name, Wanted& w);

  IpFamily family_;
  std::uint32_t maxElements_;
  bool known_ = false;
  std::map<std::string, IpSetType> described_;    // id -> type, for sets an IPSetUpdate described
  std::map<std::string, Wanted> desired_;         // by kernel name
  std::map<std::string, Programmed> programmed_;  // by kernel name
  std::set<std::string> dirty_;                   // kernel names to look at
  Stats stats_;
};

}  // namespace tartan::dataplane::iptables
