#!/bin/bash
# supernet-check.sh OUT [SUPERNET]: issue 4's supernet checks on
# Fashion-MNIST (32x32x1). For the all-min, mid (k5 e4 d3) and all-max
# subnets it measures the test accuracy of
#   sup     the subnet extracted from the supernet with BN recalibration,
#   scratch the subnet trained from random initialisation for the
#           supernet's machine time (its wall time x its threads, in CPU
#           seconds of one thread: the most efficient way to spend them),
#   ft1     one epoch of fine-tuning from the supernet,
#   rand1   one epoch from random initialisation,
# and prints a table (and OUT/check.tsv). SUPERNET is a checkpoint with its
# ofa-train result record beside it (supernet.ckpt and supernet.rec, as in a
# nachos run directory); without it the quick one is trained first. Every
# training uses eenn-train's defaults (SGD 0.9, lr 0.05 cosine, batch 128,
# crop+flip) on the whole training set. NO_SCRATCH=1 leaves out the long
# scratch runs (their columns read -).
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../bin:$PATH
data=${DATA:-/usr/share/datasets/fashion-mnist}
[ $# -ge 1 ] || { echo "usage: supernet-check.sh out [supernet]" >&2; exit 64; }
out=$1
mkdir -p "$out"
if [ $# -ge 2 ]; then
	sup=$(realpath "$2")
	rec=${sup%.ckpt}.rec
	[ -s "$rec" ] || { echo "supernet-check.sh: $rec: the supernet's result record is missing" >&2; exit 66; }
	cd "$out"
else
	cd "$out"
	sup=$PWD/supernet.ckpt rec=$PWD/supernet.rec
	[ -s "$rec" ] || ofa-train --preset quick --data "$data" --in-ch 1 -o "$sup" > "$rec"
fi
# The budget: core-seconds the supernet had.
budget=$(rec2json < "$rec" | jq '.wall * .threads')
echo "supernet: $(rec2json < "$rec" | jq -c '{wall, threads, epochs, n_train}'), budget $budget CPU s" >&2

ofa-sample --extremes -n 2 --in-ch 1 | rec2json > extremes.json
{
	jq -c 'select(.id == "s1-0") | .id = "min"' extremes.json
	jq -c 'select(.id == "s1-0") | .id = "mid" | .ks = [range(20) | 5] | .e = [range(20) | 4] |
	    .d = [range(5) | 3] | .genome = [range(45) | 1] + [1, 1, 1, 1]' extremes.json
	jq -c 'select(.id == "s1-1") | .id = "max"' extremes.json
} > archs.json

train() { # name arch.rec eenn-train-args...: its result record, test accuracy on stdout
	local n=$1 a=$2
	shift 2
	[ -s "$n.rec" ] || eenn-train --data "$data" --method backbone --subset 0 --threads 1 \
	    -o "$n.ckpt" "$@" "$a" > "$n.rec" 2> "$n.log"
}
printf 'subnet\tsup\tscratch\tscratch_epochs\tscratch_cpu\tft1\trand1\n' > check.tsv
for id in min mid max; do
	jq -c "select(.id == \"$id\")" archs.json | json2rec > "$id.arch"
	[ -s "$id-sup.rec" ] || ofa-train --extract "$sup" --data "$data" --eval --threads 1 \
	    -o "$id-sup.ckpt" "$id.arch" > "$id-sup.rec" 2> "$id-sup.log"
	train "$id-rand1" "$id.arch" --epochs 1
	train "$id-ft1" "$id.arch" --epochs 1 --supernet "$sup"
	# Epochs that fit the budget, from what one epoch cost (its evaluation
	# included, so the scratch run errs on the short side).
	ep=$(rec2json < "$id-rand1.rec" | jq --argjson b "$budget" '[($b / .cpu) | floor, 1] | max')
	acc() { rec2json < "$1" | jq -r "$2"; }
	sa=- sc=-
	if [ -z "${NO_SCRATCH-}" ]; then
		train "$id-scratch" "$id.arch" --epochs "$ep"
		sa=$(acc "$id-scratch.rec" .acc_test) sc=$(acc "$id-scratch.rec" .cpu)
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$(acc "$id-sup.rec" .acc_test)" \
	    "$sa" "$ep" "$sc" "$(acc "$id-ft1.rec" .acc_test)" "$(acc "$id-rand1.rec" .acc_test)" \
	    >> check.tsv
done
column -t check.tsv
