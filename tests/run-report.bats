#!/usr/bin/env bats
# run-report: two methods x three seeds of hand-made run directories, every
# table's numbers worked by hand, the Friedman test, hypervolume with one
# reference, records on stdin, figures, and every class of bad input.
load helper
bats_require_minimum_version 1.5.0

# rec ID ITER ACC_VAL MACS_VAL [JSON object of keys to set]: a result
# record with every key thresh-tune adds (test figures = validation ones,
# three exits) unless set.
rec() {
	jq -nc --arg id "$1" --argjson it "$2" --argjson av "$3" --argjson mv "$4" \
	    --argjson o "${5:-{\}}" '
	{type: "result", v: 1, id: $id, iter: $it, top1_ee_val: $av, avg_macs_val: $mv,
	 top1_ee_test: $av, avg_macs: $mv, top1_backbone_test: 0.9, feasible: true,
	 thresholds: [0.5, 0.5], exit_spent: [1e6, 2e6, 3e6], exit_cost: [1e6, 1.5e6, 2.5e6],
	 utilization: [0.4, 0.3, 0.3], ece: [0.1, 0.1, 0.05], rule: "cumulative"} + $o'
}

# run DIR SEED BEST_KEYS [R2_ACC R2_MACS]: a run directory with a config
# (no SEED line when SEED is empty) at acc >= 0.85, MACs <= 2.7M, and three
# records (validation error / MACs): r0 .20/3M (over the MACs limit), r1
# .14/2M at iteration 0, r2 .10/2.5M (or R2's) at iteration 1 with
# BEST_KEYS. The admissible front is r2, r1: two points, so the knee is
# the more accurate, r2.
run_dir() {
	mkdir -p "$1"
	{ [ -n "$2" ] && echo "SEED=$2"; echo "ACC_MIN=0.85"; echo "MACS_MAX='2.7e6'"; } > "$1/config"
	{
		rec r0 0 0.80 3e6
		rec r1 0 0.86 2e6
		rec r2 1 "${4:-0.90}" "${5:-2.5e6}" "$3"
	} | json2rec > "$1/archive.rec"
}

# Method A's best EENNs: test accuracy .88 .89 .90, avg MACs 2.4 2.5 2.6M,
# B = 3 3 4; method B's: .80 .81 .82 at 3.0 2.9 2.8M (over the limit), r2
# at .88/2.6M on validation. B's configs name no seed: seeds 1 2 3 by
# position.
runs() {
	run_dir A1 1 '{"top1_ee_test":0.88,"avg_macs":2.4e6,"thresholds":[0.5,0.6],"utilization":[0.5,0.3,0.2],"ece":[0.05,0.1,0.02]}'
	run_dir A2 2 '{"top1_ee_test":0.89,"avg_macs":2.5e6,"thresholds":[0.5,0.8],"utilization":[0.6,0.3,0.1],"ece":[0.06,0.1,0.02]}'
	run_dir A3 3 '{"top1_ee_test":0.90,"avg_macs":2.6e6,"thresholds":[0.2,0.4,0.9],"exit_spent":[1e6,2e6,3e6,4e6],"exit_cost":[1e6,1.5e6,2.5e6,3.5e6],"utilization":[0.4,0.2,0.1,0.3],"ece":[0.07,0.1,0.1,0.02]}'
	run_dir B1 "" '{"top1_ee_test":0.80,"avg_macs":3.0e6}' 0.88 2.6e6
	run_dir B2 "" '{"top1_ee_test":0.81,"avg_macs":2.9e6}' 0.88 2.6e6
	run_dir B3 "" '{"top1_ee_test":0.82,"avg_macs":2.8e6}' 0.88 2.6e6
}

ARGS="A=A1 A=A2 A=A3 B=B1 B=B2 B=B3"

# has LINE: out.md holds exactly this line.
has() {
	grep -Fqx -- "$1" out.md || { echo "missing: $1"; grep -F -- "${1%%|*}|" out.md | head -20; return 1; }
}

is_png() {
	[ "$(head -c 8 "$1" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
}

@test "-h prints the usage and exits 0" {
	run run-report -h
	assert_success
	assert_line --index 0 "usage: run-report [-h] [-o file] [--plots dir] [--acc-min acc] [--macs-max macs]"
	assert_line --index 2 "                  [--seed-key key] [--bins n] [--flash-max bytes] [--sram-max bytes]"
	assert_line --index 3 "                  [--target name] [--mem-dtype int8|f32] [method=rundir ...]"
}

@test "bad options and operands exit 64 with nothing on stdout" {
	runs
	for args in "-x" "--acc-min 1.5" "--acc-min x" "--macs-max 0" "--knee elbow" "--ref 1" \
	    "--ref 1,0" "--bins 1" "--bins x" "A1" "=A1" "A=" "A|B=A1" "A=A1 A=A1"; do
		run --separate-stderr run-report $args A=A2
		[ "$status" -eq 64 ] || { echo "$args: exit $status"; return 1; }
		[ -z "$output" ] || { echo "$args: output on stdout"; return 1; }
		[ -n "$stderr" ]
	done
	run --separate-stderr run-report A1
	[[ $stderr == *'"A1" is not method=rundir'* ]]
	run --separate-stderr run-report A=A1 A=A1
	[[ $stderr == *'method A: A1 and A1 both have seed 1'* ]]
}

@test "two methods x three seeds: the runs, Table II, thresholds, by hand" {
	runs
	run-report $ARGS > out.md
	has "| A | 1 | A1 | 3 | 1 | acc ≥ 85.00%, MACs ≤ 2.700M | r2 | 1 | yes | 90.00 | 2.500 | 88.00 | 2.400 | 3 | 0.5, 0.6 | – | – |"
	has "| A | 3 | A3 | 3 | 1 | acc ≥ 85.00%, MACs ≤ 2.700M | r2 | 1 | yes | 90.00 | 2.500 | 90.00 | 2.600 | 4 | 0.2, 0.4, 0.9 | – | – |"
	has "| B | 2 | B2 | 3 | 1 | acc ≥ 85.00%, MACs ≤ 2.700M | r2 | 1 | yes | 88.00 | 2.600 | 81.00 | 2.900 | 3 | 0.5, 0.5 | – | – |"
	# A: B 3,3,4 -> 3.33, sample std sqrt(((1/3)^2 * 2 + (2/3)^2) / 2) =
	# 0.577; avg MACs 2.4,2.5,2.6 -> 2.500 ± 0.100; backbone MACs (the
	# final exit_cost) 2.5,2.5,3.5 -> 2.833 ± 0.577; accuracy 88,89,90 ->
	# 89.00 ± 1.00; every best admissible, within both limits on test; one
	# record in three (r0) over the MACs limit in every archive
	has "| A | 3 | 3.33 ± 0.58 | 2.500 ± 0.100 | 2.833 ± 0.577 | 89.00 ± 1.00 | 90.00 ± 0.00 | 3/3 | 3/3 | 0/3 | 33.3 ± 0.0 |"
	# B: over the MACs limit on test in every seed (3.0, 2.9, 2.8M)
	has "| B | 3 | 3.00 ± 0.00 | 2.900 ± 0.100 | 2.500 ± 0.000 | 81.00 ± 1.00 | 90.00 ± 0.00 | 3/3 | 0/3 | 3/3 | 33.3 ± 0.0 |"
	# ε1 .5,.5,.2 -> .4, std sqrt((.01 + .01 + .04) / 2) = .173; ε2
	# .6,.8,.4 -> .6 ± .2; ε3 only seed 3
	has "| A | 0.400 ± 0.173 | 0.600 ± 0.200 | 0.900 |"
	has "| B | 0.500 ± 0.000 | 0.500 ± 0.000 | – |"
}

@test "accuracy at matched MACs: the best validation record within each cap, by hand" {
	runs
	run-report $ARGS > out.md
	# limit 2.7M: caps .675M and 1.35M buy nothing; 2.025M buys r1 (.86 at
	# 2M, its test figures the same); 2.7M buys r2: A's test .88 .89 .90 at
	# 2.4 2.5 2.6M, B's .80 .81 .82 at 3.0 2.9 2.8M
	has "| 0.25 | – (0/3) | – (0/3) |"
	has "| 0.75 | 86.00 ± 0.00 @ 2.000 ± 0.000 (3/3) | 86.00 ± 0.00 @ 2.000 ± 0.000 (3/3) |"
	has "| 1.00 | 89.00 ± 1.00 @ 2.500 ± 0.100 (3/3) | 81.00 ± 1.00 @ 2.900 ± 0.100 (3/3) |"
	# r2 marked infeasible in A1: r1 is what A1's budget buys
	rec2json A1/archive.rec | jq -c 'if .id == "r2" then .feasible = false else . end' |
	    json2rec > x.rec
	mv x.rec A1/archive.rec
	run-report $ARGS > out.md
	has "| 1.00 | 88.33 ± 2.08 @ 2.367 ± 0.321 (3/3) | 81.00 ± 1.00 @ 2.900 ± 0.100 (3/3) |"
}

@test "Tables III and IV: exits aligned from the input, the final exit apart" {
	runs
	run-report $ARGS > out.md
	# utilisation of exit 1: .5 .6 .4 -> 50 ± 10; exit 2: .3 .3 .2 ->
	# 26.67 ± 5.77; exit 3: seed 3 alone; final .2 .1 .3 -> 20 ± 10
	has "| A | 1 | 3 | 1.000 ± 0.000 | 1.000 ± 0.000 | 50.00 ± 10.00 |"
	has "| A | 2 | 3 | 2.000 ± 0.000 | 1.500 ± 0.000 | 26.67 ± 5.77 |"
	has "| A | 3 | 1 | 3.000 | 2.500 | 10.00 |"
	has "| A | final | 3 | 3.333 ± 0.577 | 2.833 ± 0.577 | 20.00 ± 10.00 |"
	has "| B | final | 3 | 3.000 ± 0.000 | 2.500 ± 0.000 | 30.00 ± 0.00 |"
	# B's networks have two intermediate exits: no third row
	sed -n '/^## Per-exit/,/^## Expected/p' out.md > t3
	run grep -c '^| B | 3 |' t3
	[ "$output" -eq 0 ]
	# ECE: exit 1 .05 .06 .07 -> .06 ± .01
	has "| A | 0.0600 ± 0.0100 | 0.1000 ± 0.0000 | 0.1000 | 0.0200 ± 0.0000 |"
	has "| B | 0.1000 ± 0.0000 | 0.1000 ± 0.0000 | – | 0.0500 ± 0.0000 |"
	# what ran, when thresh-tune says (exit 1's head not run, thr.h)
	for d in B1 B2 B3; do
		rec2json "$d/archive.rec" | jq -c '.exit_spent_run = [1e6, 1.7e6, 2.7e6]' |
		    json2rec > x.rec && mv x.rec "$d/archive.rec"
	done
	run-report $ARGS > out.md
	has "| B | 2 | 3 | 1.700 ± 0.000 | 1.500 ± 0.000 | 30.00 ± 0.00 |"
	has "| B | final | 3 | 2.700 ± 0.000 | 2.500 ± 0.000 | 30.00 ± 0.00 |"
}

@test "Friedman: A better in every seed gives chi2 = seeds, p from the chi2 tail" {
	runs
	run-report $ARGS > out.md
	# ranks 1 and 2 in each of n = 3 blocks: R = 3, 6; chi2 = 12 / (n k
	# (k+1)) (9 + 36) - 3 n (k+1) = 12/18 * 45 - 27 = 3, df 1, p =
	# erfc(sqrt(3/2)) = 0.08326
	has "| top-1 error (test) | 3 | 3.0000 | 1 | 0.08326 | 1.00 | 2.00 |"
	has "| avg MACs (test) | 3 | 3.0000 | 1 | 0.08326 | 1.00 | 2.00 |"
	has "| hypervolume (last iteration, higher is better) | 3 | 3.0000 | 1 | 0.08326 | 1.00 | 2.00 |"
}

@test "Friedman: three methods with a tie, worked by hand" {
	runs
	# C ties A on error in seeds 1 and 2 and is worst in seed 3:
	# ranks (A, B, C) 1.5 3 1.5 / 1.5 3 1.5 / 1 3 2 -> R = 4, 9, 5;
	# sum R^2 = 122; chi2 = 12 / (3 * 3 * 4) * 122 - 3 * 3 * 4 = 4.6667;
	# ties: two groups of two, sum (t^3 - t) = 12, correction
	# 1 - 12 / (3 * 3 * 8) = 0.8333, chi2 = 5.6, df 2, p = exp(-2.8) = 0.06081
	run_dir C1 1 '{"top1_ee_test":0.88}'
	run_dir C2 2 '{"top1_ee_test":0.89}'
	run_dir C3 3 '{"top1_ee_test":0.85}'
	run-report $ARGS C=C1 C=C2 C=C3 > out.md
	has "| top-1 error (test) | 3 | 5.6000 | 2 | 0.06081 | 1.33 | 3.00 | 1.67 |"
}

@test "post-hoc: Wilcoxon, Holm and Nemenyi per pair, by hand" {
	runs
	run-report --ref 0.2,3e6 $ARGS > out.md
	# A better in all 3 seeds: exact Wilcoxon 2 / 2^3 = 0.25, one pair so
	# Holm leaves it; Nemenyi with k = 2, n = 3, mean ranks 1 and 2:
	# P(|N(0, 2)| >= sqrt(2) / sqrt(2 * 3 / 18)) = erfc(sqrt(3/2)) = 0.08326,
	# Friedman's p, as it must be for two methods
	has "| top-1 error (test) | A vs B | -8 points | 3 / 0 / 0 | 0.25 | 0.25 | 0.08326 |"
	has "| avg MACs (test) | A vs B | -0.4 M MACs | 3 / 0 / 0 | 0.25 | 0.25 | 0.08326 |"
	has "| hypervolume (last iteration, higher is better) | A vs B | +0.02 | 3 / 0 / 0 | 0.25 | 0.25 | 0.08326 |"
	grep -qF 'With 3 seeds no Wilcoxon p can be below 0.25' out.md
	# C ties A on error in seeds 1, 2 and is 5 points worse in 3: the
	# zeros dropped, one pair left, p = 1; Holm over the three pairs
	# (.25, 1, .25): .75, 1, .75
	run_dir C1 1 '{"top1_ee_test":0.88}'
	run_dir C2 2 '{"top1_ee_test":0.89}'
	run_dir C3 3 '{"top1_ee_test":0.85}'
	run-report $ARGS C=C1 C=C2 C=C3 > out.md
	grep -F '| top-1 error (test) | A vs B | -8 points | 3 / 0 / 0 | 0.25 | 0.75 |' out.md
	grep -F '| top-1 error (test) | A vs C | -1.667 points | 1 / 2 / 0 | 1 | 1 |' out.md
	grep -F '| top-1 error (test) | B vs C | +6.333 points | 0 / 0 / 3 | 0.25 | 0.75 |' out.md
	# every seed tied: no p
	has "| hypervolume (last iteration, higher is better) | A vs C | +0 | 0 / 3 / 0 | – | – | 1 |"
}

@test "hypervolume against wall time: each run's value by then, by hand" {
	runs
	# A's iterations end at 100 s and 300 s, B's at 50 s and 400 s; values
	# as in the hypervolume test: A .1 then .1333, B .1 then .1133
	for d in A1 A2 A3 B1 B2 B3; do
		case $d in A*) t0=100 t1=300 ;; *) t0=50 t1=400 ;; esac
		rec2json $d/archive.rec | jq -c --argjson a $t0 --argjson b $t1 \
		    '.t_s = (if .iter == 0 then $a else $b end)' | json2rec > x.rec
		mv x.rec $d/archive.rec
	done
	run-report --ref 0.2,3e6 $ARGS > out.md
	grep -qF "fractions of the longest run's last iteration (400 s)" out.md
	has "| 50 | 0.0000 ± 0.0000 | 0.1000 ± 0.0000 |"
	has "| 100 | 0.1000 ± 0.0000 | 0.1000 ± 0.0000 |"
	has "| 300 | 0.1333 ± 0.0000 | 0.1000 ± 0.0000 |"
	has "| 400 | 0.1333 ± 0.0000 | 0.1133 ± 0.0000 |"
	# one record without t_s: not available, said so
	rec2json B2/archive.rec | jq -c 'del(.t_s)' | json2rec > x.rec
	mv x.rec B2/archive.rec
	run-report --ref 0.2,3e6 $ARGS > out.md
	grep -qF 'Not available: some records have no `t_s`' out.md
	! grep -q '^| 400 |' out.md
}

@test "a network with its final exit alone: B 1, no thresholds" {
	runs
	run_dir C1 1 '{"thresholds":[],"exit_spent":[3e6],"exit_cost":[2.5e6],"utilization":[1],"ece":[0.03]}'
	run-report $ARGS C=C1 > out.md
	has "| C | 1 | C1 | 3 | 1 | acc ≥ 85.00%, MACs ≤ 2.700M | r2 | 1 | yes | 90.00 | 2.500 | 90.00 | 2.500 | 1 | – | – | – |"
	has "| C | 1 | 1.00 | 2.500 | 2.500 | 90.00 | 90.00 | 1/1 | 1/1 | 0/1 | 33.3 |"
	has "| C | – | – | – |"
	has "| C | final | 1 | 3.000 | 2.500 | 100.00 |"
	has "| C | – | – | – | 0.0300 |"
}

@test "paired records: same seed, id and genome, differences by hand" {
	mkdir P Q
	printf 'SEED=1\nACC_MIN=0.85\nMACS_MAX=2.7e6\n' | tee P/config > Q/config
	{
		rec r0 0 0.86 2e6 '{"genome":[0,1],"exp_macs_val":2e6}'
		rec r1 0 0.88 2.5e6 '{"genome":[1,1],"exp_macs_val":3e6}'
		rec r2 1 0.90 2.6e6 '{"genome":[2,2],"exp_macs_val":3e6}'
	} | json2rec > P/archive.rec
	# r2 has another genome and r3 another id: not pairs; r1 over the MACs
	# limit; without genomes (the runs above) no record pairs
	{
		rec r0 0 0.87 2.2e6 '{"genome":[0,1],"exp_macs_val":2.4e6}'
		rec r1 0 0.88 3e6 '{"genome":[1,1],"exp_macs_val":3.3e6}'
		rec r2 1 0.90 2e6 '{"genome":[3,3],"exp_macs_val":2e6}'
		rec r3 1 0.90 2e6 '{"genome":[2,2],"exp_macs_val":2e6}'
	} | json2rec > Q/archive.rec
	run-report A=P B=Q > out.md
	# MACs +10%, +20%: 15.00, std 7.07; expected +20%, +10%; accuracy +1, 0
	# points: 0.50 ± 0.71; admissible r0, r1 in P, r0 alone in Q
	has "| B | 1 | 2 | 15.00 ± 7.07 | 15.00 ± 7.07 | 0.50 ± 0.71 | 2 | 1 |"
	run-report A=Q B=P > out.md
	# the other way round: 2/2.2 - 1, 2.5/3 - 1 -> -12.88 ± 5.36 both
	has "| B | 1 | 2 | -12.88 ± 5.36 | -12.88 ± 5.36 | -0.50 ± 0.71 | 1 | 2 |"
	runs
	run-report $ARGS > out.md
	grep -q "^No record of another method's run has the id and genome of one of A's runs of the same seed\.$" out.md
	run-report A=A1 > out.md
	! grep -q "Paired records" out.md
}

@test "Friedman not computable: one method, one common seed, all ties" {
	runs
	run-report A=A1 A=A2 A=A3 > out.md
	grep -q '^Not computable: the test needs at least 2 methods and 2 seeds every method has (here 1 method, 3 common seeds)\.$' out.md
	run-report A=A1 A=A2 B=B1 > out.md
	grep -q '(here 2 methods, 1 common seed)\.$' out.md
	# B's runs again as C: identical figures in every seed
	run-report B=B1 B=B2 C=B1 C=B2 > out.md
	grep -q '^| top-1 error (test) | 2 | not computable: every seed ties |' out.md
}

@test "hypervolume: one reference for every run, by hand; a run that stops keeps its value" {
	runs
	# with ref (0.2, 3M), area 600000: A at iteration 0 only r1:
	# (.2-.14)(3-2)M = 60000 -> .1; at 1 r2 adds .1 x .5M = 50000 and r1
	# keeps .06 x .5M: 80000 -> .1333; B's r2 (.12, 2.6M): .08 x .4M +
	# .06 x .6M = 68000 -> .1133
	run-report --ref 0.2,3e6 $ARGS > out.md
	has "| 0 | 0.1000 ± 0.0000 | 0.1000 ± 0.0000 |"
	has "| 1 | 0.1333 ± 0.0000 | 0.1133 ± 0.0000 |"
	grep -qF 'compare across methods: (0.2, 3e+06), given by --ref' out.md
	# iteration 2 in A1 only: (.05, 2.65M) makes .15 x .35M + .1 x .15M +
	# .06 x .5M = 97500 -> .1625; A's mean (.1625 + 2 x .13333) / 3 =
	# .1431, std .0168; the others keep their iteration-1 values
	rec2json A1/archive.rec > a.json
	rec r3 2 0.95 2.65e6 >> a.json
	json2rec < a.json > A1/archive.rec
	run-report --ref 0.2,3e6 $ARGS > out.md
	has "| 2 | 0.1431 ± 0.0168 | 0.1133 ± 0.0000 |"
	# derived: 1.01 x the largest first-iteration error and MACs over every
	# run; B3's r0 at error .3 moves A's reference too: (.303, 3.03M),
	# A at 0: .163 x 1.03M / (.303 x 3.03M) = .1829
	run_dir B3 "" '{"top1_ee_test":0.82,"avg_macs":2.8e6}' 0.88 2.6e6
	rec2json B3/archive.rec | sed 's/"top1_ee_val":0.8,/"top1_ee_val":0.7,/' | json2rec > b.rec
	mv b.rec B3/archive.rec
	run-report $ARGS > out.md
	has "| 0 | 0.1829 ± 0.0000 | 0.1829 ± 0.0000 |"
	grep -q '(0.303, 3.03e+06), 1.01 × the largest' out.md
}

@test "no admissible EENN: the closest one, flagged; constraints from options, records, config" {
	runs
	# at acc >= .95 nothing is admissible; violations r2 .05/.95, r1
	# .09/.95, r0 .15/.95 + .3/2.7: r2 is the closest
	run-report --acc-min 0.95 $ARGS > out.md
	has "| A | 1 | A1 | 3 | 1 | acc ≥ 95.00%, MACs ≤ 2.700M | r2 | 1 | **no** (closest) | 90.00 | 2.500 | 88.00 | 2.400 | 3 | 0.5, 0.6 | – | – |"
	grep -q '^| A | 3 | .* | 0/3 | 0/3 | 0/3 | 33.3 ± 0.0 |$' out.md
	# a record's acc_min beats the config's; an option beats both
	rec2json A1/archive.rec | sed 's/^{/{"acc_min":0.95,"macs_max":1e6,/' | json2rec > a.rec
	mv a.rec A1/archive.rec
	run-report $ARGS > out.md
	grep -q '^| A | 1 | A1 | 3 | 1 | acc ≥ 95.00%, MACs ≤ 1.000M | r1 | 0 | \*\*no\*\* (closest) |' out.md
	run-report --acc-min 0.5 --macs-max 2.6e6 $ARGS > out.md
	grep -q '^| A | 1 | A1 | 3 | 1 | acc ≥ 50.00%, MACs ≤ 2.600M | r2 | 1 | yes |' out.md
}

@test "pareto and run-report pick the same best trade-off EENN from one archive" {
	# then r2 marked infeasible by thresh-tune: not admissible for either
	# tool, so the admissible front is r1 alone
	for f in '{}' '{"feasible":false}'; do
		run_dir X 1 "$f"
		want=$(pareto -q --acc-min 0.85 --macs-max 2.7e6 X/archive.rec | rec2json |
		    jq -r 'select(.knee) | .id')
		run-report X=X > out.md
		best=$(grep '^| X | 1 | X |' out.md | cut -d'|' -f8 | tr -d ' ')
		[ -n "$want" ] && [ "$best" = "$want" ] || { echo "$f: pareto $want, run-report $best"; return 1; }
	done
	[ "$want" = r1 ]
}

@test "records on stdin: method and seed keys make the runs; the same tables" {
	runs
	run-report $ARGS > dirs.md
	for d in A1 A2 A3 B1 B2 B3; do
		rec2json $d/archive.rec | jq -c --arg m "${d%?}" --argjson s "${d#?}" \
		    '.run = $m | .sd = $s'
	done | json2rec > all.rec
	run-report --method-key run --seed-key sd < all.rec > out.md
	# without configs the constraints come from the records or options
	has "| A | 1 | stdin | 3 | 1 | none | r2 | 1 | yes | 90.00 | 2.500 | 88.00 | 2.400 | 3 | 0.5, 0.6 | – | – |"
	sed 's/acc ≥ 85.00%, MACs ≤ 2.700M/X/' dirs.md | grep -v '^| [AB] | [123] |' > a
	run-report --method-key run --seed-key sd --acc-min 0.85 --macs-max 2.7e6 < all.rec |
	    sed 's/acc ≥ 85.00%, MACs ≤ 2.700M/X/' | grep -v '^| [AB] | [123] |' > b
	diff a b
	# records of other types are skipped
	{ echo '{"type":"hv","v":1,"iter":0}' | json2rec; cat all.rec; } |
	    run-report --method-key run --seed-key sd > c.md
	diff out.md c.md
}

@test "-o writes the report through a temporary file, nothing on stdout" {
	runs
	run-report $ARGS > want.md
	umask 022
	run --separate-stderr run-report -o got.md $ARGS
	assert_success
	[ -z "$output" ]
	diff want.md got.md
	# the umask decides the mode, as for any file a tool creates
	[ "$(stat -c %a got.md)" = 644 ]
	[ "$(ls | grep -c got.md)" -eq 1 ]
	run --separate-stderr run-report -o nodir/r.md $ARGS
	[ "$status" -eq 73 ]
	[ ! -e nodir ]
}

@test "--plots: fronts, hypervolume and confidence histograms as PNG" {
	command -v gnuplot || skip "gnuplot not installed"
	runs
	# exit outputs for each best EENN, paths relative to the run directory
	# (as the pipelines write them), with the run's number of exits
	for d in A1 A2 A3 B1 B2 B3; do
		b=3; [ $d = A3 ] && b=4
		mkdir -p $d/cand/r2
		exo_gen $d/cand/r2/exo.rec 200 $b 10 "${d#?}" > /dev/null
		rec2json $d/archive.rec | jq -c 'if .id == "r2" then .exo = "cand/r2/exo.rec" else . end' |
		    json2rec > x.rec
		mv x.rec $d/archive.rec
	done
	# a method name that is no file name
	run --separate-stderr run-report --plots figs $ARGS "N C=B1"
	assert_success
	[ ! -e figs/hv-time.png ]           # the records have no t_s
	for d in A1 A2 A3 B1 B2 B3; do
		rec2json $d/archive.rec | jq -c '.t_s = 10 * (.iter + 1)' | json2rec > x.rec
		mv x.rec $d/archive.rec
	done
	run --separate-stderr run-report --plots figs $ARGS "N C=B1"
	assert_success
	is_png figs/hv-time.png
	rm figs/hv-time.png
	for f in fronts hv conf-A-s1 conf-A-s2 conf-A-s3 conf-B-s1 conf-B-s2 conf-B-s3 conf-N_C-s1; do
		[ -s figs/$f.png ] || { echo "no figs/$f.png"; return 1; }
		is_png figs/$f.png
	done
	[ "$(ls figs | wc -l)" -eq 9 ]
	[[ $output == *'- `figs/conf-A-s3.png`: confidence histograms per exit, A seed 3 (r2)'* ]]
}

@test "--plots: a figure cut short by a full disk fails and leaves nothing behind" {
	command -v gnuplot || skip "gnuplot not installed"
	runs
	mkdir figs
	# a 2 KiB file size limit with SIGXFSZ ignored stands for the full disk
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 2; exec run-report --plots figs "$@"' \
	    _ $ARGS
	assert_failure 74
	[[ $stderr == *"figs/fronts.png: the figure gnuplot wrote for figs/fronts.png is incomplete"* ]]
	[ "$(ls figs | wc -l)" -eq 0 ]
}

@test "--plots: a best EENN without an exit-outputs key is warned about, not fatal" {
	command -v gnuplot || skip "gnuplot not installed"
	runs
	run --separate-stderr run-report --plots figs A=A1 B=B1
	assert_success
	[[ $stderr == *'A seed 1: best EENN r2 has no exo key: no confidence histograms'* ]]
	is_png figs/fronts.png
	is_png figs/hv.png
	[ "$(ls figs | wc -l)" -eq 2 ]
}

@test "bad input: exit 65/66 naming file, record and key, no report" {
	runs
	run --separate-stderr run-report A=A1 A=nodir
	[ "$status" -eq 66 ]
	[ -z "$output" ]
	[[ $stderr == *'nodir/archive.rec: No such file or directory'* ]]
	# a record without a key thresh-tune writes
	for k in top1_ee_val avg_macs top1_backbone_test ece utilization; do
		run_dir D1 1 "{}"
		rec2json D1/archive.rec | jq -c --arg k $k 'if .id == "r1" then del(.[$k]) else . end' |
		    json2rec > x.rec
		mv x.rec D1/archive.rec
		run --separate-stderr run-report A=A1 D=D1
		[ "$status" -eq 65 ] || { echo "$k: exit $status"; return 1; }
		[ -z "$output" ]
		[[ $stderr == *"D1/archive.rec: record 2: key \"$k\": missing"* ]] ||
		    { echo "$k: $stderr"; return 1; }
	done
	# arrays of the wrong length or type
	run_dir D1 1 '{"thresholds":[0.5]}'
	run --separate-stderr run-report D=D1
	[ "$status" -eq 65 ]
	[[ $stderr == *'D1/archive.rec: record 3: key "thresholds"'* ]]
	run_dir D1 1 '{"rule":"vote"}'
	run --separate-stderr run-report D=D1
	[ "$status" -eq 65 ]
	[[ $stderr == *'record 3: key "rule": "vote" is not one of cumulative, weight, max-softmax, margin, entropy'* ]]
	# an archive with no result records
	mkdir -p E1
	: > E1/archive.rec
	run --separate-stderr run-report E=E1
	[ "$status" -eq 65 ]
	[[ $stderr == *'E1/archive.rec: no result records'* ]]
	# stdin: the method (key "search") and seed keys
	rec r1 0 0.9 1e6 | json2rec > s.rec
	run --separate-stderr run-report < s.rec
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	[[ $stderr == *'stdin: record 1: key "search": missing'* ]]
	rec r1 0 0.9 1e6 '{"search":"A","seed":"one"}' | json2rec > s.rec
	run --separate-stderr run-report < s.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *'stdin: record 1: key "seed"'* ]]
	rec r1 0 0.9 1e6 '{"search":"A|B","seed":1}' | json2rec > s.rec
	run --separate-stderr run-report < s.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *'stdin: record 1: key "search": "A|B" is no method name'* ]]
	# a truncated record
	head -c 50 A1/archive.rec > A1/x && mv A1/x A1/archive.rec
	run --separate-stderr run-report A=A1
	[ "$status" -eq 65 ]
	[[ $stderr == *'A1/archive.rec: record 1'* ]]
	# the exit-outputs file of a best EENN, with --plots
	runs
	rec2json A1/archive.rec | jq -c '.exo = "missing.exo"' | json2rec > x.rec
	mv x.rec A1/archive.rec
	run --separate-stderr run-report --plots figs A=A1
	[ "$status" -eq 66 ]
	[ -z "$output" ]
	[[ $stderr == *'missing.exo'* ]]
	# an exit-outputs file of another network: four exits for three
	exo_gen four.exo 50 4 10 1 > /dev/null
	rec2json A1/archive.rec | jq -c '.exo = "four.exo"' | json2rec > x.rec
	mv x.rec A1/archive.rec
	run --separate-stderr run-report --plots figs A=A1
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	[[ $stderr == *'four.exo: 4 exits, but record r2 of A1 has 3'* ]]
}
