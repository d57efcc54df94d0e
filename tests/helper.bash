# helper.bash - loaded by every bats file: assertions, the built tools on
# PATH, and a scratch directory per test.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PATH="$TOP/bin:$TOP/pipelines:$PATH"
export TOP PATH
cd "$BATS_TEST_TMPDIR" || exit 1

# json2rec/rec2json round trip helpers for readable assertions.
recs() { json2rec; }
jsonl() { rec2json; }

# exo_gen PATH N B K SEED: a synthetic exit-outputs file, and on stdout a
# result record pointing at it (tests/unit/test_exo.c, "gen" mode).
exo_gen() {
	[ -x "$TOP/tests/unit/bin/test_exo" ] || make -s -C "$TOP" tests/unit/bin/test_exo >&2
	"$TOP/tests/unit/bin/test_exo" gen "$@"
}

# The tests that bound a tool's address space (ulimit -v) to prove it
# allocates nothing big skip the bound under ASan (make asan), whose shadow
# memory needs terabytes of address space; ASan then reports any huge
# allocation itself.
