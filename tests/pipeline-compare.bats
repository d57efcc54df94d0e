#!/usr/bin/env bats
# pipelines/compare: methods x seeds at minuscule settings, each run in its
# own directory, run-report's report with the Friedman section and figures,
# --resume skipping finished runs.
load helper
load idx-helper
load pipeline-helper
bats_require_minimum_version 1.5.0

tiny=(--data d --supernet none --n-start 2 --iterations 1 -k 1 --pop 8 --gens 3
    --mu 1,1,1 --subset 200 --batch 32 --threads 1 -j 1 --acc-min 0.5 --macs-max 4e6)

setup() {
	pipeline_setup
}

@test "-h prints the usage; bad options exit 64 before creating anything" {
	run compare -h
	assert_success
	assert_line --index 0 --partial "usage: compare [-h] [--methods list]"
	for args in "--bogus" "--methods nachos,bogus" "--methods nc,nc" "--seeds 0" "--seeds x" "-j 0" "--acc-min 2"; do
		run --separate-stderr compare $args out
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
	done
	run --separate-stderr compare
	assert_failure 64
	[ ! -e out ]
}

@test "2 methods x 2 seeds: one run directory each, report.md with the Friedman test, figures; --resume" {
	run --separate-stderr compare --methods nachos,random --seeds 2 --preset none -j 2 out -- "${tiny[@]}"
	assert_success
	[[ $stderr == *"compare: 4 run(s) (methods nachos,random, seeds 1,2, preset none); 4 to do, 2 at a time"* ]]
	for r in nachos-s1 nachos-s2 random-s1 random-s2; do
		[ -s "out/runs/$r/archive.rec" ] && [ -s "out/runs/$r/report.md" ] || { echo "missing $r"; return 1; }
	done
	( . out/runs/nachos-s2/config && [ "$SEED" = 2 ] && [ "$N_START" = 2 ] )
	# seed by seed, so a comparison stopped half-way is balanced
	[ "$(paste -sd, out/runs.list)" = "nachos 1,random 1,nachos 2,random 2" ]
	( . out/runs/random-s1/config && [ "$SEARCH" = random ] && [ "$SEED" = 1 ] )
	rec2json out/runs/random-s2/archive.rec | jq -e 'select(.search != "random")' && return 1
	grep -q '^## Friedman test over methods (Table VII)' out/report.md
	grep -q '^| top-1 error (test) | 2 | ' out/report.md
	grep -q 'mean rank nachos | mean rank random' out/report.md
	# both methods sample and train the same initial archive from a seed:
	# it pairs, record for record, with nothing between the two
	grep -Eq '^\| random \| 2 \| 4 \| 0\.00 ± 0\.00 \| [^|]+ \| 0\.00 ± 0\.00 \| ([0-9]) \| \1 \|$' out/report.md
	for f in fronts.png hv.png; do [ -s "out/plots/$f" ]; done
	# a finished comparison is not run over; --resume runs only what is missing
	run --separate-stderr compare --methods nachos,random --seeds 2 --preset none out -- "${tiny[@]}"
	assert_failure 73
	rm -r out/runs/random-s2
	run --separate-stderr compare --resume --methods nachos,random --seeds 2 --preset none out -- "${tiny[@]}"
	assert_success
	[[ $stderr == *"1 to do"* ]]
	[ -s out/runs/random-s2/report.md ]
	[ "$(wc -l < out/logs/nachos-s1.log)" -gt 0 ]
	! grep -q 'resumed' out/logs/nachos-s1.log
}

@test "the preset is copied into the output once: runs started by a later --resume keep its settings" {
	local t=(--data d --supernet none --mu 1,1,1 --subset 200 --batch 32 --threads 1 -j 1)
	printf 'N_START=2\nITERATIONS=0\n' > my.conf
	run --separate-stderr compare --methods random --seeds 1 --preset my.conf out -- "${t[@]}"
	assert_success
	cmp my.conf out/preset.conf
	( . out/runs/random-s1/config && [ "$N_START" = 2 ] )
	# The preset changes; a second seed added by --resume still gets N_START=2.
	echo 'N_START=3' > my.conf
	run --separate-stderr compare --resume --methods random --seeds 2 --preset my.conf out -- "${t[@]}"
	assert_success
	( . out/runs/random-s2/config && [ "$N_START" = 2 ] )
	run --separate-stderr compare --preset nosuch out2
	assert_failure 64
	[[ $stderr == *'--preset: no preset "nosuch"'* ]]
	[ ! -e out2 ]
}

@test "nachos-ft and scratch: their options come after those of every run, so they win" {
	# every run gets --eval shared here; the two methods fine-tune, and
	# scratch leaves the supernet out (a shared run would refuse that)
	run --separate-stderr compare --methods nachos-ft,scratch --seeds 1 --preset none out -- \
	    "${tiny[@]}" --eval shared
	assert_success
	grep -qx 'nachos-ft) p=(nachos) mo=(--eval finetune) ;;' out/run.sh
	grep -qx 'scratch) p=(nachos) mo=(--eval finetune --supernet none) ;;' out/run.sh
	for m in nachos-ft scratch; do
		grep -qx "EVAL='finetune'" out/runs/$m-s1/config
		[ -s out/runs/$m-s1/report.md ]
	done
	grep -q '| nachos-ft |' out/report.md
}

@test "--supernet-cost: the methods without a supernet get the budget plus its training time" {
	run --separate-stderr compare --methods nachos-ft,scratch --supernet-cost 1m out -- --eval shared
	assert_failure 64
	[[ $stderr == *'--supernet-cost: needs --budget'* ]]
	run --separate-stderr compare --methods nachos-ft,scratch --budget 2m --supernet-cost 1x out
	assert_failure 64
	# the runs fail fast (no data): the scripts are what is checked
	run --separate-stderr compare --methods nachos-ft,scratch --seeds 1 --budget 2m \
	    --supernet-cost 1m30s out -- --data nowhere
	grep -qx 'nachos-ft) p=(nachos) mo=(--eval finetune) ;;' out/run.sh
	grep -qx 'scratch) p=(nachos) mo=(--eval finetune --supernet none --budget 210s) ;;' out/run.sh
	grep -q -- "--budget 2m " out/run.sh
}
