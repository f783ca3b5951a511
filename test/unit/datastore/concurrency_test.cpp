// Concurrent compare-and-swap: writers in threads and in separate processes race read-increment-
// write loops on one resource. The flock must serialise them so that no increment is lost and a
// writer that read a stale revision is told Conflict.
#include "tartan/datastore/datastore.hpp"

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <barrier>
#include <thread>

using namespace tartan::datastore;
using tartan::datastore::test::TempDir;

namespace {

const Key kCounter{"IPAMBlock", "", "10-0-0-0-26"};

int64_t countOf(const std::string& value) { return std::stoll(value.substr(value.find(':') + 1)); }
std::string countText(int64_t n) { return "count: " + std::to_string(n); }

struct Tally {
  int increments = 0;
  int conflicts = 0;
  bool failed = false;
};

// One increment, retried on conflict. `beforeWrite` runs between the read and the write.
void incrementOnce(Datastore& store, Tally* tally, const std::function<void()>& beforeWrite = {}) {
  bool first = true;
  while (true) {
    auto current = store.get(kCounter);
    if (!current) {
      tally->failed = true;
      return;
    }
    if (first && beforeWrite) beforeWrite();
    first = false;
    auto written = store.update(kCounter, countText(countOf(current->value) + 1), current->revision);
    if (written) {
      ++tally->increments;
      return;
    }
    if (written.error().kind != ErrorKind::Conflict) {
      tally->failed = true;
      return;
    }
    ++tally->conflicts;
  }
}

std::unique_ptr<Datastore> openStore(const TempDir& dir) {
  auto store = open(dir.spec());
  REQUIRE(store);
  return std::move(*store);
}

void writeByte(int fd) {
  char c = 'x';
  REQUIRE(::write(fd, &c, 1) == 1);
}
bool readByte(int fd) {
  char c;
  return ::read(fd, &c, 1) == 1;
}

}  // namespace

TEST_CASE("writer threads racing increments lose no update and see conflicts", "[unit]") {
  TempDir dir;
  REQUIRE(openStore(dir)->create(kCounter, countText(0)));
  constexpr int kPerThread = 40;
  // Each thread has its own datastore object, as separate components of one process would.
  std::barrier bothRead(2);
  Tally tallies[2];
  auto worker = [&](int index) {
    auto store = openStore(dir);
    // The first increment of both threads reads the same revision: exactly one must conflict.
    incrementOnce(*store, &tallies[index], [&] { bothRead.arrive_and_wait(); });
    for (int i = 1; i < kPerThread; ++i) incrementOnce(*store, &tallies[index]);
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  CHECK_FALSE(tallies[0].failed);
  CHECK_FALSE(tallies[1].failed);
  CHECK(tallies[0].increments + tallies[1].increments == 2 * kPerThread);
  CHECK(tallies[0].conflicts + tallies[1].conflicts >= 1);
  auto final = openStore(dir)->get(kCounter);
  REQUIRE(final);
  CHECK(countOf(final->value) == 2 * kPerThread);
}

TEST_CASE("threads sharing one datastore object are serialised too", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(kCounter, countText(0)));
  constexpr int kPerThread = 30;
  Tally tallies[3];
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) incrementOnce(*store, &tallies[t]);
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(countOf(store->get(kCounter)->value) == 3 * kPerThread);
}

TEST_CASE("writer processes racing increments lose no update and see conflicts", "[unit]") {
  TempDir dir;
  REQUIRE(openStore(dir)->create(kCounter, countText(0)));
  constexpr int kPerProcess = 40;
  constexpr int kProcesses = 2;
  // Pipes: each child says "I have read" and waits for "go", so the first round conflicts.
  int toParent[2];
  REQUIRE(::pipe(toParent) == 0);
  int toChild[kProcesses][2];
  int results[kProcesses][2];
  pid_t children[kProcesses];
  for (int p = 0; p < kProcesses; ++p) {
    REQUIRE(::pipe(toChild[p]) == 0);
    REQUIRE(::pipe(results[p]) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Child: its own datastore object, then the loop; report the tally through a pipe.
      Tally tally;
      {
        auto store = open(dir.spec());
        if (!store) ::_exit(2);
        incrementOnce(**store, &tally, [&] {
          char c = 'r';
          if (::write(toParent[1], &c, 1) != 1 || ::read(toChild[p][0], &c, 1) != 1) ::_exit(3);
        });
        for (int i = 1; i < kPerProcess; ++i) incrementOnce(**store, &tally);
      }
      int out[2] = {tally.increments, tally.conflicts};
      ssize_t written = ::write(results[p][1], out, sizeof out);
      ::_exit(tally.failed || written != sizeof out ? 1 : 0);
    }
    children[p] = pid;
  }
  for (int p = 0; p < kProcesses; ++p) REQUIRE(readByte(toParent[0]));
  for (int p = 0; p < kProcesses; ++p) writeByte(toChild[p][1]);

  int increments = 0, conflicts = 0;
  for (int p = 0; p < kProcesses; ++p) {
    int status = 0;
    REQUIRE(::waitpid(children[p], &status, 0) == children[p]);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    int in[2] = {0, 0};
    REQUIRE(::read(results[p][0], in, sizeof in) == sizeof in);
    increments += in[0];
    conflicts += in[1];
    for (int fd : {toChild[p][0], toChild[p][1], results[p][0], results[p][1]}) ::close(fd);
  }
  ::close(toParent[0]);
  ::close(toParent[1]);
  CHECK(increments == kProcesses * kPerProcess);
  CHECK(conflicts >= 1);
  auto final = openStore(dir)->get(kCounter);
  REQUIRE(final);
  CHECK(countOf(final->value) == kProcesses * kPerProcess);
  CHECK(final->revision == 1 + kProcesses * kPerProcess);
}
