#include "store/fault_log.hpp"

#include "gosl/logging.hpp"

namespace gosl {

void FaultLog::Note(const Status& status, bool write) {
  const Code code = status.code();
  const bool fault = code == Code::kUnavailable || code == Code::kIOError || code == Code::kCorruption;
  if (!fault && !in_fault_.load(std::memory_order_relaxed)) return;  // the usual case
  if (!fault && !status.ok() && !status.IsNotFound()) return;  // a bad request says nothing
  const std::string& message = status.message();
  const size_t colon = message.rfind(": ");
  const std::string cause = std::to_string(static_cast<int>(code)) +
                            (colon == std::string::npos ? message : message.substr(colon + 2));
  std::lock_guard<std::mutex> lock(mutex_);
  if (fault && cause != fault_) {
    log::Error(Sanitized(message, 300) + " (answering 503 until this passes)");
    fault_ = cause;
    fault_on_write_ = write;
    in_fault_ = true;
  } else if (!fault && in_fault_.load() && (write || !fault_on_write_)) {
    log::Notice("database '" + db_ + "' answers again");
    fault_.clear();
    in_fault_ = false;
  }
}

}  // namespace gosl
