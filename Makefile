# heaplab build. `make` builds the release driver build/heaplab (gcc or clang:
# `make CC=clang`), `make test` builds the sanitized variant and runs every test,
# `make deps` installs what a fresh Debian 12 needs, `make run` is the main job.
ifeq ($(origin CC),default)
CC := gcc
endif
# C++ only for the micro-benchmarks' Google Benchmark shim (bench/micro/shim.cc)
ifeq ($(origin CXX),default)
CXX := g++
endif
PYTHON   := /usr/bin/python3
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
WARN_CXX := -Wall -Wextra -Werror -Wshadow
CPPFLAGS := -D_GNU_SOURCE
# Each layer's include path names its own folder and the layers below it, never one
# above (README "Layout"; tests/test_layers.py checks every #include against it).
INC_contract   := -Iallocators/include
INC_allocators := $(INC_contract) -Iallocators/source -Iallocators/kit -Iallocators -Ibuild/wasm2c
INC_core       := $(INC_contract) -Iallocators/source -Icore
INC_trace      := $(INC_core) -Itrace -Itrace/import
INC_run        := $(INC_trace) -Iallocators -Irun
INC_measure    := $(INC_run) -Imeasure
INC_check      := $(INC_measure) -Icheck
INC_fuzz       := $(INC_check) -Ifuzz
INC_shim       := $(INC_check) -Ishim
INC_cli        := $(INC_fuzz) -Icli -Ishim
INC_tests      := $(INC_cli) -Iallocators/kit -Ifuzz/drivers -Itests/support -Ibuild/wasm2c
INC_examples   := $(INC_contract)
INC_bench      := $(INC_contract) -Iallocators -Ibench/micro
# the include path of a source file: its top folder's (allocators/wasm is allocators,
# and the planted-bug mutants of fuzz/mutants/ are allocator sources)
inc = $(if $(filter fuzz/mutants/%,$1),$(INC_allocators),$(INC_$(firstword $(subst /, ,$1))))
CSTD     := -std=c11
RELEASE_FLAGS := -O2 -g
ASAN_FLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                 -fno-sanitize-recover=undefined
LIBS     := -lcjson -lzstd -lseccomp -lm

ALLOC_SRC   := $(wildcard allocators/*.c allocators/source/*.c allocators/kit/*.c allocators/foreign/*.c \
                          allocators/wasm/*.c)
HARNESS_SRC := $(wildcard core/*.c trace/*.c trace/import/*.c run/*.c measure/*.c check/*.c)
FUZZ_SRC    := $(wildcard fuzz/*.c) fuzz/drivers/engine.c fuzz/drivers/corpus.c
CLI_SRC     := $(wildcard cli/*.c)
TEST_BACKEND_SRC := $(filter-out tests/backends/plugin_% tests/backends/malloc_%,$(wildcard tests/backends/*.c)) $(wildcard fuzz/mutants/*.c)
UNIT_SRC    := $(wildcard tests/*/test_*.c)
LIB_SRC     := $(ALLOC_SRC) $(HARNESS_SRC) $(FUZZ_SRC)

obj = $(patsubst %.c,build/$(1)/obj/%.o,$(2))

.PHONY: all deps test unit run wasm bench-wasm check-wasm bench bench-speed bench-replay bench-fuzz bench-record bench-run bench-micro bench-quick test-mutants clean \
        fuzz-libfuzzer fuzz-libfuzzer-build fuzz-afl fuzz-afl-build corpora traces examples test-mutants-libfuzzer \
        check-published-malloclab
all: build/heaplab build/libheaplab-record.so build/libheaplab-serve.so build/heaplab-v8-runner.mjs

# keep object files make considers intermediate (unit-test objects)
.SECONDARY:

# ---------------------------------------------------------------- variants
build/release/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CPPFLAGS) $(call inc,$<) $(RELEASE_FLAGS) -MMD -MP -c $< -o $@
build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CPPFLAGS) $(call inc,$<) $(ASAN_FLAGS) -MMD -MP -c $< -o $@
# the results document names the flags its build used
build/release/obj/measure/results.o: CPPFLAGS += -DHL_BUILD_FLAGS='"$(RELEASE_FLAGS)"'
build/asan/obj/measure/results.o: CPPFLAGS += -DHL_BUILD_FLAGS='"$(ASAN_FLAGS)"'

build/release/libheaplab.a: $(call obj,release,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
build/asan/libheaplab.a: $(call obj,asan,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^

build/heaplab: $(call obj,release,$(CLI_SRC)) build/release/libheaplab.a
	$(CC) $(RELEASE_FLAGS) -o $@ $^ $(LIBS)
build/asan/heaplab: $(call obj,asan,$(CLI_SRC)) build/asan/libheaplab.a
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)

# The recorder's LD_PRELOAD library: never sanitized (an ASan .so cannot be preloaded
# into an uninstrumented program), found by `heaplab record` next to the binary.
build/libheaplab-record.so: record/preload.c core/hl_core.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INC_core) -O2 -g -fPIC -shared -fvisibility=hidden -o $@ $< -ldl -lpthread

# The run shim's LD_PRELOAD library (shim/, `heaplab run`): the serving core linked with
# the backends and the layers it steps them through, position-independent, every symbol
# hidden but the malloc family it defines. Never sanitized (as the recorder), found by
# `heaplab run` next to the binary.
SHIM_SRC := $(wildcard shim/*.c)
build/pic/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CPPFLAGS) $(call inc,$<) $(RELEASE_FLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@
build/libheaplab-serve.so: $(call obj,pic,$(SHIM_SRC) $(ALLOC_SRC) $(HARNESS_SRC))
	$(CC) $(RELEASE_FLAGS) -shared -Wl,--no-undefined -o $@ $^ $(LIBS) -ldl -lpthread

# heaplab-test: the same driver plus the test-only backends, for the mutant tests.
TEST_DRIVER_SRC := $(CLI_SRC) $(TEST_BACKEND_SRC)
build/release/heaplab-test: $(call obj,release,$(TEST_DRIVER_SRC)) build/release/libheaplab.a
	$(CC) $(RELEASE_FLAGS) -o $@ $^ $(LIBS)
build/asan/heaplab-test: $(call obj,asan,$(TEST_DRIVER_SRC)) build/asan/libheaplab.a
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)

# Broken contract plugins (tests/backends/plugin_*.c): another contract version, a
# constructor that crashes, hangs or exits, a table of NULL entry points, a finding
# followed by crashes. Each must be refused or reported, never end heaplab.
TEST_PLUGINS := $(patsubst tests/backends/plugin_%.c,build/tests/plugin_%.so,$(wildcard tests/backends/plugin_*.c))
build/tests/plugin_%.so: tests/backends/plugin_%.c allocators/include/heaplab.h examples/contract_plugin/stack.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INC_contract) -Iexamples/contract_plugin -O1 -g -fPIC -shared -o $@ $<

# Malloc-style test libraries (tests/backends/malloc_*.c, --backends malloc:PREFIX@LIB):
# the first-fit allocator with its planted realloc bug, and the same built without it.
TEST_MALLOC_LIBS := build/tests/libmalloc_firstfit.so build/tests/libmalloc_firstfit_fixed.so build/tests/libmalloc_slow.so \
                    build/tests/libmalloc_sandbox.so build/tests/libmalloc_badcheck.so
# the example library again, several times slower (report --compare by label)
build/tests/libmalloc_slow.so: tests/backends/malloc_slow.c examples/malloc_lib/exmalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -fPIC -shared -o $@ $<
# the example library again, its check failing while three blocks are live (vet's check row)
build/tests/libmalloc_badcheck.so: tests/backends/malloc_badcheck.c examples/malloc_lib/exmalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g -fPIC -shared -o $@ $<
# the example library again, with one misdeed on its first malloc (the sandbox's tests)
build/tests/libmalloc_sandbox.so: tests/backends/malloc_sandbox.c examples/malloc_lib/exmalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g -fPIC -shared -o $@ $< -lpthread
build/tests/libmalloc_firstfit.so: tests/backends/malloc_firstfit.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g -fPIC -shared -o $@ $<
build/tests/libmalloc_firstfit_fixed.so: tests/backends/malloc_firstfit.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -DFIRSTFIT_FIXED -O1 -g -fPIC -shared -o $@ $<

# The corpus replayer (fuzz/drivers/replay.c): fuzz/corpora and fuzz/findings through
# the targets without a fuzzing engine; and the AFL++ target built without afl-cc (it
# then reads one input from stdin).
build/asan/fuzz-replay: build/asan/obj/fuzz/drivers/replay.o build/asan/libheaplab.a
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)
build/asan/fuzz-afl-stdin: build/asan/obj/fuzz/drivers/afl.o build/asan/libheaplab.a
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)

# ---------------------------------------------------------------- the wasm module
# `make wasm`: the wasm backend's core as a real module (README "The wasm module"):
# clang for wasm32 with no libc, wasm-ld (the stack in [0, 1024), no data, so
# __heap_base is 1024, the heap base of every heaplab linear memory), then wasm-opt -Oz.
# The lean configuration is seed 004's surface alone (-DHLWC_LEAN). wasm2c translates the -Oz module into the C the `wasm-module` backend links
# (allocators/wasm/wasm_module.c).
WASM_GUEST := allocators/wasm/wasm_core.c allocators/wasm/wasm_core.h allocators/wasm/guest/exports.c
WASM_CFLAGS := --target=wasm32 -nostdlib -ffreestanding $(CSTD) $(WARN) -Os -flto -DHLWC_FLAT -Iallocators/wasm
# $(call wasm_module,STACK BYTES,EXTRA CFLAGS): the recipe of a module $@
define wasm_module
	@mkdir -p $(dir $@)
	clang $(WASM_CFLAGS) $(2) -c allocators/wasm/wasm_core.c -o $@.core.o
	clang $(WASM_CFLAGS) $(2) -Wno-missing-prototypes -c allocators/wasm/guest/exports.c -o $@.exports.o
	wasm-ld --no-entry --stack-first -z stack-size=$(1) --export=__heap_base --gc-sections -o $@ $@.core.o $@.exports.o
endef
build/heaplab-alloc.wasm: $(WASM_GUEST)
	$(call wasm_module,1024,)
# the lean configuration: seed 004 alone, no misuse checks, no scopes (wasm_core.h)
build/heaplab-alloc-lean.wasm: $(WASM_GUEST)
	$(call wasm_module,1024,-DHLWC_LEAN)
# a module whose heap starts at 2048: the differential tests must catch it
build/tests/heaplab-alloc-base2048.wasm: $(WASM_GUEST)
	$(call wasm_module,2048,)
# a module whose usable-size query reads past its memory: the trap must be an error
build/tests/heaplab-alloc-trap.wasm: $(WASM_GUEST)
	$(call wasm_module,1024,-DHLWC_TEST_TRAP)
# a module whose realloc loses a moved block's first byte: wasm-v8's runner must say so
build/tests/heaplab-alloc-scribble.wasm: $(WASM_GUEST)
	$(call wasm_module,1024,-DHLWC_TEST_SCRIBBLE)
%.min.wasm: %.wasm
	wasm-opt -Oz --strip-debug --strip-producers $< -o $@
build/wasm2c/heaplab_alloc.c: build/heaplab-alloc.min.wasm
	@mkdir -p $(dir $@)
	wasm2c $< -n heaplab_alloc -o $@
build/wasm2c/heaplab_alloc_base2048.c: build/tests/heaplab-alloc-base2048.min.wasm
	@mkdir -p $(dir $@)
	wasm2c $< -n heaplab_alloc_base2048 -o $@
$(foreach v,release asan,build/$(v)/obj/tests/backends/wasm_module_base2048.o): build/wasm2c/heaplab_alloc_base2048.c
build/wasm2c/heaplab_alloc_trap.c: build/tests/heaplab-alloc-trap.min.wasm
	@mkdir -p $(dir $@)
	wasm2c $< -n heaplab_alloc_trap -o $@
$(foreach v,release asan,build/$(v)/obj/tests/backends/wasm_module_trap.o): build/wasm2c/heaplab_alloc_trap.c
$(foreach v,release asan pic libfuzzer afl,build/$(v)/obj/allocators/wasm/wasm_module.o): build/wasm2c/heaplab_alloc.c
# The baseline the module is measured against: dlmalloc, wasi-libc's malloc (Debian
# wasi-libc), linked from its libc.a alone into a module exporting malloc, free, realloc.
build/dlmalloc.wasm: /usr/lib/wasm32-wasi/libc.a
	@mkdir -p $(dir $@)
	wasm-ld --no-entry --export=malloc --export=free --export=realloc --gc-sections -o $@ $<
# `make bench-wasm [WASM_OPS=1000000]`: ns/op of the module and of dlmalloc in one V8,
# then the same figures from bench/wasm_yardstick.mjs, a plain loop sharing nothing with
# the runner, with the floor: a module that does no allocator work (bench/wasm_floor.c)
WASM_OPS ?= 1000000
bench-wasm: build/heaplab-alloc.min.wasm build/dlmalloc.min.wasm build/heaplab-v8-runner.mjs build/bench/wasm-floor.wasm
	node build/heaplab-v8-runner.mjs --bench build/heaplab-alloc.min.wasm build/dlmalloc.min.wasm --ops $(WASM_OPS)
	node bench/wasm_yardstick.mjs build/heaplab-alloc.min.wasm build/dlmalloc.min.wasm build/bench/wasm-floor.wasm --ops $(WASM_OPS)
build/bench/wasm-floor.wasm: bench/wasm_floor.c
	@mkdir -p $(dir $@)
	clang --target=wasm32 -nostdlib -ffreestanding $(CSTD) $(WARN) -Wno-missing-prototypes -O2 -c $< -o $@.o
	wasm-ld --no-entry --export=__heap_base -o $@ $@.o
# `make check-wasm`: every shipped trace through the three engines of the full module and
# through the lean module beside its native twin (the test suite runs a part of the lean sweep)
check-wasm: build/heaplab build/heaplab-alloc-lean.min.wasm build/heaplab-v8-runner.mjs
	./build/heaplab diff --backends wasm,wasm-module,wasm-v8 traces/
	./build/heaplab diff --backends wasm-lean,wasm-v8:module=build/heaplab-alloc-lean.min.wasm traces/
# the wasm-v8 backend's runner, found beside heaplab
build/heaplab-v8-runner.mjs: allocators/wasm/v8_runner.mjs
	@mkdir -p $(dir $@)
	cp $< $@
wasm: build/heaplab-alloc.wasm build/heaplab-alloc.min.wasm build/heaplab-alloc-lean.wasm build/heaplab-alloc-lean.min.wasm \
      build/heaplab-v8-runner.mjs build/heaplab
	@for m in build/heaplab-alloc.min.wasm build/heaplab-alloc-lean.min.wasm; do \
	    echo "$$m: $$(stat -c %s $$m) bytes ($$(stat -c %s $${m%.min.wasm}.wasm) before wasm-opt -Oz)"; done

# ---------------------------------------------------------------- fuzzing engines
# libFuzzer (clang) and AFL++ (afl-clang-fast) builds of the targets diff, decode and
# parse: build/libfuzzer/fuzz-TARGET, build/afl/fuzz-TARGET. Not part of `make test`.
FUZZ_TARGETS := diff decode parse
TARGET    ?= diff
FUZZ_TIME ?= 30
JOBS      ?= 1
FUZZ_SAN  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
# libFuzzer's feedback is the coverage of the code under test (the allocators, test
# backends and mutants, the trace parsers, the input decoder, the targets) and the diff's
# outcomes (extra counters, fuzz/drivers/libfuzzer.c). heaplab's own layers (core, run,
# measure, check, the rest of fuzz) get the sanitizers but no coverage: their edges and
# comparisons follow the input's operations, tell the fuzzer nothing the outcomes do
# not, and libFuzzer's bookkeeping of them took about half of each execution.
LF_COVERED := allocators/% tests/backends/% fuzz/mutants/% trace/% fuzz/decode.c fuzz/target%
build/libfuzzer/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(CSTD) $(WARN) $(CPPFLAGS) $(call inc,$<) $(FUZZ_SAN) $(if $(filter $(LF_COVERED),$<),-fsanitize=fuzzer-no-link) \
	    -MMD -MP -c $< -o $@
build/libfuzzer/libheaplab.a: $(call obj,libfuzzer,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
build/libfuzzer/fuzz-%: fuzz/drivers/libfuzzer.c fuzz/drivers/common.h build/libfuzzer/libheaplab.a
	clang $(CSTD) $(WARN) $(CPPFLAGS) $(INC_fuzz) $(FUZZ_SAN) -fsanitize=fuzzer -DHL_FUZZ_TARGET_NAME='"$*"' \
	    -o $@ $< build/libfuzzer/libheaplab.a $(LIBS)
AFL_CC := afl-clang-fast
build/afl/obj/%.o: %.c
	@mkdir -p $(dir $@)
	AFL_QUIET=1 $(AFL_CC) $(CSTD) $(WARN) -Wno-unused-command-line-argument $(CPPFLAGS) $(call inc,$<) -O2 -g -MMD -MP -c $< -o $@
build/afl/libheaplab.a: $(call obj,afl,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
build/afl/fuzz-%: fuzz/drivers/afl.c fuzz/drivers/common.h build/afl/libheaplab.a
	AFL_QUIET=1 $(AFL_CC) $(CSTD) $(WARN) -Wno-unused-command-line-argument $(CPPFLAGS) $(INC_fuzz) -O2 -g \
	    -DHL_FUZZ_TARGET_NAME='"$*"' -o $@ $< build/afl/libheaplab.a $(LIBS)

# Real traces (traces/real/): real programs recorded with heaplab record, compressed.
traces: build/heaplab build/libheaplab-record.so
	$(PYTHON) scripts/make_traces.py

# Seed corpora from the shipped traces (committed; a test checks they are current).
corpora: build/heaplab
	fuzz/make-corpora.sh

# The diff target with the test-only backends (the mutants), for the libFuzzer campaign.
LF_TEST_OBJ := $(call obj,libfuzzer,$(TEST_BACKEND_SRC))
build/libfuzzer/fuzz-diff-mutants: fuzz/drivers/libfuzzer.c fuzz/drivers/common.h $(LF_TEST_OBJ) \
                                   build/libfuzzer/libheaplab.a
	clang $(CSTD) $(WARN) $(CPPFLAGS) $(INC_fuzz) $(FUZZ_SAN) -fsanitize=fuzzer -DHL_FUZZ_TARGET_NAME='"diff"' -o $@ \
	    $< $(LF_TEST_OBJ) build/libfuzzer/libheaplab.a $(LIBS)
# The planted-bug campaign through libFuzzer (same mutants, same expectations).
test-mutants-libfuzzer: build/libfuzzer/fuzz-diff-mutants
	$(PYTHON) fuzz/mutants/campaign.py --engine libfuzzer --runs 1000000 --time 60 --seeds 1,2,3

fuzz-libfuzzer-build: $(addprefix build/libfuzzer/fuzz-,$(FUZZ_TARGETS))
fuzz-afl-build: $(addprefix build/afl/fuzz-,$(FUZZ_TARGETS))
# OSS-Fuzz and ClusterFuzzLite (.clusterfuzzlite/build.sh calls `make oss-fuzz`): the
# library and the targets compiled with the engine's $(CC) $(CFLAGS) and linked with
# $(CXX) $(CXXFLAGS) $(LIB_FUZZING_ENGINE), as OSS-Fuzz sets them, into $(OUT):
# heaplab_TARGET, heaplab_TARGET_seed_corpus.zip, heaplab_TARGET.dict. No -Werror here:
# the engines' compilers are newer than ours. HEAPLAB_FUZZ_BACKENDS bakes in the diff
# target's backends (the environment variable of that name still overrides them).
OSS_WORK := $(if $(WORK),$(WORK),build/oss-fuzz)/heaplab
OSS_OBJ  := $(patsubst %.c,$(OSS_WORK)/obj/%.o,$(LIB_SRC))
OSS_BACKENDS := $(if $(HEAPLAB_FUZZ_BACKENDS),-DHL_FUZZ_BUILT_BACKENDS='"$(HEAPLAB_FUZZ_BACKENDS)"')
$(OSS_WORK)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) $(call inc,$<) $(CFLAGS) -c $< -o $@
$(OSS_WORK)/obj/allocators/wasm/wasm_module.o: build/wasm2c/heaplab_alloc.c
$(OSS_WORK)/libheaplab.a: $(OSS_OBJ)
	@rm -f $@; ar rcs $@ $^
oss-fuzz: $(OSS_WORK)/libheaplab.a
	@test -n "$(OUT)" || { echo "make oss-fuzz: OUT (the output folder) is not set" >&2; exit 2; }
	@mkdir -p $(OUT)
	for t in $(FUZZ_TARGETS); do \
	    $(CC) $(CSTD) $(CPPFLAGS) $(INC_fuzz) $(CFLAGS) $(OSS_BACKENDS) -DHL_FUZZ_TARGET_NAME="\"$$t\"" \
	        -c fuzz/drivers/libfuzzer.c -o $(OSS_WORK)/driver-$$t.o && \
	    $(CXX) $(CXXFLAGS) $(OSS_WORK)/driver-$$t.o $(LIB_FUZZING_ENGINE) $(OSS_WORK)/libheaplab.a $(LIBS) \
	        -ldl -lpthread -o $(OUT)/heaplab_$$t || exit 1; \
	    seeds=$$(case $$t in parse) echo parse ;; *) echo diff ;; esac); \
	    rm -f $(OUT)/heaplab_$${t}_seed_corpus.zip; \
	    python3 -m zipfile -c $(OUT)/heaplab_$${t}_seed_corpus.zip fuzz/corpora/$$seeds/* || exit 1; \
	    cp fuzz/dict/$$seeds.dict $(OUT)/heaplab_$$t.dict || exit 1; \
	done
.PHONY: oss-fuzz
# `make fuzz-libfuzzer [TARGET=diff] [FUZZ_TIME=30] [JOBS=1]`: a campaign on TARGET's corpus.
fuzz-libfuzzer: fuzz-libfuzzer-build build/heaplab
	fuzz/run-libfuzzer.sh $(TARGET) $(FUZZ_TIME) $(JOBS)
# `make fuzz-afl [TARGET=diff] [FUZZ_TIME=30] [JOBS=1]`: one main and JOBS-1 secondaries.
fuzz-afl: fuzz-afl-build build/heaplab
	fuzz/run-afl.sh $(TARGET) $(FUZZ_TIME) $(JOBS)

# The examples of backends from outside the tree (examples/): a malloc-style library
# (--backends malloc:ex_@build/examples/libexmalloc.so) and a contract plugin
# (--backends ./build/examples/libstack.so), built as their authors would.
EXAMPLES := build/examples/libexmalloc.so build/examples/libstack.so
build/examples/libexmalloc.so: examples/malloc_lib/exmalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -fPIC -shared -o $@ $<
build/examples/libstack.so: examples/contract_plugin/stack.c allocators/include/heaplab.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -Iallocators/include -O2 -g -fPIC -shared -o $@ $<
examples: $(EXAMPLES)

# tests/LAYER/test_X.c -> build/asan/tests/LAYER/test_X (C unit tests, beside the
# layer's Python tests; tests/test_unit.py runs them)
UNIT_BINS := $(patsubst tests/%.c,build/asan/tests/%,$(UNIT_SRC))
build/asan/tests/%: build/asan/obj/tests/%.o build/asan/libheaplab.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)
# The conformance suite walks the test build's registry: the test backends that declare
# they conform (tests/backends/registry.c) run through it as the built-ins do.
build/asan/tests/allocators/test_conformance: build/asan/obj/tests/allocators/test_conformance.o \
                                              $(call obj,asan,$(TEST_BACKEND_SRC)) build/asan/libheaplab.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)
# The wasm-module tests meet the broken module (tests/backends/wasm_module_trap.c).
build/asan/tests/allocators/test_wasm_module: build/asan/obj/tests/allocators/test_wasm_module.o \
                                              $(call obj,asan,$(TEST_BACKEND_SRC)) build/asan/libheaplab.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)
# The in-process engines' kept inputs meet a test backend (rotter, tests/backends/faulty.c).
build/asan/tests/fuzz/test_inprocess: build/asan/obj/tests/fuzz/test_inprocess.o \
                                      $(call obj,asan,$(TEST_BACKEND_SRC)) build/asan/libheaplab.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)

# ---------------------------------------------------------------- jobs
deps:
	./scripts/deps.sh

# The suite runs on every CPU (pytest-xdist), a test file per worker at a time (a file's
# tests share fixtures and run in order); everything a test runs is built first, so no
# two workers build the same file.
test: build/heaplab build/libheaplab-record.so build/libheaplab-serve.so build/heaplab-v8-runner.mjs build/asan/heaplab build/asan/heaplab-test build/release/heaplab-test $(UNIT_BINS) \
      build/asan/fuzz-replay build/asan/fuzz-afl-stdin $(EXAMPLES) \
      $(TEST_PLUGINS) $(TEST_MALLOC_LIBS) build/bench/yardstick build/bench/memory-yardstick build/bench/peak-rss
	$(PYTHON) -m pytest -n auto --dist loadfile --durations=15 tests

unit: $(UNIT_BINS)

# The main job: the report of every shipped trace on every backend. The one known
# finding (mimalloc 2.0.9's ALIGNMENT, README "Peers") is listed in the report as
# ignored; any other makes it exit 1.
run: build/heaplab
	./build/heaplab report --ignore ALIGNMENT@mimalloc --out build/report traces/

# The planted-bug campaign with the full budget (10^6 executions or 60 s a mutant, three
# seeds): whether each mutant is caught, by which rule, after how many executions.
test-mutants: build/release/heaplab-test
	$(PYTHON) fuzz/mutants/campaign.py --runs 1000000 --time 60 --seeds 1,2,3

# The hand-written loop heaplab's speed figures are checked against (no heaplab code).
build/bench/yardstick: bench/yardstick.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -o $@ $< -ldl

# The program heaplab's memory figures are checked against: the same allocations made
# directly through the allocator (glibc's malloc, or a built-in backend's contract table).
build/bench/memory-yardstick: build/release/obj/bench/memory.o build/release/libheaplab.a
	@mkdir -p $(dir $@)
	$(CC) $(RELEASE_FLAGS) -o $@ $^ $(LIBS)
# ... and the launcher that reads a command's peak RSS (no heaplab code).
build/bench/peak-rss: bench/peak_rss.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -o $@ $<

# `make check-published-malloclab DIR=...`: every CMU malloc-lab trace (.rep) under DIR
# imported and replayed on every backend (the traces are not shipped: README "Importing traces").
check-published-malloclab: build/heaplab
	@test -n "$(DIR)" || { echo "usage: make check-published-malloclab DIR=<a directory of .rep files>" >&2; exit 2; }
	$(PYTHON) scripts/check_published_malloclab.py $(DIR)

# Benchmarks are not part of `make test`: they need a quiet release build.
bench: bench-speed bench-replay bench-fuzz bench-record bench-run bench-wasm
# heaplab's ns/op next to the hand-written loop's, per real trace and peer (the gate: <= 1.5x)
bench-speed: build/heaplab build/bench/yardstick
	$(PYTHON) bench/speed_bench.py
bench-replay: build/heaplab
	$(PYTHON) bench/replay_bench.py
# the recorder's overhead on real programs, with and without it in the same script
bench-record: build/heaplab build/libheaplab-record.so
	$(PYTHON) bench/record_overhead.py
# heaplab run's slowdown of real programs on each backend, with and without --check
bench-run: build/heaplab build/libheaplab-serve.so
	$(PYTHON) bench/run_overhead.py
# exec/s of each fuzzing front end on the diff target next to the bare decode target
bench-fuzz: build/heaplab fuzz-libfuzzer-build fuzz-afl-build
	$(PYTHON) bench/fuzz_rates.py
# heaplab's own memory: bytes per live block and per operation, slopes of peak RSS from
# MEMORY_BLOCKS=N1,N2 blocks (10^6 to 10^7; minutes), the allocator's own slope taken out
# (bench/memory_bench.py); MEMORY_ARGS: more options (--freed, --backends LIST)
.PHONY: bench-memory
MEMORY_BLOCKS ?= 1000000,10000000
MEMORY_ARGS   ?=
bench-memory: build/heaplab build/bench/memory-yardstick build/bench/peak-rss
	$(PYTHON) bench/memory_bench.py --blocks $(MEMORY_BLOCKS) $(MEMORY_ARGS)

# Micro-benchmarks (bench/micro/): Google Benchmark through a C++ shim over C bodies,
# every family on every backend's contract table and on the raw mallocs.
MICRO_SRC := $(wildcard bench/micro/*.c)
build/release/obj/bench/micro/shim.o: bench/micro/shim.cc
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WARN_CXX) $(CPPFLAGS) $(INC_bench) $(RELEASE_FLAGS) -MMD -MP -c $< -o $@
build/bench-micro: $(call obj,release,$(MICRO_SRC)) build/release/obj/bench/micro/shim.o build/release/libheaplab.a
	$(CXX) $(RELEASE_FLAGS) -o $@ $^ $(LIBS) -lbenchmark -lpthread
bench-micro: build/bench-micro
# A quick run (about a minute here) and its goal table (bench/bench_quick.py).
# MICRO_MIN_TIME: seconds a run; MICRO_REPS: runs a case (the table takes the median);
# MICRO_FILTER: a Google Benchmark filter; MICRO_JSON: where the results go.
MICRO_MIN_TIME ?= 0.05
MICRO_REPS     ?= 3
MICRO_FILTER   ?= .
MICRO_JSON     ?= build/bench-micro.json
bench-quick: build/bench-micro
	build/bench-micro --benchmark_min_time=$(MICRO_MIN_TIME) --benchmark_repetitions=$(MICRO_REPS) \
	    --benchmark_filter='$(MICRO_FILTER)' --benchmark_format=json --benchmark_out=$(MICRO_JSON) > /dev/null
	$(PYTHON) bench/bench_quick.py $(MICRO_JSON)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
