// The program's version, and what --version prints about the build.
#pragma once

#include <string>

namespace gosl {

inline constexpr const char* kVersion = "0.3.0";

// Several lines: version, build date and linkage, and the version of every
// library linked in (a static binary carries them all; this says which).
std::string VersionText();

}  // namespace gosl
