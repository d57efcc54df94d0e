#!/bin/bash
# deploy-check.sh OUT RESULT: issue 12's checks on one trained EENN (a
# result record as thresh-tune writes it, e.g. a run's export.rec), over
# every Fashion-MNIST test image (N=10000):
#   engine  the engine at batch 1 (tests/unit/bin/test_onnx dump): per image
#           and segment its logits, confidence and features, and its
#           early-exit decision ("class exit") under the record's rule and
#           thresholds; eenn-infer's accuracy, exit histogram and avg MACs
#   f32     eenn-export's float C, cc -std=c99 -Wall -Wextra -Werror -O2:
#           its decisions against the engine's (a disagreeing image is
#           reported, with how far its score was from the threshold)
#   int8    the int8 C, same flags: accuracy, exit histogram and avg MACs
#           against the float build's, at the record's (float) thresholds
#   onnx    ONNX Runtime 1.16.3 (tests/onnx/check.js) on the ONNX export:
#           per segment the largest difference from the engine, and the
#           segments chained under the thresholds
#   mcu     the int8 C on an emulated Cortex-M7 (examples/mcu/run.sh) over
#           the first MCU=300 images against the host int8 build, byte for
#           byte; arm-none-eabi-size, and instructions per exit (-icount)
# Prints a summary on stdout and keeps everything in OUT.
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$here/..
PATH=$top/bin:$PATH
data=${DATA:-/usr/share/datasets/fashion-mnist}
n=${N:-10000} nmcu=${MCU:-300}
[ $# -eq 2 ] || { echo "usage: deploy-check.sh out result.rec" >&2; exit 64; }
out=$1 rec=$(realpath "$2")
mkdir -p "$out"
cd "$out"
# the weights' and exit outputs' paths as the record's directory sees them
# (a run's records name them relative to the run)
rec2json "$rec" | head -1 | jq -c --arg d "$(dirname "$rec")" '
    reduce ("weights", "exo") as $k (.; if .[$k] and (.[$k] | startswith("/") | not)
    then .[$k] = $d + "/" + .[$k] else . end)' > r.json
json2rec < r.json > r.rec
rule=$(jq -r '.rule' r.json)
thr=$(jq -r '.thresholds | map(tostring) | join(",")' r.json)
mean=$(jq -r '.norm_mean | map(tostring) | join(",")' r.json)
std=$(jq -r '.norm_std | map(tostring) | join(",")' r.json)
w=$(jq -r '.weights' r.json)
echo "deploy-check: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); $rec, rule $rule, thresholds $thr"

# the engine, image by image at batch 1
rm -rf eng
make -s -C "$top" tests/unit/bin/test_onnx
"$top/tests/unit/bin/test_onnx" dump eng "$data" "$n" "$w" "$rule" "$thr" "$mean" "$std"
jq -r '.labels[]' eng/meta.json > labels
eenn-infer --threads 1 r.rec 2> infer.log | rec2json > infer.json

# the exports
rm -rf x
eenn-export -o x --onnx --cc "cc -std=c99 -O2" --eval "$n" r.rec 2> export.log | rec2json > x.json
d=$(jq -r '.export_dir' x.json)
for t in f32 int8; do
	(cd "$d/$t" && cc -std=c99 -Wall -Wextra -Werror -O2 -o run ./*.c -lm)
	"$d/$t/run" eng/images.u8 > "$t.out"
done

# acc FILE: accuracy; hist FILE: exit histogram
acc() { paste -d' ' "$1" labels | awk '{ c += $1 == $3 } END { printf "%.2f%%", 100 * c / NR }'; }
hist() { cut -d' ' -f2 "$1" | sort -n | uniq -c | awk '{ printf "%s%d:%d", (NR > 1 ? " " : ""), $2, $1 }'; }
same() { paste -d' ' "$1" "$2" | awk '$1 == $3 && $2 == $4' | wc -l; }
echo "engine (batch 1): $(acc eng/engine.txt), exits $(hist eng/engine.txt)"
jq -r '"eenn-infer: \(.infer_top1 * 10000 | round / 100)%, exits \(.infer_exit_count | map(tostring) | join("/")), avg MACs \(.infer_avg_macs | round)"' infer.json
echo "f32 C -O2 -Werror: $(acc f32.out), exits $(hist f32.out); class and exit equal the engine's on $(same f32.out eng/engine.txt) of $n images"
paste -d' ' f32.out eng/engine.txt | awk '$1 != $3 || $2 != $4 { print "  differs at image " NR - 1 ": C " $1 " " $2 ", engine " $3 " " $4 }' | head -20
echo "int8 C -O2 -Werror: $(acc int8.out), exits $(hist int8.out); same class and exit as f32 on $(same int8.out f32.out) of $n"
jq -r '"eenn-export --eval: f32 \(.export_f32_top1 * 10000 | round / 100)% at \(.export_f32_avg_macs | round) MACs, int8 \(.export_int8_top1 * 10000 | round / 100)% at \(.export_int8_avg_macs | round) MACs; flash f32 \(.flash_bytes_f32) B constants (\(.flash_total_bytes_f32) B with code), int8 \(.flash_bytes_int8) B (\(.flash_total_bytes_int8) B); SRAM f32 \(.sram_bytes_f32) B, int8 \(.sram_bytes_int8) B"' x.json

# ONNX Runtime, the segments chained
sh "$top/tests/npm-deps.sh" > /dev/null
rm -rf onnxchk && mkdir onnxchk
cp -r "$d/onnx" onnxchk/onnx
cp eng/images.u8 eng/engine.f32 eng/engine.txt eng/meta.json onnxchk/
/usr/bin/python3 -c 'import onnx, sys
for p in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(p), full_check=True)' onnxchk/onnx/seg*.onnx
node "$top/tests/onnx/check.js" onnxchk > onnx.json
jq -c '{max_abs, top1, exit_count, ort: .ort.node}' onnx.json
echo "onnx chained: class and exit equal the engine's on $(same onnxchk/ort.txt eng/engine.txt) of $n images"

# Cortex-M7 under QEMU
head -c $((nmcu * $(jq '.c * .h * .w' eng/meta.json))) eng/images.u8 > mcu.u8
sh "$here/mcu/run.sh" "$d/int8" mcu.u8 "$PWD/int8.elf" > mcu.out 2> mcu.size
head -n "$nmcu" int8.out > host300.out
if cmp -s mcu.out host300.out; then m=equal; else m=DIFFERENT; fi
echo "Cortex-M7 (qemu mps2-an500): $nmcu images, predictions $m to the host int8 build's"
cat mcu.size
head -c $((10 * $(jq '.c * .h * .w' eng/meta.json))) eng/images.u8 > mcu10.u8
sh "$here/mcu/run.sh" -c "$d/int8" mcu10.u8 "$PWD/count.elf" > icount.out 2> /dev/null &&
    echo "instructions per exit (first 10 images): $(head -3 icount.out | tr '\n' ';')"
