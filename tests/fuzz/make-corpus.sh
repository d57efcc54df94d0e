#!/bin/bash
# make-corpus.sh: write the fuzzers' seed corpus (tests/fuzz/corpus/NAME/)
# from the tools' own outputs at tiny sizes. Run from the top directory
# after make all tests/unit/bin/test_exo; the result is committed.
set -eu
PATH=$PWD/bin:$PATH
c=tests/fuzz/corpus
rm -rf "$c"
mkdir -p "$c"/{rec,json,model,arch,exo,ckpt,data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# arch records of each search space, and the streams they become
for s in nachos edanas aebnas; do
	ofa-sample -n 1 --seed 3 --space "$s" --in-ch 1 --classes 10 > "$c/arch/$s"
done
ofa-sample --extremes -n 2 --seed 1 --in-ch 1 --classes 10 | eec-place > "$c/rec/eenn"
echo '{"type":"x","v":1,"a":[1,-2,2.5,1e300,null,true],"s":"é\n","m":{"k":[{"x":1}]},"b":{"$base64":"aGVsbG8="},"u":9223372036854775807}' > "$c/json/mixed"
echo '{"type":"x","v":1,"a":[[[[[[[[1]]]]]]]]}' > "$c/json/nested"
json2rec "$c/json/mixed" > "$c/rec/mixed"
json2rec "$c/json/nested" > "$c/rec/nested"
rec2json "$c/arch/nachos" | head -c 2000 > "$c/json/arch"

# model records of every kind on a small archive of 49-gene genomes
awk 'BEGIN { srand(1); for (i = 0; i < 60; i++) { g = ""; s = 0
	for (k = 0; k < 49; k++) { v = int(rand() * 3); s += v * ((k * 7) % 5 - 2); g = g (k ? "," : "") v }
	printf "{\"type\":\"result\",\"v\":1,\"genome\":[%s],\"t\":%.4f}\n", g, s / 10 } }' |
    json2rec > "$tmp/a.rec"
for m in rbf gp mlp; do   # (a cart forest is 270 KB)
	surrogate-fit -t t -m "$m" --folds 0 "$tmp/a.rec" > "$c/model/$m" 2> /dev/null
done

# exit-outputs: a synthetic EENN of 3 exits on 16 samples
tests/unit/bin/test_exo gen "$c/exo/small" 16 3 4 1 > /dev/null

# a checkpoint of one small tensor over a real arch record
rec2json "$c/arch/nachos" | jq -c '{type: "ckpt", v: 1, arch: ., seed: 1, step: 0,
    tensors: {w: {shape: [2, 2], dtype: "f32", data: {"$base64": "AACAPwAAAEAAAEBAAACAQA=="}}}}' |
    json2rec > "$c/ckpt/small"

# datasets: the first byte picks the reader (fuzz_data.c)
{ printf '\0'; printf '\0\0\10\3\0\0\0\1\0\0\0\2\0\0\0\2\1\2\3\4'; printf '\0\0\10\1\0\0\0\1\3'; head -c 11 /dev/zero; } > "$c/data/idx"
{ printf '\1NACHOSDS\1\0\0\0\2\0\0\0\1\0\0\0\2\0\0\0\2\0\0\0\3\0\0\0'; printf '\1\2\3\4\5\6\7\10'; printf '\0\0\2\0'; } > "$c/data/raw"
{ printf '\2'; for r in 1 2; do printf '\7'; head -c 3072 /dev/zero; done; } > "$c/data/cifar"
du -sh "$c"
