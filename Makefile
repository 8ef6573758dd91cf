# rehost: build, test, bench, examples.
#
#   make build       cargo build --release (target/release/rehost)
#   make guests      compile tests/guests/* into build/guests/NAME-VARIANT
#   make test        toolchain, build, guests, then cargo test --release --workspace
#   make record      re-record tests/expected/ from native runs of the guests
#   make demo        translate examples/hello.c and run the result
#   make bench       native vs translated vs `rehost run` vs qemu-i386 (ratios)
#   make fmt-check   cargo fmt --check
#   make clippy      cargo clippy, warnings are errors
#
# Guest variants (see tests/lib.rs, which knows the same list):
#   NAME-O0, NAME-O2                    every guest, gcc/g++ -m32 -static
#   NAME-pie-O0, NAME-pie-O2            PIE_GUESTS, -static-pie
#   NAME-O2-strip                       STRIP_GUESTS, strip --strip-all of NAME-O2
#   NAME-pie-O2-strip                   guests in both lists
#   NAME-dyn-O2                         DYN_GUESTS, dynamically linked (gcc -m32 -O2, PIE,
#                                       /lib/ld-linux.so.2 from the host's i386 libc)

SHELL := /bin/bash
CARGO ?= cargo
CC32 ?= gcc
CXX32 ?= g++
REHOST ?= target/release/rehost
GUEST_CFLAGS ?= -m32 -static -Wall -g0
G := build/guests

GUEST_C := $(wildcard tests/guests/*.c)
GUEST_CXX := $(wildcard tests/guests/*.cpp)
GUEST_NAMES := $(sort $(basename $(notdir $(GUEST_C) $(GUEST_CXX))))
PIE_GUESTS := qsort switch except tls setjmp fptable cgoto rodata_switch jit textsmc
STRIP_GUESTS := qsort switch except printf fptable cgoto rodata_switch jit
DYN_GUESTS := args printf qsort strings malloc except tls setjmp fork exec

# Per-guest extra flags.
GFLAGS_sse2 := -msse2 -mfpmath=sse
GFLAGS_threads := -pthread
GFLAGS_forkthreads := -pthread
GFLAGS_jit := -z execstack
GFLAGS_signals_fp := -msse2
GFLAGS_textsmc := -pthread

GUEST_BINS := $(foreach n,$(GUEST_NAMES),$(G)/$(n)-O0 $(G)/$(n)-O2) \
	$(foreach n,$(PIE_GUESTS),$(G)/$(n)-pie-O0 $(G)/$(n)-pie-O2) \
	$(foreach n,$(STRIP_GUESTS),$(G)/$(n)-O2-strip) \
	$(foreach n,$(filter $(PIE_GUESTS),$(STRIP_GUESTS)),$(G)/$(n)-pie-O2-strip) \
	$(foreach n,$(DYN_GUESTS),$(G)/$(n)-dyn-O2)

.PHONY: all build toolchain guests test record demo bench fmt fmt-check clippy clean-guests
.DELETE_ON_ERROR:

all: build

build:
	$(CARGO) build --release

# Installs gcc-multilib/g++-multilib when gcc -m32 cannot link a static program.
toolchain:
	@scripts/ensure-toolchain.sh

guests: $(GUEST_BINS)

$(G):
	mkdir -p $@

$(G)/%-O0: tests/guests/%.c | toolchain $(G)
	$(CC32) $(GUEST_CFLAGS) -O0 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-O2: tests/guests/%.c | toolchain $(G)
	$(CC32) $(GUEST_CFLAGS) -O2 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-pie-O0: tests/guests/%.c | toolchain $(G)
	$(CC32) $(subst -static,-static-pie,$(GUEST_CFLAGS)) -fPIE -O0 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-pie-O2: tests/guests/%.c | toolchain $(G)
	$(CC32) $(subst -static,-static-pie,$(GUEST_CFLAGS)) -fPIE -O2 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-dyn-O2: tests/guests/%.c | toolchain $(G)
	$(CC32) $(filter-out -static,$(GUEST_CFLAGS)) -O2 $(GFLAGS_$*) -o $@ $< -lm

$(G)/%-O0: tests/guests/%.cpp | toolchain $(G)
	$(CXX32) $(GUEST_CFLAGS) -O0 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-O2: tests/guests/%.cpp | toolchain $(G)
	$(CXX32) $(GUEST_CFLAGS) -O2 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-pie-O0: tests/guests/%.cpp | toolchain $(G)
	$(CXX32) $(subst -static,-static-pie,$(GUEST_CFLAGS)) -fPIE -O0 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-pie-O2: tests/guests/%.cpp | toolchain $(G)
	$(CXX32) $(subst -static,-static-pie,$(GUEST_CFLAGS)) -fPIE -O2 $(GFLAGS_$*) -o $@ $< -lm
$(G)/%-dyn-O2: tests/guests/%.cpp | toolchain $(G)
	$(CXX32) $(filter-out -static,$(GUEST_CFLAGS)) -O2 $(GFLAGS_$*) -o $@ $< -lm

$(G)/%-strip: $(G)/%
	strip --strip-all -o $@ $<

test: toolchain build guests
	$(CARGO) test --release --workspace --no-fail-fast

record: guests
	scripts/record-expected.sh

build/hello: examples/hello.c | toolchain
	@mkdir -p build
	$(CC32) -m32 -static -O2 -Wall -o $@ $< -lm

demo: build build/hello
	$(REHOST) translate build/hello -o build/hello.x86_64
	./build/hello.x86_64 alpha beta

bench: build
	scripts/bench.sh

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean-guests:
	rm -rf $(G)

# Differential instruction fuzzing against the CPU (fuzz/, issue 5).
#   make fuzz            FUZZ_N subject instructions (default 10,000,000), random seed
#                        (FUZZ_SEED=S to repeat one), native vs translated vs `rehost run`
#   make fuzz-coverage   rewrite fuzz/coverage.txt from the fixed-seed run of the tests
#   make fuzz-test       the fuzzer's tests alone (fixed-seed 100,000, regressions, table)
FUZZ_N ?= 10000000
FUZZ_SEED ?=

.PHONY: fuzz fuzz-coverage fuzz-test

fuzz: build
	target/release/rehost-fuzz -n $(FUZZ_N) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

fuzz-coverage: build
	target/release/rehost-fuzz --seed 1 -n 100000 --coverage fuzz/coverage.txt -q

fuzz-test: build
	$(CARGO) test --release -p rehost-fuzz

# The CFG of a guest as `rehost cfg` writes it (static blocks blue, blocks
# from a run-time profile orange), rendered to SVG with graphviz:
#   make build/cfg/qsort-O2.svg [PROFILE=prof.txt] [CFG_FROM=main] [CFG_DEPTH=12]
CFG_FROM ?= main
CFG_DEPTH ?= 12
build/cfg/%.dot: build/guests/% build
	@mkdir -p build/cfg
	$(REHOST) cfg $< $(if $(PROFILE),--profile $(PROFILE)) --from $(CFG_FROM) --depth $(CFG_DEPTH) -o $@
.PRECIOUS: build/cfg/%.dot
build/cfg/%.svg: build/cfg/%.dot
	@command -v dot >/dev/null || { echo "make: graphviz is not installed (apt-get install graphviz)" >&2; exit 1; }
	dot -Tsvg $< -o $@
