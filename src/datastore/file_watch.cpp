#include "file_watch.hpp"

#include "tartan/common/log.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

namespace tartan::datastore::file {

namespace {

namespace fs = std::filesystem;

constexpr uint32_t kFolderMask =
    IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_ONLYDIR;
constexpr uint32_t kSelfGone = IN_DELETE_SELF | IN_MOVE_SELF;
constexpr uint32_t kGone = IN_DELETE | IN_MOVED_FROM | kSelfGone;
// A burst of deletions is over after this much quiet; it is waited for at most kSettleLimit.
constexpr int kSettleQuietMs = 150;
constexpr auto kSettleLimit = std::chrono::seconds(2);

bool isResourceFileName(const std::string& name) {
  return name.size() > 5 && name.front() != '.' && name.ends_with(".yaml");
}

class FileWatch final : public Watch {
 public:
  FileWatch(std::shared_ptr<Core> core, WatchOptions options, WatchCallbacks callbacks)
      : core_(std::move(core)), options_(std::move(options)), callbacks_(std::move(callbacks)) {}

  ~FileWatch() override {
    stop();
    if (inotifyFd_ >= 0) ::close(inotifyFd_);
    if (stopFd_ >= 0) ::close(stopFd_);
  }

  StoreResult<void> init() {
    inotifyFd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    stopFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (inotifyFd_ < 0 || stopFd_ < 0) {
      return makeStoreError(ErrorKind::Io, core_->root(),
                            std::string("cannot start a watch: ") + std::strerror(errno));
    }
    // Folders first, the initial read second: a change in between is then seen twice, not lost.
    if (!addFolder("", IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | kSelfGone | IN_ONLYDIR) ||
        !addFolder(".tartan", IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | kSelfGone | IN_ONLYDIR)) {
      if (errno == ENOENT || errno == ENOTDIR) {
        // Worded as the store's own sessions word it, so an outage has one reason, not two.
        return makeStoreError(
            ErrorKind::Unavailable, core_->root(),
            "the datastore is gone: " + core_->root() + "/.tartan is missing (removed or moved away?)");
      }
      return makeStoreError(ErrorKind::Io, core_->root(),
                            std::string("cannot watch the folder: ") + std::strerror(errno));
    }
    std::error_code ec;
    for (fs::directory_iterator it(core_->root(), ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::error_code typeError;
      if (!name.starts_with(".") && it->is_directory(typeError)) addTree(name);
    }
    return {};
  }

  void start(Batch initial) {
    last_ = std::max(options_.fromRevision, initial.revision);
    thread_ = std::thread([this, initial = std::move(initial)] { run(initial); });
  }

  void stop() override {
    stopped_ = true;
    if (stopFd_ >= 0) {
      uint64_t one = 1;
      ssize_t written = ::write(stopFd_, &one, sizeof one);
      (void)written;
    }
    if (thread_.joinable()) {
      // From inside a callback the flag is enough: the thread ends when the callback returns.
      if (thread_.get_id() == std::this_thread::get_id()) return;
      thread_.join();
    }
  }

 private:
  bool addFolder(const std::string& relative, uint32_t mask) {
    std::string path = relative.empty() ? core_->root() : core_->root() + "/" + relative;
    int wd = ::inotify_add_watch(inotifyFd_, path.c_str(), mask);
    if (wd < 0) return false;
    folders_[wd] = relative;
    return true;
  }

  // A kind folder and its namespace folders.
  void addTree(const std::string& relative) {
    if (!addFolder(relative, kFolderMask)) {
      // Gone already: its parent's event covers it. Out of inotify watches: say so.
      if (errno == ENOSPC) {
        tartan::log::get("datastore")
            ->error(
                "cannot watch {}/{}: out of inotify watches (fs.inotify.max_user_watches); "
                "hand edits there are seen only by reads and writes",
                core_->root(), relative);
      }
      return;
    }
    if (relative.find('/') != std::string::npos) return;
    std::error_code ec;
    for (fs::directory_iterator it(core_->root() + "/" + relative, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::error_code typeError;
      if (!name.starts_with(".") && it->is_directory(typeError)) addTree(relative + "/" + name);
    }
  }

  void run(const Batch& initial) {
    if (!deliver(initial)) return;
    if (callbacks_.onInSync) callbacks_.onInSync(initial.revision);
    while (!stopped_) {
      pollfd fds[2] = {{inotifyFd_, POLLIN, 0}, {stopFd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        fail(makeStoreError(ErrorKind::Io, core_->root(),
                            std::string("watch failed: ") + std::strerror(errno)));
        return;
      }
      if (fds[1].revents != 0 || stopped_) return;
      Dirty dirty;
      readEvents(&dirty);
      if (dirty.removals && !settle(&dirty)) return;
      auto batch = core_->changesSince(last_, options_.kind, dirty);
      if (!batch) {
        fail(batch.error());
        return;
      }
      if (!deliver(*batch)) return;
      last_ = std::max(last_, batch->revision);
    }
  }

  bool deliver(const Batch& batch) {
    for (const WatchEvent& event : batch.events) {
      if (stopped_) return false;
      if (callbacks_.onEvent) callbacks_.onEvent(event);
    }
    return !stopped_;
  }

  // Reads events until none came for kSettleQuietMs; false if stopped meanwhile.
  bool settle(Dirty* dirty) {
    const auto limit = std::chrono::steady_clock::now() + kSettleLimit;
    while (!stopped_ && std::chrono::steady_clock::now() < limit) {
      pollfd fds[2] = {{inotifyFd_, POLLIN, 0}, {stopFd_, POLLIN, 0}};
      int ready = ::poll(fds, 2, kSettleQuietMs);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      if (fds[1].revents != 0) return false;
      readEvents(dirty);
    }
    return !stopped_;
  }

  void fail(const StoreError& error) {
    if (stopped_) return;
    tartan::log::get("datastore")->error("watch on {} ended: {}", core_->root(), error.toString());
    if (callbacks_.onError) callbacks_.onError(error);
  }

  void readEvents(Dirty* dirty) {
    alignas(inotify_event) char buffer[64 * 1024];
    while (true) {
      ssize_t n = ::read(inotifyFd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // EAGAIN: drained
      for (char* at = buffer; at < buffer + n;) {
        auto* event = reinterpret_cast<inotify_event*>(at);
        at += sizeof(inotify_event) + event->len;
        handle(*event, dirty);
      }
    }
  }

  void handle(const inotify_event& event, Dirty* dirty) {
    if (event.mask & IN_Q_OVERFLOW) {
      dirty->all = true;  // events were lost: look at everything
      return;
    }
    auto folder = folders_.find(event.wd);
    if (folder == folders_.end()) return;
    if (event.mask & IN_IGNORED) {
      folders_.erase(folder);
      return;
    }
    const std::string& parent = folder->second;
    if (event.mask & kSelfGone) {
      // A folder went; the store itself, if it was the root or DIR/.tartan: the next read, once
      // the burst settled, says whether it is gone for good.
      dirty->removals = true;
      if (parent.empty() || parent == ".tartan") dirty->all = true;
      return;
    }
    if (event.len == 0) return;
    std::string name(event.name);
    if (parent == ".tartan") {
      // A commit renames a new state into place (the journal says what changed); only the state
      // itself going away is news, and then a removal.
      if (name == "state" && (event.mask & kGone)) dirty->removals = true;
      return;
    }
    if (name.starts_with(".")) return;  // our temp files, editors' swap files
    if (event.mask & kGone) dirty->removals = true;
    std::string relative = parent.empty() ? name : parent + "/" + name;
    bool appeared = event.mask & (IN_CREATE | IN_MOVED_TO);
    if (event.mask & IN_ISDIR) {
      if (relative.find('/') != relative.rfind('/')) return;  // deeper than namespace folders
      if (appeared) addTree(relative);
      dirty->dirs.insert(relative);
      return;
    }
    if (parent.empty() || !isResourceFileName(name)) return;
    // A file is read once complete (closed after writing, or renamed into place); a bare
    // IN_CREATE would show an editor's half-written file.
    if (event.mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
      dirty->files.insert(relative);
    }
  }

  std::shared_ptr<Core> core_;
  const WatchOptions options_;
  const WatchCallbacks callbacks_;
  int inotifyFd_ = -1;
  int stopFd_ = -1;
  std::map<int, std::string> folders_;  // watch descriptor -> folder relative to the root
  std::atomic<bool> stopped_{false};
  int64_t last_ = 0;  // events up to this revision are delivered
  std::thread thread_;
};

}  // namespace

StoreResult<std::unique_ptr<Watch>> startWatch(std::shared_ptr<Core> core, const WatchOptions& options,
                                               WatchCallbacks callbacks) {
  if (options.fromRevision < 0) {
    return makeStoreError(ErrorKind::Invalid, core->root(), "watch from a negative revision");
  }
  auto watch = std::make_unique<FileWatch>(core, options, std::move(callbacks));
  if (auto ready = watch->init(); !ready) return ready.error();
  auto initial = options.fromRevision == 0
                     ? core->snapshot(options.kind)
                     : core->changesSince(options.fromRevision, options.kind, Dirty{true, {}, {}});
  if (!initial) return initial.error();
  watch->start(std::move(*initial));
  return std::unique_ptr<Watch>(std::move(watch));
}

}  // namespace tartan::datastore::file
