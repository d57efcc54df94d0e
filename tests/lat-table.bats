#!/usr/bin/env bats
# lat-table: the latency table record (every configuration a network of its
# shape needs, this machine's CPU), --check's record, mac-count --latency,
# and tables of another machine or input refused. No timing is judged here
# (tests are not benchmarks): the table's accuracy is in the note.
load helper
bats_require_minimum_version 1.5.0

TINY=(--width 0.25 --resolution 16 --in-ch 1 --classes 3)

@test "-h prints the usage; bad options exit 64 with nothing on stdout" {
	run lat-table -h
	assert_success
	assert_line --index 0 "usage: lat-table [-h] [--width W] [--resolution R] [--in-ch C] [--classes K]"
	for args in "--repeats 0" "--width 0" "--resolution 8" "--space foo" "--check 0 t" \
	    "--check 3" "--check 3 --width 0.5 t" "stray" "--bogus"; do
		run --separate-stderr lat-table $args
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
		[ -z "$output" ]
	done
}

@test "a table: this machine, the input, every configuration of the space; mac-count --latency" {
	# blocks: the fixed first one and 5 stages x (first, others) x 3 k x 3 e
	lat-table "${TINY[@]}" --repeats 3 > t.rec 2> err
	grep -q 'configurations on [0-9]* carrier networks' err
	rec2json t.rec > t.json
	cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
	jq -e --arg cpu "${cpu:-unknown}" --arg host "$(hostname)" '.type == "lat" and .cpu == $cpu and
	    .machine == $host and .width == 0.25 and .resolution == 16 and .in_ch == 1 and
	    .classes == 3 and .threads == 1 and .batch == 1 and .repeats == 3 and .stat == "median" and
	    (.date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and
	    (.entries | length > 90 and all(.ms > 0 and .min_ms > 0 and .min_ms <= .ms and .n >= 3)) and
	    ([.entries[].key] == ([.entries[].key] | sort)) and
	    ([.entries[].key | select(startswith("block "))] | length) == 91' t.json
	# 200 networks of the space: every part has its entry; the latency of
	# leaving grows along the exits and is more than the first conv's
	ofa-sample -n 200 "${TINY[@]}" --seed 9 | eec-place | mac-count -f rec --latency t.rec |
	    rec2json > m.json
	jq -e -s 'length == 200 and all((.exit_latency | length) == (.exit_stages | length) and
	    .exit_latency[0] > 0 and (.exit_latency | . == sort))' m.json
	first=$(jq '.entries[] | select(.key | startswith("first_conv")) | .min_ms' t.json)
	jq -e -s --argjson f "$first" 'all(.exit_latency[0] > $f)' m.json
}

@test "--check: predicted against measured per-exit latency, a lat_check record" {
	lat-table "${TINY[@]}" --repeats 3 > t.rec 2> /dev/null
	lat-table --check 4 --repeats 3 t.rec | rec2json > c.json
	jq -e '.type == "lat_check" and .nets == 4 and .points >= 8 and
	    (.pred_ms | length) == .points and (.meas_ms | length) == .points and
	    (.fastest_ms | length) == .points and .spearman >= -1 and .spearman <= 1 and
	    .mape >= 0 and .mape_fastest >= 0 and .max_ape >= .mape' c.json
}

@test "a table of another machine, input or space, or a broken one, is refused naming the key" {
	lat-table "${TINY[@]}" --repeats 1 > t.rec 2> /dev/null
	ofa-sample -n 1 "${TINY[@]}" > a.rec
	rec2json t.rec | jq -c '.cpu = "Some Other CPU" | .machine = "far"' | json2rec > o.rec
	run --separate-stderr mac-count -f rec --latency o.rec a.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'o.rec: record 1: key "cpu": "Some Other CPU": the table was measured on another machine (far)'* ]]
	run --separate-stderr lat-table --check 2 o.rec
	assert_failure 65
	ofa-sample -n 1 --width 0.25 --resolution 32 --in-ch 1 --classes 3 > r32.rec
	run --separate-stderr mac-count -f rec --latency t.rec r32.rec
	assert_failure 65
	[[ $stderr == *'r32.rec: record 1: key "resolution": differs from the latency table t.rec (measured for width 0.25, resolution 16'* ]]
	rec2json t.rec | jq -c '.entries |= map(select(.key | startswith("head final") | not))' |
	    json2rec > h.rec
	run --separate-stderr mac-count -f rec --latency h.rec a.rec
	assert_failure 65
	[[ $stderr == *'a.rec: record 1: key "genome": h.rec has no entry for "head final '* ]]
	run --separate-stderr mac-count -f rec --latency a.rec a.rec
	assert_failure 65
	[[ $stderr == *'a.rec: record 1: key "type": not "lat"'* ]]
	run --separate-stderr mac-count -f rec --latency nosuch.rec a.rec
	assert_failure 66
}
