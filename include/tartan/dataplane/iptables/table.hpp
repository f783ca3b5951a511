// tartan/dataplane/iptables/table.hpp — desired-versus-programmed tracking of one iptables table.
//
// What: holds the chains we want in one table of one family and what the kernel holds (read back
// with iptables-save, reduced to rule hashes), and renders the difference as ONE
// `iptables-restore --noflush` transaction: changed chains are declared (created or flushed) and
// refilled, hooks at the top of built-in chains are put right, and chains no longer wanted are
// flushed and deleted last, after every jump to them is gone. Only chains named tartan-* are
// ever declared, flushed or deleted; in built-in chains only rules carrying our hash comment are
// removed. A chain some wanted chain jumps to but nobody set is programmed empty, so a
// transaction never fails on a dangling jump (an unknown policy matches nothing).
// A chain the kernel refuses (a rule iptables-restore rejects) would fail every transaction that
// writes it, and with it every other change to the table. The caller names it (from the line the
// restore reports) and the table quarantines it: the chain is programmed as a single DROP, closed
// rather than open, until its desired content changes (in the nat table, which refuses DROP, as
// an empty chain: nothing is rewritten).
// Owns: its maps. Threading: none; one owner. Failure: parse errors are values; after a failed
// restore the caller reads the table back before trying again (invalidate()).
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/dataplane/iptables/chain.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::dataplane::iptables {

// One chain as iptables-save shows it.
struct SavedChain {
  std::vector<std::string> ruleTexts;  // after "-A <chain> "
  std::vector<std::string> hashes;     // our hash comment per rule, "" for a rule without one
};

struct SavedTable {
  std::map<std::string, SavedChain> chains;  // every chain, built-in and user-defined
};

// Parses iptables-save output (any number of tables). Never throws; garbage is an Error.
Result<std::map<std::string, SavedTable>> parseIptablesSave(std::string_view text);

// The hash in a rule's "tartan:<hash>" comment, or "" if it has none.
std::string hashOfRuleText(std::string_view ruleText);

class Table {
 public:
  Table(std::string name, IpFamily family) : name_(std::move(name)), family_(family) {}

  const std::string& name() const { return name_; }
  IpFamily family() const { return family_; }

  // Desired state. Setting a chain to what it already is costs a hash compare and nothing else.
  void setChain(Chain chain);
  void removeChain(std::string_view name);
  // The one jump we keep in a built-in chain (e.g. INPUT -> tartan-INPUT): at the top, or, with
  // `append` (Felix's ChainInsertMode=Append, for nodes where another agent must go first), at
  // the end, where it is only checked for presence; a change of `append` moves the jump. An empty `target`
  // wants no jump of ours in `builtin`: any rule of ours found there (a previous run's) is deleted.
  void setHook(std::string builtin, std::string target, bool append = false);

  // Programmed state, from a read-back. Takes over what matches; everything else becomes work.
  void setProgrammed(const SavedTable& saved);
  // Forget the programmed state (e.g. after a failed restore); needs setProgrammed() before use.
  void invalidate() { known_ = false; }
  bool programmedKnown() const { return known_; }

  // Is there anything to write?
  bool needsApply() const;
  // The restore transaction ("*filter ... COMMIT"), or "" if there is nothing to do.
  std::string restoreInput() const;
  // The transaction from restoreInput() succeeded: programmed := desired.
  void applied();

  // Programs `name` as one DROP rule until setChain() gives it other content; `reason` is kept.
  // False if `name` is not a wanted chain of this table or is quarantined already.
  bool quarantine(const std::string& name, std::string reason);
  // Quarantined chains and why.
  std::map<std::string, std::string> quarantined() const;

  const Chain* desiredChain(std::string_view name) const;
  std::size_t desiredChainCount() const { return desired_.size(); }
  // The rules of every wanted chain (a quarantined chain's as wanted, not its one DROP).
  std::size_t desiredRuleCount() const {
    std::size_t n = 0;
    for (const auto& [name, d] : desired_) n += d.chain.rules.size();
    return n;
  }
  // The names of the chains the next transaction rewrites or deletes (for tests and logs).
  std::vector<std::string> pendingChains() const;

  // What the next transaction puts right, as a person would say it: one entry per chain it
  // rewrites or deletes and per built-in chain whose jump it fixes. Right after a read-back, with
  // nothing changed in between, this is the drift someone else made (for repair logs and metrics).
  struct Drift {
    enum class Kind { kChain, kJump };
    Kind kind;
    std::string name;  // our chain, or the built-in chain holding the jump
    std::string what;
  };
  std::vector<Drift> drift() const;

 private:
  struct Desired {
    Chain chain;
    std::vector<std::string> hashes;
    std::vector<std::string> targets;       // tartan-* chains it jumps to
    std::optional<std::string> quarantine;  // why it is programmed as a DROP instead
  };
  // What is written for a chain: its rules, or the DROP of a quarantined chain.
  const std::vector<Rule>& programmedRules(const Desired& d) const;
  struct HookState {
    std::string target;
    bool append = false;
    std::vector<std::string> oursProgrammed;  // rule texts with our hash in the built-in chain
    std::vector<std::string> oursHashes;      // their hashes
    std::string firstHash;                    // the hash of the chain's first rule ("" if not ours)
    bool correct = false;  // exactly one of ours, with the right hash (and first, unless appended)
    std::string wrong;     // why not, as read back
  };
  std::optional<std::vector<std::string>> wantedHashes(const std::string& name) const;
  bool chainDirty(const std::string& name) const;
  void retarget(const std::vector<std::string>& targets, int delta);
  std::string hookHash(const std::string& builtin, const std::string& target) const;
  // Sets hook.correct and hook.wrong from what the kernel holds (oursProgrammed, firstHash).
  void assess(const std::string& builtin, HookState& hook) const;

  std::string name_;
  IpFamily family_;
  bool known_ = false;
  std::map<std::string, Desired, std::less<>> desired_;
  std::map<std::string, int, std::less<>> references_;                       // jump target -> count
  std::map<std::string, std::vector<std::string>, std::less<>> programmed_;  // our chains -> hashes
  std::map<std::string, HookState> hooks_;
  std::set<std::string, std::less<>> touched_;  // chains whose wanted state may differ from programmed
};

}  // namespace tartan::dataplane::iptables
