// fork/exec with stdin from a memfd (no SIGPIPE, no deadlock on large input) and both output
// streams drained with poll().
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tartan::dataplane::iptables {

namespace {
Error sysError(const std::string& what) {
  return makeError("exec", "", what + ": " + std::strerror(errno));
}

std::string resolve(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/"}) {
    std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return name;
}
}  // namespace

Result<ProcessOutput> runProcess(const std::vector<std::string>& argv, std::string_view input) {
  const int in = ::memfd_create("tartan-stdin", MFD_CLOEXEC);
  if (in < 0) return sysError("memfd_create");
  for (std::size_t done = 0; done < input.size();) {
    const ssize_t n = ::write(in, input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(in);
      return sysError("write stdin");
    }
    done += static_cast<std::size_t>(n);
  }
  ::lseek(in, 0, SEEK_SET);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in);
    return sysError("pipe");
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in);
    ::close(out[0]);
    ::close(out[1]);
    return sysError("pipe");
  }
  const std::string path = resolve(argv.at(0));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return sysError("fork");
  if (pid == 0) {
    ::dup2(in, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execvp(path.c_str(), args.data());
    ::_exit(127);
  }
  ::close(in);
  ::close(out[1]);
  ::close(err[1]);
  ProcessOutput result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace tartan::dataplane::iptables
