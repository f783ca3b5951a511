// IpSetKernel over libipset: every command goes over libipset's own netlink socket, no `ipset`
// process per change. The library is driven with argv-style commands, which keeps us on its
// stable, documented surface (the same one the ipset tool uses).
#include "tartan/dataplane/iptables/kernel.hpp"

extern "C" {
#include <libipset/ipset.h>
#include <libipset/session.h>
#include <libipset/types.h>
}

#include <arpa/inet.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace tartan::dataplane::iptables {

namespace {

class LibIpSetKernel final : public IpSetKernel {
 public:
  LibIpSetKernel() : handle_(init()) {
    if (handle_ != nullptr) ipset_custom_printf(handle_, &customError, &standardError, &print, this);
  }
  ~LibIpSetKernel() override {
    if (handle_ != nullptr) ipset_fini(handle_);
  }
  LibIpSetKernel(const LibIpSetKernel&) = delete;
  LibIpSetKernel& operator=(const LibIpSetKernel&) = delete;

  Result<std::vector<KernelIpSet>> listOurs() override {
    auto ok = run({"save"});
    if (!ok) return ok.error();
    std::vector<KernelIpSet> sets;
    std::string_view text = output_;
    while (!text.empty()) {
      auto nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      auto words = split(line);
      if (words.size() >= 3 && words[0] == "create" && names::isOurs(words[1])) {
        KernelIpSet set{std::string(words[1]), std::string(words[2]), IpFamily::kV4, {}};
        for (std::size_t i = 3; i + 1 < words.size(); ++i)
          if (words[i] == "family" && words[i + 1] == "inet6") set.family = IpFamily::kV6;
        sets.push_back(std::move(set));
      } else if (words.size() >= 3 && words[0] == "add" && !sets.empty() && sets.back().name == words[1]) {
        const IpSetType type = sets.back().type == "hash:ip,port" ? IpSetType::kIpPort : IpSetType::kNet;
        sets.back().members.insert(canonicalMember(words[2], type));
      }
    }
    return sets;
  }

  Result<void> create(std::string_view name, IpSetType type, IpFamily family,
                      std::uint32_t maxElements) override {
    return run({"create", std::string(name), std::string(ipSetTypeName(type)), "family",
                family == IpFamily::kV4 ? "inet" : "inet6", "maxelem", std::to_string(maxElements)});
  }
  Result<void> destroy(std::string_view name) override { return run({"destroy", std::string(name)}); }
  Result<void> add(std::string_view name, std::string_view member) override {
    return run({"-exist", "add", std::string(name), std::string(member)});
  }
  Result<void> del(std::string_view name, std::string_view member) override {
    return run({"-exist", "del", std::string(name), std::string(member)});
  }
  Result<void> swap(std::string_view a, std::string_view b) override {
    return run({"swap", std::string(a), std::string(b)});
  }
  // The members as `ipset restore` lines: libipset packs consecutive commands on one set into as
  // few netlink messages as fit, instead of a round trip per member.
  Result<void> update(std::string_view name, const std::set<std::string>& dels,
                      const std::set<std::string>& adds) override {
    if (dels.size() + adds.size() <= 1) return IpSetKernel::update(name, dels, adds);
    // A handle of its own: a restore leaves session state behind (the set it last buffered for,
    // the line count) that must not leak into this handle's later commands, nor theirs into it.
    struct ipset* batch = init();
    if (batch == nullptr) return makeError("libipset", "", "ipset_init failed");
    ipset_custom_printf(batch, &customError, &standardError, &print, this);
    struct Fini {
      struct ipset* h;
      ~Fini() { ipset_fini(h); }
    } fini{batch};
    std::string script;
    script.reserve((dels.size() + adds.size()) * (name.size() + 32));
    for (const auto* members : {&dels, &adds}) {
      const char* verb = members == &dels ? "del " : "add ";
      for (const auto& m : *members) {
        script += verb;
        script += name;
        script += ' ';
        script += m;
        script += " -exist\n";
      }
    }
    output_.clear();
    error_.clear();
    FILE* stream = ::fmemopen(script.data(), script.size(), "r");
    if (stream == nullptr) return makeError("libipset", std::string(name), "fmemopen failed");
    int rc = ipset_parse_stream(batch, stream);
    std::fclose(stream);
    // The session keeps the last message of a restore buffered for more of the same set: send it
    // now, or these members reach the kernel only with whatever command comes next.
    if (rc >= 0 && error_.empty()) rc = ipset_commit(::ipset_session(batch));
    if (rc < 0 || !error_.empty())
      return makeError("ipset restore", std::string(name), error_.empty() ? "failed" : error_);
    return {};
  }

 private:
  static struct ipset* init() {
    // The set types are registered process-wide, once.
    static std::once_flag loaded;
    std::call_once(loaded, [] { ipset_load_types(); });
    return ipset_init();
  }

  static std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> words;
    while (!line.empty()) {
      auto space = line.find(' ');
      if (space != 0) words.push_back(line.substr(0, space));
      if (space == std::string_view::npos) break;
      line.remove_prefix(space + 1);
    }
    return words;
  }

  Result<void> run(std::vector<std::string> args) {
    if (handle_ == nullptr) return makeError("libipset", "", "ipset_init failed");
    output_.clear();
    error_.clear();
    std::vector<char*> argv;
    std::string program = "ipset";
    argv.push_back(program.data());
    for (auto& a : args) argv.push_back(a.data());
    const int rc = ipset_parse_argv(handle_, static_cast<int>(argv.size()), argv.data());
    if (rc < 0 || !error_.empty()) {
      std::string command;
      for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
      return makeError("ipset " + command, "", error_.empty() ? "failed" : error_);
    }
    return {};
  }

  static int customError(struct ipset* /*ipset*/, void* p, int /*status*/, const char* msg, ...) {
    auto* self = static_cast<LibIpSetKernel*>(p);
    char buf[1024];
    va_list args;
    va_start(args, msg);
    std::vsnprintf(buf, sizeof buf, msg, args);
    va_end(args);
    self->error_ += buf;
    return -1;
  }
  static int standardError(struct ipset* ipset, void* p) {
    auto* self = static_cast<LibIpSetKernel*>(p);
    struct ipset_session* session = ::ipset_session(ipset);
    const bool isError = ipset_session_report_type(session) == IPSET_ERROR;
    if (isError) {
      self->error_ += ipset_session_report_msg(session);
      while (!self->error_.empty() && self->error_.back() == '\n') self->error_.pop_back();
    }
    ipset_session_report_reset(session);
    return isError ? -1 : 0;
  }
  static int print(struct ipset_session* /*session*/, void* p, const char* fmt, ...) {
    auto* self = static_cast<LibIpSetKernel*>(p);
    va_list args;
    va_start(args, fmt);
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (n > 0) {
      const std::size_t old = self->output_.size();
      self->output_.resize(old + static_cast<std::size_t>(n) + 1);
      std::vsnprintf(self->output_.data() + old, static_cast<std::size_t>(n) + 1, fmt, args);
      self->output_.resize(old + static_cast<std::size_t>(n));
    }
    va_end(args);
    return n;
  }

  struct ipset* handle_;
  std::string output_;
  std::string error_;
};

}  // namespace

std::unique_ptr<IpSetKernel> makeLibIpSetKernel() { return std::make_unique<LibIpSetKernel>(); }

}  // namespace tartan::dataplane::iptables
