// Desired-versus-programmed tracking and the restore transaction; see table.hpp.
#include "tartan/dataplane/iptables/table.hpp"

#include <algorithm>

namespace tartan::dataplane::iptables {

namespace {

// The tartan-* chains a rule jumps or goes to.
void jumpTargets(const Rule& rule, std::vector<std::string>& out) {
  for (std::string_view flag : {"-j ", "-g "}) {
    auto pos = rule.action.find(flag);
    if (pos == std::string::npos) continue;
    std::string_view rest = std::string_view(rule.action).substr(pos + flag.size());
    rest = rest.substr(0, rest.find(' '));
    if (rest.starts_with(kChainPrefix)) out.emplace_back(rest);
  }
}

}  // namespace

std::string hashOfRuleText(std::string_view text) {
  for (std::string_view marker : {"--comment \"tartan:", "--comment tartan:"}) {
    auto pos = text.find(marker);
    if (pos == std::string_view::npos) continue;
    pos += marker.size();
    auto end = pos;
    while (end < text.size() &&
           ((text[end] >= 'a' && text[end] <= 'z') || (text[end] >= '2' && text[end] <= '7')))
      ++end;
    return std::string(text.substr(pos, end - pos));
  }
  return {};
}

Result<std::map<std::string, SavedTable>> parseIptablesSave(std::string_view text) {
  std::map<std::string, SavedTable> tables;
  SavedTable* current = nullptr;
  std::size_t lineNo = 0;
  auto error = [&](std::string what) {
    return makeError("iptables-save", "line " + std::to_string(lineNo), std::move(what));
  };
  while (!text.empty()) {
    ++lineNo;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '*') {
      if (current != nullptr) return error("table started inside another table");
      if (line.size() < 2) return error("table without a name");
      current = &tables[std::string(line.substr(1))];
      continue;
    }
    if (current == nullptr) return error("'" + std::string(line.substr(0, 40)) + "' outside a table");
    if (line == "COMMIT") {
      current = nullptr;
      continue;
    }
    if (line.front() == ':') {
      auto space = line.find(' ');
      std::string_view chain = line.substr(1, space == std::string_view::npos ? line.npos : space - 1);
      if (chain.empty()) return error("chain declaration without a name");
      current->chains[std::string(chain)];
      continue;
    }
    if (line.starts_with("-A ")) {
      std::string_view rest = line.substr(3);
      auto space = rest.find(' ');
      std::string_view chain = rest.substr(0, space);
      if (chain.empty()) return error("rule without a chain");
      std::string_view rule = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
      auto& saved = current->chains[std::string(chain)];
      saved.ruleTexts.emplace_back(rule);
      saved.hashes.push_back(hashOfRuleText(rule));
      continue;
    }
    return error("unexpected line '" + std::string(line.substr(0, 40)) + "'");
  }
  if (current != nullptr) return makeError("iptables-save", "", "table not committed (truncated output)");
  return tables;
}

void Table::retarget(const std::vector<std::string>& targets, int delta) {
  for (const auto& t : targets) {
    auto& count = references_[t];
    count += delta;
    if (count == 0) references_.erase(t);
    touched_.insert(t);
  }
}

void Table::setChain(Chain chain) {
  Desired next;
  next.hashes = ruleHashes(chain);
  for (const auto& rule : chain.rules) jumpTargets(rule, next.targets);
  auto it = desired_.find(chain.name);
  if (it != desired_.end()) {
    if (it->second.chain == chain && (it->second.quarantine || it->second.hashes == next.hashes)) return;
    retarget(it->second.targets, -1);
  }
  retarget(next.targets, +1);
  touched_.insert(chain.name);
  std::string name = chain.name;
  next.chain = std::move(chain);
  desired_.insert_or_assign(std::move(name), std::move(next));
}

void Table::removeChain(std::string_view name) {
  auto it = desired_.find(name);
  if (it == desired_.end()) return;
  retarget(it->second.targets, -1);
  touched_.insert(std::string(name));
  desired_.erase(it);
}

void Table::setHook(std::string builtin, std::string target, bool append) {
  auto& hook = hooks_[builtin];
  const bool moved = hook.append != append;
  const bool changed = hook.target != target || moved;
  hook.target = std::move(target);
  hook.append = append;
  // What the kernel holds is known (a read-back, or our last write): judge the new wish against
  // it, so that a jump wanted again after the read-back that found it is not written twice.
  if (changed) {
    if (known_)
      assess(builtin, hook);
    else
      hook.correct = false;
  }
  // A change of insert mode moves the jump (to the top, or to the end) even where the old place
  // would still pass: Append only stops us fighting to stay last, it does not leave us first.
  if (moved && hook.correct && !hook.target.empty()) {
    hook.correct = false;
    hook.wrong = append ? "the jump to " + hook.target + " is not last" : "";
  }
}

std::string Table::hookHash(const std::string& builtin, const std::string& target) const {
  return ruleHashes(Chain{builtin, {{"", "-j " + target}}}).front();
}

void Table::assess(const std::string& builtin, HookState& hook) const {
  if (hook.target.empty()) {  // no jump wanted: every rule of ours goes
    hook.correct = hook.oursProgrammed.empty();
    hook.wrong = hook.correct ? "" : "a rule of ours where none is wanted";
    return;
  }
  const std::string want = hookHash(builtin, hook.target);
  const bool present =
      std::find(hook.oursHashes.begin(), hook.oursHashes.end(), want) != hook.oursHashes.end();
  const bool placed = hook.append ? present : hook.firstHash == want;
  hook.correct = hook.oursProgrammed.size() == 1 && placed;
  hook.wrong = hook.correct                     ? ""
               : hook.oursProgrammed.empty()    ? "jump to " + hook.target + " missing"
               : hook.oursProgrammed.size() > 1 ? "more than one rule of ours"
               : !present                       ? "a rule of ours that is not the jump to " + hook.target
                                                : "a rule above the jump to " + hook.target;
}

void Table::setProgrammed(const SavedTable& saved) {
  programmed_.clear();
  for (const auto& [name, chain] : saved.chains) {
    if (name.starts_with(kChainPrefix)) {
      programmed_[name] = chain.hashes;
      touched_.insert(name);
    }
  }
  for (auto& [builtin, hook] : hooks_) {
    hook.oursProgrammed.clear();
    hook.oursHashes.clear();
    hook.firstHash.clear();
    if (auto it = saved.chains.find(builtin); it != saved.chains.end()) {
      const auto& chain = it->second;
      if (!chain.hashes.empty()) hook.firstHash = chain.hashes.front();
      for (std::size_t i = 0; i < chain.ruleTexts.size(); ++i) {
        if (chain.hashes[i].empty()) continue;
        hook.oursProgrammed.push_back(chain.ruleTexts[i]);
        hook.oursHashes.push_back(chain.hashes[i]);
      }
    }
    assess(builtin, hook);
  }
  for (const auto& [name, d] : desired_) touched_.insert(name);
  for (const auto& [name, count] : references_) touched_.insert(name);
  known_ = true;
}

std::optional<std::vector<std::string>> Table::wantedHashes(const std::string& name) const {
  if (auto it = desired_.find(name); it != desired_.end()) return it->second.hashes;
  if (references_.count(name) != 0) return std::vector<std::string>{};  // placeholder
  return std::nullopt;
}

bool Table::chainDirty(const std::string& name) const {
  auto wanted = wantedHashes(name);
  auto it = programmed_.find(name);
  if (!wanted) return it != programmed_.end();
  return it == programmed_.end() || it->second != *wanted;
}

bool Table::needsApply() const {
  if (std::any_of(hooks_.begin(), hooks_.end(), [](const auto& h) { return !h.second.correct; })) return true;
  return std::any_of(touched_.begin(), touched_.end(), [&](const std::string& n) { return chainDirty(n); });
}

std::vector<std::string> Table::pendingChains() const {
  std::vector<std::string> out;
  for (const auto& name : touched_)
    if (chainDirty(name)) out.push_back(name);
  return out;
}

std::vector<Table::Drift> Table::drift() const {
  std::vector<Drift> out;
  for (const auto& name : touched_) {
    if (!chainDirty(name)) continue;
    auto wanted = wantedHashes(name);
    auto it = programmed_.find(name);
    std::string what;
    if (!wanted)
      what = "not ours to keep: deleted";
    else if (it == programmed_.end())
      what = "missing: created";
    else
      what = "held " + std::to_string(it->second.size()) + " rules that differ from the " +
             std::to_string(wanted->size()) + " wanted: rewritten";
    out.push_back({Drift::Kind::kChain, name, std::move(what)});
  }
  for (const auto& [builtin, hook] : hooks_)
    if (!hook.correct)
      out.push_back({Drift::Kind::kJump, builtin,
                     (hook.wrong.empty() ? "jump to " + hook.target + " not in place" : hook.wrong) +
                         (hook.target.empty() ? ": removed"
                          : hook.append       ? ": put back at the end"
                                              : ": put back first")});
  return out;
}

std::string Table::restoreInput() const {
  std::vector<std::string> write, remove;
  for (const auto& name : touched_) {
    if (!chainDirty(name)) continue;
    (wantedHashes(name) ? write : remove).push_back(name);
  }
  const bool hooksDirty =
      std::any_of(hooks_.begin(), hooks_.end(), [](const auto& h) { return !h.second.correct; });
  if (write.empty() && remove.empty() && !hooksDirty) return {};
  std::string out = "*" + name_ + "\n";
  // 1. Declare (create, or flush if it exists) every chain we write, before any jump to it.
  for (const auto& name : write) out += ":" + name + " - [0:0]\n";
  // 2. Fill them.
  for (const auto& name : write) {
    auto it = desired_.find(name);
    if (it == desired_.end()) continue;  // placeholder: stays empty
    const auto& d = it->second;
    const auto& rules = programmedRules(d);
    for (std::size_t i = 0; i < rules.size(); ++i)
      out += "-A " + name + " " + ruleText(rules[i], d.hashes[i]) + "\n";
  }
  // 3. Hooks: remove every rule of ours in the built-in chain, put the one we want in its place.
  for (const auto& [builtin, hook] : hooks_) {
    if (hook.correct) continue;
    for (const auto& text : hook.oursProgrammed) out += "-D " + builtin + " " + text + "\n";
    if (hook.target.empty()) continue;
    out += (hook.append ? "-A " + builtin + " " : "-I " + builtin + " 1 ") +
           ruleText({"", "-j " + hook.target}, hookHash(builtin, hook.target)) + "\n";
  }
  // 4. Chains no longer wanted: all flushed first (they may jump to each other), then deleted.
  for (const auto& name : remove) out += "-F " + name + "\n";
  for (const auto& name : remove) out += "-X " + name + "\n";
  out += "COMMIT\n";
  return out;
}

void Table::applied() {
  for (const auto& name : touched_) {
    auto wanted = wantedHashes(name);
    if (wanted)
      programmed_[name] = *wanted;
    else
      programmed_.erase(name);
  }
  touched_.clear();
  for (auto& [builtin, hook] : hooks_) {
    if (hook.correct) continue;
    hook.oursProgrammed.clear();
    hook.oursHashes.clear();
    hook.firstHash.clear();
    if (!hook.target.empty()) {
      const std::string hash = hookHash(builtin, hook.target);
      hook.oursProgrammed = {ruleText({"", "-j " + hook.target}, hash)};
      hook.oursHashes = {hash};
      if (!hook.append) hook.firstHash = hash;  // appended: where it stands is not known
    }
    hook.correct = true;
    hook.wrong.clear();
  }
}

const std::vector<Rule>& Table::programmedRules(const Desired& d) const {
  // The nat table refuses DROP: a quarantined nat chain does nothing (no address is rewritten).
  static const std::vector<Rule> kQuarantine{{"", "-j DROP"}};
  static const std::vector<Rule> kNothing;
  if (!d.quarantine) return d.chain.rules;
  return name_ == "nat" ? kNothing : kQuarantine;
}

bool Table::quarantine(const std::string& name, std::string reason) {
  auto it = desired_.find(name);
  if (it == desired_.end() || it->second.quarantine) return false;
  retarget(it->second.targets, -1);  // a DROP jumps nowhere
  it->second.targets.clear();
  it->second.quarantine = std::move(reason);
  it->second.hashes = ruleHashes(Chain{name, programmedRules(it->second)});
  touched_.insert(name);
  return true;
}

std::map<std::string, std::string> Table::quarantined() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, d] : desired_)
    if (d.quarantine) out.emplace(name, *d.quarantine);
  return out;
}

const Chain* Table::desiredChain(std::string_view name) const {
  auto it = desired_.find(name);
  return it == desired_.end() ? nullptr : &it->second.chain;
}

}  // namespace tartan::dataplane::iptables
