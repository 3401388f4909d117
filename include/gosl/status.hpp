// Status and Result<T>: the one error type of gosl-basics. Codes say what went
// wrong in the caller's terms; response.cpp alone turns them into HTTP statuses.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gosl {

enum class Code {
  kOk,
  kInvalidArgument,  // a parameter or input line is malformed
  kMissingArgument,  // a required parameter is absent
  kNotFound,         // a lookup missed: ordinary data, not a failure
  kTooLarge,         // a request or body is larger than we accept
  kTooLong,          // a query string (the URL) is longer than we accept
  kUnavailable,      // the database cannot be used right now (lock, missing)
  kIOError,          // the operating system refused a read or write
  kCorruption,       // stored data does not decode
  // Added in 0.3: after the others, as the peer protocol sends codes as numbers.
  kForbidden,        // the write protection refuses this registration
  kTooManyRequests,  // this client registered too often; try again later
  kInternal,         // a bug: an exception escaped where none should
};

// A code and a one-line, lower-case reason. OK carries no text and costs a
// small empty string only.
class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status MissingArgument(std::string msg) { return {Code::kMissingArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status TooLarge(std::string msg) { return {Code::kTooLarge, std::move(msg)}; }
  static Status TooLong(std::string msg) { return {Code::kTooLong, std::move(msg)}; }
  static Status Forbidden(std::string msg) { return {Code::kForbidden, std::move(msg)}; }
  static Status TooManyRequests(std::string msg) { return {Code::kTooManyRequests, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ok", or the message: for logs.
  std::string ToString() const { return ok() ? "ok" : message_; }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// Holds a T or a non-OK Status. C++17 has no std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: Requires: !status.ok()

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // Requires: ok().
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

// User text made safe for a one-line message or log: at most max_bytes bytes
// (cut at a UTF-8 character boundary, "..." added), control characters
// written as \xNN, so a name can never start a new log line. Applying it to
// its own output changes nothing (messages are built from sanitized parts
// and sanitized again where they leave the program).
std::string Sanitized(std::string_view user_text, size_t max_bytes = 80);

}  // namespace gosl
