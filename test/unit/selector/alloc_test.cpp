// matches() must not allocate: it runs for every endpoint against every selector whenever
// labels change. The global operator new of this test binary counts calls while armed.
#include "tartan/selector/selector.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> gArmed{false};
std::atomic<long> gAllocations{0};
}  // namespace

// Every replaceable non-aligned form is replaced, so that each allocation is freed by its own
// family (AddressSanitizer checks that new and delete pair up).
namespace {
void* countedAlloc(std::size_t size) noexcept {
  if (gArmed.load(std::memory_order_relaxed)) gAllocations.fetch_add(1);
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = countedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = countedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return countedAlloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return countedAlloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace tartan::selector {
namespace {

const Labels kNoLabels;

TEST_CASE("matches() does not allocate", "[selector]") {
  const char* selectors[] = {
      "app == 'web' && tier in {'a', 'b', 'c'} && !has(debug)",
      "a != 'x' || b not in {'y'} || c contains 'z' || d starts with 'p' || e ends with 's'",
      "(has(a) || has(b)) && !(c == 'd')",
      "all()",
      "global()",
  };
  const Labels labels{{"app", "web"}, {"tier", "b"}, {"c", "zzz"}, {"d", "pq"}, {"e", "ss"}, {"a", "x"}};
  for (const char* text : selectors) {
    auto parsed = parse(text);
    REQUIRE(parsed);
    gAllocations = 0;
    gArmed = true;
    bool any = false;
    for (int i = 0; i < 100; ++i) any |= parsed->matches(labels) || parsed->matches(kNoLabels, labels);
    gArmed = false;
    INFO("selector: " << text);
    CHECK(gAllocations.load() == 0);
    (void)any;
  }
}

TEST_CASE("the allocation counter sees allocations (control for the test above)", "[selector]") {
  gAllocations = 0;
  gArmed = true;
  auto parsed = parse("app == 'web' && tier in {'a', 'b'}");
  gArmed = false;
  REQUIRE(parsed);
  CHECK(gAllocations.load() > 0);
}

}  // namespace
}  // namespace tartan::selector
