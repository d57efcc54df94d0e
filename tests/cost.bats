#!/usr/bin/env bats
# --cost latency (issue 14): the expected cost F_M and its constraint in
# milliseconds, each exit's latency predicted by a lat-table table, in
# thresh-tune, eenn-train, nsga-step, pareto and the nachos pipeline; bad
# tables and limits refused naming the file, record and key. No timing is
# judged: the predictions are the table's, whatever this machine measured.
load helper
load idx-helper
bats_require_minimum_version 1.5.0

# one: FILE holds exactly one record (jq -e passes on an empty file)
one() { [ "$(wc -l < "$1")" -eq 1 ]; }

# a made-up 5-exit EENN (exit outputs from tests/unit/test_exo) whose
# record is the all-min arch at width 0.5 on 32x32x1, and a table for it
setup_eenn() {
	exo_gen x.exo 50 5 10 1 | rec2json > r.json
	g=$(jq -c .genome r.json)
	jq -c --argjson g "$g" '. + {space: "nachos", width: 0.5, resolution: 32, in_ch: 1,
	    classes: 10}' r.json | json2rec > r.rec
	lat-table --width 0.5 --in-ch 1 --repeats 1 > t.rec 2> /dev/null
	# mac-count's prediction for the same network: what every tool must use
	rec2json r.rec | jq -c '.type = "eenn"' | json2rec | mac-count -f rec --latency t.rec |
	    rec2json | jq -c .exit_latency > lat.json
}

@test "thresh-tune --cost latency: F_M in ms from the table, its constraint --lat-max, MACs beside" {
	setup_eenn
	thresh-tune --acc-min 0 --cost latency --latency t.rec --lat-max 100 r.rec 2> /dev/null |
	    rec2json > free.json
	one free.json
	jq -e --slurpfile l lat.json '.cost == "latency" and .exit_latency == $l[0] and
	    .lat_max == 100 and .feasible == true and .avg_macs_val > 0 and
	    (.exit_spent | length) == 5 and (.pareto_grid[0] | has("avg_latency_val"))' free.json
	# F_M = sum_i U_i lat_i on the test split (the grid sums whole ns); the
	# MACs figure by the same U
	jq -e '([.utilization, .exit_latency] | transpose | map(.[0] * .[1]) | add) - .avg_latency |
	    fabs < 1e-6' free.json
	jq -e '([.utilization, .exit_spent] | transpose | map(.[0] * .[1]) | add) - .avg_macs |
	    fabs < 1e-3' free.json
	# a limit no threshold meets: infeasible, the NACHOS walk at the cheapest
	thresh-tune --acc-min 0 --cost latency --latency t.rec --lat-max 1e-6 r.rec 2> /dev/null |
	    rec2json > tight.json
	one tight.json
	jq -e '.feasible == false and (.thresholds | all(. == 0.1))' tight.json
	# a limit between exits: feasible exactly when F_M (validation) is within it
	mid=$(jq '(.exit_latency[0] + .exit_latency[4]) / 2' free.json)
	thresh-tune --acc-min 0 --cost latency --latency t.rec --lat-max "$mid" r.rec 2> /dev/null |
	    rec2json > mid.json
	one mid.json
	jq -e --argjson m "$mid" '.feasible == (.avg_latency_val <= $m) and .avg_latency_val <= $m' mid.json
	# without --cost: MACs, as before, and the record says so
	thresh-tune --acc-min 0 --macs-max 1e12 r.rec 2> /dev/null | rec2json > macs.json
	one macs.json
	jq -e '.cost == "macs" and .exit_latency == null and .avg_latency == null' macs.json
}

@test "pareto --cost latency: the objective in ms, its limit, records of the other cost refused" {
	setup_eenn
	thresh-tune --acc-min 0 --cost latency --latency t.rec --lat-max 100 r.rec 2> /dev/null > l.rec
	thresh-tune --acc-min 0 --macs-max 1e12 r.rec 2> /dev/null > m.rec
	pareto -f table --cost latency l.rec > tab.txt
	head -1 tab.txt | grep -q ' ms$'
	f=$(rec2json l.rec | jq .avg_latency_val)
	pareto -a -f rec --cost latency --lat-max 100 l.rec | rec2json | jq -e '.admissible' > /dev/null
	pareto -a -f rec --cost latency --lat-max "$(jq -n "$f / 2")" l.rec | rec2json |
	    jq -e '.admissible == false and .violation > 0' > /dev/null
	run --separate-stderr pareto -f rec --cost latency m.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *'m.rec: record 1: key "cost": "macs": the record was tuned for another cost than --cost latency'* ]]
}

@test "bad --cost, --latency and --lat-max: usage errors; tables of another machine, input or space: data errors naming the key" {
	setup_eenn
	for args in "--cost ms" "--cost latency" "--cost latency --latency t.rec --lat-max x" \
	    "--cost latency --latency t.rec --lat-max 0" "--cost latency --latency t.rec --lat-max -1" \
	    "--lat-max 5" "--latency t.rec" "--cost latency --latency t.rec --macs-max 1e6" \
	    "--cost latency --latency t.rec --method aebnas --target-macs 1e6"; do
		run --separate-stderr thresh-tune $args r.rec
		[ "$status" -eq 64 ] || { echo "thresh-tune $args: status $status"; return 1; }
		[ -z "$output" ]
	done
	run --separate-stderr thresh-tune --cost latency --latency t.rec --lat-max 1e-3ms r.rec
	[[ $stderr == *'--lat-max'* ]]
	run --separate-stderr thresh-tune --cost latency --latency t.rec --macs-max 1e6 r.rec
	[[ $stderr == *'--macs-max constrains MACs; with --cost latency the constraint is --lat-max (milliseconds)'* ]]
	for args in "--cost latency" "--cost latency --macs-max 1e6 --lat-max 1" "--cost latency --latency t.rec --lat-max 1" \
	    "--cost latency --lat-max 1 --objectives aebnas --target-macs 1e6"; do
		run --separate-stderr nsga-step --err-model e --macs-model m $args
		[ "$status" -eq 64 ] || { echo "nsga-step $args: status $status"; return 1; }
	done
	for args in "--cost latency --latency t.rec --lat-max x" "--lat-max 1" "--cost latency"; do
		run --separate-stderr eenn-train --data d $args r.rec
		[ "$status" -eq 64 ] || { echo "eenn-train $args: status $status"; return 1; }
	done
	run --separate-stderr pareto --cost latency --latency t.rec r.rec
	[ "$status" -eq 64 ]
	# another machine's table
	rec2json t.rec | jq -c '.cpu = "Zilog Z80" | .machine = "elsewhere"' | json2rec > other.rec
	run --separate-stderr thresh-tune --cost latency --latency other.rec --lat-max 1 r.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *'other.rec: record 1: key "cpu": "Zilog Z80": the table was measured on another machine (elsewhere)'* ]]
	# another resolution: the record's key named
	rec2json t.rec | jq -c '.resolution = 64' | json2rec > res.rec
	run --separate-stderr thresh-tune --cost latency --latency res.rec --lat-max 1 r.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *'r.rec: record 1: key "resolution": differs from the latency table res.rec (measured for width 0.5, resolution 64'* ]]
	# a table without one of the network's layer configurations
	key=$(rec2json t.rec | jq -r '[.entries[].key | select(startswith("head final"))][0]')
	rec2json t.rec | jq -c --arg k "$key" '.entries |= map(select(.key != $k))' | json2rec > hole.rec
	run --separate-stderr thresh-tune --cost latency --latency hole.rec --lat-max 1 r.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *"r.rec: record 1: key \"genome\": hole.rec has no entry for \"$key\""* ]]
	# a malformed table
	echo '{"type":"lat","v":2}' | json2rec > bad.rec
	run --separate-stderr eenn-train --data d --cost latency --latency bad.rec --lat-max 1 r.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *'bad.rec: record 1: key "machine"'* ]]
}

@test "eenn-train --cost latency: L_cost and the expected cost in ms, the record says so" {
	mkidx h3 3 120 40 16
	ofa-sample --extremes -n 1 --in-ch 1 --resolution 16 --classes 3 --width 0.35 --seed 4 |
	    eec-place > e.rec
	lat-table --width 0.35 --resolution 16 --in-ch 1 --classes 3 --repeats 1 > t.rec 2> /dev/null
	mac-count -f rec --latency t.rec e.rec | rec2json | jq -c .exit_latency > lat.json
	eenn-train --data h3 --method nachos --mu1 1 --mu2 1 --mu3 1 --batch 32 --threads 1 \
	    --cost latency --latency t.rec --lat-max 0.01 e.rec 2> /dev/null | rec2json > tr.json
	one tr.json
	# Ĉ is a mix of the exits' latencies, so it lies between the first and the last
	jq -e --slurpfile l lat.json '.cost == "latency" and .exit_latency == $l[0] and
	    .lat_max == 0.01 and .exp_macs_val == null and
	    .exp_latency_val >= $l[0][0] - 1e-12 and .exp_latency_val <= $l[0][-1] + 1e-12' tr.json
	eenn-train --data h3 --method nachos --mu1 1 --mu2 1 --mu3 1 --batch 32 --threads 1 \
	    --macs-max 1e5 e.rec 2> /dev/null | rec2json > trm.json
	[ "$(wc -l < trm.json)" -eq 1 ]
	jq -e '.cost == "macs" and .exp_macs_val > 1000 and .exit_latency == null' trm.json
}

@test "nachos --cost latency: a tiny search end to end, its own table, F_M in ms everywhere" {
	load pipeline-helper
	pipeline_setup
	# the tiny settings without their --macs-max (refused beside --cost latency)
	t=("${tiny[@]:0:${#tiny[@]}-2}")
	run --separate-stderr nachos "${t[@]}" --cost latency --lat-max 0.5 run
	assert_success
	cd run
	grep -q "^COST='latency'$" config
	grep -q "^LAT_MAX='0.5'$" config
	grep -q "^MACS_MAX=''$" config
	rec2json lat.rec | jq -e '.type == "lat" and .width == 1 and .in_ch == 1' > /dev/null
	rec2json archive.rec > a.json
	[ "$(wc -l < a.json)" -eq 5 ]
	jq -e -s 'all(.cost == "latency" and .lat_max == 0.5 and .avg_latency_val > 0 and
	    (.exit_latency | length) == (.exit_stages | length) and
	    .feasible == (.top1_ee_val >= 0.5 and .avg_latency_val <= 0.5))' a.json
	rec2json iter/1/macs.model | jq -e '.target == "avg_latency_val"' > /dev/null
	rec2json iter/1/eenn.rec | jq -e -s 'all(.pred_latency > 0 and .pred_macs == null)' > /dev/null
	grep -q -- '--cost latency --latency lat.rec --lat-max 0.5' job.sh
	grep -q '^Constraints: accuracy ≥ 0.5, average latency ≤ 0.5 ms (predicted by the table lat.rec, ' report.md
	grep -q '^| average latency (test; validation), predicted | [0-9.]* ms; [0-9.]* ms' report.md
	grep -q 'err%  *ms ' report.md
	# the hypervolume reference is in ms: 1.01 x the initial archive's largest
	jq -e -s --arg r "$(cut -d, -f2 hvref)" '([.[] | select(.iter == 0) | .avg_latency_val] | max) * 1.01 - ($r | tonumber) | fabs < 1e-9' a.json
}

@test "pipelines: bad cost settings exit 64, a table of another input 65, before a run directory exists" {
	load pipeline-helper
	pipeline_setup
	t=("${tiny[@]:0:${#tiny[@]}-2}")
	for args in "--cost ms" "--cost latency" "--cost latency --lat-max x" "--lat-max 1" \
	    "--cost latency --lat-max 1 --macs-max 1e6"; do
		run --separate-stderr nachos "${t[@]}" $args r
		[ "$status" -eq 64 ] || { echo "nachos $args: status $status"; return 1; }
		[ ! -e r ] || { echo "nachos $args: created r"; return 1; }
	done
	run --separate-stderr nachos "${t[@]}" --cost latency r
	[[ $stderr == *'nachos: --cost latency: needs --lat-max ms (the constraint on F_M)'* ]]
	run --separate-stderr aebnas "${t[@]}" --cost latency r
	[ "$status" -eq 64 ]
	[[ $stderr == *'aebnas: --cost latency: aebnas aims at a MACs target (--target-macs)'* ]]
	run --separate-stderr random "${t[@]}" --cost latency r
	[ "$status" -eq 64 ]
	[[ $stderr == *'random: --cost latency: needs --lat-max ms'* ]]
	lat-table --width 0.35 --resolution 16 --in-ch 1 --repeats 1 > t16.rec 2> /dev/null
	run --separate-stderr nachos "${t[@]}" --cost latency --lat-max 1 --latency t16.rec r
	[ "$status" -eq 65 ]
	[[ $stderr == *'nachos: --latency: '*'key "width": differs from the latency table t16.rec'* ]]
	[ ! -e r ]
}

@test "edanas --cost latency: the unconstrained baseline's cost surrogate and NSGA-II in ms" {
	load pipeline-helper
	pipeline_setup
	t=("${tiny[@]:0:${#tiny[@]}-4}")
	run --separate-stderr edanas "${t[@]}" --cost latency run
	assert_success
	cd run
	grep -q "^COST='latency'$" config
	rec2json archive.rec | jq -e -s 'length == 5 and all(.cost == "latency" and .avg_latency_val > 0)' > /dev/null
	rec2json iter/1/macs.model | jq -e '.target == "avg_latency_val"' > /dev/null
	rec2json iter/1/eenn.rec | jq -e -s 'all(.pred_latency > 0)' > /dev/null
	grep -q '^Constraints: accuracy ≥ none, average latency ≤ none ms' report.md
}
