// Helpers for the datastore tests: a temporary folder, and a watch recorder that tests wait on
// for a condition with a bounded timeout instead of sleeping.
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tartan::datastore::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tartan-ds-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string spec() const { return "file:" + path_; }

 private:
  std::string path_;
};

inline void writeText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

inline std::optional<std::string> readText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

constexpr auto kWaitLimit = std::chrono::seconds(20);

// Collects what a watch delivers.
struct Recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<WatchEvent> events;
  std::optional<int64_t> inSyncAt;
  size_t eventsBeforeInSync = 0;
  std::optional<StoreError> error;

  WatchCallbacks callbacks() {
    return WatchCallbacks{[this](const WatchEvent& event) {
                            std::lock_guard lock(mutex);
                            events.push_back(event);
                            changed.notify_all();
                          },
                          [this](int64_t revision) {
                            std::lock_guard lock(mutex);
                            inSyncAt = revision;
                            eventsBeforeInSync = events.size();
                            changed.notify_all();
                          },
                          [this](const StoreError& e) {
                            std::lock_guard lock(mutex);
                            error = e;
                            changed.notify_all();
                          }};
  }

  // Waits until `done` holds (checked under the lock), at most kWaitLimit.
  bool waitFor(const std::function<bool(const Recorder&)>& done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kWaitLimit, [&] { return done(*this); });
  }
  bool waitForEvents(size_t count) {
    return waitFor([count](const Recorder& r) { return r.events.size() >= count; });
  }
  bool waitForInSync() {
    return waitFor([](const Recorder& r) { return r.inSyncAt.has_value(); });
  }
  std::vector<WatchEvent> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
};

// Collects reports of invalid documents.
struct Reports {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<StoreError> errors;

  std::function<void(const StoreError&)> callback() {
    return [this](const StoreError& e) {
      std::lock_guard lock(mutex);
      errors.push_back(e);
      changed.notify_all();
    };
  }
  bool waitForCount(size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kWaitLimit, [&] { return errors.size() >= count; });
  }
};

}  // namespace tartan::datastore::test
