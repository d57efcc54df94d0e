#!/bin/bash
# shared-cost.sh OUT SUPERNET: issue 18's cost per candidate of each
# evaluation mode, side by side in one run, on one thread: the all-min and
# the all-max EENN of Fashion-MNIST 32x32x1 (ofa-sample --extremes |
# eec-place) through
#   shared0   eenn-train --eval shared, no head epochs
#   shared    eenn-train --eval shared --mu2 1 --mu3 1 (5000 cached images)
#   finetune  the quick preset's trainer: --mu1 2 --mu2 4 --mu3 2
#             --freeze-backbone on 24000 images
# each followed by thresh-tune. Prints a table of wall and CPU seconds
# (eenn-train's own, from its result record) and the tuned validation
# figures, and writes OUT/cost.tsv. Steps already done are not run again.
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../bin:$PATH
data=${DATA:-/usr/share/datasets/fashion-mnist}
[ $# -eq 2 ] || { echo "usage: shared-cost.sh out supernet" >&2; exit 64; }
out=$1
sup=$(realpath "$2")
mkdir -p "$out"
cd "$out"
common=(--data "$data" --subset 24000 --threads 1 --supernet "$sup" --seed 1 --batch 128
    --lr 0.05 --macs-max 2.7e6 --acc-min 0.85)
[ -s ext.rec ] || ofa-sample --extremes -n 2 --in-ch 1 --classes 10 --resolution 32 |
    eec-place > ext.rec
rec2json ext.rec > ext.json
printf 'net\tmode\twall_s\tcpu_s\ttop1_ee_val\tavg_macs_val\n' > cost.tsv
for i in 1 2; do
	net=$([ "$i" = 1 ] && echo min || echo max)
	sed -n "${i}p" ext.json | json2rec > "$net.rec"
	for mode in shared0 shared finetune; do
		case $mode in
		shared0) args=(--eval shared --mu2 0 --mu3 0) ;;
		shared) args=(--eval shared --mu2 1 --mu3 1 --cache 5000) ;;
		finetune) args=(--mu1 2 --mu2 4 --mu3 2 --freeze-backbone) ;;
		esac
		r=$net-$mode
		if [ ! -s "$r.tuned" ]; then
			eenn-train "${common[@]}" "${args[@]}" --exo "$r.exo" "$net.rec" > "$r.rec" 2> "$r.log"
			thresh-tune --rule cumulative --acc-min 0.85 --macs-max 2.7e6 "$r.rec" > "$r.tuned"
		fi
		printf '%s\t%s\t%s\n' "$net" "$mode" "$(rec2json "$r.tuned" |
		    jq -r '[(.wall * 10 | round / 10), (.cpu * 10 | round / 10), (.top1_ee_val * 10000 | round / 10000), (.avg_macs_val | round)] | @tsv')"
	done
done >> cost.tsv
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
column -t cost.tsv
