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
# killed run goes on where it stopped (run it again). Settings (env):
# N=30 SEED=7 SUBSET=12000 (every evaluation's training images, 10% held
# out for validation) FT_MU=1,2,1 SHARED_MU=1,1 CACHE=5000 THREADS=1.
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
	[ -s "$name-$i.tuned" ] && return 0
	sed -n "${i}p" cands.json | json2rec > "c$i.rec"
	eenn-train "${common[@]}" "$@" --exo "$name-$i.exo" "c$i.rec" > "$name-$i.rec" \
	    2> "$name-$i.log"
	"${tune[@]}" "$name-$i.rec" > "$name-$i.tuned.tmp" 2>> "$name-$i.log"
	mv "$name-$i.tuned.tmp" "$name-$i.tuned"
	rm -f "$name-$i.exo"
}

# Kendall's tau-b of columns a and b of the rows of stdin (x y pairs).
tau() {
	awk '{ x[NR] = $1; y[NR] = $2 }
	END { for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) {
		dx = x[i] - x[j]; dy = y[i] - y[j]; s = dx * dy
		if (s > 0) c++; else if (s < 0) d++
		if (dx != 0) nx++; if (dy != 0) ny++ }
	    if (nx == 0 || ny == 0) { print "nan"; exit }
	    printf "%.3f\n", (c - d) / sqrt(nx * ny) }'
}

report() {
	local i
	printf 'cand\tshared0_acc\tshared_acc\tft_acc\tshared0_macs\tshared_macs\tft_macs\tshared0_s\tshared_s\tft_s\n' \
	    > fidelity.tsv
	for i in $(seq 1 "$n"); do
		[ -s "ft-$i.tuned" ] && [ -s "shared-$i.tuned" ] && [ -s "shared0-$i.tuned" ] || continue
		{
			for k in top1_ee_val avg_macs_val; do
				for m in shared0 shared ft; do rec2json "$m-$i.tuned" | jq ".$k"; done
			done
			for m in shared0 shared ft; do rec2json "$m-$i.rec" | jq '.wall'; done
		} | paste -sd '\t' | sed "s/^/$i\t/"
	done >> fidelity.tsv
	{
		echo "candidates: $(($(wc -l < fidelity.tsv) - 1)) of $n; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
		echo "settings: SUBSET=$SUBSET FT_MU=$FT_MU SHARED_MU=$SHARED_MU CACHE=$CACHE THREADS=$THREADS"
		echo "tau top1_ee_val shared0~ft: $(awk 'NR > 1 { print $2, $4 }' fidelity.tsv | tau)"
		echo "tau top1_ee_val shared~ft:  $(awk 'NR > 1 { print $3, $4 }' fidelity.tsv | tau)"
		echo "tau avg_macs_val shared0~ft: $(awk 'NR > 1 { print $5, $7 }' fidelity.tsv | tau)"
		echo "tau avg_macs_val shared~ft:  $(awk 'NR > 1 { print $6, $7 }' fidelity.tsv | tau)"
		awk 'NR > 1 { a += $8; b += $9; c += $10; k++ }
		    END { if (k) printf "mean wall per candidate (s): shared0 %.1f shared %.1f ft %.1f\n",
		        a / k, b / k, c / k }' fidelity.tsv
	} > tau.txt
	cat tau.txt
}

# The cheap evaluations first, then the fine-tunings, a report after each.
for i in $(seq 1 "$n"); do
	run shared0 "$i" --eval shared --mu2 0 --mu3 0
	run shared "$i" --eval shared --mu2 "$s2" --mu3 "$s3" --cache "$CACHE"
done
for i in $(seq 1 "$n"); do
	run ft "$i" --mu1 "$f1" --mu2 "$f2" --mu3 "$f3" --freeze-backbone
	report > /dev/null
done
report
