// An IpSetKernel that passes every call on and notes which of our sets it changed (private to
// dataplane-iptables).
//
// A re-check writes only what the read-back found different, so the sets it changes are the
// ones someone else changed: this is how the driver names them in its repair logs and counts
// them, without IpSets having to explain its own decisions. The temporary set of a rebuild is
// reported under the name it is swapped into.
#pragma once

#include "tartan/dataplane/iptables/kernel.hpp"

#include <map>
#include <set>
#include <string>

namespace tartan::dataplane::iptables {

class RecordingIpSetKernel final : public IpSetKernel {
 public:
  explicit RecordingIpSetKernel(IpSetKernel& inner) : inner_(inner) {}

  // Sets changed, with what was done to each ("members", "created", "destroyed", "rebuilt").
  const std::map<std::string, std::set<std::string>>& changed() const { return changed_; }

  Result<std::vector<KernelIpSet>> listOurs() override { return inner_.listOurs(); }
  Result<void> create(std::string_view name, IpSetType type, IpFamily family,
                      std::uint32_t maxElements) override {
    return noted(name, "created", inner_.create(name, type, family, maxElements));
  }
  Result<void> destroy(std::string_view name) override {
    return noted(name, "destroyed", inner_.destroy(name));
  }
  Result<void> add(std::string_view name, std::string_view member) override {
    return noted(name, "members", inner_.add(name, member));
  }
  Result<void> del(std::string_view name, std::string_view member) override {
    return noted(name, "members", inner_.del(name, member));
  }
  Result<void> swap(std::string_view a, std::string_view b) override {
    return noted(temporary(a) ? b : a, "rebuilt", inner_.swap(a, b));
  }
  Result<void> update(std::string_view name, const std::set<std::string>& dels,
                      const std::set<std::string>& adds) override {
    if (dels.empty() && adds.empty()) return {};
    return noted(name, "members", inner_.update(name, dels, adds));
  }

 private:
  // names::ipSetTemporary: "tartan-t" or "tartan6t" and a 20-character hash; a set's own name is
  // "tartan-" or "tartan6-" and the same hash, so an IPv4 one is a character shorter.
  static bool temporary(std::string_view name) {
    return name.starts_with("tartan6t") || (name.starts_with("tartan-t") && name.size() == 28);
  }
  // Only what took effect: a destroy the kernel refuses (still referenced) repaired nothing.
  Result<void> noted(std::string_view name, const char* what, Result<void> result) {
    if (result && !temporary(name)) changed_[std::string(name)].insert(what);
    return result;
  }

  IpSetKernel& inner_;
  std::map<std::string, std::set<std::string>> changed_;
};

}  // namespace tartan::dataplane::iptables
