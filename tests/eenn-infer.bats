#!/usr/bin/env bats
# eenn-infer: options, real early exit agreeing exactly with what
# thresh-tune predicts from the exit outputs (every rule, every Pareto
# point, batch 1 and batched, both splits), the engine's MAC count, and bad
# input. The fixture (built once): a tiny three-class IDX set whose classes
# overlap, so exits disagree, and the all-min EENN at 16x16 trained on it
# for a few epochs by eenn-train (NACHOS phases), whose exit outputs
# eenn-infer --write-exo computes again at batch 1.
load helper
load arch-helper
load idx-helper
load exo-helper
bats_require_minimum_version 1.5.0

# eenn_rec [K] [k]: the all-min EENN (or kernel k everywhere) at 16x16x1,
# K classes, through eec-place.
eenn_rec() {
	arch_json "${2:-3}" 3 2 1 "${1:-3}" | sed 's/"resolution":32/"resolution":16/' |
	    json2rec | eec-place
}

setup_file() {
	F=$BATS_FILE_TMPDIR
	cd "$F" || return 1
	tiny_eenn "$F"
}

setup() {
	F=$BATS_FILE_TMPDIR
}

# Every figure eenn-infer measured equals thresh-tune's prediction.
agree() {
	jq -e '.infer_top1 == .top1_ee_test and .infer_avg_macs == .avg_macs and
	    .infer_utilization == .utilization and .infer_mismatch == 0 and
	    .infer_thresholds == .thresholds and .infer_rule == .rule and
	    ([.infer_exit_macs, .exit_spent_run] | transpose |
	     all(.[0] == null or .[0] == .[1]))' "$@"
}

@test "-h prints the usage and exits 0" {
	run eenn-infer -h
	assert_success
	assert_line --index 0 --partial "usage: eenn-infer [-hv] [--split val|test] [--batch n]"
}

@test "bad options exit 64 with nothing on stdout" {
	for args in "--split train" "--batch 0" "--threads 0" "--limit 0" "--thresholds 1.5" \
	    "--thresholds 0.5,x" "--thresholds -0.1" "--rule foo" "--val-frac 1" \
	    "--init-seed -1" "--bogus" "--weights w --init-seed 1" \
	    "--write-exo o.exo --thresholds 0.5"; do
		run --separate-stderr eenn-infer $args "$F/x.rec"
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
		[ -z "$output" ]
	done
	run --separate-stderr eenn-infer --thresholds 1.5 "$F/x.rec"
	[[ $stderr == *'--thresholds'*'1.5'* ]]
	run --separate-stderr eenn-infer --weights w --init-seed 1
	[[ $stderr == *'--weights and --init-seed exclude each other'* ]]
	run --separate-stderr eenn-infer --weights "$F/h.ckpt"
	[[ $stderr == *'--weights without input records needs --thresholds'* ]]
}

@test "--write-exo: the record points at exit outputs of this network and split" {
	rec2json < "$F/x.rec" > x.json
	jq -e --arg f "$F" '.exo == "\($f)/h.exo" and .weights == "\($f)/h.ckpt" and
	    .n_train == 540 and .n_val == 60 and .n_test == 120 and .split_seed == 1 and
	    (.genome | length) == 49' x.json
	rec2json < "$F/h.exo" > exo.json
	[ "$(wc -l < exo.json)" -eq 2 ]
	jq -e -s '[.[].split] == ["val", "test"] and [.[].n] == [60, 120] and
	    all(.nexit == 5 and .classes == 3)' exo.json
	jq -e -s --slurpfile r x.json '.[0].exit_spent == $r[0].exit_spent' exo.json
}

@test "agreement: the tuned thresholds, run for real, give thresh-tune's figures exactly" {
	thresh-tune "$F/x.rec" > t.rec
	eenn-infer t.rec > i.rec 2> err.txt
	rec2json < i.rec > i.json
	cat i.json | jq -c '[.thresholds, .utilization, .top1_ee_test, .infer_top1,
	    .avg_macs, .infer_avg_macs, .infer_exit_macs]'
	agree i.json
	jq -e '.infer_split == "test" and .infer_n == 120 and .infer_batch == 1 and
	    .infer_threads == 1 and .type == "eenn" and
	    .infer_latency_min_ms > 0 and .infer_latency_p50_ms >= .infer_latency_min_ms and
	    .infer_latency_p99_ms >= .infer_latency_p50_ms and
	    .infer_ips > 0' i.json
	grep -q 'eenn-infer: record 1 test 120/120' err.txt
	! grep -q 'warning\|mismatch' err.txt
}

@test "agreement at fixed thresholds spreading the samples over the exits, every rule" {
	q=0.5,0.6,0.7,0.8
	for rule in cumulative weight max-softmax margin entropy; do
		case $rule in
		cumulative) th=$(quantiles "$F/h.exo" cumw $q) ;;
		weight) th=0.75,0.2,0.05,0.02 ;;
		max-softmax) th=$(quantiles "$F/h.exo" maxp $q) ;;
		margin | entropy) th=$(quantiles "$F/h.exo" $rule $q) ;;
		esac
		thresh-tune --rule $rule --fixed "$th" "$F/x.rec" | eenn-infer | rec2json > $rule.json
		agree $rule.json || { cat $rule.json; echo "rule $rule"; return 1; }
	done
	# thresholds at the median of exit 1's scores send about half the samples
	# out there, and the others on
	for rule in cumulative max-softmax margin entropy; do
		jq -e '.infer_exit_count[0] >= 40 and .infer_exit_count[0] <= 80 and
		    ([.infer_exit_count[] | select(. > 0)] | length) >= 2' $rule.json ||
		    { echo "rule $rule"; return 1; }
	done
}

@test "agreement over a threshold sweep and at every point of the Pareto set" {
	for th in 0.6,0.8,0.9,0.95 0.77,0.85,0.93,0.97 0.9,0.9,0.9,0.9 0.5,1,1,0.99 \
	    1,1,0.95,0.97; do
		thresh-tune --fixed $th "$F/x.rec" | eenn-infer | rec2json > s.json
		agree s.json || { echo "thresholds $th"; return 1; }
	done
	thresh-tune --grid 0.6,0.7,0.8,0.9,0.95,0.99 "$F/x.rec" | rec2json > t.json
	n=$(jq '.pareto_grid | length' t.json)
	[ "$n" -ge 1 ]
	for ((p = 0; p < n; p++)); do
		th=$(jq -r ".pareto_grid[$p].thresholds | map(tostring) | join(\",\")" t.json)
		eenn-infer --thresholds "$th" "$F/x.rec" | rec2json > p.json
		jq -e --slurpfile t t.json ".infer_top1 == \$t[0].pareto_grid[$p].top1_ee_test and
		    .infer_avg_macs == \$t[0].pareto_grid[$p].avg_macs and .infer_mismatch == 0" \
		    p.json || { echo "point $p: $th"; return 1; }
	done
}

@test "batches with compaction and more threads: the same exits; --split val" {
	thresh-tune --rule cumulative --fixed 0.75,0.9,0.95,0.98 "$F/x.rec" > t.rec
	eenn-infer --batch 7 --threads 2 t.rec | rec2json > b.json
	agree b.json
	jq -e '.infer_batch == 7 and .infer_threads == 2 and
	    (has("infer_latency_ms") | not)' b.json
	eenn-infer --split val t.rec | rec2json > v.json
	jq -e '.infer_split == "val" and .infer_n == 60 and
	    .infer_top1 == .top1_ee_val and .infer_avg_macs == .avg_macs_val and
	    .infer_mismatch == 0' v.json
}

@test "the MACs are the engine's: all exits off is the whole EENN, --limit" {
	eenn-infer --thresholds 1,1,1,1 --limit 10 "$F/x.rec" | rec2json > full.json
	jq -e '.infer_n == 10 and .infer_exit_count == [0,0,0,0,10] and
	    .infer_avg_macs == .exit_spent[4] and .infer_exit_macs[4] == .exit_spent[4]' full.json
	eenn-infer --thresholds 0,0,0,0 --limit 10 "$F/x.rec" | rec2json > first.json
	jq -e '.infer_exit_count == [10,0,0,0,0] and .infer_avg_macs == .exit_spent[0]' \
	    first.json
}

@test "a checkpoint alone: no records, a fresh result record" {
	eenn-infer --weights "$F/h.ckpt" --data "$F/h3" --thresholds 0.75,0.9,0.95,0.98 \
	    --exo "$F/h.exo" | rec2json > c.json
	thresh-tune --fixed 0.75,0.9,0.95,0.98 "$F/x.rec" | rec2json > t.json
	jq -e --slurpfile t t.json '.type == "result" and .v == 1 and
	    .infer_top1 == $t[0].top1_ee_test and .infer_avg_macs == $t[0].avg_macs and
	    .infer_mismatch == 0 and .infer_weights == "\($t[0].weights)"' c.json
}

@test "bad records exit 65 naming the record and the key, nothing partial" {
	thresh-tune "$F/x.rec" | rec2json > t.json
	bad() {  # JSON filter, message
		jq -c "$1" t.json | json2rec > bad.rec
		run --separate-stderr eenn-infer bad.rec
		[ "$status" -eq 65 ] || { echo "$1: status $status: $stderr"; return 1; }
		[ -z "$output" ]
		[[ $stderr == *"eenn-infer: bad.rec: record 1: $2"* ]] ||
		    { echo "want: $2"; echo "got:  $stderr"; return 1; }
	}
	bad 'del(.weights)' 'key "weights": missing'
	bad 'del(.thresholds)' 'key "thresholds": missing'
	bad '.thresholds[1] = 1.5' 'key "thresholds'
	bad '.thresholds = [0.5, 0.5]' 'key "thresholds": has 2 values, the EENN has 4'
	bad '.rule = "median"' 'key "rule": "median" is not one of'
	bad '.ks[0] = 5 | .genome[5] = 1' 'key "genome": gene 5 is 1, the weights'
	bad '.classes = 4' 'key "'
	bad '.n_val = 61' 'key "n_val": 61, but the split here has 60 samples'
	# the first record whole, nothing of the second
	{ jq -c . t.json; jq -c 'del(.weights)' t.json; } | json2rec > two.rec
	run -65 sh -c 'eenn-infer two.rec > out.rec 2> /dev/null'
	[ "$(nrec < out.rec)" -eq 1 ]
}

@test "weights or exit outputs of another network or split: clear errors" {
	thresh-tune "$F/x.rec" > t.rec
	# a backbone-only checkpoint of the same arch lacks the exits
	eenn-train --data "$F/h3" --method backbone --epochs 0 --batch 8 --threads 1 \
	    -o bb.ckpt "$F/e.rec" > /dev/null 2>&1
	run --separate-stderr eenn-infer --weights bb.ckpt t.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'bb.ckpt: record 1: key "tensors.exits.0.conv1.weight": missing'* ]]
	# exit outputs of other EENNs (7x7 kernels; two classes more), random weights
	eenn_rec 3 7 > e7.rec
	eenn-infer --init-seed 1 --data "$F/h3" --write-exo o7.exo e7.rec > /dev/null 2>&1
	run --separate-stderr eenn-infer --exo o7.exo t.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'t.rec: record 1: key "exo": o7.exo: genome differs'*'another EENN'* ]]
	eenn_rec 5 > e5.rec
	mkidx h5 5 100 50 hard
	eenn-infer --init-seed 1 --data h5 --write-exo o5.exo e5.rec > /dev/null 2>&1
	run --separate-stderr eenn-infer --exo o5.exo t.rec
	assert_failure 65
	[[ $stderr == *'key "exo": o5.exo: 5 exits and 5 classes'*'another EENN'* ]]
	# a record of another network than its weights
	eenn_rec 3 7 | rec2json | jq -c --arg w "$F/h.ckpt" '.weights = $w' | json2rec > w7.rec
	run --separate-stderr eenn-infer --thresholds 0.5,0.5,0.5,0.5 w7.rec
	assert_failure 65
	[[ $stderr == *'w7.rec: record 1: key "genome": gene 5 is 2, the weights'* ]]
	[[ $stderr == *'weights of another EENN'* ]]
	# a dataset that is not there
	run --separate-stderr eenn-infer --data nowhere t.rec
	assert_failure 66
	[ -z "$output" ]
	[[ $stderr == *'nowhere'* ]]
	# exit outputs of another split of the same network
	eenn-infer --weights "$F/h.ckpt" --data "$F/h3" --val-frac 0.2 \
	    --write-exo o2.exo "$F/e.rec" > /dev/null 2>&1
	run --separate-stderr eenn-infer --exo o2.exo --split val t.rec
	assert_failure 65
	[[ $stderr == *'key "exo": o2.exo: 120 val samples, the val split here has 60'* ]]
	# the test split is the test set whatever the validation fraction
	run --separate-stderr eenn-infer --exo o2.exo t.rec
	assert_success
	mkidx h119 3 600 119 hard
	eenn-infer --weights "$F/h.ckpt" --data h119 --write-exo o119.exo "$F/e.rec" \
	    > /dev/null 2>&1
	run --separate-stderr eenn-infer --exo o119.exo t.rec
	assert_failure 65
	[[ $stderr == *'key "exo": o119.exo: 119 test samples, the test split here has 120'* ]]
	[[ $stderr == *'another split'* ]]
}

@test "AEBNAS: threshold genes changed by the tuned thresholds, even to no exit, are the same weights" {
	# the all-min AEBNAS EENN, every exit on at 0.1, a few steps of joint
	# training; thresh-tune's thresholds written back into the genome as
	# pipelines/edanas does
	ofa-sample --extremes -n 1 --space aebnas --in-ch 1 --resolution 16 --classes 3 |
	    eec-place > ae.rec
	eenn-train --data "$F/h3" --method joint --epochs 1 --batch 16 --threads 1 \
	    -o a.ckpt ae.rec > /dev/null 2>&1
	eenn-infer --weights a.ckpt --data "$F/h3" --write-exo a.exo ae.rec > ax.rec 2> /dev/null
	thresh-tune --rule margin --fixed 0.3,1,1,1 ax.rec | rec2json > t.json
	jq -c '.exit_th = [0.2, 1, 1, 1] | .genome[45:49] = [1, 2, 2, 2] |
	    .exits = [1, 0, 0, 0]' t.json | json2rec > off.rec
	eenn-infer off.rec > i.rec 2> /dev/null
	agree <(rec2json i.rec)
	rec2json i.rec | jq -e '.infer_exit_count[1:4] == [0, 0, 0]'
	cmp <(json2rec < t.json | eenn-infer 2> /dev/null | rec2json | jq -c '[.infer_exit_count, .infer_top1]') \
	    <(rec2json i.rec | jq -c '[.infer_exit_count, .infer_top1]')
	# thresh-tune takes it again (its exit outputs keep the trained genes)
	thresh-tune --rule margin --method fixed --fixed 0.2,1,1,1 off.rec | rec2json |
	    jq -e --slurpfile i <(rec2json i.rec) '.top1_ee_test == $i[0].infer_top1'
	# the exporter takes it too, without the exits that cannot fire
	eenn-export -o out --dtype f32 --eval 1000 off.rec | rec2json |
	    jq -e --slurpfile i <(rec2json i.rec) '.export_exit_stages == [1, 5] and
		.export_f32_exit_count == ($i[0].infer_exit_count | [.[0], .[4]])'
	# an exit the weights do not have
	rec2json ae.rec | jq -c '.exit_th = [0.1, 1, 0.1, 0.1] | del(.genome)' | json2rec |
	    eec-place > ae2.rec
	eenn-train --data "$F/h3" --method joint --epochs 0 --batch 16 --threads 1 \
	    -o a2.ckpt ae2.rec > /dev/null 2>&1
	jq -c '.weights = "a2.ckpt"' t.json | json2rec > on.rec
	run --separate-stderr eenn-infer on.rec
	assert_failure 65
	[[ $stderr == *'on.rec: record 1: key "genome": gene 46 is 0, the weights a2.ckpt have 2'* ]]
}

@test "exit outputs computed in batches of 16, as a trainer does: last bits differ, exits do not" {
	eenn-infer --batch 16 --weights "$F/h.ckpt" --data "$F/h3" --write-exo h16.exo \
	    "$F/e.rec" > x16.rec 2> /dev/null
	! cmp -s "$F/h.exo" h16.exo
	for th in 0.8,0.85,0.92,0.96 0.6,0.8,0.9,0.95; do
		thresh-tune --fixed $th x16.rec | eenn-infer | rec2json > a.json
		agree a.json || { echo "thresholds $th"; return 1; }
	done
}

@test "agreement with eenn-train's own exit outputs (batch 16): NACHOS and joint training" {
	cp "$F/r.rec" nachos.rec
	rec2json < nachos.rec | jq -e --arg p "$F/h.ckpt.exo" '.exo == $p'
	eenn-train --data "$F/h3" --method joint --mu1 1 --mu2 2 --mu3 1 --batch 16 \
	    --threads 1 -o "$PWD/joint.ckpt" "$F/e.rec" > joint.rec 2> /dev/null
	thresh-tune nachos.rec | eenn-infer | rec2json > a.json
	agree a.json
	# joint training leaves the confidences untrained: ignored, as in its exit
	# outputs; the record's method says so, before and after thresh-tune
	eenn-infer --rule max-softmax --thresholds 0.9,0.9,0.9,0.9 joint.rec | rec2json > j.json
	jq -e '.infer_mismatch == 0 and .infer_exit_count[0] > 0' j.json
	thresh-tune joint.rec | eenn-infer | rec2json > a.json
	agree a.json
	for q in 0.5,0.6,0.7,0.8 0.3,0.5,0.5,0.5 0.7,0.3,0.3,0.3; do
		th=$(quantiles "$F/h.ckpt.exo" cumw $q)
		thresh-tune --fixed "$th" nachos.rec | eenn-infer | rec2json > a.json
		agree a.json || { echo "nachos: $th"; return 1; }
		jq -e '[.infer_exit_count[] | select(. > 0)] | length >= 2' a.json
	done
	for rule in max-softmax margin entropy; do
		k=$rule
		[ $rule = max-softmax ] && k=maxp
		th=$(quantiles "$F/h.ckpt.exo" $k 0.5,0.6,0.7,0.8)
		thresh-tune --rule $rule --fixed "$th" nachos.rec | eenn-infer | rec2json > a.json
		agree a.json || { echo "nachos: $rule"; return 1; }
		th=$(quantiles joint.ckpt.exo $k 0.5,0.6,0.7,0.8)
		thresh-tune --rule $rule --fixed "$th" joint.rec |
		    eenn-infer --batch 5 | rec2json > a.json
		agree a.json || { echo "joint: $rule"; return 1; }
		jq -e '[.infer_exit_count[] | select(. > 0)] | length >= 2' a.json
	done
}

@test "the trainer's normalisation travels in the record: no --mean/--std needed" {
	eenn-train --data "$F/h3" --method nachos --mu1 1 --mu2 1 --mu3 0 --batch 16 \
	    --mean 0.3 --std 0.2 --threads 1 -o "$PWD/n.ckpt" "$F/e.rec" > n.rec 2> /dev/null
	rec2json < n.rec | jq -e '((.norm_mean[0] - 0.3) | length) < 1e-6 and ((.norm_std[0] - 0.2) | length) < 1e-6'
	thresh-tune n.rec | eenn-infer | rec2json > a.json
	agree a.json
	# refitting instead (the record without the keys) disagrees
	rec2json < n.rec | jq -c 'del(.norm_mean, .norm_std)' | json2rec | thresh-tune |
	    eenn-infer 2> /dev/null | rec2json > b.json
	jq -e '.infer_mismatch > 0' b.json
}
