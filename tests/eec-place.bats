#!/usr/bin/env bats
# eec-place: heads, Eq. 13 cost, spent MACs, the placement rule (Algorithm
# 1) and every class of bad input.
load helper
load arch-helper
bats_require_minimum_version 1.5.0

# increasing: every exit_cost array on stdin strictly increases.
increasing() {
	grep -o '"exit_cost":\[[^]]*\]' | tr -d '"exit_cost:[]' |
	    awk -F, '{ for (i = 2; i <= NF; i++) if ($i <= $(i-1)) bad++ } END { exit bad > 0 }'
}

@test "-h prints the usage and exits 0" {
	run eec-place -h
	assert_success
	assert_output "usage: eec-place [-h] [file ...]"
}

@test "bad options exit 64 with nothing on stdout" {
	run --separate-stderr eec-place -x
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"usage: eec-place"* ]]
}

@test "all-min: a pool is needed at the stage 1 exit (window 4), none at stage 3" {
	arch_json | json2rec | eec-place | rec2json > out.json
	grep -q '"heads":\[{"stage":1,"kind":"nachos","c":24,"h":8,"w":8,"pool":4,"hp":2,"wp":2,"nout":11,"macs":401920,' out.json
	grep -q '{"stage":2,"kind":"nachos","c":40,"h":4,"w":4,"pool":2,"hp":2,"wp":2,' out.json
	grep -q '{"stage":3,"kind":"nachos","c":80,"h":2,"w":2,"pool":1,"hp":2,"wp":2,"nout":11,"macs":466432,' out.json
	grep -q '{"stage":5,"kind":"final","c":160,"h":1,"w":1,"pool":1,"hp":1,"wp":1,"nout":10,"macs":1395200,' out.json
	grep -q '"exit_stages":\[1,2,3,4,5\],"exit_cost":\[1175552,1543040,1870880,2503712,3935184\],"exit_spent":\[1175552,1944960,2693152,3792416,5727184\],"macs_backbone":3935184,"placement":"ok",' out.json
	increasing < out.json
}

@test "a head's layers: the pool first, then three 3x3 convs and the linear" {
	arch_json | json2rec | eec-place | rec2json > out.json
	grep -q '"layers":\[{"name":"exits.0.pool","in":\[24,8,8\],"out":\[24,2,2\],"macs":0,"params":0},{"name":"exits.0.conv1","in":\[24,2,2\],"out":\[32,2,2\],"macs":27648,"params":6944},{"name":"exits.0.conv2",' out.json
	grep -q '{"name":"exits.0.linear","in":\[512,1,1\],"out":\[11,1,1\],"macs":5632,"params":5643}\]' out.json
	grep -q '"layers":\[{"name":"final_expand_layer","in":\[160,1,1\],"out":\[960,1,1\],"macs":153600,"params":155520},{"name":"feature_mix_layer",' out.json
}

@test "only the enabled exits get heads; spent adds every earlier head" {
	arch_json | sed 's/"exits":\[1,1,1,1\]/"exits":[0,1,0,1]/' | json2rec | eec-place | rec2json > out.json
	grep -q '"exit_stages":\[2,4,5\]' out.json
	[ "$(grep -o '"kind":' out.json | wc -l)" -eq 3 ]
	# spent of the final exit = backbone + both heads
	grep -q '"exit_spent":\[[0-9]*,[0-9]*,4858832\]' out.json
	increasing < out.json
}

@test "cost strictly increases along the exits of sampled archs (w1.0)" {
	ofa-sample -n 500 --seed 11 | eec-place | rec2json > out.json
	[ "$(grep -c '"placement":"ok"' out.json)" -eq 500 ]
	increasing < out.json
}

@test "when no pool can make an exit cheaper than the next, the record says why" {
	# at width 0.1 the fixed-width head of the stage 4 exit outweighs the
	# rest of the backbone even pooled to 1x1
	arch_json 3 3 2 3 10 0.1 | json2rec | eec-place | rec2json > out.json
	grep -q '"placement":"failed: stage 4 exit costs 351200 MACs, not below the next exit.s 277440 even with the largest pool (2)"' out.json
	grep -q '"stage":4,"kind":"nachos","c":16,"h":2,"w":2,"pool":2,"hp":1,"wp":1' out.json
	! increasing < out.json
}

@test "edanas heads have K outputs, aebnas heads are the branches of the genes" {
	ofa-sample -n 1 --extremes --space edanas | eec-place | rec2json > out.json
	grep -q '"heads":\[{"stage":1,"kind":"nachos","c":24,"h":8,"w":8,"pool":4,"hp":2,"wp":2,"nout":10,' out.json
	ofa-sample -n 1 --extremes --space aebnas | eec-place | rec2json > out.json
	grep -q '"heads":\[{"stage":1,"kind":"aebnas","c":24,"h":8,"w":8,"pool":1,"hp":4,"wp":4,"nout":10,' out.json
	grep -q '"layers":\[{"name":"exits.0.mods.0.conv","in":\[24,8,8\],"out":\[24,4,4\],"macs":82944,' out.json
}

@test "input keys pass through; an eenn record placed again is unchanged" {
	arch_json | sed 's/{"type":"arch","v":1,/{"type":"arch","v":1,"id":"x7","note":[1,{"a":null}],/' |
	    json2rec | eec-place > once.rec
	rec2json once.rec | grep -q '^{"type":"eenn","v":1,"id":"x7","note":\[1,{"a":null}\],"space":"nachos",'
	eec-place once.rec > twice.rec
	cmp once.rec twice.rec
}

@test "bad input records exit 65 naming record and key, stdout empty" {
	bad_input eec-place
}

@test "a missing input file exits 66" {
	run eec-place no-such-file
	assert_failure 66
}

@test "a genome that disagrees with ks/e/d is rejected, a matching one accepted" {
	ofa-sample -n 1 --seed 3 | rec2json > a.json
	json2rec < a.json | eec-place > /dev/null
	# Change the first d gene in the genome only (d index 0 <-> 1).
	sed -e 's/"genome":\[0,/"genome":[X,/; s/"genome":\[[12],/"genome":[0,/; s/"genome":\[X,/"genome":[1,/' \
	    a.json | json2rec > bad.rec
	run --separate-stderr eec-place bad.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'record 1: key "genome[0]": '*' disagrees with ks/e/d/exits'* ]]
}
