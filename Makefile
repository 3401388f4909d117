# gosl-basics: the developer's menu.
#   make             ./gosl-basics.fcgi (build/dev: -O2 -g, asserts on)
#   make run         demo database from data/sample-name2key.csv, --server on 127.0.0.1:3000
#   make test        installs missing Debian packages, then every test, plain and under ASan+UBSan
#   make check       the test suite once, dev build only (quick loop while coding)
#   make asan        the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench       figures against the SPEC budgets (1 M and 10 M generated records), release binary
#   make bench-scale a 30 M-record import under ulimit -n 256, and other name mixes (SCALE_RECORDS=N)
#   make fuzz        libFuzzer on the request path, the CSV line parser and the peer wire (FUZZ_SECONDS each, 60)
#   make release     dist/gosl-basics.fcgi: fully static, stripped, the file you upload
#   make previous    build/previous/: the previous release built from its commit (upgrade tests)
#   make dist        dist/gosl-basics-VERSION-linux-x86_64.tar.gz: binary, .htaccess, config, LSL
#   make clean       removes build/ and the binary
# V=1 shows full commands. Each flavour builds in build/<flavour>/, so
# switching flavours never needs a clean.

FLAVOUR ?= dev
B := build/$(FLAVOUR)
BINARY := gosl-basics.fcgi

CXX ?= g++
WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Werror
CPPFLAGS := -Iinclude -Isrc -DFMT_HEADER_ONLY -MMD -MP
CXXFLAGS := -std=c++17 $(WARNINGS)
LDLIBS := -lleveldb -lsnappy -lfcgi -lboost_program_options -lbz2 -lz -ledit -lutil -pthread

ifeq ($(FLAVOUR),asan)
  SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  # GCC 12 reports false maybe-uninitialized warnings inside libstdc++'s
  # <regex> (pulled in by Catch2) when sanitizers are on; plain builds keep it.
  CXXFLAGS += -O1 -g $(SAN) -Wno-maybe-uninitialized
  LDFLAGS += $(SAN)
else ifeq ($(FLAVOUR),release)
  # Fully static and stripped: runs on any x86_64 Linux kernel >= 3.2,
  # whatever the host's glibc (a shared host's is often older than ours).
  CXXFLAGS += -O2 -DNDEBUG
  LDFLAGS += -static -s
  LDLIBS += -ltinfo -lbsd -lmd
  LINKAGE := statically linked
else
  CXXFLAGS += -O2 -g
endif

LINKAGE ?= dynamically linked
# The commit a binary was built from ("-dirty" with changes not committed),
# for --version; the stamp file changes only when it does, so version.o is
# rebuilt then and only then. "unknown" outside a git clone.
SOURCE_REVISION := $(shell r=$$(git rev-parse --short=7 HEAD 2>/dev/null) && \
    { git diff --quiet HEAD -- && echo $$r || echo $$r-dirty; } || echo unknown)
$(B)/source-revision: FORCE
	@mkdir -p $(B)
	@echo '$(SOURCE_REVISION)' | cmp -s - $@ || echo '$(SOURCE_REVISION)' > $@
.PHONY: FORCE
FORCE:
$(B)/src/version.o: $(B)/source-revision
$(B)/src/version.o: CPPFLAGS += -DGOSL_BUILD_DATE='"$(shell date -u +%Y-%m-%d)"' \
    -DGOSL_SOURCE_REVISION='"$(SOURCE_REVISION)"' \
    -DGOSL_LINKAGE='"$(LINKAGE)"' \
    -DGOSL_LIBFCGI_VERSION='"$(shell dpkg-query -W -f='$${Version}' libfcgi-dev 2>/dev/null)"'

SRCS := $(wildcard src/*.cpp src/*/*.cpp)
OBJS := $(SRCS:%.cpp=$(B)/%.o)
LIB_OBJS := $(filter-out $(B)/src/main.o,$(OBJS))
TEST_SRCS := $(wildcard tests/*.cpp tests/support/*.cpp tests/integration/*.cpp tests/apache/*.cpp tests/hosts/*.cpp tests/docs/*.cpp) \
             fuzz/targets.cpp
TEST_OBJS := $(TEST_SRCS:%.cpp=$(B)/%.o)
BENCH_SRCS := $(wildcard bench/*.cpp)
TOOL_SRCS := $(wildcard tools/*.cpp)
DEPS := $(OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(wildcard build/fuzz/*/*.d build/fuzz/*/*/*.d) $(BENCH_SRCS:%.cpp=$(B)/%.d) $(TOOL_SRCS:%.cpp=$(B)/%.d)

ifeq ($(V),1)
  Q :=
  SAY := @true
else
  Q := @
  SAY := @printf '  %-6s %s\n'
endif

.PHONY: all run test check asan bench bench-scale deps clean binary tests-binary release dist fuzz previous
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BINARY)

$(BINARY): $(B)/$(BINARY)
	$(Q)cp $< $@

binary: $(B)/$(BINARY)

$(B)/$(BINARY): $(OBJS)
	$(SAY) LINK $@
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(SAY) CXX $<
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

# Tests run the binary of their own flavour, and the previous release's
# (built from its commit by `make previous`) beside it.
PREVIOUS_COMMIT := e0c0739d6bb9af84bdef1fd1ef1e6a62645f6031
PREVIOUS_BINARY := $(CURDIR)/build/previous/gosl-basics.fcgi
$(B)/tests/%.o: CPPFLAGS += -DGOSL_TEST_BINARY='"$(CURDIR)/$(B)/$(BINARY)"' \
                            -DGOSL_SOURCE_DIR='"$(CURDIR)"' \
                            -DGOSL_PREVIOUS_BINARY='"$(PREVIOUS_BINARY)"'

$(B)/gosl-tests: $(LIB_OBJS) $(TEST_OBJS)
	$(SAY) LINK $@
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests-binary: $(B)/gosl-tests $(B)/$(BINARY)

$(B)/tools/%: $(B)/tools/%.o $(LIB_OBJS)
	$(SAY) LINK $@
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Benchmarks drive the real binary with the tests' FastCGI client (no Catch2).
BENCH_SUPPORT := $(addprefix $(B)/tests/support/,fcgi_client.o process.o temp_dir.o)
$(B)/bench/%: $(B)/bench/%.o $(LIB_OBJS) $(BENCH_SUPPORT)
	$(SAY) LINK $@
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/install-deps.sh

# The file users upload: dist/gosl-basics.fcgi, static and stripped.
release:
	$(MAKE) FLAVOUR=release binary
	@mkdir -p dist
	cp build/release/$(BINARY) dist/$(BINARY)
	@ls -l dist/$(BINARY)
	@echo "(A linker warning about gethostbyname in a static link is expected and harmless: see README.md.)"

check: tests-binary
	@scripts/run-tests.sh $(FLAVOUR) $(B)/gosl-tests $(TESTS)

asan:
	$(MAKE) FLAVOUR=asan check

# The previous release (0.2.0), for the tests of an upgrade on a live site.
previous:
	@scripts/build-previous.sh $(PREVIOUS_COMMIT) build/previous

test: deps
	$(MAKE) previous
	$(MAKE) dist
	$(MAKE) FLAVOUR=dev check
	$(MAKE) FLAVOUR=asan check
	$(MAKE) fuzz FUZZ_SECONDS=20

# libFuzzer (clang): each target runs FUZZ_SECONDS, starting from the seeds
# in fuzz/seeds and the corpus earlier runs kept in build/fuzz; a finding is
# written to build/fuzz/findings and fails the run. Keep it as a regression
# input in fuzz/regressions/<target>/ (the test suite replays them).
FUZZ_SECONDS ?= 60
FUZZ_CXX ?= clang++
FUZZ_B := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_OBJS := $(patsubst %.cpp,$(FUZZ_B)/%.o,$(filter-out src/main.cpp,$(SRCS)) fuzz/targets.cpp)
FUZZ_TARGETS := $(FUZZ_B)/fuzz_request $(FUZZ_B)/fuzz_csv_line $(FUZZ_B)/fuzz_peer_wire

$(FUZZ_B)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(SAY) CLANG $<
	$(Q)$(FUZZ_CXX) $(CPPFLAGS) -std=c++17 $(WARNINGS) -O1 -g $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(SAY) LINK $@
	$(Q)$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_TARGETS)
	@scripts/fuzz.sh $(FUZZ_B) $(FUZZ_SECONDS)

# One archive to upload: the release binary, .htaccess, a commented
# config.ini, the LSL scripts, the systemd units, the lighttpd and nginx
# examples and the guides.
VERSION := $(shell sed -n 's/.*kVersion = "\(.*\)";/\1/p' include/gosl/version.hpp)
DIST_NAME := gosl-basics-$(VERSION)
dist: release
	rm -rf build/dist-stage && mkdir -p build/dist-stage/$(DIST_NAME)
	cp dist/$(BINARY) htaccess/.htaccess htaccess/config.ini build/dist-stage/$(DIST_NAME)/
	# config.ini may come to hold the write token: the host's other users must not read it.
	chmod 600 build/dist-stage/$(DIST_NAME)/config.ini
	if [ -d lsl ]; then cp -r lsl build/dist-stage/$(DIST_NAME)/; fi
	cp -r systemd hosts build/dist-stage/$(DIST_NAME)/
	cp -r docs build/dist-stage/$(DIST_NAME)/
	cp docs/deploy-shared-host.md build/dist-stage/$(DIST_NAME)/README-deploy.md
	tar -czf dist/$(DIST_NAME)-linux-x86_64.tar.gz -C build/dist-stage $(DIST_NAME)
	@tar -tzvf dist/$(DIST_NAME)-linux-x86_64.tar.gz

run: deps $(BINARY) $(B)/tools/gen_whatcsv
	scripts/run-demo.sh $(B)

# Measures the binary users upload (build/release: static, -O2, no asserts).
bench: deps $(B)/tools/gen_whatcsv $(B)/bench/bench_lookup $(B)/bench/bench_live
	$(MAKE) FLAVOUR=release binary
	scripts/bench.sh $(B) build/release

# A 30 M-record import under ulimit -n 256, and other name mixes (minutes,
# ~2 GB of disk in build/bench-data): make bench-scale [SCALE_RECORDS=N].
bench-scale: deps $(B)/tools/gen_whatcsv $(B)/bench/bench_lookup
	$(MAKE) FLAVOUR=release binary
	scripts/bench-scale.sh $(B) build/release

clean:
	rm -rf build dist $(BINARY)

-include $(DEPS)
