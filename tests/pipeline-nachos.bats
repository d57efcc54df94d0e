#!/usr/bin/env bats
# pipelines/nachos end to end at minuscule settings on a tiny IDX set: the
# run directory, the archive growing, the report, a failed candidate
# recorded, --resume after a kill mid-training, options and presets.
load helper
load arch-helper
load idx-helper
load pipeline-helper
bats_require_minimum_version 1.5.0

setup() {
	pipeline_setup
}

@test "-h prints the usage; bad options exit 64 before creating anything" {
	run nachos -h
	assert_success
	assert_line --index 0 --partial "usage: nachos [-h] [--preset name|file]"
	for args in "--bogus" "--n-start x" "--n-start 1" "--acc-min 2" "--mu 1,2" \
	    "--omega a,b,c" "-j 0" "--preset nosuch" "-k"; do
		run --separate-stderr nachos $args --data d r
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
		[ -z "$output" ]
	done
	run --separate-stderr nachos --n-start 1 --data d r
	[[ $stderr == *"--n-start: at least 2"* ]]
	run --separate-stderr nachos --data nodata r
	assert_failure 66
	[[ $stderr == *"--data: nodata: no such directory"* ]]
	[ ! -e r/archive.rec ]
}

@test "a tiny search: run directory, archive growth, HV, report, plots" {
	run --separate-stderr nachos "${tiny[@]}" run
	assert_success
	[ -z "$output" ]     # stdout stays quiet
	[[ $stderr == *"nachos: done in "*"report $PWD/run/report.md"* ]]
	[[ $stderr == *"nachos: best "*"EENN "*"test accuracy "*"avg MACs "*"exits after stages "*"thresholds "* ]]
	cd run
	for f in config job.sh archive.rec hv.rec report.md plots/front.png plots/front-test.png \
	    logs/nachos.log logs/joblog-0 logs/joblog-1 iter/0/ids iter/1/ids iter/1/err.model \
	    iter/1/macs.model iter/1/next.rec; do
		[ -s "$f" ] || { echo "missing $f"; return 1; }
	done
	[ "$(wc -l < iter/0/ids)" -eq 3 ]
	[ "$(wc -l < iter/1/ids)" -eq 2 ]
	for id in $(cat iter/*/ids); do
		for f in eenn.rec result.rec exo.rec weights.ckpt train.log; do
			[ -s "cand/$id/$f" ] || { echo "missing cand/$id/$f"; return 1; }
		done
	done
	# the archive: iteration 0, then 1, each record tuned
	rec2json archive.rec | jq -r '"\(.iter) \(.id) \(.type) \(.top1_ee_val != null) \(.avg_macs_val > 0) \((.thresholds | length) == (.exit_stages | length) - 1)"' > got
	[ "$(awk '$1 == 0' got | wc -l)" -eq 3 ]
	[ "$(awk '$1 == 1' got | wc -l)" -eq 2 ]
	[ "$(head -n 3 got | awk '{ print $1 }' | sort -u)" = 0 ]
	! grep -v ' result true true true$' got
	[ "$(cut -d' ' -f2 got | sort -u | wc -l)" -eq 5 ]      # no repeats
	# every record names its search, for run-report on mixed archives
	[ "$(rec2json archive.rec | jq -r .search | sort -u)" = nachos ]
	# and its wall time: one per iteration, never decreasing, at most the run's
	rec2json archive.rec | jq -r '"\(.iter) \(.t_s)"' | sort -u > t
	[ "$(wc -l < t)" -eq 2 ] && awk 'NR > 1 && $2 < p { exit 1 } { p = $2 }' t
	[ "$(tail -n 1 t | cut -d' ' -f2)" -le "$(cat elapsed)" ]
	grep -qx "s1-0" iter/0/ids                             # the extremes come first
	[ "$(rec2json hv.rec | jq -r .iter | tr '\n' ' ')" = "0 1 " ]
	# the settings, resolved and sourceable
	( . ./config && [ "$N_START" = 3 ] && [ "$K" = 2 ] && [ "$MU" = 1,1,1 ] && [ "$DATA" = "$BATS_TEST_TMPDIR/d" ] )
	grep -q -- '--mu1 1 --mu2 1 --mu3 1 --omega1 1 --omega2 1 --omega3 1' job.sh
	# the report
	grep -q '^## Best EENN' report.md
	grep -q '^| test accuracy (early exit) | [0-9.]*% |$' report.md
	grep -q '^| thresholds (cumulative) | ' report.md
	grep -q '^| 1 | [0-9.]* | 5 | [0-9]* |$' report.md
	grep -q '^Wall time ' report.md
	[ ! -s failed.rec ]
	# a finished run is not started again over itself
	run --separate-stderr nachos "${tiny[@]}" .
	assert_failure 73
	[[ $stderr == *"holds a run already; continue it with --resume"* ]]
}

@test "a failing candidate is recorded in failed.rec, not in the archive; the search goes on" {
	FAIL_ID=s1-2 run --separate-stderr nachos "${tiny[@]}" run
	assert_success
	[[ $stderr == *"iteration 0: 2 candidate(s) added to the archive (2 in all), 1 failed"* ]]
	rec2json run/failed.rec > failed.json
	[ "$(wc -l < failed.json)" -eq 1 ]
	run jq -r '"\(.type) \(.id) \(.failed) \(.stage) \(.exit) \(.iter) \(.reason)"' failed.json
	assert_output "failed s1-2 true eenn-train 70 0 eenn-train: cand/s1-2/eenn.rec: record 1: injected failure"
	! rec2json run/archive.rec | grep -q '"id":"s1-2"'
	[ "$(nrec < run/archive.rec)" -eq 4 ]
	# NSGA-II knows the failed genome and does not propose it again
	grep -q 'only rule out their genomes' run/iter/1/nsga-step.log
	g=$(jq -c .genome failed.json)
	! rec2json run/iter/1/eenn.rec | jq -c .genome | grep -qxF "$g"
	grep -q '^## Failed candidates' run/report.md
	grep -q '^| s1-2 | 0 | eenn-train | 70 | .*injected failure |$' run/report.md
}

@test "--resume after a kill mid-training loses only the candidates in training" {
	# Kill the run while iteration 1 trains.
	SLEEP_S=2 setsid bash -c 'echo $$ > pgid; exec nachos "$@" 2> log1' - "${tiny[@]}" --iterations 2 -j 1 run &
	for i in $(seq 3000); do        # up to 5 min: a loaded machine is slow
		grep -qs '^i1-' run/train-started && break
		sleep 0.1
	done
	grep -qs '^i1-' run/train-started
	# while it runs, the run directory is locked
	run --separate-stderr nachos --resume run
	assert_failure 73
	[[ $stderr == *"run is in use by another nachos"* ]]
	# a crash: every process of the run's session (parallel gives each job
	# its own process group, not its own session)
	pkill -KILL -s "$(cat pgid)"
	for i in $(seq 50); do pgrep -s "$(cat pgid)" > /dev/null || break; sleep 0.1; done
	[ "$(nrec < run/archive.rec)" -eq 3 ]       # iteration 0 only
	[ ! -e run/report.md ]
	[ ! -s run/cand/i1-0/result.rec ]
	# resume: iteration 0 is not trained again, iteration 1 is finished
	: > run/train-started
	run --separate-stderr nachos --resume run
	assert_success
	[[ $stderr == *"(resumed, preset none)"* ]]
	! grep -q '^s1-' run/train-started
	grep -q '^i1-0$' run/train-started
	rec2json run/archive.rec | jq -r .id > ids
	[ "$(sort -u ids | wc -l)" -eq "$(wc -l < ids)" ]  # nothing twice
	[ "$(grep -c '^s1-' ids)" -eq 3 ]
	[ "$(grep -c '^i1-' ids)" -eq 2 ]
	[ "$(grep -c '^i2-' ids)" -eq 2 ]
	[ -s run/report.md ]
	# --resume takes options over the saved settings, not a preset
	run --separate-stderr nachos --resume run --preset quick
	assert_failure 64
	run --separate-stderr nachos --resume nosuch
	assert_failure 66
}

@test "--resume after the pipeline alone died: jobs that finished are appended, not run again" {
	SLEEP_S=1 setsid bash -c 'echo $$ > pgid; exec nachos "$@" 2> log1' - "${tiny[@]}" run &
	for i in $(seq 3000); do        # up to 5 min: a loaded machine is slow
		grep -qs '^i1-' run/train-started && break
		sleep 0.1
	done
	kill -KILL "$(cat pgid)"          # the pipeline, not parallel nor its jobs
	flock -w 300 run/.lock true       # the orphaned jobs hold the lock to the end
	[ -s run/cand/i1-0/result.rec ] && [ -s run/cand/i1-1/result.rec ]
	[ "$(nrec < run/archive.rec)" -eq 3 ]
	: > run/train-started
	run --separate-stderr nachos --resume run
	assert_success
	[ ! -s run/train-started ]
	[ "$(nrec < run/archive.rec)" -eq 5 ]
	[[ $stderr == *"iteration 1: 2 candidate(s) added to the archive (5 in all), 0 failed"* ]]
}

@test "--patience stops when the hypervolume does not grow" {
	# With the MACs limit out of reach nothing is admissible: HV 0 forever.
	run --separate-stderr nachos "${tiny[@]}" --macs-max 1 --iterations 5 --patience 1 -k 1 run
	assert_success
	[[ $stderr == *"no hypervolume gain for 1 iteration(s): stopping after iteration 1"* ]]
	[ ! -e run/iter/2 ]
	grep -q 'No EENN is admissible; the closest one' run/report.md
	[[ $stderr == *"best (NOT admissible, closest) EENN"* ]]
}

@test "the best admissible EENN is exported: C that builds, ONNX, its figures in export.rec and the report" {
	run --separate-stderr nachos "${tiny[@]}" --acc-min 0 --iterations 0 run
	assert_success
	cd run
	[ -s export.rec ]
	rec2json export.rec | jq -e '.export_int8_top1 > 0 and .flash_bytes_int8 > 0 and .sram_bytes_int8 > 0 and (.onnx_files | length) > 1' > /dev/null
	id=$(rec2json export.rec | jq -r .id)
	[ "$(rec2json export.rec | jq -r .export_dir)" = "export/$id" ]
	# the one the report calls best
	[ "$id" = "$(pareto -q -f rec --acc-min 0 --macs-max 4e6 archive.rec | rec2json | jq -r 'select(.knee) | .id')" ]
	(cd "export/$id/int8" && cc -std=c99 -O2 ./*.c -lm -o eenn)
	grep -q '^## Deployment' report.md
	grep -q "^| int8 C | export/$id/int8/ | [0-9]* B | [0-9]* B | [0-9.]*% | [0-9]* |\$" report.md
	[[ $stderr == *"nachos: exported to export/$id: int8 C "*" B flash, "*" B SRAM, test accuracy "* ]]
}

@test "no admissible EENN: nothing exported, the report says so" {
	run --separate-stderr nachos "${tiny[@]}" --macs-max 1 --iterations 0 run
	assert_success
	[ ! -e run/export.rec ] && [ ! -e run/export ]
	grep -q '^No admissible EENN: nothing exported.$' run/report.md
}

@test "presets: quick and paper resolve to the documented settings; options override them" {
	for p in quick paper; do
		[ -f "$TOP/examples/$p.conf" ]
		( . "$TOP/examples/$p.conf" && [ -n "$N_START" ] && [ -n "$ITERATIONS" ] )
	done
	( . "$TOP/examples/paper.conf"
	  [ "$N_START" = 100 ] && [ "$ITERATIONS" = 30 ] && [ "$K" = 8 ] && [ "$POP" = 40 ] &&
	  [ "$GENS" = 20 ] && [ "$MU" = 10,5,5 ] && [ "$OMEGA" = 1,1,1 ] && [ "$PATIENCE" = 10 ] )
	# a preset's settings under the options given: resolved in config,
	# stopped before training by a failing supernet-free run of 0 jobs
	FAIL_ID=s1-0 run --separate-stderr nachos --preset quick "${tiny[@]}" --n-start 2 --iterations 0 --no-cost run
	( . run/config && [ "$PRESET" = quick ] && [ "$N_START" = 2 ] && [ "$OMEGA" = 1,0,1 ] &&
	  [ "$SUPERNET" = none ] && [ "$ACC_MIN" = 0.5 ] )
	FAIL_ID=s1-0 run --separate-stderr nachos --preset quick "${tiny[@]}" --n-start 2 --iterations 0 --no-peak run2
	( . run2/config && [ "$OMEGA" = 1,1,0 ] )
	grep -q -- '--omega2 1 --omega3 0' run2/job.sh
	# the ablations name their search in the candidates' records
	[ "$(cat run/cand/*/eenn.rec | rec2json | jq -r .search | sort -u)" = nachos-nc ]
	[ "$(cat run2/cand/*/eenn.rec | rec2json | jq -r .search | sort -u)" = nachos-np ]
}

@test "the supernet: ofa-train once per run, used by the jobs, continued on resume" {
	ofa=(--ofa-args "--epochs 1 --subset 100 --calib 50 --batch 25 --threads 1")
	run --separate-stderr nachos "${tiny[@]}" --supernet "" "${ofa[@]}" --n-start 2 --iterations 0 run
	assert_success
	[[ $stderr == *"training the supernet: ofa-train --epochs 1 "* ]]
	[ -s run/supernet.ckpt ]
	rec2json run/supernet.rec | jq -e '.method == "ofa" and .in_ch == 1 and .epochs == 1'
	grep -q -- '--supernet supernet.ckpt ' run/job.sh
	( . run/config && [ -z "$SUPERNET" ] )
	# finished: not trained again
	run --separate-stderr nachos --resume run
	assert_success
	[[ $stderr != *"supernet"* ]]
	# killed during the supernet (a checkpoint, no result record): continued
	rm run/supernet.rec
	run --separate-stderr nachos --resume run
	assert_success
	[[ $stderr == *"continuing the supernet: ofa-train --resume"* ]]
	[ -s run/supernet.rec ]
}

@test "--eval shared: candidates evaluated with the supernet's weights; --final fine-tunes the front's top" {
	ofa=(--ofa-args "--epochs 1 --subset 100 --calib 50 --batch 25 --threads 1")
	run --separate-stderr nachos "${tiny[@]}" --supernet "" "${ofa[@]}" --eval shared \
	    --shared-mu 1,0 --final 2 --acc-min 0.01 run
	assert_success
	cd run
	# the jobs: the shared evaluation for the search, the full trainer for the final ones
	grep -q -- '--mu1 1 --mu2 1 --mu3 1 .* --eval shared --mu2 1 --mu3 0 ' job.sh
	grep -q -- '--mu1 1 --mu2 1 --mu3 1 ' final.sh
	! grep -q -- '--eval' final.sh
	grep -q 'd=final/$1' final.sh
	( . ./config && [ "$EVAL" = shared ] && [ "$SHARED_MU" = 1,0 ] && [ "$FINAL" = 2 ] )
	rec2json archive.rec | jq -s -e 'length == 5 and (map(.eval == "shared" and .cached > 0) | all)'
	# final: the admissible front's two best on validation, fine-tuned (three phases)
	[ "$(wc -l < final/ids)" -eq 2 ]
	rec2json final.rec | jq -s -e 'length == 2 and (map((.eval | not) and (.phases | length) == 3 and .top1_ee_val != null) | all)'
	[ "$(rec2json final.rec | jq -r .id)" = "$(cat final/ids)" ]
	top=$(pareto -q -f rec --acc-min 0.01 --macs-max 4e6 archive.rec | rec2json |
	    jq -s -r 'map(select(.admissible)) | max_by(.top1_ee_val) | .top1_ee_val')
	[ "$(rec2json archive.rec | jq -r "select(.id == \"$(head -1 final/ids)\") | .top1_ee_val")" = "$top" ]
	grep -q "^## Final fine-tuning" report.md
	[ "$(grep -c "^| [a-z][0-9]*-[0-9]* | [0-9.]*% | [0-9.]*% | [0-9]* | [0-9.]*% | [0-9.]*% | [0-9]* | \(yes\|no\) |$" report.md)" -eq 2 ]
	# resumed: the final ones are not trained again
	cd ..
	run --separate-stderr nachos --resume run
	assert_success
	[[ $stderr != *"final: fine-tuning"* ]]
	# bad settings
	for args in "--eval nosuch" "--eval shared --supernet none" "--final 2" "--shared-mu 1"; do
		run --separate-stderr nachos "${tiny[@]}" $args r2
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
	done
}
