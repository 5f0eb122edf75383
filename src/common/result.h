// Errors as values at library boundaries: Result<T> holds a T or an Error whose
// message a user can act on. (std::expected would do, but clang 14 cannot use
// libstdc++ 12's <expected>, and the fuzzers build with clang.)
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace tl {

struct Error {
  std::string message;
  // Optional stable slug for machines (e.g. "nonce-mismatch"): the service maps
  // it to an RFC 7807 problem type (docs/errors.md). Empty when not classified.
  std::string reason = {};
};

// Prefixes context ("event 17 at offset 0x1a40: ") to an error from a callee;
// the reason is kept.
inline Error with_context(const std::string& context, Error e) {
  return Error{context + ": " + e.message, std::move(e.reason)};
}

// Classifies an error that has no reason yet (an existing reason is more precise).
inline Error with_reason(std::string reason, Error e) {
  if (e.reason.empty()) e.reason = std::move(reason);
  return e;
}

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(implicit)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return error_; }
  Error&& take_error() { assert(failed_); return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace tl
