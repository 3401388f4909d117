// The facts --status shows, once a count under way (after an upgrade or a
// repair) has ended: tests compare them with what a full scan finds.
#pragma once

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "gosl/store.hpp"

namespace gosl::test {

inline DatabaseFacts CountedFacts(Store& store) {
  auto facts = store.Facts();
  for (int i = 0; i < 200 && facts.ok() && !facts->counted; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    facts = store.Facts();
  }
  REQUIRE(facts.ok());
  REQUIRE(facts->counted);
  return facts.value();
}

}  // namespace gosl::test
