# nachos - NAS for hardware-constrained early-exit networks, as small C tools.
#   make          build every tool into bin/
#   make check    install missing packages, build, run unit + bats tests, lint man pages
#   make demo     install, build, run the NACHOS search on Fashion-MNIST (quick preset)
#   make bench    speed and parity benchmarks (installs python3-torch for the anchor)
#   make install PREFIX=/usr/local

CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
# Objects, dependency files and libnachos.a; tools go to bin/, unit tests
# to tests/unit/bin/.
BUILD   ?= build

# What the code needs whatever CFLAGS, CPPFLAGS or LDLIBS the command line
# sets (`make CFLAGS=-O0` replaces CFLAGS, not these).
NACHOS_CFLAGS := -std=gnu11 -fopenmp -Wall -Wextra -Ilib -MMD -MP
NACHOS_LIBS   := -lopenblas -llapacke -lmsgpackc -ljansson -lz -lm
COMPILE = $(CC) $(NACHOS_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LINK    = $(CC) -fopenmp $(CFLAGS) $(LDFLAGS)

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA     := $(BUILD)/libnachos.a
TOOLS    := $(patsubst src/%.c,bin/%,$(wildcard src/*.c))
UNIT     := $(patsubst tests/unit/%.c,tests/unit/bin/%,$(wildcard tests/unit/test_*.c))
MAN      := $(wildcard man/*.[1-9])
PIPES    := $(wildcard pipelines/*)

# Debian packages: to build, to test, to benchmark.
PKG_BUILD := gcc make libopenblas-dev liblapacke-dev libmsgpack-dev libjansson-dev zlib1g-dev
PKG_CHECK := bats bats-assert bats-support mandoc parallel dataset-fashion-mnist \
             gnuplot-nox openssh-server openssh-client rsync jq
PKG_BENCH := python3-torch python3-numpy hyperfine

.PHONY: all deps deps-bench check unit bats lint demo bench install clean
.SECONDARY:

all: $(TOOLS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(COMPILE) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	$(AR) rcs $@ $^

bin/%: $(BUILD)/src/%.o $(LIBA)
	@mkdir -p bin
	$(LINK) -o $@ $< $(LIBA) $(LDLIBS) $(NACHOS_LIBS)

tests/unit/bin/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/unit.o $(LIBA)
	@mkdir -p tests/unit/bin
	$(LINK) -o $@ $< $(BUILD)/tests/unit/unit.o $(LIBA) $(LDLIBS) $(NACHOS_LIBS)

deps:
	@sh tests/deps.sh $(PKG_BUILD) $(PKG_CHECK)

deps-bench:
	@sh tests/deps.sh $(PKG_BUILD) $(PKG_BENCH)

check: deps
	$(MAKE) all $(UNIT)
	$(MAKE) unit bats lint

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
	rm -rf bin/[!.]* tests/unit/bin $(BUILD)

-include $(wildcard $(BUILD)/lib/*.d $(BUILD)/src/*.d $(BUILD)/tests/unit/*.d)
