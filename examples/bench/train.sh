#!/bin/sh
# Training-engine speed (issues 3, 13), measured side by side in one run:
# the C engine (eenn-train --bench) beside PyTorch 1.13 (train_bench.py
# bench) and ONNX Runtime 1.16.3 (ort_latency.js over the ONNX file
# torch.onnx.export writes from the same PyTorch network) on the all-min
# (k3 e3 d2), mid (k5 e4 d3) and all-max (k7 e6 d4) subnets, w1.0, 32x32x3,
# K = 10, batch 128:
#   - the CPU, the OpenBLAS core the tools run (lib/cpu.h) and OpenBLAS's
#     own sgemm peak on it;
#   - training and inference images/s at 1 and 2 threads, C over PyTorch
#     (targets: training >= 4x, inference >= 2x), each the best of
#     TRAIN_ROUNDS rounds (default 3) in which the two alternate: other
#     jobs on the machine only take speed away, and a single run of either
#     varied by 20%;
#   - batch-1 latency on one thread, C over ONNX Runtime (target <= 0.8x),
#     PyTorch's beside it: the engine (latbench.c) and ONNX Runtime
#     (ort_latency.js) time single forwards, in LAT_ROUNDS rounds (default 3)
#     that alternate between them; the ratio is of the fastest forwards
#     (other jobs only add time), the medians' ratio beside it;
#   - 2 threads over 1 thread, unloaded (training target >= 1.6x; the
#     median round's ratio) and beside
#     one busy process (yes) at nice 19 and at nice 0 (target >= 1x); the
#     loaded pairs run 3x the steps (the pool takes a few steps to find
#     that its helpers lose; a search trains for minutes), LOAD_ROUNDS times
#     (default 3), 1 and 2 threads one after the other, and the median
#     round's ratio is given, since the OS's time slices make a single pair
#     vary by 20%.
# Each model runs in its own processes. Other jobs on the machine disturb
# absolute figures; the ratios come from runs made one right after the
# other.
#   sh examples/bench/train.sh [steps]      (default 10 timed steps)
set -e
cd "$(dirname "$0")/../.."
steps=${1:-10}
py=/usr/bin/python3
tmp=$(mktemp -d)
busy=
trap 'rm -rf "$tmp"; [ -z "$busy" ] || kill "$busy" 2> /dev/null' EXIT

cc -O2 -Ilib -o "$tmp/sgemm_peak" examples/bench/sgemm_peak.c lib/cpu.c -lopenblas
set -- $("$tmp/sgemm_peak" 1)
peak1=$1 core=$2
set -- $("$tmp/sgemm_peak" 2)
peak2=$1
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "train: CPU $cpu, $(nproc) CPUs; OpenBLAS core $core;" \
    "sgemm peak $peak1 GFLOP/s (1 thread), $peak2 GFLOP/s (2 threads)"

rep() { s=$1; i=1; while [ $i -lt $2 ]; do s="$s,$1"; i=$((i + 1)); done; echo "[$s]"; }
arch() {  # name k e d
	printf '{"type":"arch","v":1,"space":"nachos","ks":%s,"e":%s,"d":%s,"exits":[1,1,1,1],"width":1.0,"resolution":32,"in_ch":3,"classes":10}\n' \
	    "$(rep "$2" 20)" "$(rep "$3" 20)" "$(rep "$4" 5)" > "$tmp/$1.json"
	bin/json2rec < "$tmp/$1.json" > "$tmp/$1.rec"
}
c_bench() {  # name threads steps -> JSON line
	bin/eenn-train --bench "$3" --batch 128 --threads "$2" < "$tmp/$1.rec" | bin/rec2json
}
models="all-min mid all-max"
arch all-min 3 3 2
arch mid 5 4 3
arch all-max 7 6 4

# Speed beside PyTorch and ONNX Runtime.
r=0
while [ "$r" -lt "${TRAIN_ROUNDS:-3}" ]; do
	for m in $models; do
		for t in 1 2; do
			c_bench "$m" "$t" "$steps" >> "$tmp/$m.c$t"
			"$py" examples/bench/train_bench.py bench "$tmp/$m.json" --steps "$steps" \
			    --batch 128 --threads "$t" >> "$tmp/$m.pt$t"
		done
	done
	r=$((r + 1))
done
for m in $models; do
	"$py" examples/bench/train_bench.py onnx "$tmp/$m.json" --out "$tmp/$m.onnx" \
	    > /dev/null 2>&1
done

# Batch-1 latency, one thread, the two alternating.
make -s "${BUILD:-build}/bench/latbench"
r=0
while [ "$r" -lt "${LAT_ROUNDS:-3}" ]; do
	for m in $models; do
		"${BUILD:-build}/bench/latbench" -n 1 -r 300 "$tmp/$m.rec" >> "$tmp/$m.lat"
		node examples/bench/ort_latency.js "$tmp/$m.onnx" 3 32 32 300 >> "$tmp/$m.ortlat"
	done
	r=$((r + 1))
done

# 2 threads against 1 beside one busy process: nice 19, then nice 0.
for load in 19 0; do
	nice -n "$load" yes > /dev/null &
	busy=$!
	r=0
	while [ "$r" -lt "${LOAD_ROUNDS:-3}" ]; do
		for m in $models; do
			for t in 1 2; do
				c_bench "$m" "$t" "$((3 * steps))" >> "$tmp/$m.n$load.c$t"
			done
		done
		r=$((r + 1))
	done
	kill "$busy"
	wait "$busy" 2> /dev/null || true
	busy=
done

"$py" - "$tmp" "$peak1" "$peak2" $models <<'PY'
import json, sys
tmp, peak = sys.argv[1], {1: float(sys.argv[2]), 2: float(sys.argv[3])}
models = sys.argv[4:]
def lines(m, s):
    return [json.loads(l) for l in open("%s/%s.%s" % (tmp, m, s))]
def j(m, s):
    """The best of the rounds: each rate's highest, each time's and the
    peak RSS's lowest."""
    r = lines(m, s)
    return {k: (min if k in ("rss_kb", "latency_ms") else max)(x[k] for x in r)
            for k in ("train_ips", "infer_ips", "train_gflops", "rss_kb", "latency_ms") if k in r[0]}
def mark(ok):
    return "ok" if ok else "MISS"
print("train: batch 128, images/s, best of %d rounds; C over PyTorch 1.13 (targets: training "
      ">= 4, inference >= 2)" % len(lines(models[0], "c1")))
print("train: %-8s %3s %9s %9s %6s %4s %9s %9s %6s %4s %7s %6s" % ("model", "thr",
    "C train", "PT train", "ratio", "", "C infer", "PT infer", "ratio", "", "C GF/s", "%peak"))
for m in models:
    for t in (1, 2):
        c, p = j(m, "c%d" % t), j(m, "pt%d" % t)
        rt, ri = c["train_ips"] / p["train_ips"], c["infer_ips"] / p["infer_ips"]
        print("train: %-8s %3d %9.0f %9.0f %6.2f %4s %9.0f %9.0f %6.2f %4s %7.1f %5.1f%%" % (
            m, t, c["train_ips"], p["train_ips"], rt, mark(rt >= 4), c["infer_ips"],
            p["infer_ips"], ri, mark(ri >= 2), c["train_gflops"],
            100 * c["train_gflops"] / peak[t]))
ort = lines(models[0], "ortlat")[0]["ort"]
print("train: batch-1 latency, 1 thread, ms: fastest single forward (median) over %d runs "
      "each of C and ONNX Runtime %s, alternating; C over ORT (target <= 0.8)" % (
      sum(l["rounds"] for l in lines(models[0], "lat")), ort))
print("train: %-8s %15s %15s %6s %4s %6s %8s   %s" % ("model", "C", "ORT", "C/ORT", "",
    "median", "PyTorch", "peak RSS MB at 2 threads: C, PyTorch"))
for m in models:
    c, o = lines(m, "lat"), lines(m, "ortlat")
    cm, om = min(l["min_ms"] for l in c), min(l["min_ms"] for l in o)
    c50 = sorted(l["median_ms"] for l in c)[len(c) // 2]
    o50 = sorted(l["p50_ms"] for l in o)[len(o) // 2]
    print("train: %-8s %6.3f (%6.3f) %6.3f (%6.3f) %6.2f %4s %6.2f %8.2f   %.0f, %.0f" % (m,
        cm, c50, om, o50, cm / om, mark(cm / om <= 0.8), c50 / o50, j(m, "pt1")["latency_ms"],
        j(m, "c2")["rss_kb"] / 1024, j(m, "pt2")["rss_kb"] / 1024))
print("train: 2 threads over 1 thread (targets: unloaded training >= 1.6, beside a busy "
      "process >= 1): the median round's, of %d pairs unloaded and %d loaded" % (
      len(lines(models[0], "c1")), len(lines(models[0], "n0.c1"))))
print("train: %-8s %-14s %8s %8s %6s %4s %8s %8s %6s %4s" % ("model", "load", "train t1",
    "t2", "t2/t1", "", "infer t1", "t2", "t2/t1", ""))
def med(x):
    return sorted(x)[len(x) // 2]
for m in models:
    for load, s, want in (("none", "", 1.6), ("yes, nice 19", "n19.", 1), ("yes, nice 0", "n0.", 1)):
        ra, rb = lines(m, s + "c1"), lines(m, s + "c2")
        a = {k: med([x[k] for x in ra]) for k in ("train_ips", "infer_ips")}
        b = {k: med([x[k] for x in rb]) for k in ("train_ips", "infer_ips")}
        rt = med([y["train_ips"] / x["train_ips"] for x, y in zip(ra, rb)])
        ri = med([y["infer_ips"] / x["infer_ips"] for x, y in zip(ra, rb)])
        print("train: %-8s %-14s %8.0f %8.0f %6.2f %4s %8.0f %8.0f %6.2f %4s" % (
            m, load, a["train_ips"], b["train_ips"], rt, mark(rt >= want), a["infer_ips"],
            b["infer_ips"], ri, mark(ri >= 1)))
PY
