#!/bin/sh
# run.sh SECONDS FUZZER...: each libFuzzer harness for SECONDS from its
# committed seeds (tests/fuzz/corpus/NAME) and what earlier runs found
# (.fuzz/corpus-NAME). Prints one line per harness: executions and outcome.
# A crash, a sanitizer report, a timeout or an exit 70 on an input stops
# the harness with the input saved as .fuzz/NAME-crash-* and fails the run.
secs=$1
shift
fail=0
for f in "$@"; do
	name=${f##*/fuzz_}
	mkdir -p ".fuzz/corpus-$name"
	log=".fuzz/$name.log"
	# A reader stopped by bad input leaks what it held, as the tool would at
	# exit: leaks are make asan's to find, on the tools' own runs.
	ASAN_OPTIONS=detect_leaks=0 "$f" -max_total_time="$secs" -detect_leaks=0 -rss_limit_mb=2048 -timeout=10 \
	    -max_len=65536 -print_final_stats=1 -artifact_prefix=".fuzz/$name-" \
	    ".fuzz/corpus-$name" "tests/fuzz/corpus/$name" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name: ${execs:-?} executions in ${secs} s, no crash, no sanitizer report, no exit 70"
	else
		fail=$((fail + 1))
		echo "fuzz $name: FAILED (exit $rc) after ${execs:-?} executions, see $log" >&2
		grep -m 5 -E 'ERROR|runtime error|exit 70|SUMMARY' "$log" >&2
	fi
done
[ "$fail" -eq 0 ]
