// libFuzzer entry: the peer wire's decoders (fuzz/targets.cpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gosl::fuzz::PeerWireTarget(data, size);
  return 0;
}
