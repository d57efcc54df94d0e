#!/usr/bin/env bats
# lat-table: the latency table record (every configuration a network of its
# shape needs, this machine's CPU, the working-set curve and overheads and
# the fit's error), --check's record, mac-count --latency worked by hand on
# an edited table, and tables of another machine, input or version, or
# broken ones, refused. No timing is judged here (tests are not
# benchmarks): the table's accuracy is in the note; test_lat pins the model
# and the fit.
load helper
bats_require_minimum_version 1.5.0

TINY=(--width 0.25 --resolution 16 --in-ch 1 --classes 3)

# refused NAME FILTER PATTERN: the table t.rec edited by the jq FILTER into
# NAME.rec, which mac-count refuses (exit 65) with a message matching PATTERN.
refused() {
	rec2json t.rec | jq -c "$2" | json2rec > "$1.rec"
	run --separate-stderr mac-count -f rec --latency "$1.rec" a.rec
	assert_failure 65
	[[ $stderr == $3 ]]
}

@test "-h prints the usage; bad options exit 64 with nothing on stdout" {
	run lat-table -h
	assert_success
	assert_line --index 0 "usage: lat-table [-h] [--width W] [--resolution R] [--in-ch C] [--classes K]"
	for args in "--repeats 0" "--width 0" "--resolution 8" "--space foo" "--check 0 t" \
	    "--check 3" "--check 3 --width 0.5 t" "stray" "--bogus" "--runtime go" \
	    "--cc cc" "--runtime c --in-ch 17" "--check 3 --runtime c t"; do
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
	jq -e --arg cpu "${cpu:-unknown}" --arg host "$(hostname)" '.type == "lat" and .v == 2 and
	    .cpu == $cpu and .machine == $host and .width == 0.25 and .resolution == 16 and
	    .in_ch == 1 and .classes == 3 and .threads == 1 and .batch == 1 and .repeats == 3 and
	    .stat == "fastest" and (.date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and
	    (.ws_bytes | length >= 2 and length <= 6 and . == (sort | unique)) and
	    (.ws_ms_per_mb | length) == (.ws_bytes | length) and .ws_ms_per_mb[0] == 0 and
	    .image_ms >= 0 and .exit_ms >= 0 and .fit_points > 9 and .fit_mape >= 0 and
	    .fit_max_ape >= .fit_mape and
	    (.entries | length > 90 and all(.ms >= 0 and .min_ms > 0 and .bytes > 0 and .n >= 9)) and
	    ([.entries[].key] == ([.entries[].key] | sort)) and
	    ([.entries[].key | select(startswith("block "))] | length) == 91' t.json
	# 200 networks of the space: every part has its entry; the latency of
	# leaving grows along the exits and is more than the first conv's
	ofa-sample -n 200 "${TINY[@]}" --seed 9 | eec-place | mac-count -f rec --latency t.rec |
	    rec2json > m.json
	jq -e -s 'length == 200 and all((.exit_latency | length) == (.exit_stages | length) and
	    .exit_latency[0] > 0 and (.exit_latency | . == sort))' m.json
	first=$(jq '.entries[] | select(.key | startswith("first_conv")) | .ms' t.json)
	jq -e -s --argjson f "$first" 'all(.exit_latency[0] > $f)' m.json
}

@test "mac-count --latency: image_ms, exit_ms per exit passed, the parts and the working-set curve" {
	lat-table "${TINY[@]}" --repeats 1 > t.rec 2> /dev/null
	ofa-sample -n 3 "${TINY[@]}" --seed 4 | eec-place > a.rec
	# no parts, no curve: the overheads alone
	rec2json t.rec | jq -c '.entries |= map(.ms = 0) | .ws_ms_per_mb |= map(0) |
	    .image_ms = 1 | .exit_ms = 0.25' | json2rec > o.rec
	mac-count -f rec --latency o.rec a.rec | rec2json |
	    jq -e -s 'length == 3 and
	    all(.exit_latency == [range(.exit_stages | length) | 1 + 0.25 * (. + 1)])'
	# the first conv, in every exit
	rec2json t.rec | jq -c '.entries |= map(.ms = (if .key | startswith("first_conv") then 2
	    else 0 end)) | .ws_ms_per_mb |= map(0) | .image_ms = 0 | .exit_ms = 0' | json2rec > f.rec
	mac-count -f rec --latency f.rec a.rec | rec2json | jq -e -s 'length == 3 and all(.exit_latency | all(. == 2))'
	# a flat curve of 1 ms per MB past 2 bytes: each exit its weights' MB,
	# growing along the exits, the last one the network's (f32)
	rec2json t.rec | jq -c '.entries |= map(.ms = 0) | .ws_bytes = [1, 2] |
	    .ws_ms_per_mb = [0, 1] | .image_ms = 0 | .exit_ms = 0' | json2rec > w.rec
	mac-count -f rec --latency w.rec a.rec | rec2json > w.json
	jq -e -s 'length == 3 and all((.exit_latency | . == sort and .[0] > 0) and
	    ((.exit_latency[-1] - .flash_bytes_f32 / 1e6) | fabs) < 0.05 * .exit_latency[-1])' w.json
}

@test "--check: predicted against measured per-exit latency, a lat_check record" {
	lat-table "${TINY[@]}" --repeats 3 > t.rec 2> /dev/null
	lat-table --check 4 --repeats 3 t.rec | rec2json > c.json
	jq -e '.type == "lat_check" and .v == 2 and .nets == 4 and .points >= 8 and
	    (.pred_ms | length) == .points and (.meas_ms | length) == .points and
	    (.fastest_ms | length) == .points and .spearman >= -1 and .spearman <= 1 and
	    .mape >= 0 and .mape_fastest >= 0 and .max_ape >= .mape and .ratio > 0 and
	    .ratio_fastest > 0 and all(.fastest_ms, .meas_ms | .[]; . > 0)' c.json
}

@test "--runtime c: the compiled float C's table, the same configurations; --check builds it the same way" {
	lat-table "${TINY[@]}" --repeats 1 > e.rec 2> /dev/null
	# -O0: the generated code compiles fastest (the timing is not judged here)
	mkdir tmp
	TMPDIR=$PWD/tmp lat-table "${TINY[@]}" --repeats 1 --runtime c --cc "cc -std=c99 -O0" \
	    > t.rec 2> err
	grep -q "compiling 35/35" err
	[ -z "$(ls -A tmp)" ]
	rec2json e.rec > e.json
	rec2json t.rec > t.json
	jq -e '.type == "lat" and .runtime == "c" and .cc == "cc -std=c99 -O0" and
	    .fit_points > 9 and all(.entries[]; .ms >= 0 and .min_ms > 0 and .n >= 3)' t.json
	jq -e '.runtime == "engine" and (has("cc") | not)' e.json
	# every configuration the engine's table holds, with the same weights
	[ "$(jq -c '[.entries[] | [.key, .bytes]]' t.json)" = \
	    "$(jq -c '[.entries[] | [.key, .bytes]]' e.json)" ]
	ofa-sample -n 20 "${TINY[@]}" --seed 3 | eec-place | mac-count -f rec --latency t.rec |
	    rec2json | jq -e -s 'length == 20 and all(.exit_latency | .[0] > 0 and . == sort)'
	# a table from before the runtime key is the engine's
	jq -c 'del(.runtime)' e.json | json2rec > old.rec
	ofa-sample -n 2 "${TINY[@]}" > a.rec
	mac-count -f rec --latency old.rec a.rec > /dev/null
	# the check builds each network with the table's command, given again
	# (a command read from a file is never run), in TMPDIR, removed after
	rec2json t.rec | jq -c '.cc = "touch pwned; cc -std=c99 -O0"' | json2rec > evil.rec
	run --separate-stderr lat-table --check 1 evil.rec
	assert_failure 64
	[[ $stderr == *'--cc: evil.rec was measured with "touch pwned; cc -std=c99 -O0": check it with that command given as --cc'* ]]
	run --separate-stderr lat-table --check 1 t.rec
	assert_failure 64
	[ ! -e pwned ]
	TMPDIR=$PWD/tmp lat-table --check 2 --repeats 1 --cc "cc -std=c99 -O0" t.rec 2> err |
	    rec2json > c.json
	grep -q "compiling 2/2" err
	jq -e '.type == "lat_check" and .runtime == "c" and .cc == "cc -std=c99 -O0" and
	    .nets == 2 and .points >= 4 and all(.fastest_ms[]; . > 0)' c.json
	[ -z "$(ls -A tmp)" ]
	# a compiler that fails: exit 70 naming --cc, nothing left behind
	run --separate-stderr env TMPDIR="$PWD/tmp" lat-table "${TINY[@]}" --runtime c --cc false
	assert_failure 70
	[ -z "$output" ]
	[[ $stderr == *'--cc: "false" failed on '*'/net.c'* ]]
	[ -z "$(ls -A tmp)" ]
	run --separate-stderr lat-table --cc cc
	assert_failure 64
	[[ $stderr == *'--cc: the compiler of the exported C, only with --runtime c'* ]]
	run --separate-stderr lat-table --check 1 --cc cc e.rec
	assert_failure 64
	[[ $stderr == *'--cc: e.rec is a table of the engine, not of the exported C'* ]]
	refused r '.runtime = "gpu"' '*r.rec: record 1: key "runtime": "gpu" is not one of engine, c*'
	refused cc 'del(.cc)' '*cc.rec: record 1: key "cc"*'
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
	# an older table, a broken curve, unsorted entries, other weights
	refused v1 '.v = 1' '*v1.rec: record 1: key "v": 1: a latency table of another version than 2*measure it again*'
	refused k '.ws_bytes |= reverse' '*k.rec: record 1: key "ws_bytes": knot 2 (*) not above knot 1*'
	refused c0 '.ws_ms_per_mb[0] = 0.5' '*key "ws_ms_per_mb": 0.5 at the first knot, not 0*'
	refused c1 '.ws_ms_per_mb |= .[:1]' '*c1.rec: record 1: key "ws_ms_per_mb"*'
	refused u '.entries |= reverse' '*u.rec: record 1: key "entries": entry 1 (*): keys unsorted or repeated*'
	refused b '.entries |= map(.bytes += 4)' '*a.rec: record 1: key "genome": b.rec: the entry "*" has other weights than this network*'
	refused i 'del(.image_ms)' '*i.rec: record 1: key "image_ms"*'
	run --separate-stderr mac-count -f rec --latency nosuch.rec a.rec
	assert_failure 66
}
