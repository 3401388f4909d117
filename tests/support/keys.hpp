// Made-up avatar keys for tests that need many distinct ones.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace gosl::test {

// "<first_group>-0000-4000-8000-<i, 12 digits>": a valid version-4 UUID, one per i. A test picks
// its own first_group to keep its keys apart from the others it uses.
inline std::string TestKey(int i, uint32_t first_group = 0) {
  char text[37];
  std::snprintf(text, sizeof text, "%08x-0000-4000-8000-%012d", first_group, i);
  return text;
}

// Key i of a generated W-Hat export. The first group strides by a large prime and wraps, so in a
// big export the lines are not in key order and an import really has to sort them.
inline std::string ExportKey(int i) {
  return TestKey(i, 0x20000000u + static_cast<uint32_t>(i) * 104729u);
}

}  // namespace gosl::test
