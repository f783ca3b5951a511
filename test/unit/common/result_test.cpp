#include "tartan/common/result.hpp"

#include <catch2/catch.hpp>

using tartan::Error;
using tartan::Result;

namespace {
Result<int> half(int n) {
  if (n % 2 != 0) return tartan::makeError("input", "n", "is odd");
  return n / 2;
}
}  // namespace

TEST_CASE("an error prints where, field and what, leaving out empty parts") {
  CHECK(Error{"a.yaml:3:5", "spec.order", "must be a number"}.toString() ==
        "a.yaml:3:5: spec.order: must be a number");
  CHECK(Error{"", "", "boom"}.toString() == "boom");
  CHECK(Error{"peer 10.0.0.1", "", "hold time 1"}.toString() == "peer 10.0.0.1: hold time 1");
}

TEST_CASE("a result holds a value or an error, and value() on an error throws it") {
  auto ok = half(4);
  REQUIRE(ok);
  CHECK(*ok == 2);
  auto bad = half(3);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().what == "is odd");
  CHECK_THROWS_AS(bad.value(), tartan::ErrorException);
}
