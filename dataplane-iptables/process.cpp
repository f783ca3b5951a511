// posix_spawn with stdin from a memfd (no SIGPIPE, no deadlock on large input) and every child's
// output streams drained together with one poll() loop.
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace tartan::dataplane::iptables {

namespace {

Error sysError(const std::string& what, int error = errno) {
  return makeError("exec", "", what + ": " + std::strerror(error));
}

std::string resolve(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/"}) {
    std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return name;
}

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Child {
  pid_t pid = -1;
  Fd out, err;  // read ends
  ProcessOutput output;
};

Result<Fd> inputFile(std::string_view input) {
  Fd in(::memfd_create("tartan-stdin", MFD_CLOEXEC));
  if (in.get() < 0) return sysError("memfd_create");
  for (std::size_t done = 0; done < input.size();) {
    const ssize_t n = ::write(in.get(), input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sysError("write stdin");
    done += static_cast<std::size_t>(n);
  }
  ::lseek(in.get(), 0, SEEK_SET);
  return in;
}

Result<Child> spawn(const Command& command) {
  auto in = inputFile(command.input);
  if (!in) return in.error();
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return sysError("pipe");
  Fd outRead(out[0]), outWrite(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return sysError("pipe");
  Fd errRead(err[0]), errWrite(err[1]);

  const std::string path = resolve(command.argv.at(0));
  std::vector<char*> args;
  for (const auto& a : command.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // dup2 onto 0/1/2 clears close-on-exec on the copies; the originals close at exec.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in->get(), 0);
  posix_spawn_file_actions_adddup2(&actions, outWrite.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, errWrite.get(), 2);
  Child child;
  const int rc = ::posix_spawn(&child.pid, path.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return sysError("cannot start " + path, rc);
  child.output.pid = child.pid;
  child.out = std::move(outRead);
  child.err = std::move(errRead);
  return child;
}

// Reads every child's stdout and stderr until all are closed, then reaps them.
void drain(std::vector<Child*>& children) {
  std::vector<pollfd> fds;
  std::vector<std::string*> sinks;
  for (Child* c : children) {
    fds.push_back({c->out.get(), POLLIN, 0});
    sinks.push_back(&c->output.out);
    fds.push_back({c->err.get(), POLLIN, 0});
    sinks.push_back(&c->output.err);
  }
  std::size_t open = fds.size();
  while (open > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // closed with its Child
        --open;
      }
    }
  }
  for (Child* c : children) {
    c->out.reset();
    c->err.reset();
    int status = 0;
    while (::waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    c->output.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

}  // namespace

std::vector<Result<ProcessOutput>> runProcesses(const std::vector<Command>& commands) {
  std::vector<Result<Child>> started;
  started.reserve(commands.size());
  std::vector<Child*> running;
  for (const auto& command : commands) {
    started.push_back(spawn(command));
    if (started.back()) running.push_back(&*started.back());
  }
  drain(running);
  std::vector<Result<ProcessOutput>> results;
  results.reserve(commands.size());
  for (auto& child : started) {
    if (child)
      results.emplace_back(std::move(child->output));
    else
      results.emplace_back(child.error());
  }
  return results;
}

Result<ProcessOutput> runProcess(const std::vector<std::string>& argv, std::string_view input) {
  return std::move(runProcesses({Command{argv, input}}).front());
}

}  // namespace tartan::dataplane::iptables
