# nachos - NAS for hardware-constrained early-exit networks, as small C tools.
#   make          build every tool into bin/
#   make check    install missing packages, build, run unit + bats tests, lint man pages
#   make demo     install, build, run the NACHOS search on Fashion-MNIST (quick preset)
#   make bench    speed and parity benchmarks (installs python3-torch for the anchor)
#   make install PREFIX=/usr/local

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -fopenmp -Ilib -MMD -MP
# SAN=1: AddressSanitizer and UBSan on everything (make asan builds so in a
# copy of the tree, .san/, and runs make check there).
ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
# Reports go to files (SAN_LOG), so that a report from a tool a test expects
# to fail is not lost: san-report fails make check when there is any.
SAN_LOG ?= $(CURDIR)/san-log
export ASAN_OPTIONS  = detect_leaks=1:leak_check_at_exit=0:log_path=$(SAN_LOG)/asan:suppressions=$(CURDIR)/tests/asan.supp
export LSAN_OPTIONS  = suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS = print_stacktrace=1:log_path=$(SAN_LOG)/ubsan
endif
LDLIBS  += -lopenblas -llapacke -lmsgpackc -ljansson -lz -lm
PREFIX  ?= /usr/local

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:.c=.o)
TOOLS    := $(patsubst src/%.c,bin/%,$(wildcard src/*.c))
UNIT     := $(patsubst tests/unit/%.c,tests/unit/bin/%,$(wildcard tests/unit/test_*.c))
MAN      := $(wildcard man/*.[1-9])
PIPES    := $(wildcard pipelines/*)

# Debian packages: to build, to test, to benchmark.
PKG_BUILD := gcc make libopenblas-dev liblapacke-dev libmsgpack-dev libjansson-dev zlib1g-dev
PKG_CHECK := bats bats-assert bats-support mandoc parallel dataset-fashion-mnist \
             gnuplot-nox openssh-server openssh-client rsync jq
PKG_BENCH := python3-torch python3-numpy hyperfine
# the sanitizer and fuzzing builds (make asan, make fuzz, and make check's smoke)
PKG_FUZZ  := clang libclang-rt-14-dev libomp-14-dev rsync

.PHONY: all deps deps-bench check unit bats lint demo bench install clean \
        asan fuzz fuzz-build check-hostile san-tree san-fast san-report
.SECONDARY:

all: $(TOOLS)

lib/libnachos.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

bin/%: src/%.o lib/libnachos.a
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $< lib/libnachos.a $(LDFLAGS) $(LDLIBS)

tests/unit/bin/%: tests/unit/%.o tests/unit/unit.o lib/libnachos.a
	@mkdir -p tests/unit/bin
	$(CC) $(CFLAGS) -o $@ $< tests/unit/unit.o lib/libnachos.a $(LDFLAGS) $(LDLIBS)

deps:
	@sh tests/deps.sh $(PKG_BUILD) $(PKG_CHECK) $(PKG_FUZZ)

deps-bench:
	@sh tests/deps.sh $(PKG_BUILD) $(PKG_BENCH)

check: deps
	$(MAKE) all $(UNIT)
	$(MAKE) unit bats lint
ifneq ($(SAN),1)
	$(MAKE) check-hostile
else
	$(MAKE) san-report
endif

# --- hostile input (issue 16) ---------------------------------------------------
# make asan: the whole make check under ASan+UBSan, leak-checked, in .san/.
# make fuzz: every libFuzzer harness of tests/fuzz/ for FUZZ_SECONDS each,
# from its committed seed corpus (new finds go to .fuzz/corpus-NAME/).
# check-hostile (part of make check): the fast tools' tests under the
# sanitizers and a fuzz smoke of FUZZ_SMOKE seconds per harness.
SAN_TREE     := .san
FUZZ_SECONDS ?= 60
FUZZ_SMOKE   ?= 4
FUZZERS      := $(patsubst tests/fuzz/fuzz_%.c,.fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -fopenmp -Ilib -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=all -Wno-unknown-pragmas -Wno-pass-failed
FUZZ_WRAP    := -Wl,--wrap=exit,--wrap=err,--wrap=errx,--wrap=verr,--wrap=verrx,--wrap=gzopen,--wrap=gzclose
SAN_FAST     := tests/rec2json.bats tests/formats.bats tests/ofa-sample.bats tests/eec-place.bats \
                tests/mac-count.bats tests/thresh-tune.bats

san-tree:
	@rsync -a --delete --exclude=/$(SAN_TREE) --exclude=/.fuzz --exclude=/.git \
	    --exclude='*.o' --exclude='*.d' --exclude='*.a' --exclude=/bin \
	    --exclude=/tests/unit/bin --exclude=/san-log --exclude=/runs ./ $(SAN_TREE)/

asan: deps san-tree
	$(MAKE) -C $(SAN_TREE) SAN=1 check

san-report:
	@if [ -n "$$(ls $(SAN_LOG) 2> /dev/null)" ]; then \
	    cat $(SAN_LOG)/* >&2; echo "sanitizer reports in $(SAN_LOG)" >&2; exit 1; fi
	@echo "sanitizers: no reports"

fuzz-build: $(FUZZERS)

.fuzz/lib/%.o: lib/%.c
	@mkdir -p .fuzz/lib
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# The engine's kernels (nn_conv.c: GCC vector code) are no reader's: the
# archive lets each harness link only the modules it uses.
FUZZ_LIB_SRC := $(filter-out lib/nn_conv.c,$(LIB_SRC))

.fuzz/libnachos.a: $(patsubst lib/%.c,.fuzz/lib/%.o,$(FUZZ_LIB_SRC))
	$(AR) rcs $@ $^

.fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c tests/fuzz/fuzz.h .fuzz/libnachos.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< tests/fuzz/fuzz.c \
	    .fuzz/libnachos.a $(FUZZ_WRAP) $(LDLIBS)

# Each harness from its seeds for SECONDS; a crash, a sanitizer report or an
# exit 70 on an input stops it with the input saved in .fuzz/.
fuzz: deps fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

check-hostile: san-tree fuzz-build
	$(MAKE) -C $(SAN_TREE) SAN=1 san-fast
	@sh tests/fuzz/run.sh $(FUZZ_SMOKE) $(FUZZERS)

san-fast: all tests/unit/bin/test_exo
	rm -rf $(SAN_LOG)
	bash tests/run-bats.sh $(SAN_FAST)
	$(MAKE) SAN=1 san-report

unit: $(UNIT)
	@sh tests/run-unit.sh $(UNIT)

bats: all $(UNIT)
	@bash tests/run-bats.sh tests/*.bats

lint:
	mandoc -Tlint -W warning $(MAN)
	@sh tests/check-man.sh $(MAN)

demo: deps
	$(MAKE) all
	pipelines/nachos --preset quick --data /usr/share/datasets/fashion-mnist \
	    runs/demo-$$(date -u +%Y%m%dT%H%M%S)

bench: deps deps-bench
	$(MAKE) all
	sh examples/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/nachos \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(TOOLS) $(filter-out %.sh,$(PIPES)) $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/share/nachos/examples
	install -m 644 pipelines/lib.sh $(DESTDIR)$(PREFIX)/share/nachos
	install -m 644 examples/*.conf $(DESTDIR)$(PREFIX)/share/nachos/examples
	for m in $(MAN); do install -m 644 $$m \
	    $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}; done

clean:
	rm -rf bin tests/unit/bin .fuzz $(SAN_TREE) san-log lib/*.o lib/*.d lib/*.a src/*.o src/*.d tests/unit/*.o tests/unit/*.d

-include $(wildcard lib/*.d src/*.d tests/unit/*.d)
