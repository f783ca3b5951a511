// One HTTP/1.0 GET to the loopback address (see tartan/common/http_get.hpp).
#include <tartan/common/http_get.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

namespace tartan {

HttpResponse httpGetLocal(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  HttpResponse out;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      // HTTP/1.0: the server closes the connection after the response.
      char buf[4096];
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        response.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return out;
  const auto space = response.find(' ');
  if (space == std::string::npos ||
      std::from_chars(response.data() + space + 1, response.data() + response.size(), out.status).ec !=
          std::errc{})
    return out;
  if (const auto end = response.find("\r\n\r\n"); end != std::string::npos)
    out.body = response.substr(end + 4);
  return out;
}

}  // namespace tartan
