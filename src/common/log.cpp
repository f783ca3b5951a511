#include "tartan/common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>
#include <string>

namespace tartan::log {

namespace {
std::mutex& registryMutex() {
  static std::mutex mutex;
  return mutex;
}
spdlog::level::level_enum& currentLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}
}  // namespace

std::shared_ptr<spdlog::logger> get(std::string_view component) {
  std::lock_guard lock(registryMutex());
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  logger->set_level(currentLevel());
  return logger;
}

bool setLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(registryMutex());
  currentLevel() = parsed;
  spdlog::set_level(parsed);
  return true;
}

}  // namespace tartan::log
