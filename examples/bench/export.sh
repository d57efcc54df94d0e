#!/bin/sh
# eenn-export's code against the engine and ONNX Runtime: per-sample
# latency at batch 1 on one thread, side by side in one run, of the all-min,
# mid (k5 e4 d3) and all-max NACHOS EENNs (32x32x1, K = 10) at random
# initialisation, run through every exit (thresholds all 1), and of each
# result record given as an argument (a trained EENN, at its own
# thresholds), over the first N Fashion-MNIST test images (N=300):
#   f32 -O2   the exported float C, cc -std=c99 -Wall -Wextra -Werror -O2
#   f32 -O3n  the same, cc -std=c99 -O3 -march=native
#   int8 -O2, int8 -O3n  the exported int8 C, built the same two ways
#   engine    eenn-infer --threads 1 (its infer_latency_ms)
#   ort       onnxruntime-node 1.16.3 on the exported ONNX, the segments
#             chained by examples/bench/onnx-latency.js
# The C harness is timed in the steady state, as ONNX Runtime is after its
# warm-up: wall clock of a run over R + 1 passes of the N images (R=2;
# int8: R=1) less that of a run over one pass, per image of the R passes
# (process start, page faults on the weights and cold caches fall in
# both runs). Every figure is taken in each of ROUNDS
# rounds (3), the tools interleaved within a round, and shown as the
# fastest round and the median round: on a loaded machine the fastest is
# the one to compare, and the two apart say how noisy the run was. Prints
# the CPU model and the load (uptime) before and after, the ratios ort /
# f32 (the target is >= 2) and engine / f32, and "stream": the time to
# read the f32 weights once (EENN_CONST_BYTES, the whole network, since
# every exit runs) at the read bandwidth this machine shows for an array
# of that size (the weights of one pass after another, as far as they stay
# in cache), and "dram": the same at the bandwidth of a 256 MB array, the
# floor of a pass whose weights come from memory. CACHE=dir keeps the
# random-init records and checkpoints between runs.
#   sh examples/bench/export.sh [result.rec ...]
set -e
cd "$(dirname "$0")/../.."
n=${N:-300}
reps=${R:-2}
rounds=${ROUNDS:-3}
data=${DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache=${CACHE:-$tmp}
mkdir -p "$cache"
make -s bin/eenn-export bin/eenn-infer bin/eenn-train
sh tests/npm-deps.sh
# ms to read BYTES once: 4 chains of 32-byte adds, the best of 20 passes
# after 2
cat > "$tmp/stream.c" <<'EOF2'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef float v8 __attribute__((vector_size(32)));
int
main(int argc, char **argv)
{
	long n = atol(argv[1]) / 128 * 4, i;
	v8 *a = aligned_alloc(64, n * sizeof(v8)), s0 = { 0 }, s1 = s0, s2 = s0, s3 = s0;
	double best = 1e9, t;
	struct timespec t0, t1;
	int r;

	for (i = 0; i < n; i++)
		a[i] = s0 + 1;
	for (r = 0; r < 22; r++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < n; i += 4)
			s0 += a[i], s1 += a[i + 1], s2 += a[i + 2], s3 += a[i + 3];
		clock_gettime(CLOCK_MONOTONIC, &t1);
		t = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		best = r >= 2 && t < best ? t : best;
	}
	printf("%.4f\n", (s0 + s1 + s2 + s3)[0] > 0 ? best : -1);
	return 0;
}
EOF2
cc -std=gnu11 -O2 -march=native -o "$tmp/stream" "$tmp/stream.c"
dram=$("$tmp/stream" 256000000)
zcat -f "$data/t10k-images-idx3-ubyte"* | tail -c +17 | head -c $((n * 784)) > "$tmp/img.u8"
i=0
while [ $i -le "$reps" ]; do cat "$tmp/img.u8"; i=$((i + 1)); done > "$tmp/rep.u8"
cat "$tmp/img.u8" "$tmp/img.u8" > "$tmp/two.u8"
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
# ms per image of a harness in the steady state: R + 1 passes (rep.u8) less
# one pass, or with a second argument 1 (the int8 code, several times
# slower) two passes (two.u8) less one
ctime() {
	f=$tmp/rep.u8 k=$reps
	[ "${2:-}" = 1 ] && f=$tmp/two.u8 k=1
	t0=$(date +%s%N)
	"$1" "$tmp/img.u8" > /dev/null
	t1=$(date +%s%N)
	"$1" "$f" > /dev/null
	t2=$(date +%s%N)
	echo "($t2 - 2 * $t1 + $t0) / 1000000 / $n / $k" | bc -l
}
med() { sort -g | sed -n "$(((rounds + 1) / 2))p"; }
min() { sort -g | sed -n 1p; }
list="min:$cache/min.r.rec:1,1,1,1 mid:$cache/mid.r.rec:1,1,1,1 max:$cache/max.r.rec:1,1,1,1"
# a record's paths (weights, exit outputs) may be relative to its run
# directory (the pipelines write them so): made absolute here
for r in "$@"; do
	a=$tmp/$(basename "$r")
	d=$(cd "$(dirname "$r")" && pwd)
	bin/rec2json "$r" | jq -c --arg d "$d" 'reduce ("weights", "exo") as $k (.;
	    if .[$k] == null or (.[$k] | startswith("/")) then . else
	    .[$k] = $d + "/" + .[$k] end)' | bin/json2rec > "$a"
	list="$list $(basename "$r" .rec):$a:"
done
echo "export: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), batch 1, 1 thread," \
    "$n images x $reps, fastest / median of $rounds rounds; latency ms per image"
echo "export: load before:$(uptime | sed 's/.*load average://')"
for e in $list; do
	net=${e%%:*} r=${e#*:} th=${r#*:} r=${r%%:*}
	d=$tmp/x-$net
	bin/eenn-export -o "$d" --onnx ${th:+--thresholds "$th"} "$r" > "$d.rec" 2> "$d.err" ||
	    { cat "$d.err" >&2; exit 1; }
	x=$(bin/rec2json "$d.rec" | jq -r .export_dir)
	# the engine runs the record's network, ONNX Runtime the exported
	# segments (silent exits left out, eenn-export(1))
	tx=$(bin/rec2json "$d.rec" | jq -r '.export_thresholds | join(",")')
	rule=$(bin/rec2json "$d.rec" | jq -r .export_rule)
	w=$(bin/rec2json "$d.rec" | jq -r .weights)
	for dt in f32 int8; do
		(cd "$x/$dt" && cc -std=c99 -Wall -Wextra -Werror -O2 -o run2 ./*.c -lm &&
		    cc -std=c99 -O3 -march=native -o run3 ./*.c -lm)
	done
	wb=$(sed -n 's/.*_CONST_BYTES \([0-9]*\).*/\1/p' "$x/f32/"*.h)
	st="$("$tmp/stream" "$wb") $(echo "$dram * $wb / 256000000" | bc -l)"
	round=1
	while [ $round -le "$rounds" ]; do
		echo "f2 $(ctime "$x/f32/run2")"
		echo "f3 $(ctime "$x/f32/run3")"
		echo "q2 $(ctime "$x/int8/run2" 1)"
		echo "q3 $(ctime "$x/int8/run3" 1)"
		v=$(bin/eenn-infer --weights "$w" --data "$data" --limit "$n" --threads 1 \
		    ${th:+--thresholds "$th"} "$r" 2> "$d.err" | bin/rec2json | jq -r .infer_latency_ms)
		[ -n "$v" ] || { cat "$d.err" >&2; exit 1; }
		echo "en $v"
		v=$(node examples/bench/onnx-latency.js --rule "$rule" --thresholds "$tx" "$x/onnx" \
		    "$tmp/img.u8" 1 28 28 | jq -r .latency_ms)
		[ -n "$v" ] || exit 1
		echo "or $v"
		round=$((round + 1))
	done > "$tmp/t"
	line="$net $st"
	for k in f2 f3 q2 q3 en or; do
		line="$line $(grep "^$k " "$tmp/t" | cut -d' ' -f2 | min)"
		line="$line $(grep "^$k " "$tmp/t" | cut -d' ' -f2 | med)"
	done
	echo "$line"
done | awk '{ printf "export: %-8s f32 -O2 %6.3f/%6.3f  f32 -O3n %6.3f/%6.3f  int8 -O2 " \
    "%6.3f/%6.3f  int8 -O3n %6.3f/%6.3f  engine %6.3f/%6.3f  ort %6.3f/%6.3f  " \
    "stream %6.3f  dram %6.3f  ort/f32 -O2 %.2fx/%.2fx  -O3n %.2fx/%.2fx  " \
    "ort/int8 -O2 %.2fx  engine/f32 %.2fx\n", $1, $4, $5, $6, $7, $8, $9, $10, $11,
    $12, $13, $14, $15, $2, $3, $14 / $4, $15 / $5, $14 / $6, $15 / $7, $14 / $8, $12 / $4 }'
echo "export: load after:$(uptime | sed 's/.*load average://')"
