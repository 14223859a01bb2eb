# rcprof - plain make, quiet unless V=1.
#
#   make            build/librc.so build/librcprof.so build/rcprof-report build/rcprof
#                   (the shim with profile feedback; PGO=0 builds it plainly)
#   make check      unit tests (ASan+UBSan), ring stress (TSan), end-to-end tests
#   make demo       run examples/demo under the profiler and print the report
#   make bench      benchmarks (see bench/README or the README)
#   make bench-ablate  where the recorder's CPU goes (bench/ablate.sh)
#   make bench-ops  ns per operation, native and recorded (bench/op_cost.sh)
#   make install PREFIX=/usr/local
#   make deps       install missing Debian packages (does nothing when present)

CC       ?= cc
CFLAGS   ?= -O2 -g
PREFIX   ?= /usr/local
BUILD    ?= build

WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wformat=2 \
            -Wwrite-strings -Wundef -Werror
BASEFLAGS := -std=gnu11 $(WARN) -Iinclude -D_GNU_SOURCE
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

DEBIAN_PKGS := build-essential pkg-config libunwind-dev uthash-dev check \
               libdw-dev libelf-dev libdeflate-dev
# What the tests need on top: real programs run under the shim (and
# CPython's own regression tests of descriptors), clang and
# its runtime for the fuzz target, a shell-level JSON reader.
CHECK_PKGS  := python3 libpython3.11-testsuite sqlite3 xz-utils git g++ clang libclang-rt-14-dev \
               graphviz procps

# --- sources ---------------------------------------------------------------
RUNTIME_SRC  := preload/runtime/rc.c
SHIM_SRC     := $(wildcard preload/shim/*.c)
# Shim modules that do not interpose anything and can be linked into tests.
SHIM_PURE    := $(filter-out $(wildcard preload/shim/hook_*.c),$(SHIM_SRC))
ANALYZER_SRC := $(wildcard analyzer/*.c)
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
PROG_SRC     := $(wildcard tests/progs/*.c)
PROG_BINS    := $(patsubst tests/progs/%.c,$(BUILD)/progs/%,$(PROG_SRC))

SHIM_OBJ     := $(patsubst %.c,$(BUILD)/obj/%.o,$(SHIM_SRC))
ANALYZER_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(ANALYZER_SRC))
ANALYZER_SAN := $(patsubst %.c,$(BUILD)/san/%.o,$(ANALYZER_SRC))
SHIM_PURE_SAN := $(patsubst %.c,$(BUILD)/san/%.o,$(SHIM_PURE))
UNIT_SAN     := $(patsubst %.c,$(BUILD)/san/%.o,$(UNIT_SRC))

ANALYZER_LIBS := $(shell pkg-config --libs libdw 2>/dev/null || echo -ldw -lelf) -ldeflate -lm -lpthread
SHIM_LIBS     := -lunwind -lunwind-x86_64 -ldl -lpthread
CHECK_LIBS    := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

TARGETS := $(BUILD)/librc.so $(BUILD)/librcprof.so $(BUILD)/rcprof-report $(BUILD)/rcprof

.PHONY: all check unit tsan e2e demo bench install deps check-deps install-pkgs clean progs fuzz soak
all: $(TARGETS)

# --- libraries -------------------------------------------------------------
$(BUILD)/obj/preload/%.o: preload/%.c $(wildcard include/*.h preload/shim/*.h)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -ftls-model=initial-exec -c $< -o $@

# --- the shim, optimized with profile feedback -------------------------------
# PGO=1 (the default with GCC): the recorder's hot paths are a few branches
# taken the same way in every program (the guard, the stream, the stack
# cache's fast path), and GCC lays them out better once it has seen them
# run.  The shim is built instrumented (-fprofile-generate) into $(PGO_DIR),
# runs three test programs from tests/progs (not the bench's workloads):
# many allocation sites on two threads, two threads taking turns with
# objects and blocks, a malloc loop.  Both builds name their auxiliary
# files alike (-dumpdir, -dumpbase): the profile of preload/shim/X.c is
# $(PGO_DIR)/prof/X.gcda for both, and GCC's ids for static functions,
# which hash that name, match.
# Code the training never ran (fork, exec, signals, dlopen) is compiled
# for size, as GCC does with cold code (-fprofile-partial-training would
# keep its speed, but GCC 12 then warns about every call into it).  A
# training run that fails leaves no profile: the shim is then built
# without one, with a warning.  ~3 % less CPU on both bench workloads
# (README, Performance).  PGO=0, or another compiler: one plain build.
PGO ?= $(shell $(CC) -v 2>&1 | grep -q '^gcc version' && echo 1 || echo 0)
PGO_DIR   := $(BUILD)/pgo
PGO_OBJ   := $(patsubst %.c,$(PGO_DIR)/obj/%.o,$(SHIM_SRC))
PGO_STAMP := $(PGO_DIR)/trained
PGO_TRAIN := sites turns churn
SHIM_OBJ_FLAGS := -fPIC -fvisibility=hidden -ftls-model=initial-exec
SHIM_PROF_NAME  = -dumpdir $(PGO_DIR)/prof/ -dumpbase $*
ifeq ($(PGO),1)
SHIM_PGO_DEP   := $(PGO_STAMP)
SHIM_PGO_FLAGS = -fprofile-use -Wno-missing-profile $(SHIM_PROF_NAME)
endif

$(BUILD)/obj/preload/shim/%.o: preload/shim/%.c $(wildcard include/*.h preload/shim/*.h) $(SHIM_PGO_DEP)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(SHIM_OBJ_FLAGS) $(SHIM_PGO_FLAGS) -c $< -o $@

$(PGO_DIR)/obj/preload/shim/%.o: preload/shim/%.c $(wildcard include/*.h preload/shim/*.h)
	$(call msg,CC-PGO,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(SHIM_OBJ_FLAGS) -fprofile-generate -fprofile-update=atomic $(SHIM_PROF_NAME) -c $< -o $@

$(PGO_DIR)/librcprof.so: $(PGO_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -fprofile-generate -shared -Wl,-soname,librcprof.so -Wl,-z,nodelete -o $@ $^ $(SHIM_LIBS)

$(PGO_STAMP): $(PGO_DIR)/librcprof.so $(patsubst %,$(BUILD)/progs/%,$(PGO_TRAIN))
	$(call msg,TRAIN,$(PGO_DIR))
	$(Q)rm -rf $(PGO_DIR)/prof && mkdir -p $(PGO_DIR)/prof
	$(Q)t=$$(mktemp -d) && ok=1 && \
	for run in "sites 200000 2" "turns 150 2000" "churn 1500000"; do \
	    LD_PRELOAD=$(PGO_DIR)/librcprof.so RCPROF_OUT=$$t/train.%p.bin \
	        $(BUILD)/progs/$$run > /dev/null 2>&1 || ok=0; \
	done; rm -rf "$$t"; \
	[ $$ok = 1 ] || { rm -f $(PGO_DIR)/prof/*.gcda; \
	    echo "rcprof: profile training failed; the shim is built without a profile" >&2; }
	@touch $@

$(BUILD)/librc.so: $(BUILD)/obj/preload/runtime/rc.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,librc.so -o $@ $^

$(BUILD)/librcprof.so: $(SHIM_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,librcprof.so -Wl,-z,nodelete -o $@ $^ $(SHIM_LIBS)

# --- analyzer --------------------------------------------------------------
$(BUILD)/obj/analyzer/%.o: analyzer/%.c $(wildcard include/*.h analyzer/*.h)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -Ianalyzer -c $< -o $@

$(BUILD)/obj/cmd/%.o: analyzer/cmd/%.c $(wildcard include/*.h analyzer/*.h)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -Ianalyzer -c $< -o $@

$(BUILD)/rcprof-report: $(BUILD)/obj/cmd/rcprof-report.o $(ANALYZER_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(ANALYZER_LIBS)

$(BUILD)/rcprof: $(BUILD)/obj/cmd/rcprof.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(ANALYZER_LIBS)

# --- tests -----------------------------------------------------------------
$(BUILD)/san/%.o: %.c $(wildcard include/*.h analyzer/*.h preload/shim/*.h tests/unit/*.h) $(BUILD)/unit_suites.h
	$(call msg,CC-SAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) -O1 -g $(SANFLAGS) -Ianalyzer -Ipreload/shim -Itests/unit -I$(BUILD) -c $< -o $@

# One runner; every tests/unit/test_NAME.c defines `Suite *NAME_suite(void)`.
$(BUILD)/unit_suites.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	$(Q)for f in $(UNIT_SRC); do n=$${f##*/test_}; echo "SUITE($${n%.c})"; done > $@

$(BUILD)/unit-tests: $(BUILD)/san/tests/unit/runner.o $(UNIT_SAN) $(ANALYZER_SAN) $(SHIM_PURE_SAN) $(BUILD)/librc.so
	$(call msg,LD,$@)
	$(Q)$(CC) $(SANFLAGS) -o $@ $(filter %.o,$^) -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -lrc $(CHECK_LIBS) $(ANALYZER_LIBS) -lunwind -lunwind-x86_64 -lpthread

$(BUILD)/progs/%: tests/progs/%.c $(BUILD)/librc.so include/rcprof.h
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -Iinclude -O1 -g -fno-omit-frame-pointer -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN/..' -lrc -lpthread

progs: $(PROG_BINS)

unit: check-deps $(BUILD)/unit-tests
	$(call msg,TEST,unit)
	$(Q)CK_FORK=yes $(BUILD)/unit-tests

e2e: check-deps all progs
	$(call msg,TEST,e2e)
	$(Q)BUILD=$(BUILD) sh tests/e2e/run.sh

# The ring under ThreadSanitizer: the stress program with the pure shim.
TSAN_SRC := $(filter-out preload/shim/hook_%,$(SHIM_PURE))
$(BUILD)/ring-stress-tsan: tests/stress/ring_stress.c $(TSAN_SRC) $(wildcard include/*.h preload/shim/*.h)
	$(call msg,CC-TSAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) -O1 -g -fsanitize=thread -Ipreload/shim -o $@ tests/stress/ring_stress.c $(TSAN_SRC) -lunwind -lunwind-x86_64 -lpthread

tsan: check-deps $(BUILD)/ring-stress-tsan
	$(call msg,TEST,tsan)
	$(Q)$(BUILD)/ring-stress-tsan

# libFuzzer target for the dump reader (clang).  A short run in make check,
# long runs with `make fuzz FUZZ_SECONDS=3600`.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=gnu11 -Iinclude -Ianalyzer -D_GNU_SOURCE -g -O1 \
               -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz-dump: tests/fuzz/fuzz_dump.c $(ANALYZER_SRC) $(wildcard include/*.h analyzer/*.h)
	$(call msg,CLANG,$@)
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_dump.c $(ANALYZER_SRC) $(ANALYZER_LIBS)

fuzz: check-deps $(BUILD)/fuzz-dump
	$(call msg,FUZZ,$(FUZZ_SECONDS)s)
	@mkdir -p $(BUILD)/fuzz-corpus
	$(Q)$(BUILD)/fuzz-dump -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -print_final_stats=0 $(BUILD)/fuzz-corpus tests/fuzz/corpus 2>$(BUILD)/fuzz.log || \
	    { tail -n 50 $(BUILD)/fuzz.log; exit 1; }

check: check-deps all unit tsan e2e fuzz

# Longer runs than make check affords: a long fuzz session and the stress
# test with more iterations.
soak: all progs
	$(MAKE) fuzz FUZZ_SECONDS=1800
	BUILD=$(BUILD) STRESS_N=5000000 sh tests/e2e/run.sh

# --- demo ------------------------------------------------------------------
$(BUILD)/demo: examples/demo.c $(BUILD)/librc.so include/rcprof.h
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 -Iinclude -O0 -g -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -lrc

demo: deps all $(BUILD)/demo
	@rm -f $(BUILD)/demo.bin $(BUILD)/demo.bin.ring
	@echo "== running build/demo under LD_PRELOAD=build/librcprof.so"
	@RCPROF_OUT=$(BUILD)/demo.bin LD_PRELOAD=$(CURDIR)/$(BUILD)/librcprof.so $(BUILD)/demo
	@echo "== build/rcprof-report build/demo.bin"
	@$(BUILD)/rcprof-report $(BUILD)/demo.bin

# --- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/librc.so $(BUILD)/librcprof.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/rcprof-report $(BUILD)/rcprof $(DESTDIR)$(PREFIX)/bin/
	install -m 644 include/rcprof.h include/rcprof_dump.h $(DESTDIR)$(PREFIX)/include/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: rcprof' 'Description: reference-counting runtime instrumented for the rcprof leak profiler' \
	    'Version: 1.0' 'Libs: -L$${libdir} -lrc' 'Cflags: -I$${includedir}' \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/rcprof.pc

# --- Debian packages -------------------------------------------------------
deps:
	@$(MAKE) -s install-pkgs PKGS="$(DEBIAN_PKGS)"

check-deps:
	@$(MAKE) -s install-pkgs PKGS="$(DEBIAN_PKGS) $(CHECK_PKGS)"

install-pkgs:
	@missing=""; for p in $(PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "  DEPS     installing:$$missing"; \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || \
	    { echo "rcprof: deps: apt-get install$$missing failed" >&2; exit 1; }; \
	fi

clean:
	rm -rf $(BUILD)

# --- bench (see bench/README.md) -------------------------------------------
# Workloads are built with the normal CFLAGS (-O2 -g), no frame-pointer
# tricks: the tools must cope with what users build.
BENCH_WORK := $(BUILD)/bench/malloc_churn $(BUILD)/bench/rc_churn $(BUILD)/bench/graph_gen \
	      $(BUILD)/bench/op_cost
BENCH_BINS := $(BENCH_WORK) $(BUILD)/bench/measure
# The tools compared against; any that is missing shows "not installed".
BENCH_PKGS := heaptrack zstd liblsan0 valgrind python3

$(BUILD)/bench/measure: bench/measure.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $<

$(BUILD)/bench/malloc_churn: bench/malloc_churn.c bench/bench.h
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $< -lpthread

$(BUILD)/bench/%: bench/%.c bench/bench.h include/rcprof.h $(BUILD)/librc.so
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN/..' -lrc -lpthread

.PHONY: bench-deps bench-progs bench-ablate bench-ops
bench-deps:
	@$(MAKE) -s install-pkgs PKGS="$(BENCH_PKGS)"

bench-progs: $(BENCH_BINS)

# `make all` is tried but not required: while librcprof.so or rcprof-report
# cannot be built, run.sh measures the other tools and labels the rcprof
# columns "not built".  Knobs: BENCH_REPS, BENCH_ITERS, ... (bench/run.sh).
bench: $(BENCH_BINS)
	@$(MAKE) -s bench-deps || echo "bench: warning: could not install $(BENCH_PKGS)" >&2
	@$(MAKE) -s all || echo "bench: warning: 'make all' failed, rcprof is benchmarked only if build/librcprof.so and build/rcprof-report exist" >&2
	$(Q)BUILD=$(BUILD) sh bench/run.sh

# Where the recorder's CPU goes: parts switched off by their environment
# variables, alternating with native runs (bench/ablate.sh; ABLATE_ROUNDS).
ABLATE_ROUNDS ?= 11
bench-ablate: all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) sh bench/ablate.sh $(ABLATE_ROUNDS)

# One operation's cost in ns, native and recorded (bench/op_cost.sh).
OPS_ROUNDS ?= 7
bench-ops: all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) sh bench/op_cost.sh $(OPS_ROUNDS)
