#!/usr/bin/env bats
# Hard kills (issue 16): SIGKILL at random moments never leaves a torn
# record behind; what was committed stays.
load helper
bats_require_minimum_version 1.5.0

# killed_after SECONDS CMD: run CMD in its own process group, SIGKILL the
# whole group after SECONDS.
killed_after() {
	setsid sh -c "$2" &
	local pid=$!
	sleep "$1"
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

@test "a streaming pipeline killed mid-stream leaves whole records only" {
	for t in 0.3 0.5 0.7 0.9; do
		rm -f out.rec
		killed_after "$t" 'exec ofa-sample -n 200000 2>/dev/null | eec-place > out.rec 2>/dev/null'
		[ -s out.rec ]
		run --separate-stderr rec2json out.rec
		assert_success
		# and it was killed: fewer records than asked for
		[ "${#lines[@]}" -lt 200000 ]
	done
}

@test "rec2json killed mid-stream leaves whole lines only" {
	ofa-sample -n 20000 > in.rec 2>/dev/null
	for t in 0.1 0.2 0.3; do
		rm -f out.json
		killed_after "$t" 'exec sh -c "while :; do cat in.rec; done" | rec2json > out.json'
		[ -s out.json ]
		# every line is a whole JSON object
		run jq -c .type out.json
		assert_success
	done
}
