#!/bin/bash
# shared-fidelity.sh OUT SUPERNET: issue 18's fidelity check of weight-shared
# evaluation. N random EENNs (ofa-sample | eec-place, Fashion-MNIST
# 32x32x1) are evaluated three ways, each followed by thresh-tune (rule
# cumulative, 85% / 2.7M MACs as the pipelines' defaults):
#   shared0  eenn-train --eval shared, no epochs: the supernet's backbone
#            and heads as extracted, BN recalibrated;
#   shared   the same plus NACHOS phases 2-3 on the heads over cached
#            features (SHARED_MU epochs, --cache CACHE);
#   ft       NACHOS fine-tuning from the supernet (FT_MU epochs of phases
#            1-3, phases 2-3 with --freeze-backbone as the quick preset).
# It prints Kendall's tau-b, over the candidates done, between shared0's
# (and shared's) validation figures and ft's: top1_ee_val (the early-exit
# accuracy at the tuned thresholds) and avg_macs_val; and writes
# OUT/fidelity.tsv (one row per candidate) and OUT/tau.txt.
#
# Every candidate's step is skipped when its tuned record exists, so a
# killed run goes on where it stopped (run it again); a step is claimed by
# a lock (flock), so several copies of the script may run at once on the
# same OUT and share the work. The cheap evaluations come first, then the
# fine-tunings, then (when SHARED_MU is not 0,0) the shared ones with head
# epochs. Settings (env): N=30 SEED=7 SUBSET=12000 (every evaluation's
# training images, 10% held out for validation) FT_MU=1,2,1 SHARED_MU=1,1
# CACHE=5000 THREADS=1.
# The supernet must have exit heads (ofa-train without --no-exits).
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../bin:$PATH
data=${DATA:-/usr/share/datasets/fashion-mnist}
N=${N:-30} SEED=${SEED:-7} SUBSET=${SUBSET:-12000} FT_MU=${FT_MU:-1,2,1}
SHARED_MU=${SHARED_MU:-1,1} CACHE=${CACHE:-5000} THREADS=${THREADS:-1}
[ $# -eq 2 ] || { echo "usage: shared-fidelity.sh out supernet" >&2; exit 64; }
out=$1
sup=$(realpath "$2")
mkdir -p "$out"
cd "$out"
IFS=, read -r f1 f2 f3 <<< "$FT_MU"
IFS=, read -r s2 s3 <<< "$SHARED_MU"
common=(--data "$data" --subset "$SUBSET" --threads "$THREADS" --supernet "$sup" --seed 1
    --macs-max 2.7e6 --acc-min 0.85 --batch 128 --lr 0.05)
tune=(thresh-tune --rule cumulative --acc-min 0.85 --macs-max 2.7e6)

[ -s cands.rec ] || ofa-sample -n "$N" --seed "$SEED" --in-ch 1 --classes 10 \
    --resolution 32 | eec-place > cands.rec
rec2json cands.rec > cands.json
n=$(wc -l < cands.json)

# run NAME I eenn-train-args...: candidate I (1-based) evaluated one way,
# its thresh-tuned record in NAME-I.tuned.
run() {
	local name=$1 i=$2
	shift 2
	local fd
	[ -s "$name-$i.tuned" ] && return 0
	exec {fd}> "$name-$i.lock"
	flock -n "$fd" || { exec {fd}>&-; return 0; }     # another copy has it
	if [ ! -s "$name-$i.tuned" ]; then
		sed -n "${i}p" cands.json | json2rec > "$name-c$i.rec"
		eenn-train "${common[@]}" "$@" --exo "$name-$i.exo" "$name-c$i.rec" \
		    > "$name-$i.rec" 2> "$name-$i.log"
		"${tune[@]}" "$name-$i.rec" > "$name-$i.tuned.tmp" 2>> "$name-$i.log"
		mv "$name-$i.tuned.tmp" "$name-$i.tuned"
		rm -f "$name-$i.exo" "$name-c$i.rec"
	fi
	exec {fd}>&-
}

# Kendall's tau-b of the x y pairs of stdin (rows with a nan left out),
# and their count.
tau() {
	awk '$1 != "nan" && $2 != "nan" { k++; x[k] = $1; y[k] = $2 }
	END { if (k < 2) { print "nan (n = " k + 0 ")"; exit }
	    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) {
		dx = x[i] - x[j]; dy = y[i] - y[j]; s = dx * dy
		if (s > 0) c++; else if (s < 0) d++
		if (dx != 0) nx++; if (dy != 0) ny++ }
	    if (nx == 0 || ny == 0) { print "nan (n = " k ")"; exit }
	    printf "%.3f (n = %d)\n", (c - d) / sqrt(nx * ny), k }'
}

# report: fidelity.tsv and tau.txt from the steps done, each written whole
# and renamed into place (several copies report while they share the work).
report() {
	local i
	printf 'cand\tshared0_acc\tshared_acc\tft_acc\tshared0_macs\tshared_macs\tft_macs\tshared0_cpu\tshared_cpu\tft_cpu\tshared0_best\tft_best\tshared0_final\tft_final\n' \
	    > fidelity.tsv.$$
	# (a shared run not done yet reads nan)
	get() { if [ -s "$1" ]; then rec2json "$1" | jq "$2"; else echo nan; fi; }
	for i in $(seq 1 "$n"); do
		[ -s "ft-$i.tuned" ] && [ -s "shared0-$i.tuned" ] || continue
		{
			for k in top1_ee_val avg_macs_val; do
				for m in shared0 shared ft; do get "$m-$i.tuned" ".$k"; done
			done
			for m in shared0 shared ft; do get "$m-$i.rec" .cpu; done
			# the best early-exit accuracy on the tuned grid (whatever
			# the constraints), and the final exit's
			for m in shared0 ft; do get "$m-$i.tuned" '[.pareto_grid[].top1_ee_val] | max'; done
			for m in shared0 ft; do get "$m-$i.rec" .acc_val; done
		} | paste -sd '\t' | sed "s/^/$i\t/"
	done >> fidelity.tsv.$$
	mv fidelity.tsv.$$ fidelity.tsv
	{
		echo "candidates: $(($(wc -l < fidelity.tsv) - 1)) of $n; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
		echo "settings: SUBSET=$SUBSET FT_MU=$FT_MU SHARED_MU=$SHARED_MU CACHE=$CACHE THREADS=$THREADS"
		echo "tau top1_ee_val shared0~ft: $(awk 'NR > 1 { print $2, $4 }' fidelity.tsv | tau)"
		echo "tau top1_ee_val shared~ft:  $(awk 'NR > 1 { print $3, $4 }' fidelity.tsv | tau)"
		echo "tau avg_macs_val shared0~ft: $(awk 'NR > 1 { print $5, $7 }' fidelity.tsv | tau)"
		echo "tau avg_macs_val shared~ft:  $(awk 'NR > 1 { print $6, $7 }' fidelity.tsv | tau)"
		echo "tau best grid top1_ee_val shared0~ft: $(awk 'NR > 1 { print $11, $12 }' fidelity.tsv | tau)"
		echo "tau final-exit acc_val shared0~ft: $(awk 'NR > 1 { print $13, $14 }' fidelity.tsv | tau)"
		awk 'NR > 1 { a += $8; c += $10; k++; if ($9 != "nan") { b += $9; kb++ } }
		    END { if (k) printf "mean CPU s per candidate: shared0 %.1f shared %s ft %.1f\n",
		        a / k, kb ? sprintf("%.1f", b / kb) : "-", c / k }' fidelity.tsv
	} > tau.txt.$$
	mv tau.txt.$$ tau.txt
	cat tau.txt
}

for i in $(seq 1 "$n"); do
	run shared0 "$i" --eval shared --mu2 0 --mu3 0
done
for i in $(seq 1 "$n"); do
	run ft "$i" --mu1 "$f1" --mu2 "$f2" --mu3 "$f3" --freeze-backbone
	report > /dev/null
done
if [ "$SHARED_MU" != 0,0 ]; then
	for i in $(seq 1 "$n"); do
		run shared "$i" --eval shared --mu2 "$s2" --mu3 "$s3" --cache "$CACHE"
		report > /dev/null
	done
fi
report
