#!/usr/bin/env bats
# thresh-tune: each exit rule on hand-made exit outputs, the NACHOS repair,
# best, AEBNAS, fixed thresholds, the Pareto set, the heatmap, a synthetic
# EENN end to end, and every class of bad input.
load helper
bats_require_minimum_version 1.5.0

# Five samples, three exits, K = 3 (tests/unit/test_thr.c works the same
# case by hand). $1: split.
rules_exo() {
	cat <<EOF
{"type":"exo","v":1,"split":"$1","genome":[1,2,3],"n":5,"nexit":3,"classes":3,"exit_spent":[100,250,400],"exit_cost":[90,220,350],"exit_stages":[1,3,5],"label":[0,1,2,0,1],"pred":[[0,2,2,1,1],[0,1,0,1,2],[0,1,2,0,2]],"conf":[[0.875,0.25,0.625,0.125,0.0625],[0.5,0.75,0.25,0.125,0.75],[1,1,1,1,1]],"cumw":[[0.875,0.25,0.625,0.125,0.0625],[0.9375,0.8125,0.71875,0.234375,0.765625],[1,1,1,1,1]],"maxp":[[0.5,0.75,0.25,0.875,0.375],[0.625,0.5,0.875,0.25,0.5],[1,1,1,1,1]],"margin":[[0.25,0.5,0.75,0.0625,0.125],[0.5,0.375,0.125,0.25,0.625],[1,1,1,1,1]],"entropy":[[1,0,0.5,0.25,0.75],[0,1,0.5,0.5,0.25],[1,1,1,1,1]]}
EOF
}

# Four samples, exits spending 10 / 20 / 40; on the grid .25 .5 .75 the
# most accurate combination (.5,.5) spends 20 on average, (.5,.25) 15 at
# accuracy .75, (.25,.25) 12.5 at .5.
repair_exo() {
	cat <<EOF
{"type":"exo","v":1,"split":"$1","genome":[1,2,3],"n":4,"nexit":3,"classes":2,"exit_spent":[10,20,40],"exit_cost":[10,15,30],"exit_stages":[1,3,5],"label":[0,0,0,0],"pred":[[0,0,1,1],[0,0,0,1],[0,0,0,0]],"conf":[[0.875,0.625,0.375,0.125],[0.5,0.5,0.5,0.5],[1,1,1,1]],"cumw":[[0.875,0.625,0.375,0.125],[0.9375,0.875,0.625,0.375],[1,1,1,1]],"maxp":[[1,1,1,1],[1,1,1,1],[1,1,1,1]],"margin":[[1,1,1,1],[1,1,1,1],[1,1,1,1]],"entropy":[[1,1,1,1],[1,1,1,1],[1,1,1,1]]}
EOF
}

# result_json EXO [extra keys]
result_json() {
	echo "{\"type\":\"result\",\"v\":1,\"id\":\"e1\",\"genome\":[1,2,3],\"classes\":3,\"exo\":\"$1\"$2}"
}

fixtures() {
	{ rules_exo val; rules_exo test; } | json2rec > rules.exo
	{ repair_exo val; repair_exo test; } | json2rec > repair.exo
	result_json rules.exo | json2rec > rules.rec
	result_json repair.exo | sed 's/"classes":3/"classes":2/' | json2rec > repair.rec
}

# key NAME: the JSON value of NAME in the one record of out.json
key() {
	grep -o "\"$1\":\(\[[^]]*\]\|[^,}]*\)" out.json | head -1 | sed "s/^\"$1\"://"
}

@test "-h prints the usage and exits 0" {
	run thresh-tune -h
	assert_success
	assert_line --index 0 "usage: thresh-tune [-h] [--rule rule] [--method method] [--grid list]"
}

@test "bad options exit 64 with nothing on stdout" {
	fixtures
	for args in "-x" "--rule fast" "--method greedy" "--grid ," "--grid 0.5,1.5" \
	    "--grid a" "--fixed 0.5,1.2" "--acc-min 2" "--macs-max 0" "--lambda -1" \
	    "--heatmap 1,1" "--heatmap 1" "--method best --fixed 0.5,0.5"; do
		run --separate-stderr thresh-tune $args rules.rec
		[ "$status" -eq 64 ] || { echo "$args: exit $status"; return 1; }
		[ -z "$output" ]
	done
	run --separate-stderr thresh-tune --grid , rules.rec
	[[ $stderr == *"--grid: no values"* ]]
	run --separate-stderr thresh-tune --fixed 0.5,1.2 rules.rec
	[[ $stderr == *"--fixed: 1.2 is not in [0, 1]"* ]]
}

@test "cumulative rule, fixed thresholds: exits, accuracy and MACs by hand" {
	fixtures
	thresh-tune --fixed 0.5,0.75 rules.rec | rec2json > out.json
	# sample exits 0 1 0 2 1; sample 4 is wrong at exit 2
	[ "$(key utilization)" = "[0.4,0.4,0.2]" ]
	[ "$(key top1_ee_test)" = "0.8" ]
	[ "$(key top1_ee_val)" = "0.8" ]
	[ "$(key avg_macs)" = "220.0" ]          # (2*100 + 2*250 + 400) / 5
	[ "$(key avg_macs_paper)" = "194.0" ]    # (2*90 + 2*220 + 350) / 5
	[ "$(key exit_acc)" = "[1.0,0.5,1.0]" ]
	[ "$(key exit_acc_all)" = "[0.6,0.4,0.8]" ]
	[ "$(key top1_backbone_test)" = "0.8" ]
	[ "$(key exit_spent)" = "[100,250,400]" ]
	[ "$(key exit_cost)" = "[90,220,350]" ]
	[ "$(key thresholds)" = "[0.5,0.75]" ]
	[ "$(key rule)" = '"cumulative"' ]
	[ "$(key tune_method)" = '"fixed"' ]
	[ "$(key feasible)" = "true" ]
	# the record keeps its type and every key it had
	[ "$(key type)" = '"result"' ]
	[ "$(key id)" = '"e1"' ]
	[ "$(key exo)" = '"rules.exo"' ]
}

@test "weight, max-softmax, margin and entropy rules by hand" {
	fixtures
	thresh-tune --rule weight --fixed 0.5,0.6 rules.rec | rec2json > out.json
	# w_2 of sample 1 is .5625 < .6: it goes on to the final exit
	[ "$(key utilization)" = "[0.4,0.2,0.4]" ]
	[ "$(key avg_macs)" = "250.0" ]
	[ "$(key top1_ee_test)" = "0.8" ]
	thresh-tune --rule max-softmax --fixed 0.7,0.6 rules.rec | rec2json > out.json
	[ "$(key utilization)" = "[0.4,0.4,0.2]" ]
	[ "$(key top1_ee_test)" = "0.2" ]
	thresh-tune --rule margin --fixed 0.5,0.5 rules.rec | rec2json > out.json
	[ "$(key top1_ee_test)" = "0.6" ]
	thresh-tune --rule entropy --fixed 0.75,0.5 rules.rec | rec2json > out.json
	[ "$(key utilization)" = "[0.4,0.6,0.0]" ]
	[ "$(key avg_macs)" = "190.0" ]
	# nobody leaves at the final exit: its accuracy is undefined
	[ "$(key exit_acc)" = "[1.0,0.3333333333333333,null]" ]
	# a threshold of 1 switches an exit off even for a score of 1
	thresh-tune --rule entropy --fixed 1,1 rules.rec | rec2json > out.json
	[ "$(key utilization)" = "[0.0,0.0,1.0]" ]
}

@test "NACHOS repair: the most accurate combination breaks the MACs limit" {
	fixtures
	thresh-tune --grid 0.25,0.5,0.75 repair.rec | rec2json > out.json
	[ "$(key thresholds)" = "[0.5,0.5]" ]
	[ "$(key avg_macs_val)" = "20.0" ]
	thresh-tune --grid 0.25,0.5,0.75 --macs-max 16 --acc-min 0.7 repair.rec |
	    rec2json > out.json
	[ "$(key thresholds)" = "[0.5,0.25]" ]
	[ "$(key avg_macs_val)" = "15.0" ]
	[ "$(key top1_ee_val)" = "0.75" ]
	[ "$(key feasible)" = "true" ]
	# 14 cannot be met without dropping to .5 accuracy: reported infeasible
	thresh-tune --grid 0.25,0.5,0.75 --macs-max 14 --acc-min 0.7 repair.rec |
	    rec2json > out.json
	[ "$(key thresholds)" = "[0.5,0.25]" ]
	[ "$(key feasible)" = "false" ]
	# the constraints may come from the record instead of the options
	result_json repair.exo ',"macs_max":16,"acc_min":0.7' | sed 's/"classes":3/"classes":2/' |
	    json2rec | thresh-tune --grid 0.25,0.5,0.75 | rec2json > out.json
	[ "$(key thresholds)" = "[0.5,0.25]" ]
}

@test "the Pareto set over the grid, with the test figures of each point" {
	fixtures
	thresh-tune --grid 0.75,0.25,0.5 repair.rec | rec2json > out.json
	grep -q '"pareto_grid":\[{"thresholds":\[0.25,0.25\],"top1_ee_val":0.5,"avg_macs_val":12.5,"top1_ee_test":0.5,"avg_macs":12.5},{"thresholds":\[0.5,0.25\],"top1_ee_val":0.75,"avg_macs_val":15.0,"top1_ee_test":0.75,"avg_macs":15.0},{"thresholds":\[0.5,0.5\],"top1_ee_val":1.0,"avg_macs_val":20.0,"top1_ee_test":1.0,"avg_macs":20.0}\]' out.json
}

@test "best and AEBNAS picks" {
	fixtures
	thresh-tune --method best --grid 0.25,0.5,0.75 --macs-max 14 --acc-min 0.7 repair.rec |
	    rec2json > out.json
	[ "$(key thresholds)" = "[0.25,0.25]" ]
	[ "$(key feasible)" = "false" ]
	thresh-tune --method aebnas --target-macs 15 --grid 0.25,0.5,0.75 repair.rec |
	    rec2json > out.json
	[ "$(key thresholds)" = "[0.5,0.5]" ]
	thresh-tune --method aebnas --target-macs 15 --lambda 10 --grid 0.25,0.5,0.75 repair.rec |
	    rec2json > out.json
	[ "$(key thresholds)" = "[0.5,0.25]" ]
	[ "$(key tune_method)" = '"aebnas"' ]
}

@test "fixed thresholds from the record's threshold genes (exit_th by stage)" {
	fixtures
	# exits follow stages 1 and 3: genes 1 and 3 of exit_th
	result_json rules.exo ',"exit_th":[0.5,0.2,0.75,1]' | json2rec |
	    thresh-tune --method fixed | rec2json > out.json
	[ "$(key thresholds)" = "[0.5,0.75]" ]
	[ "$(key utilization)" = "[0.4,0.4,0.2]" ]
}

@test "heatmap: utilisation over two exits' thresholds" {
	fixtures
	thresh-tune --fixed 0.5,0.75 --grid 0.5,1 --heatmap 1,2 rules.rec | rec2json > out.json
	grep -q '"heatmap":{"exits":\[1,2\],"split":"test","grid":\[0.5,1.0\],"utilization":\[\[\[0.4,0.4,0.2\],\[0.4,0.0,0.6\]\],\[\[0.0,0.8,0.2\],\[0.0,0.0,1.0\]\]\],"top1":\[\[0.8,0.8\],\[0.6,0.8\]\],' out.json
}

@test "a synthetic EENN end to end: constraints hold, Pareto front is ordered" {
	exo_gen s.exo 2000 5 10 3 > s.rec
	thresh-tune --macs-max 9000000 --acc-min 0.5 s.rec | rec2json > out.json
	[ "$(key feasible)" = "true" ]
	awk -v m="$(key avg_macs_val)" 'BEGIN { exit !(m <= 9000000) }'
	[ "$(key utilization | tr -d '[]' | awk -F, '{ printf "%.6f", $1+$2+$3+$4+$5 }')" = "1.000000" ]
	# the front rises in accuracy as it rises in MACs
	sed 's/.*"pareto_grid"//' out.json | grep -o '"top1_ee_val":[0-9.]*,"avg_macs_val":[0-9.]*' |
	    tr -c '0-9.\n' ' ' |
	    awk 'NR > 1 && !($2 > a && $3 > m) { bad++ } { a = $2; m = $3 } END { exit bad > 0 || NR < 3 }'
	# best feasible is at least as accurate as the NACHOS walk
	nachos=$(key top1_ee_val)
	thresh-tune --method best --macs-max 9000000 --acc-min 0.5 s.rec | rec2json > out.json
	awk -v a="$(key top1_ee_val)" -v b="$nachos" 'BEGIN { exit !(a >= b) }'
	# ECE per exit, one value each in [0, 1]
	[ "$(key ece | tr ',' '\n' | wc -l)" -eq 5 ]
}

@test "missing keys and outputs of another EENN: exit 65, nothing on stdout" {
	fixtures
	echo '{"type":"result","v":1,"genome":[1,2,3]}' | json2rec > nokey.rec
	run --separate-stderr thresh-tune nokey.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'nokey.rec: record 1: key "exo": missing'* ]]
	result_json rules.exo | sed 's/"genome":\[1,2,3\]/"genome":[1,2,4]/' | json2rec > other.rec
	run --separate-stderr thresh-tune other.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'other.rec: record 1: key "genome": gene 2 is 4, rules.exo has 3'* ]]
	result_json rules.exo ',"exit_spent":[100,250,401]' | json2rec > sp.rec
	run --separate-stderr thresh-tune sp.rec
	assert_failure 65
	[[ $stderr == *'key "exit_spent": exit 3: 401'* ]]
	result_json rules.exo | sed 's/"id":"e1"/"id":"e2"/' | json2rec > id.rec
	rules_exo val | sed 's/"genome"/"id":"e1","genome"/' > idx.json
	rules_exo test | sed 's/"genome"/"id":"e1","genome"/' >> idx.json
	json2rec idx.json > rules.exo
	run --separate-stderr thresh-tune id.rec
	assert_failure 65
	[[ $stderr == *'key "id": "e2", rules.exo has "e1"'* ]]
	# a bad second record leaves the first one whole and nothing of its own
	fixtures
	cat rules.rec other.rec > two.rec
	run --separate-stderr sh -c 'thresh-tune --fixed 0.5,0.75 two.rec > two.out'
	assert_failure 65
	[ "$(rec2json two.out | wc -l)" -eq 1 ]
	rec2json two.out > out.json
	[ "$(key top1_ee_test)" = "0.8" ]
}

@test "bad exit-outputs files: wrong split, bad values, missing file" {
	fixtures
	rules_exo val | json2rec > onlyval.exo
	result_json onlyval.exo | json2rec > a.rec
	run --separate-stderr thresh-tune a.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'onlyval.exo: no exo record with split "test"'* ]]
	{ rules_exo val; rules_exo val; } | json2rec > twoval.exo
	result_json twoval.exo | json2rec > a.rec
	run --separate-stderr thresh-tune a.rec
	assert_failure 65
	[[ $stderr == *'twoval.exo: record 2: key "split": a second "val" record'* ]]
	{ rules_exo val; rules_exo test | sed 's/"exit_cost":\[90/"exit_cost":[91/'; } |
	    json2rec > mism.exo
	result_json mism.exo | json2rec > a.rec
	run --separate-stderr thresh-tune a.rec
	assert_failure 65
	[[ $stderr == *'mism.exo: the val and test records differ in "exit_cost"'* ]]
	{ rules_exo val; rules_exo test | sed 's/"conf":\[\[0.875/"conf":[[1.5/'; } |
	    json2rec > bad.exo
	result_json bad.exo | json2rec > a.rec
	run --separate-stderr thresh-tune a.rec
	assert_failure 65
	[[ $stderr == *'bad.exo: record 2: key "conf[0]": element 0 (1.5) is not in [0, 1]'* ]]
	{ rules_exo val; rules_exo test | sed 's/"label":\[0,1,2/"label":[0,1,3/'; } |
	    json2rec > bad.exo
	run --separate-stderr thresh-tune a.rec
	assert_failure 65
	[[ $stderr == *'key "label": element 2 is not a class in [0, 3)'* ]]
	{ rules_exo val; rules_exo test | sed 's/"pred":\[\[0,2,2,1,1\],/"pred":[[0,2,2,1],/'; } |
	    json2rec > bad.exo
	run --separate-stderr thresh-tune a.rec
	assert_failure 65
	[[ $stderr == *'key "pred[0]": has 4 elements, not 5'* ]]
	result_json nothere.exo | json2rec > a.rec
	run --separate-stderr thresh-tune a.rec
	assert_failure 66
	[ -z "$output" ]
	[[ $stderr == *"nothere.exo"* ]]
}

@test "thresholds and options that do not fit the EENN: exit 65" {
	fixtures
	run --separate-stderr thresh-tune --fixed 0.5,0.5,0.5 rules.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'key "exo": --fixed has 3 thresholds, the EENN has 2 intermediate exits'* ]]
	run --separate-stderr thresh-tune --heatmap 1,3 rules.rec
	assert_failure 65
	[[ $stderr == *"--heatmap 1,3: the EENN has 2 intermediate exits"* ]]
	run --separate-stderr thresh-tune --method aebnas rules.rec
	assert_failure 65
	[[ $stderr == *'key "target_macs": missing'* ]]
	run --separate-stderr thresh-tune --method fixed rules.rec
	assert_failure 65
	[[ $stderr == *'key "exit_th": missing'* ]]
	result_json rules.exo ',"exit_th":[0.5,0.2,1.5,1]' | json2rec > th.rec
	run --separate-stderr thresh-tune --method fixed th.rec
	assert_failure 65
	[[ $stderr == *'key "exit_th[2]": 1.5 is not in [0, 1]'* ]]
}

@test "an exo header declaring 10^8 samples is checked against its arrays before any memory is reserved" {
	fixtures
	# n 10^8 x 8 exits would reserve 22 GB: the address-space limit makes
	# an early reservation fail with 70 instead of the clean 65.
	{ rules_exo val; rules_exo test; } | sed 's/"n":5,"nexit":3/"n":100000000,"nexit":3/' | json2rec > rules.exo
	run --separate-stderr sh -c '[ -n "${ASAN_OPTIONS-}" ] || ulimit -v 1000000; thresh-tune rules.rec'
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'rules.exo: record 1: key "label": has 5 elements, not 100000000'* ]]
	# a per-exit array of the wrong length, named with its exit
	{ rules_exo val | sed 's/"margin":\[\[0.25,0.5,0.75,0.0625,0.125\]/"margin":[[0.25]/'; rules_exo test; } | json2rec > rules.exo
	run --separate-stderr thresh-tune rules.rec
	assert_failure 65
	[[ $stderr == *'rules.exo: record 1: key "margin[0]": has 1 elements, not 5'* ]]
}
