#!/usr/bin/env bats
# --budget (issue 13 §4): budget-plan's rule as the tool runs it (monotone
# in the budget, strict durations), and the pipelines under a budget: the
# probes and the plan logged into the run directory, a deadline that stops
# the search and still reports, bad values refused before anything is made.
load helper
load arch-helper
load idx-helper
load pipeline-helper
bats_require_minimum_version 1.5.0

setup() {
	pipeline_setup
}

# rates JOBS: a rates record as a machine like the quick preset's measured
# would give (supernet ~3 min an epoch, candidates 79 s .. 236 s on 21600).
rates() {
	jq -nc --argjson j "$1" '{type: "rates", v: 1, jobs: $j, sup_probe_n: [384, 1536],
	    sup_probe_s: [7, 10.5], sup_images: 60000, cand_probe_n: [500, 1500],
	    cand_min_probe_s: [11.6, 14.9], cand_max_probe_s: [19, 28.5]}' | json2rec
}

@test "budget-plan: a longer budget plans a proportionally larger search, within the budget" {
	rates 2 > r.rec
	local prev=0 prev_sub=0 b
	for b in 10m 25m 1h 2h 8h; do
		budget-plan -b "$b" --subset-max 24000 r.rec | rec2json > "p-$b.json"
		jq -e '.type == "plan" and .feasible and .total_s <= .budget_s - .reserve_s' "p-$b.json"
		jq -e '.n_start + .iterations * .k == .candidates and .n_start >= 2' "p-$b.json"
		# the rates are kept in the plan
		jq -e '.cand_min_probe_s == [11.6, 14.9] and .sup_images == 60000' "p-$b.json"
		[ "$(jq .candidates "p-$b.json")" -ge "$prev" ]
		[ "$(jq .subset "p-$b.json")" -ge "$prev_sub" ]
		prev=$(jq .candidates "p-$b.json") prev_sub=$(jq .subset "p-$b.json")
	done
	# 2 h against 25 min (4.8 times): at least 4 times the candidates, more supernet
	[ "$(jq .candidates p-2h.json)" -ge $((4 * $(jq .candidates p-25m.json))) ]
	[ "$(jq .sup_epochs p-2h.json)" -gt "$(jq .sup_epochs p-25m.json)" ]
	# no supernet to train: its share goes to candidates
	rec2json r.rec | jq -c 'del(.sup_probe_n, .sup_probe_s, .sup_images)' | json2rec > nosup.rec
	budget-plan -b 25m --subset-max 24000 nosup.rec | rec2json > nosup.json
	[ "$(jq .sup_epochs nosup.json)" -eq 0 ]
	[ "$(jq .candidates nosup.json)" -gt "$(jq .candidates p-25m.json)" ]
	# too short for even the two extremes: the smallest search, said so
	budget-plan -b 1m r.rec | rec2json | jq -e '.feasible == false and .candidates == 2 and .iterations == 0'
	# no more candidates per iteration than NSGA-II's population proposes
	[ "$(jq .k p-8h.json)" -gt 5 ]
	budget-plan -b 8h --subset-max 24000 --k-max 5 r.rec | rec2json |
	    jq -e --slurpfile p p-8h.json '.k == 5 and .n_start + .iterations * .k == .candidates and
	        .candidates == $p[0].candidates'
	# a measured iteration instead of the default 30 s: cheaper iterations
	# buy more candidates; --iter-overhead overrides it
	rec2json r.rec | jq -c '.iter_probe_s = 2.5' | json2rec > it.rec
	budget-plan -b 25m --subset-max 24000 it.rec | rec2json > it.json
	jq -e '.iter_overhead_s == 2.5 and .iter_probe_s == 2.5' it.json
	jq -e '.iter_overhead_s == 30' p-25m.json
	[ "$(jq .candidates it.json)" -gt "$(jq .candidates p-25m.json)" ]
	budget-plan -b 25m --subset-max 24000 --iter-overhead 30 it.rec | rec2json |
	    jq -e --slurpfile p p-25m.json '.iter_overhead_s == 30 and .candidates == $p[0].candidates'
}

@test "budget-plan: strict durations and inputs" {
	run --separate-stderr budget-plan -b 1h30m --check
	assert_success
	assert_output 5400
	for d in 25 25x m 0m -5m 1.5h 30s1m 1m1m "5 m" "" 99999999999999h; do
		run --separate-stderr budget-plan -b "$d" --check
		[ "$status" -eq 64 ] || { echo "\"$d\": status $status"; return 1; }
		[[ $stderr == *"--budget: \"$d\" is not a duration"* ]]
		[ -z "$output" ]
	done
	rates 2 > r.rec
	run --separate-stderr budget-plan r.rec
	assert_failure 64
	echo '{"type":"result","v":1}' | json2rec > bad.rec
	run --separate-stderr budget-plan -b 25m bad.rec
	assert_failure 65
	[[ $stderr == *"bad.rec: record 1"*"a rates record expected"* ]]
	rec2json r.rec | jq -c '.cand_probe_n = [500, 500]' | json2rec > same.rec
	run --separate-stderr budget-plan -b 25m same.rec
	assert_failure 65
	[[ $stderr == *"cand_probe_n"*"two different sizes"* ]]
	rec2json r.rec | jq -c '.cand_min_probe_cpu_s = [10]' | json2rec > cpu1.rec
	run --separate-stderr budget-plan -b 25m cpu1.rec
	assert_failure 65
	[[ $stderr == *"cand_min_probe_cpu_s"* ]]
}

@test "budget-plan: the lines through the probes' CPU times, scaled by their wall / CPU" {
	# make demo's probes on a busy machine: the larger all-min probe's
	# wall time no longer than the smaller's, its CPU time longer
	echo '{"type":"rates","v":1,"jobs":2,"cand_probe_n":[500,1500],
	    "cand_min_probe_s":[32.4,30.0],"cand_min_probe_cpu_s":[10,17.4],
	    "cand_max_probe_s":[82.6],"cand_max_probe_cpu_s":[40]}' | jq -c . | json2rec > cpu.rec
	budget-plan -b 25m cpu.rec | rec2json | jq -e '
	    (.cand_min_per_img_s - 3.24 * 0.0074 | fabs) < 1e-12 and
	    (.cand_min_fixed_s - 3.24 * 6.3 | fabs) < 1e-9 and
	    (.cand_max_per_img_s / .cand_min_per_img_s - 4 | fabs) < 1e-12'
	# by the wall times alone, no cost per image at all
	rec2json cpu.rec | jq -c 'del(.cand_min_probe_cpu_s, .cand_max_probe_cpu_s)' | json2rec |
	    budget-plan -b 25m | rec2json | jq -e '.cand_min_per_img_s == 0'
}

@test "bad --budget values exit 64 before creating anything, in every pipeline and compare" {
	local p
	for p in nachos edanas aebnas random; do
		for d in 25 2x 1.5h -3m; do
			run --separate-stderr "$p" --budget "$d" --data d r
			[ "$status" -eq 64 ] || { echo "$p $d: status $status"; return 1; }
			[[ $stderr == *"--budget: \"$d\" is not a duration"* ]]
			[ ! -e r ]
		done
	done
	run --separate-stderr compare --budget 2x out
	assert_failure 64
	[[ $stderr == *"--budget: \"2x\" is not a duration"* ]]
	[ ! -e out ]
	# a good one goes whole to every method run (a bad pipeline option
	# ends the run at once)
	run --separate-stderr compare --budget 5m --methods random --seeds 1 out -- --bogus
	assert_failure 70
	grep -q -- '^opts=(.* --budget 5m ' out/run.sh
}

@test "--budget: the machine timed with the run's own job, the plan applied and logged" {
	run --separate-stderr nachos --data d --supernet none --pop 8 --gens 3 --mu 1,1,1 \
	    --batch 32 --threads 1 -j 2 --acc-min 0.5 --macs-max 4e6 --budget 4m run
	assert_success
	[[ $stderr == *"nachos: budget 4m: measured candidate job "*"(all-min), "*"(all-max), 2 at a time"* ]]
	[[ $stderr == *"nachos: budget plan ("*" candidates on --subset "* ]]
	[[ $stderr == *"nachos: budget: the probes took "*" s of 240"* ]]
	cd run
	grep -qx "BUDGET='4m'" config
	# the deadline ends the search, not the default patience
	grep -qx "PATIENCE='0'" config
	# an iteration timed beyond the jobs, and counted by the plan
	rec2json plan.rec | jq -e '.iter_probe_s > 0 and .iter_overhead_s == .iter_probe_s'
	rec2json rates.rec | jq -e '.type == "rates" and .jobs == 2 and .probe_wall_s > 0 and (.cand_probe_n | length) == 2 and
	    (.cand_min_probe_s | all(. > 0)) and (.cand_max_probe_s | all(. > 0)) and (.sup_probe_n | not) and
	    (.cand_min_probe_cpu_s | length == 2 and all(. > 0)) and (.cand_max_probe_cpu_s | length == 1 and all(. > 0))'
	rec2json plan.rec | jq -e '.type == "plan" and .sup_epochs == 0 and .budget_s <= 240'
	# the probes ran the real job (their logs kept), and left no candidate behind
	ls probe/train-*-min.log probe/train-*-max.log
	! ls -d cand/probe-* 2> /dev/null
	# the plan's settings: the archive's size and the job's subset
	[ "$(rec2json iter/0/eenn.rec | wc -l)" -eq "$(rec2json plan.rec | jq .n_start)" ]
	grep -q -- "--subset $(rec2json plan.rec | jq .subset) " job.sh
	grep -q '^## Budget' report.md
	grep -q 'candidate job, all-max' report.md
	[ -e export.rec ] || grep -q 'No admissible EENN' report.md
	[ "$(cat elapsed)" -le 240 ]
}

@test "--budget: the deadline stops the search whatever the plan said, and the report says so" {
	# rates of a machine many times faster than the candidates turn out to be
	# (20 s each at least): the plan cannot hold, the deadline must
	jq -nc '{type: "rates", v: 1, jobs: 2, cand_probe_n: [50, 150],
	    cand_min_probe_s: [1, 1.1], cand_max_probe_s: [1, 1.2]}' | json2rec > fast.rec
	SLEEP_S=20 NACHOS_RATES=fast.rec run --separate-stderr nachos --data d --supernet none \
	    --pop 8 --gens 3 --mu 1,1,1 --batch 32 --threads 1 -j 2 --acc-min 0.99 --macs-max 4e6 \
	    --budget 3m run
	assert_success
	[[ $stderr == *"cut by the deadline"* ]]
	[[ $stderr == *"nachos: the budget 3m cut the search short"* ]]
	[[ $stderr == *"the constraints could not be met within the budget of 3m: no admissible EENN was found"* ]]
	cd run
	rec2json plan.rec | jq -e '.iterations >= 2'
	[ "$(cat elapsed)" -le 180 ]
	# the candidates cut are not failures: a resumed run with time left trains them
	[ ! -s failed.rec ] || ! rec2json failed.rec | jq -e 'select(.stage == "budget")'
	[ "$(rec2json archive.rec | wc -l)" -ge 1 ]
	grep -q 'The budget cut the search short' report.md
	grep -q 'could not be met within the budget of 3m' report.md
	grep -q '^## Best EENN' report.md
	[ -s plots/front.png ]
}

@test "--budget: time the plan leaves over buys iterations beyond it, within the deadline" {
	# rates of a machine many times slower than the candidates turn out to be
	jq -nc '{type: "rates", v: 1, jobs: 2, cand_probe_n: [50, 150],
	    cand_min_probe_s: [20, 21], cand_max_probe_s: [30, 32]}' | json2rec > slow.rec
	NACHOS_RATES=slow.rec run --separate-stderr nachos --data d --supernet none \
	    --pop 8 --gens 3 --mu 1,1,1 --batch 32 --threads 1 -j 2 --patience 100 --budget 2m run
	assert_success
	[[ $stderr == *"beyond the plan's"* ]]
	cd run
	grep -qx "PATIENCE='100'" config           # given, so kept
	planned=$(rec2json plan.rec | jq .iterations)
	[ "$(ls -d iter/* | wc -l)" -gt $((planned + 1)) ]
	[ "$(cat elapsed)" -le 120 ]
}

@test "--budget: random search draws more networks past its plan, within the deadline" {
	jq -nc '{type: "rates", v: 1, jobs: 2, cand_probe_n: [50, 150],
	    cand_min_probe_s: [20, 21], cand_max_probe_s: [30, 32]}' | json2rec > slow.rec
	NACHOS_RATES=slow.rec run --separate-stderr random --data d --supernet none \
	    --mu 1,1,1 --batch 32 --threads 1 -j 2 --patience 100 --budget 2m run
	assert_success
	[[ $stderr == *"beyond the plan's"* ]]
	[[ $stderr != *"no new network"* ]]
	cd run
	planned=$(rec2json plan.rec | jq .iterations)
	[ "$(ls -d iter/* | wc -l)" -gt $((planned + 1)) ]
	# each network drawn once: the later draws are seeded apart
	[ -z "$(rec2json archive.rec | jq -r .id | sort | uniq -d)" ]
	[ -z "$(rec2json archive.rec | jq -c .genome | sort | uniq -d)" ]
	[ "$(cat elapsed)" -le 120 ]
}

@test "--budget --eval shared: the candidate job timed at --subset itself, the supernet at its own subset" {
	run --separate-stderr nachos "${tiny[@]}" --supernet "" --subset 240 --eval shared \
	    --shared-mu 1,0 --ofa-args "--epochs 1 --subset 100 --calib 50 --batch 25 --threads 1" \
	    --budget 3m run
	assert_success
	[[ $stderr == *"timing the candidate job on the all-min network(s), --subset 240, "* ]]
	cd run
	rec2json rates.rec | jq -e '.cand_probe_n == [75, 240] and .sup_images == 100 and .sup_probe_n == [25, 100]'
	[ "$(cat elapsed)" -le 180 ]
}

@test "without --budget nothing is probed and job.sh keeps no deadline" {
	run --separate-stderr nachos "${tiny[@]}" run
	assert_success
	[[ $stderr != *"budget"* ]]
	[ ! -e run/plan.rec ] && [ ! -e run/rates.rec ] && [ ! -e run/probe ]
	! grep -q 'NL_DEADLINE\|timeout' run/job.sh
	! grep -q '^## Budget' run/report.md
}

@test "--budget: a deadline before any candidate finished says so plainly" {
	jq -nc '{type: "rates", v: 1, jobs: 2, cand_probe_n: [50, 150],
	    cand_min_probe_s: [1, 1.1], cand_max_probe_s: [1, 1.2]}' | json2rec > fast.rec
	SLEEP_S=300 NACHOS_RATES=fast.rec run --separate-stderr nachos --data d --supernet none \
	    --pop 8 --gens 3 --mu 1,1,1 --batch 32 --threads 1 -j 2 --budget 90s run
	assert_failure 70
	[[ $stderr == *"the budget 90s ran out before any candidate of the initial archive trained (budget.cut): the constraints could not be met within it"* ]]
	[ "$(wc -l < run/budget.cut)" -ge 2 ]
	[ ! -s run/failed.rec ]
}
