// The program's version, shown by --version and in the log at start-up.
#pragma once

namespace gosl {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace gosl
