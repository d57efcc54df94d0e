#!/bin/sh
# Dataset loading: Fashion-MNIST (70000 28x28 grey images) from its IDX
# files, and the same images as a folder of PNG files (written here with
# tests/unit/bin/test_data_img idx2folder): the first load, which decodes
# every file and writes the cache, and a second, from the cache; at 28 (no
# resizing) and 32 pixels (bilinear). Wall and CPU seconds (user + system,
# both threads), each one run, side by side; the CPU model first.
set -e
cd "$(dirname "$0")/../.."
data=${DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s build/bench/data_load tests/unit/bin/test_data_img
mkdir -p "$tmp/png"
for s in train t10k; do
	tests/unit/bin/test_data_img idx2folder "$data/$s-images-idx3-ubyte.gz" \
	    "$data/$s-labels-idx1-ubyte.gz" "$tmp/png/$([ $s = train ] && echo train || echo test)"
done
echo "data: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) threads"
echo "data: IDX (gzip)            $(build/bench/data_load "$data" 32 1)"
for r in 28 32; do
	echo "data: PNG folder, first r$r $(build/bench/data_load "$tmp/png" $r 1 2>/dev/null)"
	echo "data: PNG folder, cache r$r $(build/bench/data_load "$tmp/png" $r 1 2>/dev/null)"
done
