// libFuzzer entry: the W-Hat CSV line parser (fuzz/targets.cpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gosl::fuzz::CsvLineTarget(data, size);
  return 0;
}
