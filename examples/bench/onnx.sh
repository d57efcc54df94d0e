#!/bin/sh
# ONNX Runtime on the ONNX export against the engine: per-sample latency at
# batch 1 on one thread, side by side in one run, of the all-min, mid
# (k5 e4 d3) and all-max NACHOS EENNs (32x32x1, K = 10, exits after stages
# 1-4) at random initialisation over the first N Fashion-MNIST test images
# (default 300): eenn-infer, and onnxruntime-node 1.16.3 running the
# segments one after another (examples/bench/onnx-latency.js, the rule
# applied between them). Thresholds send every sample out at exit 1 (0 there,
# 1 elsewhere) or through the whole EENN (all 1). `test_onnx dump`
# (tests/unit/test_onnx.c) writes the export; tests/onnx-export.bats checks
# that it computes what the engine does. Prints the CPU model, mean and p50
# latency in ms and the ratio ONNX Runtime / engine.
set -e
cd "$(dirname "$0")/../.."
n=${1:-300}
data=${DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s tests/unit/bin/test_onnx
sh tests/npm-deps.sh
bin/ofa-sample --extremes -n 2 --in-ch 1 > "$tmp/ext.rec"
bin/rec2json "$tmp/ext.rec" | sed -n 1p | bin/json2rec > "$tmp/min.arch"
bin/rec2json "$tmp/ext.rec" | sed -n 2p | bin/json2rec > "$tmp/max.arch"
bin/rec2json "$tmp/min.arch" | jq -c '.ks |= map(5) | .e |= map(4) | .d |= map(3) |
    del(.genome)' | bin/json2rec > "$tmp/mid.arch"
echo "onnx: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), batch 1, 1 thread," \
    "$n images; latency ms mean (p50)"
for net in min mid max; do
	d=$tmp/$net
	bin/eec-place < "$tmp/$net.arch" > "$d.rec"
	bin/eenn-train --data "$data" --method nachos --mu1 0 --mu2 0 --mu3 0 --threads 1 \
	    -o "$d.ckpt" "$d.rec" > /dev/null 2>&1
	tests/unit/bin/test_onnx dump "$d" "$data" "$n" "$d.ckpt" cumulative 1,1,1,1
	for th in 0,1,1,1 1,1,1,1; do
		e=$(bin/eenn-infer --weights "$d.ckpt" --data "$data" --limit "$n" --threads 1 \
		    --thresholds "$th" "$d.rec" 2> /dev/null | bin/rec2json |
		    jq -r '"\(.infer_latency_ms) \(.infer_latency_p50_ms) \(.infer_avg_macs)"')
		o=$(node examples/bench/onnx-latency.js --thresholds "$th" "$d/onnx" \
		    "$d/images.u8" 1 28 28 | jq -r '"\(.latency_ms) \(.p50_ms)"')
		echo "$net $th $e $o"
	done
done | awk '{
	printf "onnx: %-3s %-9s %5.2fM MACs  engine %7.3f (%7.3f)  onnxruntime %7.3f (%7.3f)  " \
	    "ort/engine %.2fx\n", $1, $2 == "1,1,1,1" ? "full" : "exit-1", $5 / 1e6, $3, $4,
	    $6, $7, $6 / $3 }'
