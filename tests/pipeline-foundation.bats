#!/usr/bin/env bats
# The foundation pipeline end to end: ofa-sample | eec-place | mac-count.
load helper
load arch-helper
bats_require_minimum_version 1.5.0

@test "golden: ofa-sample -n 5 --seed 1 | eec-place | mac-count" {
	ofa-sample -n 5 --seed 1 | eec-place | mac-count > out.rec
	# the JSON view first, so a change shows as a readable diff
	rec2json out.rec > out.json
	diff "$TOP/tests/golden/foundation.json" out.json
	cmp "$TOP/tests/golden/foundation.rec" out.rec
}

@test "files and stdin give the same stream" {
	ofa-sample -n 20 --seed 4 > a.rec
	eec-place a.rec > b1.rec
	eec-place < a.rec > b2.rec
	cmp b1.rec b2.rec
	mac-count b1.rec > c1.rec
	mac-count - < b1.rec > c2.rec
	cmp c1.rec c2.rec
}

@test "every record of the pipeline keeps the keys of every stage" {
	ofa-sample -n 50 --seed 6 --space aebnas | eec-place | mac-count | rec2json > out.json
	[ "$(wc -l < out.json)" -eq 50 ]
	[ "$(grep -c '^{"type":"eenn","v":1,"id":"s6-[0-9]*","seed":6,"space":"aebnas",.*"genome":\[.*"heads":\[.*"exit_cost":\[.*"placement":"[^"]*","macs_backbone":[0-9]*,"params":[0-9]*,"macs_heads":[0-9]*,"params_heads":[0-9]*,"sram_bytes_f32":[0-9]*,"sram_exit_bytes_f32":\[[0-9,]*\],"flash_bytes_f32":[0-9]*,"sram_bytes_int8":[0-9]*,"sram_exit_bytes_int8":\[[0-9,]*\],"flash_bytes_int8":[0-9]*}$' out.json)" -eq 50 ]
}

@test "a stream cut inside a record: whole records out, then 65 naming it" {
	ofa-sample -n 5 --seed 1 | head -c -3 > cut.rec
	run --separate-stderr eec-place cut.rec
	assert_failure 65
	[[ $stderr == *"eec-place: cut.rec: record 5: truncated"* ]]
	run sh -c 'eec-place cut.rec 2> /dev/null | rec2json | wc -l'
	assert_output 4
	ofa-sample -n 5 --seed 1 | eec-place | head -c -3 > cut2.rec
	run --separate-stderr mac-count cut2.rec
	assert_failure 65
	[[ $stderr == *"mac-count: cut2.rec: record 5: truncated"* ]]
}

@test "a bad option stops the pipeline before any record" {
	run --separate-stderr bash -c 'set -o pipefail; ofa-sample -n x | eec-place | mac-count'
	assert_failure 64
	[ -z "$output" ]
}

@test "MAC pins through the pipeline: all-min, k5 e4 d3, all-max" {
	{ arch_json 3 3 2; arch_json 3 3 2 1; arch_json 5 4 3; arch_json 7 6 4; } | json2rec |
	    eec-place | mac-count | rec2json | grep -o '"macs_backbone":[0-9]*,"params"' > got
	run cat got
	assert_output $'"macs_backbone":3935184,"params"\n"macs_backbone":3861456,"params"\n"macs_backbone":7083584,"params"\n"macs_backbone":15198240,"params"'
}
