#!/usr/bin/env bats
# Hard kills (issue 16): SIGKILL at random moments never leaves a torn
# record behind; what was committed stays.
load helper
load arch-helper
bats_require_minimum_version 1.5.0

# killed_after FILE SECONDS CMD: run CMD in its own process group; once FILE
# has its first bytes (a slow start, e.g. under ASan or load, is waited
# for, up to a minute), let it run SECONDS more, then SIGKILL the group.
killed_after() {
	setsid sh -c "$3" &
	local pid=$! i
	for ((i = 0; i < 600; i++)); do
		[ -s "$1" ] && break
		sleep 0.1
	done
	sleep "$2"
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

@test "a streaming pipeline killed mid-stream leaves whole records only" {
	for t in 0 0.1 0.2 0.4; do
		rm -f out.rec
		killed_after out.rec "$t" 'exec ofa-sample -n 200000 2>/dev/null | eec-place > out.rec 2>/dev/null'
		[ -s out.rec ]
		run --separate-stderr rec2json out.rec
		assert_success
		# and it was killed: fewer records than asked for
		[ "${#lines[@]}" -lt 200000 ]
	done
}

@test "rec2json killed mid-stream leaves whole lines only" {
	ofa-sample -n 20000 > in.rec 2>/dev/null
	for t in 0 0.1 0.2; do
		rm -f out.json
		killed_after out.json "$t" 'exec sh -c "while :; do cat in.rec; done" | rec2json > out.json'
		[ -s out.json ]
		# every line is a whole JSON object
		run jq -c .type out.json
		assert_success
	done
}

# A tiny search (the made-up trainer: seconds, not minutes) killed with
# SIGKILL at random moments, each time with every process of its session
# (a crash), and resumed, ends with the archive of an uninterrupted run of
# the same seed, byte for byte but for each record's wall time. KILLS and KILL_SEED pick the number of kills
# and their moments (make check: 3; the issue's figure: KILLS=10).
@test "a search killed at random moments and resumed ends with the uninterrupted run's archive" {
	load idx-helper
	load pipeline-helper
	mkidx d 10 300 100
	stand_in wrap force
	PATH="$PWD/wrap:$PATH"
	t0=$(date +%s%N)
	nachos "${tiny[@]}" run 2> ref.log
	dur=$((($(date +%s%N) - t0) / 1000000))          # ms
	mv run ref                                        # same path in every record
	RANDOM=${KILL_SEED:-16}
	kills=${KILLS:-3}
	for k in $(seq "$kills"); do
		# Each session lives a random time up to 3/KILLS of a whole run:
		# resumed, it goes on from the last commit, so the kills fall all
		# along the run (and some on the same step again and again).
		at=$((200 + RANDOM % (3 * dur / kills + 1)))
		if [ -e run/config ]; then set -- nachos --resume run; else set -- nachos "${tiny[@]}" run; fi
		setsid bash -c 'echo $$ > sid; exec "$@" 2>> run.log' - "$@" &
		sleep "$((at / 1000)).$(printf '%03d' $((at % 1000)))"
		pkill -KILL -s "$(cat sid)" || true
		wait $! || true
		for i in $(seq 100); do pgrep -s "$(cat sid)" > /dev/null || break; sleep 0.1; done
		echo "# kill $k after ${at} ms (a whole run: ${dur} ms): $([ -e run/archive.rec ] && nrec < run/archive.rec || echo 0) records$([ -e run/report.md ] && echo ', finished'); last step: $(tail -n 1 run/logs/nachos.log 2> /dev/null | cut -c 10-70)" >&3
	done
	if [ -e run/config ]; then nachos --resume run 2>> run.log; else nachos "${tiny[@]}" run 2>> run.log; fi
	# the same records, byte for byte once t_s is left out: the run's wall
	# time when each joined the archive, which the kills change
	for r in ref run; do
		rec2json "$r/archive.rec" | jq -e -c 'select(.t_s >= 0) | del(.t_s)' | json2rec > "$r.rec"
	done
	cmp ref.rec run.rec
	cmp ref/hv.rec run/hv.rec
	[ "$(nrec < run/archive.rec)" -eq 5 ]
}

@test "--resume cuts a torn archive back to its whole records, keeps the torn file, logs it" {
	load idx-helper
	load pipeline-helper
	mkidx d 10 300 100
	stand_in wrap force
	PATH="$PWD/wrap:$PATH"
	nachos "${tiny[@]}" --iterations 0 run 2> /dev/null
	cp run/archive.rec whole.rec
	head -c -7 whole.rec > run/archive.rec
	run --separate-stderr nachos --resume run --iterations 1
	assert_success
	[[ $stderr == *"nachos: archive.rec: record 3: truncated"*"kept its 2 whole record(s)"*"the torn file is archive.rec.torn-"* ]]
	cmp run/archive.rec.torn-* <(head -c -7 whole.rec)
	# the whole records are kept byte for byte; the candidate whose record
	# was torn is collected again, the same but for t_s (when it joined)
	kept=$(sed -n 's/.*kept its 2 whole record(s) (\([0-9]*\) of .*/\1/p' <<< "$stderr")
	[ "$(head -c "$kept" whole.rec | nrec)" -eq 2 ]
	cmp -n "$kept" run/archive.rec whole.rec
	cmp <(rec2json run/archive.rec | head -n 3 | jq -c 'del(.t_s)') \
	    <(rec2json whole.rec | jq -c 'del(.t_s)')
	[ "$(nrec < run/archive.rec)" -eq 5 ]
	# damage that is not a torn tail stops the run, the file untouched
	printf '\301' >> run/archive.rec
	cp run/archive.rec bad.rec
	run --separate-stderr nachos --resume run
	assert_failure 65
	[[ $stderr == *"archive.rec is damaged: rec2json: archive.rec: record 6: malformed msgpack"* ]]
	cmp run/archive.rec bad.rec
}
