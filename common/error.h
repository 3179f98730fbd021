// Errors are values with a reason a person can act on.
//
// Every fallible function in common/ returns Result<T> (or Status, which is
// Result<void>). Both are [[nodiscard]]: ignoring one is a compile error under
// the project's flags. The reason is formatted once, where the failure is
// understood, and carried up unchanged to the console or the tool's stderr;
// callers add context with Error::with_context().
//
//   Result<Header> read_header(Storage& disk) {
//     Header h;
//     if (auto s = disk.read(0, &h, sizeof h); !s) return s.error();
//     if (h.magic != kMagic) return Error::make("bad magic {x}", h.magic);
//     return h;
//   }
//
// No exceptions, no allocation: an Error is a fixed-size buffer.
#pragma once

#include <new>
#include <stddef.h>
#include <stdint.h>
#include <utility>

#include "common/format.h"

namespace hl {

class Error {
 public:
  static constexpr size_t kMaxReason = 200;

  template <typename... Args>
  static Error make(const char* fmt, const Args&... args) {
    Error e;
    format_to(e.reason_, sizeof e.reason_, fmt, args...);
    return e;
  }

  // Returns a copy of this error whose reason is prefixed with "context: ".
  template <typename... Args>
  Error with_context(const char* fmt, const Args&... args) const {
    Error e;
    size_t n = format_to(e.reason_, sizeof e.reason_, fmt, args...);
    format_to(e.reason_ + n, sizeof e.reason_ - n, ": {}", reason_);
    return e;
  }

  const char* reason() const { return reason_; }

 private:
  Error() { reason_[0] = '\0'; }
  char reason_[kMaxReason];
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : ok_(true) { new (&value_) T(value); }
  Result(T&& value) : ok_(true) { new (&value_) T(std::move(value)); }
  Result(const Error& error) : ok_(false) { new (&error_) Error(error); }
  Result(const Result& other) : ok_(other.ok_) {
    if (ok_) new (&value_) T(other.value_);
    else new (&error_) Error(other.error_);
  }
  Result& operator=(const Result&) = delete;
  ~Result() {
    if (ok_) value_.~T();
  }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }

  // Precondition: ok().
  T& value() { return value_; }
  const T& value() const { return value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

  // Precondition: !ok().
  const Error& error() const { return error_; }

 private:
  bool ok_;
  union {
    T value_;
    Error error_;
  };
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() : ok_(true), error_(Error::make("")) {}
  Result(const Error& error) : ok_(false), error_(error) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  bool ok_;
  Error error_;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace hl

// Propagates a failed Status/Result from the current function.
#define HL_TRY(expr)                          \
  do {                                        \
    auto hl_try_result_ = (expr);             \
    if (!hl_try_result_) return hl_try_result_.error(); \
  } while (0)
