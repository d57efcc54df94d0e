#!/usr/bin/env bats
# The OpenBLAS core every tool runs with (lib/cpu.h): when OpenBLAS chose a
# core older than the CPU allows, the tool re-executes itself once with the
# right OPENBLAS_CORETYPE, says so at -v and records the core; a user's
# OPENBLAS_CORETYPE always wins. NACHOS_BLAS_TEST=1 makes OPENBLAS_CORETYPE
# stand for the library's own (old) choice, as on a CPU it does not know.
load helper
load idx-helper
bats_require_minimum_version 1.5.0

setup() {
	[ -x "$TOP/tests/unit/bin/test_cpu" ] || make -s -C "$TOP" tests/unit/bin/test_cpu >&2
	want=$("$TOP/tests/unit/bin/test_cpu" want Prescott)
	[ "$want" != - ] || skip "this CPU has nothing newer than SSE3 to switch to"
	ofa-sample --extremes -n 1 --width 0.25 --resolution 16 > arch.rec
}

bench() { eenn-train --bench 1 --batch 2 --threads 1 "$@" < arch.rec > out.rec; }

@test "an old core chosen by OpenBLAS is replaced, said at -v and recorded" {
	NACHOS_BLAS_TEST=1 OPENBLAS_CORETYPE=Prescott run -0 --separate-stderr bench -v
	assert_equal "$(rec2json < out.rec | jq -r .blas_core)" "$want"
	[[ $stderr == *"chose Prescott by itself"*"OPENBLAS_CORETYPE=$want"* ]]
	[[ $stderr != *ignored* ]]
	# the record came through the re-execution whole, stdin included
	assert_equal "$(rec2json < out.rec | jq -r .method)" bench
}

@test "silent without -v" {
	NACHOS_BLAS_TEST=1 OPENBLAS_CORETYPE=Prescott run -0 --separate-stderr bench
	assert_equal "$stderr" ""
	assert_equal "$(rec2json < out.rec | jq -r .blas_core)" "$want"
}

@test "the user's OPENBLAS_CORETYPE wins" {
	OPENBLAS_CORETYPE=Prescott run -0 --separate-stderr bench -v
	assert_equal "$(rec2json < out.rec | jq -r .blas_core)" Prescott
	[[ $stderr == *"OPENBLAS_CORETYPE=Prescott, the user's"* ]]
}

@test "at most one re-execution: the guard stops it" {
	# NACHOS_BLAS_FROM is what the re-execution sets (and children inherit):
	# with it the tool runs as it is, even on the old core
	NACHOS_BLAS_FROM=Prescott NACHOS_BLAS_TEST=1 OPENBLAS_CORETYPE=Prescott \
	    run -0 --separate-stderr bench -v
	assert_equal "$(rec2json < out.rec | jq -r .blas_core)" Prescott
}

@test "eenn-infer records the core too" {
	ofa-sample --extremes -n 1 --width 0.25 --resolution 16 --in-ch 1 --classes 2 |
	    eec-place > eenn.rec
	mkidx d2 2 20 10
	NACHOS_BLAS_TEST=1 OPENBLAS_CORETYPE=Prescott run -0 --separate-stderr sh -c \
	    'eenn-infer -v --init-seed 1 --thresholds 1,1,1,1 --data d2 eenn.rec > out.rec'
	assert_equal "$(rec2json < out.rec | jq -r .infer_blas_core)" "$want"
	[[ $stderr == *"chose Prescott by itself"* ]]
}
