// The Catch2 runner, compiled once; the tests are in the other tests/ files.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
