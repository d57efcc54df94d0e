#!/usr/bin/env bats
# mac-count: the MAC pins of nachos-method(7) §2 through the CLI, table and record forms,
# and every class of bad input.
load helper
load arch-helper
bats_require_minimum_version 1.5.0

# macs K E D IN_CH CLASSES [WIDTH]: macs_backbone of that uniform arch.
macs() {
	arch_json "$@" | json2rec | mac-count -f rec | rec2json |
	    grep -o '"macs_backbone":[0-9]*' | cut -d: -f2
}

@test "-h prints the usage and exits 0" {
	run mac-count -h
	assert_success
	assert_output "usage: mac-count [-hl] [-f table|rec] [--latency table] [file ...]"
}

@test "bad options exit 64 with nothing on stdout" {
	run --separate-stderr mac-count -f xml
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *'-f: "xml" is not one of table, rec'* ]]
	run --separate-stderr mac-count --bogus
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"usage: mac-count"* ]]
}

@test "MAC pins (w1.0): all-min, k5 e4 d3, all-max at 3 and 1 input channels, K 10 and 1000" {
	[ "$(macs 3 3 2 3 10)" = 3935184 ]
	[ "$(macs 3 3 2 1 10)" = 3861456 ]
	[ "$(macs 3 3 2 3 1000)" = 5202384 ]
	[ "$(macs 5 4 3 3 10)" = 7083584 ]
	[ "$(macs 7 6 4 3 10)" = 15198240 ]
	[ "$(macs 7 6 4 3 1000)" = 16465440 ]
}

@test "the width multiplier changes the count (w1.2 all-min above w1.0)" {
	w12=$(macs 3 3 2 3 10 1.2)
	[ "$w12" -gt 3935184 ]
}

@test "records: input keys kept, macs_backbone and params added; eenn adds heads" {
	arch_json | sed 's/}$/,"note":{"x":[1,2]}}/' | json2rec > arch.rec
	run sh -c 'mac-count < arch.rec | rec2json'
	assert_success
	assert_output --partial '"type":"arch","v":1,'
	assert_output --partial '"note":{"x":[1,2]}'
	assert_output --partial '"macs_backbone":3935184,"params":2142602,"sram_bytes_f32":65536,"sram_exit_bytes_f32":[65536,65536,65536,65536,65536],"flash_bytes_f32":10412984,"sram_bytes_int8":16384,"sram_exit_bytes_int8":[16384,16384,16384,16384,16384],"flash_bytes_int8":2723128}'
	refute_output --partial macs_heads
	run sh -c 'eec-place arch.rec | mac-count | rec2json'
	assert_success
	assert_output --partial '"type":"eenn","v":1,'
	assert_output --partial '"macs_backbone":3935184,"params":2142602,"macs_heads":1792000,"params_heads":465836,"sram_bytes_f32":65536,"sram_exit_bytes_f32":[65536,65536,65536,65536,65536],"flash_bytes_f32":10412984,"sram_bytes_int8":16384,"sram_exit_bytes_int8":[16384,16384,16384,16384,16384],"flash_bytes_int8":2723128}'
}

@test "-l adds the layers, whose MACs sum to the total" {
	arch_json 5 4 3 | json2rec | mac-count -l -f rec | rec2json > out.json
	grep -q '"layers":\[{"name":"first_conv","in":\[3,32,32\],"out":\[16,16,16\],"macs":110592,"params":464}' out.json
	! grep -q '"name":"exits' out.json
	sum=$(grep -o '"macs":[0-9]*' out.json | awk -F: '{ s += $2 } END { print s }')
	[ "$sum" = 7083584 ]
	# an eenn record lists its head layers too
	arch_json | json2rec | eec-place | mac-count -l | rec2json > out.json
	grep -q '"name":"exits.0.pool","in":\[24,8,8\],"out":\[24,2,2\]' out.json
}

@test "-f table prints one row per layer and the totals" {
	arch_json | json2rec > arch.rec
	run mac-count -f table arch.rec
	assert_success
	assert_line --index 0 'record 1: arch, nachos space, width 1, input 3x32x32, 10 classes'
	assert_line --regexp '^first_conv +3x32x32 +16x16x16 +110592 +464$'
	assert_line --regexp '^classifier +1280x1x1 +10x1x1 +12800 +12810$'
	assert_line --regexp '^total backbone \(macs_backbone, params\) +3935184 +2142602$'
	run sh -c 'eec-place arch.rec | mac-count -f table'
	assert_success
	assert_line --regexp '^exits.0.pool +24x8x8 +24x2x2 +0 +0$'
	assert_line --regexp '^total exit heads \(macs_heads, params_heads\) +1792000 +465836$'
	assert_line --regexp '^5 +5 +1 +1395200 +3935184 +5727184 +65536 +16384$'
	assert_line --regexp '^flash: constant data \(flash_bytes_D\) +10412984 +2723128$'
	assert_line --regexp '^SRAM: activation arena \(sram_bytes_D\) +65536 +16384$'
}

@test "a record given by its genome alone counts the same" {
	g="[$(rep 0 45 | tr -d '[]'),1,1,1,1]"
	echo "{\"type\":\"arch\",\"v\":1,\"space\":\"nachos\",\"width\":1.0,\"resolution\":32,\"in_ch\":3,\"classes\":10,\"genome\":$g}" |
	    json2rec | mac-count -f rec | rec2json > out.json
	grep -q '"macs_backbone":3935184' out.json
	echo '{"type":"arch","v":1,"space":"nachos","width":1.0,"resolution":32,"in_ch":3,"classes":10,"genome":[3]}' > bad.json
	run --separate-stderr sh -c 'json2rec bad.json | mac-count'
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'record 1: key "genome": has 1 elements, not 49'* ]]
}

@test "bad input records exit 65 naming record and key, stdout empty" {
	bad_input mac-count
}

@test "a missing input file exits 66" {
	run mac-count no-such-file
	assert_failure 66
}
