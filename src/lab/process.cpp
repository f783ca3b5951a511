// Process and namespace helpers for tartan-lab.
#include "process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace tartan::lab {
namespace {

std::vector<char*> cArgs(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// Field 3 (state) and field 22 (starttime) of /proc/<pid>/stat.
bool readStat(pid_t pid, char& state, uint64_t& start) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  for (int i = 3; fields >> field; ++i) {
    if (i == 3) state = field.empty() ? '?' : field[0];
    if (i == 22) {
      start = std::stoull(field);
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::string> run(const std::vector<std::string>& argv) {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) return makeError(joined(argv), "", std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) return makeError(joined(argv), "", std::strerror(errno));
  if (pid == 0) {
    ::dup2(pipeFds[1], STDOUT_FILENO);
    ::dup2(pipeFds[1], STDERR_FILENO);
    const int devNull = ::open("/dev/null", O_RDONLY);
    if (devNull >= 0) ::dup2(devNull, STDIN_FILENO);
    auto args = cArgs(argv);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipeFds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  ::close(pipeFds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return makeError(joined(argv), "", output.empty() ? "failed" : output);
  }
  return Result<std::string>(boost::system::in_place_value, std::move(output));
}

Result<RunOutput> runWithInput(const std::vector<std::string>& argv, const std::string& input,
                               const std::string& stderrLog) {
  const int log = ::open(stderrLog.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return makeError(stderrLog, "", std::strerror(errno));
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    ::close(log);
    return makeError(joined(argv), "", std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) return makeError(joined(argv), "", std::strerror(errno));
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    auto args = cArgs(argv);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(log);
  ::close(in[0]);
  ::close(out[1]);
  // The configuration is a few KiB, within a pipe's buffer: written whole before reading.
  for (size_t done = 0; done < input.size();) {
    const ssize_t n = ::write(in[1], input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(in[1]);
  RunOutput result;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& logPath) {
  const int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return makeError(logPath, "", std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return makeError(joined(argv), "", std::strerror(errno));
  }
  if (pid == 0) {
    ::setsid();  // a Ctrl-C at the terminal that ran `up` must not reach the lab
    const int devNull = ::open("/dev/null", O_RDONLY);
    if (devNull >= 0) ::dup2(devNull, STDIN_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    auto args = cArgs(argv);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(log);
  return pid;
}

uint64_t startTime(pid_t pid) {
  char state = 0;
  uint64_t start = 0;
  return readStat(pid, state, start) ? start : 0;
}

bool isSameProcess(pid_t pid, uint64_t start) {
  char state = 0;
  uint64_t now = 0;
  if (pid <= 0 || !readStat(pid, state, now)) return false;
  return now == start && state != 'Z' && state != 'X';
}

void stopProcess(pid_t pid, uint64_t start, int graceMs) {
  if (!isSameProcess(pid, start)) return;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(graceMs);
  while (std::chrono::steady_clock::now() < deadline) {
    ::waitpid(pid, nullptr, WNOHANG);  // reaps it if it is our own child
    if (!isSameProcess(pid, start)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (isSameProcess(pid, start)) ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, WNOHANG);
}

Result<void> enterNetns(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return makeError(path, "", std::strerror(errno));
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return makeError(path, "setns", std::strerror(err));
  return {};
}

}  // namespace tartan::lab
