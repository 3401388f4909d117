#include "gosl/version.hpp"

#include <bzlib.h>
#include <gnu/libc-version.h>
#include <histedit.h>
#include <snappy-stubs-public.h>
#include <zlib.h>

#include <boost/beast/version.hpp>
#include <boost/version.hpp>
#include <fmt/core.h>
#include <leveldb/db.h>
#include <spdlog/version.h>

// Filled in by the Makefile; a build by hand still compiles.
#ifndef GOSL_BUILD_DATE
#define GOSL_BUILD_DATE "unknown"
#endif
#ifndef GOSL_SOURCE_REVISION
#define GOSL_SOURCE_REVISION "unknown"
#endif
#ifndef GOSL_LINKAGE
#define GOSL_LINKAGE "dynamically linked"
#endif
#ifndef GOSL_LIBFCGI_VERSION
#define GOSL_LIBFCGI_VERSION "unknown"  // libfcgi's headers carry no version
#endif

namespace gosl {

std::string VersionText() {
  return fmt::format(
      "gosl-basics {} (source {})\n"
      "built {}, {}, for Linux x86_64\n"
      "leveldb {}.{}, snappy {}.{}.{}, libfcgi {}, Boost {}.{}.{} (program_options, Beast {}),\n"
      "spdlog {}.{}.{}, fmt {}.{}.{}, zlib {}, bzip2 {}, libedit {}.{}, glibc {}\n",
      kVersion, GOSL_SOURCE_REVISION, GOSL_BUILD_DATE, GOSL_LINKAGE, leveldb::kMajorVersion,
      leveldb::kMinorVersion,
      SNAPPY_MAJOR, SNAPPY_MINOR, SNAPPY_PATCHLEVEL, GOSL_LIBFCGI_VERSION, BOOST_VERSION / 100000,
      BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, BOOST_BEAST_VERSION, SPDLOG_VER_MAJOR,
      SPDLOG_VER_MINOR, SPDLOG_VER_PATCH, FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
      FMT_VERSION % 100, zlibVersion(), BZ2_bzlibVersion(),
      LIBEDIT_MAJOR, LIBEDIT_MINOR, gnu_get_libc_version());
}

}  // namespace gosl
