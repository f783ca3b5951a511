// Loggers share one distributing sink, so changing where lines go reaches every logger at once.
#include "tartan/common/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>

#include <syslog.h>

#include <algorithm>
#include <mutex>
#include <string>

namespace tartan::log {

namespace {

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e %l [%n] %v";

struct State {
  std::mutex mutex;
  Destinations current;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> all = std::make_shared<spdlog::sinks::dist_sink_mt>();
  std::shared_ptr<spdlog::sinks::sink> screen;
  std::shared_ptr<spdlog::sinks::sink> file;
  std::shared_ptr<spdlog::sinks::sink> syslog;

  State() {
    auto color = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    color->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
    color->set_level(current.screen);
    screen = color;
    all->set_sinks({screen});
  }

  // The least severity any destination takes: below it a line is not even formatted.
  spdlog::level::level_enum loggerLevel() const {
    auto level = current.screen;
    if (file) level = std::min(level, current.fileLevel);
    if (syslog) level = std::min(level, current.syslogLevel);
    return level;
  }

  void relevel() {
    std::vector<std::shared_ptr<spdlog::sinks::sink>> sinks{screen};
    if (file) sinks.push_back(file);
    if (syslog) sinks.push_back(syslog);
    all->set_sinks(std::move(sinks));
    const auto level = loggerLevel();
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
      logger->set_level(level);
      // A line in a file is there when the process dies; the screen is not buffered anyway.
      logger->flush_on(level);
    });
  }
};

State& state() {
  static State s;
  return s;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(std::string_view component) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, s.all);
  logger->set_level(s.loggerLevel());
  logger->flush_on(s.loggerLevel());
  spdlog::register_logger(logger);
  return logger;
}

bool setLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.current.screen = parsed;
  s.screen->set_level(parsed);
  s.relevel();
  return true;
}

Result<void> setDestinations(const Destinations& wanted) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  Result<void> result;
  s.current.screen = wanted.screen;
  s.screen->set_level(wanted.screen);

  const bool wantFile = !wanted.file.empty() && wanted.fileLevel != spdlog::level::off;
  if (!wantFile) {
    s.file.reset();
    s.current.file.clear();
  } else if (!s.file || wanted.file != s.current.file) {
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(wanted.file, false);
      file->set_pattern(kPattern);
      s.file = file;
      s.current.file = wanted.file;
    } catch (const spdlog::spdlog_ex& e) {
      // The previous file, if any, stays.
      result = makeError("log file", wanted.file, std::string("cannot be opened: ") + e.what());
    }
  }
  s.current.fileLevel = wanted.fileLevel;
  if (s.file) s.file->set_level(wanted.fileLevel);

  if (wanted.syslogLevel == spdlog::level::off) {
    s.syslog.reset();
  } else if (!s.syslog || wanted.syslogIdent != s.current.syslogIdent) {
    s.syslog.reset();  // one openlog() at a time: the old sink closes its log first
    // syslog adds its own time stamp, host and ident.
    auto sys = std::make_shared<spdlog::sinks::syslog_sink_mt>(wanted.syslogIdent, LOG_PID, LOG_DAEMON, true);
    sys->set_pattern("%l [%n] %v");
    s.syslog = sys;
  }
  s.current.syslogLevel = wanted.syslogLevel;
  s.current.syslogIdent = wanted.syslogIdent;
  if (s.syslog) s.syslog->set_level(wanted.syslogLevel);
  s.relevel();
  return result;
}

Destinations destinations() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  Destinations out = s.current;
  if (!s.file) out.file.clear();
  return out;
}

}  // namespace tartan::log
