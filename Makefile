# qnn: secure evaluation of quantized neural networks.
#   make          bin/qnnc and bin/qnnvm
#   make check    the whole test suite, then again under ASan + UBSan
#   make demo     the quick start: a secure inference end to end
# clang where it is installed (AFL++ for make check brings it): its code for
# the proofs' 128-bit arithmetic is faster (rep3-active on MobileNet V1
# 0.25_128: 1.9 s of CPU against gcc's 2.4 s); `make CC=gcc` builds with gcc,
# and make check builds once with gcc too, so both stay warning-free.
ifneq ($(filter default undefined,$(origin CC)),)
CC := $(shell command -v clang >/dev/null 2>&1 && echo clang || echo cc)
endif
CFLAGS  ?= -O2
WARN    := -std=c11 -Wall -Wextra -Werror
CPPFLAGS := -D_POSIX_C_SOURCE=200809L
LDLIBS  := -lssl -lcrypto -lgmp -lm -lpthread
BUILD   ?= build/release
# TensorFlow Lite reference models and outputs (tests skip them when absent,
# except in CI where their absence is a failure)
MODELS  ?= $(abspath ../shared/models)
MODEL_CASES ?= 0
SECURE_MODELS ?= 1
SAN     := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all

RUNTIME := $(wildcard runtime/*/*.c) # a new protocol file is picked up
VMLIB   := vm/bytecode.c vm/validate.c vm/vm.c vm/cost.c vm/disasm.c vm/run.c vm/bounds.c
COMPLIB := compiler/dsl/ast.c compiler/diag.c compiler/emit.c compiler/dsl/lower.c compiler/compile.c compiler/tflite/flatbuf.c compiler/tflite/tflite.c
GEN     := $(BUILD)/gen/parser.c $(BUILD)/gen/lexer.c
UNIT    := $(wildcard tests/unit/*.c)
HEADERS := $(wildcard */*.h */*/*.h)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIBOBJ  := $(call obj,$(RUNTIME) $(VMLIB))
COMPOBJ := $(call obj,$(COMPLIB)) $(BUILD)/gen/parser.o $(BUILD)/gen/lexer.o

.PHONY: all check check-fast demo deps clean bench
all: bin/qnnc bin/qnnvm

bin/qnnc: $(BUILD)/qnnc
	@mkdir -p bin && cp $< $@
bin/qnnvm: $(BUILD)/qnnvm
	@mkdir -p bin && cp $< $@

$(BUILD)/qnnc: $(COMPOBJ) $(call obj,compiler/main.c) $(LIBOBJ)
	$(CC) $(CFLAGS) $(EXTRA) -o $@ $^ $(LDLIBS)
$(BUILD)/qnnvm: $(call obj,vm/main.c) $(LIBOBJ)
	$(CC) $(CFLAGS) $(EXTRA) -o $@ $^ $(LDLIBS)
$(BUILD)/cmplogits: tests/tools/cmplogits.c
	$(CC) $(WARN) $(CFLAGS) $(EXTRA) -o $@ $<
$(BUILD)/uniform: tests/tools/uniform.c
	$(CC) $(WARN) $(CFLAGS) $(EXTRA) -o $@ $<
$(BUILD)/hostile: tests/tools/hostile.c
	$(CC) $(WARN) $(CFLAGS) $(EXTRA) $(CPPFLAGS) -o $@ $< $(LDLIBS)
# test build of qnnvm: records every received payload (QNN_RECORD_DIR) for the
# leakage test, and lets a party deviate (QNN_CHEAT) for the cheating tests
RECORDED := runtime/net/net.c runtime/proto/spdz_core.c runtime/proto/protocols.c
$(BUILD)/record/%.o: runtime/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(EXTRA) $(CPPFLAGS) -I. -DQNN_RECORD -DQNN_CHEAT -c -o $@ $<
$(BUILD)/qnnvm-record: $(call obj,vm/main.c) $(filter-out $(call obj,$(RECORDED)),$(LIBOBJ)) \
                       $(patsubst runtime/%.c,$(BUILD)/record/%.o,$(RECORDED))
	$(CC) $(CFLAGS) $(EXTRA) -o $@ $^ $(LDLIBS)
$(BUILD)/unit: $(call obj,$(UNIT)) $(COMPOBJ) $(LIBOBJ)
	$(CC) $(CFLAGS) $(EXTRA) -o $@ $^ $$(pkg-config --libs check) $(LDLIBS)

# a protocol that misses an operation kind fails to compile (runtime/proto/proto.h)
$(BUILD)/runtime/proto/%.o $(BUILD)/record/proto/%.o: WARN += -Wswitch-enum
$(BUILD)/%.o: %.c $(HEADERS) $(BUILD)/gen/parser.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(EXTRA) $(CPPFLAGS) -I. -I$(BUILD)/gen -MMD -MP -c -o $@ $<
$(call obj,$(UNIT)): CPPFLAGS += $$(pkg-config --cflags check)

# generated sources: warnings of flex/bison's own code are not ours to fix
$(BUILD)/gen/parser.c: compiler/dsl/parser.y
	@mkdir -p $(dir $@)
	bison -d -o $@ $<
$(BUILD)/gen/lexer.c: compiler/dsl/lexer.l $(BUILD)/gen/parser.c
	flex -o $@ $<
$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) -std=c11 $(CFLAGS) $(EXTRA) $(CPPFLAGS) -I. -I$(BUILD)/gen -w -c -o $@ $<

deps:
	@sh scripts/install-deps.sh

# The suite: once optimized, once with AddressSanitizer + UBSan; and a gcc
# build when the default compiler is clang, for its warnings.
check: deps all
	@if [ "$(CC)" = clang ] && command -v gcc >/dev/null 2>&1; then \
	   echo "== gcc build (warnings)"; $(MAKE) --no-print-directory BUILD=build/gcc CC=gcc build/gcc/qnnc build/gcc/qnnvm build/gcc/unit \
	     build/gcc/qnnvm-record build/gcc/cmplogits build/gcc/uniform build/gcc/hostile; fi
	@$(MAKE) --no-print-directory check-fast
	@$(MAKE) --no-print-directory check-fast BUILD=build/asan CFLAGS="-O1 -g" EXTRA="$(SAN)" MODEL_CASES=1 SECURE_MODELS=0
	@$(MAKE) --no-print-directory fuzz-check BUILD=build/asan CFLAGS="-O1 -g" EXTRA="$(SAN)"

check-fast: $(BUILD)/unit $(BUILD)/qnnc $(BUILD)/qnnvm $(BUILD)/cmplogits $(BUILD)/uniform $(BUILD)/qnnvm-record $(BUILD)/hostile
	@echo "== unit tests ($(BUILD))"
	@if [ -d "$(MODELS)" ]; then export QNN_MODELS="$(MODELS)"; \
	 elif [ "$${CI:-}" = true ]; then echo "CI: reference models missing at $(MODELS)"; exit 1; fi; \
	 CK_DEFAULT_TIMEOUT=300 $(BUILD)/unit
	@echo "== end-to-end tests ($(BUILD))"
	@sh tests/run.sh $(BUILD)
	@echo "== TensorFlow Lite reference models ($(BUILD))"
	@QNN_MODELS="$(MODELS)" QNN_MODEL_CASES=$(MODEL_CASES) sh tests/models.sh $(BUILD)
	@echo "== secure protocols against clear ($(BUILD))"
	@QNN_MODELS="$(MODELS)" QNN_SECURE_MODELS=$(SECURE_MODELS) sh tests/secure.sh $(BUILD)
	@echo "== hostile peers ($(BUILD))"
	@sh tests/hostile.sh $(BUILD)

demo: deps all
	@sh scripts/demo.sh

# Fuzzing (tests/fuzz/README.md): one harness per input surface, each
# tests/fuzz/NAME.c linked with tests/fuzz/driver.c. `make fuzz FUZZ_S=N`
# runs each N seconds under afl-fuzz (build/fuzz/out/NAME); fuzz-check runs
# the seed and crash corpora through the ASan + UBSan build, then a short
# afl-fuzz pass when AFL++ is installed (required when CI=true).
FUZZ_S    ?= 60
FUZZ_CI_S ?= 12
FUZZ_CC   ?= afl-clang-fast
FUZZ_AFL  := build/fuzz/afl
FUZZ_NAMES := $(filter-out driver,$(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ_BINS  = $(patsubst %,$(BUILD)/fuzz-%,$(FUZZ_NAMES))
.PHONY: fuzz fuzz-bins fuzz-check
$(BUILD)/fuzz-%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/driver.o $(COMPOBJ) $(LIBOBJ)
	$(CC) $(CFLAGS) $(EXTRA) -o $@ $^ $(LDLIBS)
$(call obj,$(wildcard tests/fuzz/*.c)): tests/fuzz/fuzz.h
fuzz-bins: $(FUZZ_BINS)
fuzz:
	@$(MAKE) --no-print-directory fuzz-bins BUILD=$(FUZZ_AFL) CC=$(FUZZ_CC) CFLAGS="-O1 -g" EXTRA="$(SAN)"
	@sh tests/fuzz/run.sh fuzz $(FUZZ_AFL) $(FUZZ_S) $(FUZZ_NAMES)
fuzz-check: fuzz-bins
	@if command -v $(FUZZ_CC) >/dev/null 2>&1; then \
	   $(MAKE) --no-print-directory fuzz-bins BUILD=$(FUZZ_AFL) CC=$(FUZZ_CC) CFLAGS="-O1 -g" EXTRA="$(SAN)"; fi
	@sh tests/fuzz/run.sh check $(BUILD) $(FUZZ_AFL) $(FUZZ_CI_S) $(FUZZ_NAMES)

$(BUILD)/bench-kernels: bench/kernels.c runtime/core/kernels.c runtime/core/kernels.h runtime/core/geom.h \
                        runtime/core/fp127.c runtime/core/fp127.h
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -I. -o $@ bench/kernels.c runtime/core/kernels.c runtime/core/fp127.c \
	    -lgmp -lpthread

bench: all $(BUILD)/bench-kernels
	@sh scripts/install-deps.sh bench
	@$(BUILD)/bench-kernels | tee bench/results/kernels.txt
	@sh bench/run

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
