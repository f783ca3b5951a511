// Early return of an error for the boost::system::result values of tartan-cni.
#pragma once

#include <utility>

#define CNI_ASSIGN(lhs, expr)                   \
  do {                                          \
    auto cniResult_ = (expr);                   \
    if (!cniResult_) return cniResult_.error(); \
    lhs = std::move(*cniResult_);               \
  } while (false)

#define CNI_CHECK(expr)                         \
  do {                                          \
    auto cniResult_ = (expr);                   \
    if (!cniResult_) return cniResult_.error(); \
  } while (false)
