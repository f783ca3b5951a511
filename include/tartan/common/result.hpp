// tartan/common/result.hpp — the one error policy of Tartan.
//
// Bad outside input (a manifest, a selector, a BGP message, a netlink reply, a CNI request) is an
// expected outcome, so it is returned as a value: Result<T> holds either a T or an Error that says
// where the problem is and what it is. Exceptions never cross a module boundary; a broken invariant
// of our own is a bug and is asserted, not returned.
#pragma once

#include <boost/system/result.hpp>

#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tartan {

struct Error {
  // Where the input came from: "policy.yaml:12:7", "peer 10.0.0.2", "RTM_NEWROUTE".
  std::string where;
  // The path of the offending field inside that input, if any: "spec.ingress[0].action".
  std::string field;
  // What is wrong, for a person to act on.
  std::string what;

  // "where: field: what", leaving out the parts that are empty.
  std::string toString() const {
    std::string out;
    for (const std::string* part : {&where, &field}) {
      if (!part->empty()) {
        out += *part;
        out += ": ";
      }
    }
    out += what;
    return out;
  }

  bool operator==(const Error&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Error& error) { return os << error.toString(); }

inline Error makeError(std::string what) { return Error{{}, {}, std::move(what)}; }
inline Error makeError(std::string where, std::string field, std::string what) {
  return Error{std::move(where), std::move(field), std::move(what)};
}

// Thrown only by Result<T>::value() on an error: code that calls value() without checking has
// decided that an error there is a bug.
class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(const Error& error) : std::runtime_error(error.toString()), error_(error) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// Found by argument-dependent lookup from boost::system::result<T, Error>::value().
[[noreturn]] inline void throw_exception_from_error(const Error& error,
                                                    const boost::source_location& /*where*/) {
  throw ErrorException(error);
}

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace tartan
