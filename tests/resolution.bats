#!/usr/bin/env bats
# The chain at resolutions other than 32: MAC counts and exit placement
# against the independent PyTorch count of examples/torch/gen_macs_ref.py
# (tests/data/res/, 64, 128 and 160 pixels), and a whole run at 64 pixels
# on an image folder: ofa-train, ofa-sample, eec-place, eenn-train (the
# crop pad an eighth of the side), thresh-tune and eenn-infer; the
# pipelines' --resolution.
load helper
load idx-helper
load pipeline-helper
bats_require_minimum_version 1.5.0

gen() { "$TOP/tests/unit/bin/test_data_img" "$@"; }

setup_file() {
	[ -x "$TOP/tests/unit/bin/test_data_img" ] ||
	    make -s -C "$TOP" tests/unit/bin/test_data_img >&2
}

@test "MACs and exit pools at 64, 128 and 160 are PyTorch's count and Algorithm 1's" {
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		got=$(echo "$line" | json2rec | eec-place | mac-count -f rec | rec2json |
		    jq -c '{resolution, macs_backbone, macs_heads,
		        pools: [.heads[] | select(.kind != "final") | .pool]}')
		want=$(sed -n "${n}p" "$TOP/tests/data/res/macs.jsonl" | jq -c 'del(.line)')
		[ "$got" = "$want" ] || { echo "line $n: got $got, want $want"; return 1; }
	done < "$TOP/tests/data/res/arch.jsonl"
	[ "$n" -eq 15 ]
	# at 160 Algorithm 1 pools more than at 32: the all-min EENN's first
	# exit pools 4x4 there
	sed -n 9p "$TOP/tests/data/res/macs.jsonl" | jq -e '.resolution == 160 and .pools[0] == 4'
}

@test "ofa-sample --resolution: the record carries it, mac-count's table shows it" {
	run -0 sh -c 'ofa-sample -n 1 --extremes --resolution 160 | mac-count -f table'
	assert_line --index 0 --partial 'input 3x160x160'
	assert_line --regexp '^first_conv +3x160x160 +16x80x80 +2764800 +464$'
	run -64 ofa-sample --resolution 8
}

@test "the whole chain at 64 pixels on a PNG folder" {
	gen folder f 3 90 30 png
	ofa-train --data f --resolution 64 --width 0.25 --epochs 1 --ps 1,0,0 --batch 16 \
	    --threads 1 --calib 20 -o s.sup 2> err.txt
	grep -q 'f: 90 + 30 images decoded to 3x64x64' err.txt
	ofa-sample --extremes -n 1 --width 0.25 --resolution 64 --classes 3 | eec-place > e.rec
	rec2json < e.rec | jq -e '.resolution == 64'
	eenn-train --data f --supernet s.sup --batch 16 --threads 1 --mu1 1 --mu2 1 --mu3 1 \
	    --exo 'x%d.exo' -o 'w%d.ckpt' e.rec 2> err.txt > r.rec
	grep -q 'from the cache' err.txt
	rec2json < r.rec | jq -e '.resolution == 64 and .class_names == ["bird","dog","frog"]'
	thresh-tune r.rec > t.rec
	eenn-infer --weights w1.ckpt --split test t.rec 2> /dev/null | rec2json > out.json
	jq -e '.infer_n == 30 and (.infer_exit_count | add) == 30 and .infer_mismatch == 0' out.json
	# exported at 64: the float build decides as the engine, the int8 one runs
	eenn-export -o x --eval 30 t.rec 2> /dev/null | rec2json > x.json
	jq -e --slurpfile i out.json '.export_f32_exit_count == $i[0].infer_exit_count and
	    .export_f32_top1 == $i[0].infer_top1 and (.export_int8_exit_count | add) == 30' x.json
}

@test "pipelines: --resolution reaches the supernet and every candidate" {
	pipeline_setup
	run --separate-stderr nachos --resolution 8 --data d r
	assert_failure 64
	[[ $stderr == *"--resolution: 8 is not in 16 ... 1024"* ]]
	ofa=(--ofa-args "--epochs 1 --subset 100 --calib 50 --batch 25 --threads 1")
	run --separate-stderr nachos "${tiny[@]}" --resolution 24 --supernet "" "${ofa[@]}" \
	    --n-start 2 --iterations 0 run
	assert_success
	rec2json run/supernet.rec | jq -e '.resolution == 24'
	[ "$(rec2json run/archive.rec | jq -r .resolution | sort -u)" = 24 ]
	( . run/config && [ "$RESOLUTION" = 24 ] )
	run --separate-stderr random --resolution 20 --data d --supernet none --n-start 2 \
	    --iterations 0 --mu 1,1,1 --subset 200 --batch 32 --threads 1 -j 1 rr
	assert_success
	[ "$(rec2json rr/archive.rec | jq -r .resolution | sort -u)" = 20 ]
}
