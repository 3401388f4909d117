// libFuzzer entry: the request parser, the write protection and the
// dispatcher on a real LevelDB database (fuzz/targets.cpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gosl::fuzz::RequestTarget(data, size);
  return 0;
}
