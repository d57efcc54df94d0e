#!/usr/bin/env bats
# make install: tools, pipelines with their shared shell library and
# presets, and every man page, under PREFIX.
load helper
bats_require_minimum_version 1.5.0

@test "make install PREFIX puts tools, pipelines, presets and man pages in place" {
	make -s -C "$TOP" install PREFIX="$BATS_TEST_TMPDIR/p" > /dev/null
	p=$BATS_TEST_TMPDIR/p
	for t in "$TOP"/src/*.c; do
		t=${t##*/}
		[ -x "$p/bin/${t%.c}" ] || { echo "missing bin/${t%.c}"; return 1; }
	done
	for t in nachos edanas aebnas random compare; do
		[ -x "$p/bin/$t" ] || { echo "missing bin/$t"; return 1; }
	done
	[ ! -e "$p/bin/lib.sh" ]
	[ -f "$p/share/nachos/lib.sh" ]
	[ -f "$p/share/nachos/examples/quick.conf" ]
	[ -x "$p/share/nachos/examples/mcu/run.sh" ] && [ -f "$p/share/nachos/examples/mcu/startup.c" ] &&
	    [ -f "$p/share/nachos/examples/mcu/flags.sh" ]
	for m in "$TOP"/man/*.[157]; do
		s=${m##*.}
		[ -f "$p/share/man/man$s/${m##*/}" ] || { echo "missing ${m##*/}"; return 1; }
	done
	# the installed pipeline finds its library and its presets
	run --separate-stderr env PATH="$p/bin:/usr/bin:/bin" nachos --preset quick --n-start 1 run
	assert_failure 64
	[[ $stderr == *"--n-start: at least 2"* ]]
}

@test "make CFLAGS=... on the command line keeps the include, standard and OpenMP flags" {
	b=$BATS_TEST_TMPDIR/build
	# eenn-train.c includes lib/ headers: without -Ilib it does not compile.
	make -s -C "$TOP" BUILD="$b" CFLAGS=-O0 "$b/src/eenn-train.o"
	[ -f "$b/src/eenn-train.o" ]
	run make -n -B -C "$TOP" BUILD="$b" CFLAGS=-O0 CPPFLAGS=-DX LDLIBS= "$b/libnachos.a" bin/mac-count
	assert_success
	[[ $output == *"-Ilib"*"-O0"* ]]
	[[ $output == *"-fopenmp -O0 "*"-o bin/mac-count"*"-lopenblas"* ]]
}
