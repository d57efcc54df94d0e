#!/bin/sh
# eenn-export's code against the engine and ONNX Runtime: per-sample
# latency at batch 1 on one thread, side by side in one run, of the all-min,
# mid (k5 e4 d3) and all-max NACHOS EENNs (32x32x1, K = 10) at random
# initialisation, run through every exit (thresholds all 1), and of each
# result record given as an argument (a trained EENN, at its own
# thresholds), over the first N Fashion-MNIST test images (N=300):
#   f32 -O2   the exported float C, cc -std=c99 -O2
#   f32 -O3n  the same, cc -std=c99 -O3 -march=native
#   int8 -O2  the exported int8 C, cc -std=c99 -O2
#   engine    eenn-infer --threads 1 (its infer_latency_ms)
#   ort       onnxruntime-node 1.16.3 on the exported ONNX, the segments
#             chained by examples/bench/onnx-latency.js
# The C harness is timed over R passes of the N images (wall clock per
# image, process start included); every figure is the median of 3 rounds,
# the tools interleaved within a round. Prints the CPU model and the ratios
# ort / f32 (the target is >= 2) and engine / f32. CACHE=dir keeps the
# random-init records and checkpoints between runs.
#   sh examples/bench/export.sh [result.rec ...]
set -e
cd "$(dirname "$0")/../.."
n=${N:-300}
reps=${R:-3}
data=${DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache=${CACHE:-$tmp}
mkdir -p "$cache"
make -s bin/eenn-export bin/eenn-infer bin/eenn-train
sh tests/npm-deps.sh
zcat -f "$data/t10k-images-idx3-ubyte"* | tail -c +17 | head -c $((n * 784)) > "$tmp/img.u8"
i=0
while [ $i -lt "$reps" ]; do cat "$tmp/img.u8"; i=$((i + 1)); done > "$tmp/rep.u8"
if [ ! -s "$cache/max.r.rec" ]; then
	bin/ofa-sample --extremes -n 2 --in-ch 1 > "$tmp/ext.rec"
	bin/rec2json "$tmp/ext.rec" | sed -n 1p | bin/json2rec > "$tmp/min.arch"
	bin/rec2json "$tmp/ext.rec" | sed -n 2p | bin/json2rec > "$tmp/max.arch"
	bin/rec2json "$tmp/min.arch" | jq -c '.ks |= map(5) | .e |= map(4) | .d |= map(3) |
	    del(.genome)' | bin/json2rec > "$tmp/mid.arch"
	for net in min mid max; do
		bin/eec-place < "$tmp/$net.arch" > "$cache/$net.rec"
		bin/eenn-train --data "$data" --method nachos --mu1 0 --mu2 0 --mu3 0 \
		    --threads 1 -o "$cache/$net.ckpt" "$cache/$net.rec" > "$cache/$net.r.rec" 2> /dev/null
	done
fi
# ms per image of a harness over rep.u8
ctime() {
	t0=$(date +%s%N)
	"$1" "$tmp/rep.u8" > /dev/null
	t1=$(date +%s%N)
	echo "($t1 - $t0) / 1000000 / $n / $reps" | bc -l
}
med() { sort -g | sed -n 2p; }
list="min:$cache/min.r.rec:1,1,1,1 mid:$cache/mid.r.rec:1,1,1,1 max:$cache/max.r.rec:1,1,1,1"
for r in "$@"; do
	list="$list $(basename "$r" .rec):$r:"
done
echo "export: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), batch 1, 1 thread," \
    "$n images, median of 3 rounds; latency ms per image"
for e in $list; do
	net=${e%%:*} r=${e#*:} th=${r#*:} r=${r%%:*}
	d=$tmp/x-$net
	bin/eenn-export -o "$d" --onnx ${th:+--thresholds "$th"} "$r" > "$d.rec" 2> /dev/null
	x=$(bin/rec2json "$d.rec" | jq -r .export_dir)
	th=$(bin/rec2json "$d.rec" | jq -r '.export_thresholds // .thresholds | join(",")')
	w=$(bin/rec2json "$d.rec" | jq -r .weights)
	(cd "$x/f32" && cc -std=c99 -O2 -o run2 ./*.c -lm && cc -std=c99 -O3 -march=native -o run3 ./*.c -lm)
	(cd "$x/int8" && cc -std=c99 -O2 -o run2 ./*.c -lm)
	for round in 1 2 3; do
		echo "f2 $(ctime "$x/f32/run2")"
		echo "f3 $(ctime "$x/f32/run3")"
		echo "q2 $(ctime "$x/int8/run2")"
		echo "en $(bin/eenn-infer --weights "$w" --data "$data" --limit "$n" --threads 1 \
		    --thresholds "$th" "$r" 2> /dev/null | bin/rec2json | jq -r .infer_latency_ms)"
		echo "or $(node examples/bench/onnx-latency.js --thresholds "$th" "$x/onnx" \
		    "$tmp/img.u8" 1 28 28 | jq -r .latency_ms)"
	done > "$tmp/t"
	for k in f2 f3 q2 en or; do
		eval "$k=$(grep "^$k " "$tmp/t" | cut -d' ' -f2 | med)"
	done
	echo "$net $f2 $f3 $q2 $en $or"
done | awk '{ printf "export: %-10s f32 -O2 %7.3f  f32 -O3n %7.3f  int8 -O2 %7.3f  engine %7.3f  " \
    "ort %7.3f  ort/f32 %.2fx  engine/f32 %.2fx\n", $1, $2, $3, $4, $5, $6, $6 / $2, $5 / $2 }'
