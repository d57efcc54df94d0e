#!/usr/bin/env bats
# eenn-train: options, bad input, dataset errors, training on tiny easy
# IDX sets written here (idx-helper): the backbone alone, the NACHOS EENN
# from eec-place records and the joint method, --freeze-backbone,
# --supernet, the exit-outputs file thresh-tune reads, the cost term's
# effect, checkpoints, reproducibility, --bench.
load helper
load arch-helper
load idx-helper
bats_require_minimum_version 1.5.0

# A small all-min arch for the two-class set: 16x16x1, K = 2.
small_arch() { arch_json 3 3 2 1 2 | sed 's/"resolution":32/"resolution":16/' | json2rec; }

train() { eenn-train --data d2 --batch 16 --threads 1 --method backbone "$@"; }

# Two tiny EENNs (all-min, all-max at width 0.25, 16x16x1) from eec-place
# for a K-class set.
eenns() {
	ofa-sample --extremes -n 2 --width 0.25 --resolution 16 --in-ch 1 --classes "$1" |
	    eec-place
}
# The first of them only.
eenn1() { eenns "$1" | rec2json | head -1 | json2rec; }
eenn() { eenn-train --data d4 --batch 32 --threads 1 "$@"; }

setup() {
	mkidx d2 2 1000 100
}

@test "-h prints the usage and exits 0" {
	run eenn-train -h
	assert_success
	assert_line --index 0 --partial "usage: eenn-train [-hv] [--data dir] [--skip-bad] [--method nachos|joint|backbone]"
}

@test "bad options exit 64 with nothing on stdout" {
	small_arch > a.rec
	for args in "--epochs x" "--epochs -1" "--batch 1" "--lr -1" "--wd 2" \
	    "--schedule foo" "--method foo" "--threads 0" "--val-frac 1" \
	    "--crop -1" "--mean a" "--std 0" "--bogus" "--epochs 1 --warmup 2" \
	    "--mean 0.1,0.2" "--mu2 x" "--mu3 -1" "--w1 -1" "--w2 x" "--w3 -2" \
	    "--macs-max -1" "--acc-min 2" "--support-frac 0" "--calib 0" \
	    "--mu2 1 --warmup 2" "--init a.rec --supernet a.rec" "--exo e.exo"; do
		run --separate-stderr train $args a.rec
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
		[ -z "$output" ]
	done
	run --separate-stderr train --schedule foo a.rec
	[[ $stderr == *'--schedule: "foo" is not one of const, cosine, step'* ]]
	run --separate-stderr train --mean 0.1,0.2 a.rec
	[[ $stderr == *'--mean: 2 values for 1 channels'* ]]
	run -64 sh -c 'eenn-train --data d2 --method backbone -o w.ckpt --epochs 0 a.rec a.rec \
	    > out.rec 2> err.txt'
	grep -q -- '-o: w.ckpt: several input records need %d in the path' err.txt
	[ "$(nrec < out.rec)" -eq 1 ]    # the first record came out whole
}

@test "bad input records exit 65 naming the record and the key" {
	# A ten-class set and a wrapper that trains nothing, so the shared
	# checks of arch-helper run fast.
	mkidx d10 10 50 20
	mkdir wrap
	printf '#!/bin/sh\nexec "%s" --data d10 --method backbone --epochs 0 --batch 8 --threads 1 "$@"\n' \
	    "$TOP/bin/eenn-train" > wrap/eenn-train
	chmod +x wrap/eenn-train
	PATH="$PWD/wrap:$PATH" bad_input eenn-train
}

@test "a record that does not fit the dataset exits 65" {
	arch_json 3 3 2 1 10 | json2rec > k.rec
	run --separate-stderr train k.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'k.rec: record 1: key "classes": 10, but the dataset in d2 has 2 classes'* ]]
	arch_json 3 3 2 2 2 | json2rec > c.rec
	run --separate-stderr train c.rec
	assert_failure 65
	[[ $stderr == *'key "in_ch": 2, but the dataset in d2 has 1 channels'* ]]
}

@test "dataset errors: missing directory, no dataset, truncated file" {
	small_arch > a.rec
	run --separate-stderr eenn-train --data nowhere --method backbone a.rec
	assert_failure 66
	[[ $stderr == *"nowhere"* ]]
	mkdir empty
	run --separate-stderr eenn-train --data empty --method backbone a.rec
	assert_failure 66
	[[ $stderr == *"empty: no dataset found"* ]]
	mkdir bad
	cp d2/* bad/
	head -c 1000 d2/t10k-images-idx3-ubyte > bad/t10k-images-idx3-ubyte
	run --separate-stderr eenn-train --data bad --method backbone a.rec
	assert_failure 65
	[[ $stderr == *"bad/t10k-images-idx3-ubyte: truncated"* ]]
	[ -z "$output" ]
}

@test "one epoch on an easy set: the result record, well above chance" {
	# 3000 images, 169 steps: BN's running statistics (PyTorch's momentum
	# 0.1, variance started at 1) forget their start; after the 57 steps
	# of 1000 images this set's tiny late-stage variances still hide under
	# it and evaluation falls to chance at some seeds and compilers
	mkidx d2b 2 3000 100
	small_arch | rec2json | sed 's/^{/{"id":"easy",/' | json2rec > a.rec
	train --data d2b --epochs 1 a.rec 2> err.txt | rec2json > out.json
	cat out.json
	[ "$(wc -l < out.json)" -eq 1 ]
	for k in '"type":"result"' '"v":1' '"id":"easy"' '"ks":\[3' '"method":"backbone"' \
	    '"data":"d2b"' '"n_train":2700' '"n_val":300' '"n_test":100' '"epochs":1' \
	    '"batch":16' '"train_seed":1' '"threads":1' '"schedule":"cosine"' \
	    '"acc_train":' '"acc_val":' '"loss_train":' '"loss_test":' '"wall":' \
	    '"curve_loss":\[[0-9.e-]*\]' '"curve_val_acc":\[[0-9.]*\]'; do
		grep -q "$k" out.json || { echo "missing $k"; return 1; }
	done
	! grep -q '"weights"' out.json
	# chance is 0.5
	awk -F'"acc_test":' '{ split($2, a, /[,}]/); exit !(a[1] >= 0.9) }' out.json
	grep -q 'epoch 1/1 loss [0-9.]* acc [0-9.]* val_loss' err.txt
}

@test "the same seed gives the same result; another seed another" {
	small_arch > a.rec
	times='s/"wall":[0-9.e-]*,"cpu":[0-9.e-]*//'
	train --epochs 1 --subset 300 a.rec | rec2json | sed "$times" > a.json
	train --epochs 1 --subset 300 a.rec | rec2json | sed "$times" > b.json
	train --epochs 1 --subset 300 --seed 2 a.rec | rec2json | sed "$times" > c.json
	cmp a.json b.json
	! cmp -s a.json c.json
	grep -q '"n_train":270,"n_val":30' a.json
}

@test "--val-frac 0 and --subset: split sizes, null validation curve" {
	small_arch > a.rec
	train --epochs 1 --val-frac 0 --subset 200 --no-flip --crop 0 \
	    --schedule step --warmup 0.5 a.rec | rec2json > out.json
	grep -q '"n_train":200,"n_val":0,"n_test":100' out.json
	grep -q '"curve_val_acc":\[null\]' out.json
	! grep -q '"acc_val"' out.json
}

@test "-o writes a checkpoint that --init reads back to the same accuracy" {
	small_arch > a.rec
	train --epochs 1 --subset 400 -o w.ckpt a.rec | rec2json > trained.json
	[ -s w.ckpt ]
	grep -q '"weights":"w.ckpt"' trained.json
	train --epochs 0 --subset 400 --init w.ckpt a.rec | rec2json > loaded.json
	for k in acc_test loss_test; do
		want=$(grep -o "\"$k\":[0-9.e-]*" trained.json)
		grep -q "$want" loaded.json || { echo "$want"; return 1; }
	done
	run --separate-stderr train --init missing.ckpt a.rec
	assert_failure 66
}

@test "several records: -o with %d names one checkpoint per record" {
	{ small_arch; small_arch; } > two.rec
	train --epochs 0 -o 'w%d.ckpt' two.rec | rec2json > out.json
	[ "$(wc -l < out.json)" -eq 2 ]
	[ -s w1.ckpt ]
	[ -s w2.ckpt ]
	grep -q '"weights":"w2.ckpt"' out.json
}

@test "--bench times training and inference on random data" {
	small_arch | eenn-train --bench 1 --batch 8 --threads 1 | rec2json > out.json
	for k in '"type":"result"' '"method":"bench"' '"bench_steps":1' '"batch":8' \
	    '"macs_backbone":[1-9]' '"train_ips":' '"infer_ips":' '"latency_ms":' \
	    '"train_gflops":' '"rss_kb":[1-9]'; do
		grep -q "$k" out.json || { echo "missing $k"; return 1; }
	done
}

@test "the NACHOS EENN from eec-place: phases, exits, exit-outputs thresh-tune reads" {
	mkidx d4 4 1000 100
	eenns 4 > e.rec
	eenn --mu1 1 --mu2 1 --mu3 1 --macs-max 3e5 --acc-min 0.5 -o 'w%d.ckpt' e.rec \
	    2> err.txt > out.rec
	rec2json out.rec > out.json
	[ "$(wc -l < out.json)" -eq 2 ]
	for k in '"type":"result"' '"id":"s1-1"' '"exit_spent":\[' '"method":"nachos"' \
	    '"mu":\[1,1,1\]' '"support_frac":0.1' '"acc_min":0.5' '"freeze_backbone":false' '"epochs":3' '"exp_macs_val":' \
	    '"weights":"w2.ckpt"' '"exo":"w2.ckpt.exo"' '"cpu":' '"split_seed":1'; do
		grep -q "$k" out.json || { echo "missing $k"; return 1; }
	done
	[ "$(jq -s -c '[.[0].phases[].kind]' out.json)" = '["backbone","eenn","peak"]' ]
	jq -s -e 'map(.omega == [1,1,1] and .macs_max == 300000) | all' out.json
	[ "$(jq -s '.[1].acc_val_exits | length' out.json)" -eq 5 ]
	[ "$(jq -s '.[1].curve_val_loss | length' out.json)" -eq 3 ]
	[ -s w1.ckpt.exo ]
	# progress per phase and epoch, phase 3 with its support set (10 % of 900, 23 a class)
	grep -q 'record 2 backbone .*epoch 1/1 loss' err.txt
	grep -q 'record 2 eenn .*epoch 1/1 loss .* val_loss' err.txt
	grep -q 'record 1 peak .*epoch 1/1 .* support 92' err.txt
	# thresh-tune reads the records as they are, constraints included; the
	# easy set is solved by the first exits: utilisation off the final one
	thresh-tune out.rec | rec2json > tuned.json
	[ "$(wc -l < tuned.json)" -eq 2 ]
	jq -e '.acc_min == 0.5 and .macs_max == 300000 and (.utilization | add > 0.99)' \
	    tuned.json > /dev/null
	jq -s -e '[.[].utilization[0:4] | add] | max > 0.5' tuned.json > /dev/null
	# well above the chance of 4 classes (0.25) on test; a feasible pick
	# meets both constraints on validation (the rule may stop right at 0.5)
	jq -s -e '[.[].top1_ee_test] | min >= 0.45' tuned.json > /dev/null
	jq -s -e 'map(select(.feasible) | .top1_ee_val >= 0.5 and .avg_macs_val <= 300000) | all' \
	    tuned.json > /dev/null
	# --exo names the file itself, with %d for several records
	eenn --mu1 0 --mu2 1 --mu3 0 --exo 'x%d.exo' e.rec 2> /dev/null | rec2json > x.json
	[ -s x1.exo ] && [ -s x2.exo ]
	grep -q '"exo":"x2.exo"' x.json
	! grep -q '"weights"' x.json
}

@test "--method joint: phase 1, then the sum of every exit's cross-entropy" {
	mkidx d4 4 3000 100    # enough steps for BN's running statistics (see "easy set")
	eenn1 4 > e.rec
	eenn --method joint --mu1 1 --mu2 1 --mu3 1 -o j.ckpt e.rec 2> err.txt | rec2json > j.json
	[ "$(jq -c '[.phases[] | [.kind, .epochs]]' j.json)" = '[["backbone",1],["joint",2]]' ]
	jq -e '.method == "joint" and (has("omega") | not) and .exo == "j.ckpt.exo"' j.json
	# every exit learns the easy set
	jq -e '.acc_test_exits | add / length > 0.6' j.json
	json2rec < j.json | thresh-tune --rule margin | rec2json | jq -e '.utilization | add > 0.99'
}

@test "--freeze-backbone: phases 2 and 3 leave the backbone as phase 1 left it" {
	mkidx d4 4 1000 100
	eenn1 4 > e.rec
	eenn --mu1 1 --mu2 0 --mu3 0 -o p1.ckpt e.rec > /dev/null 2>&1
	eenn --mu1 1 --mu2 1 --mu3 1 --freeze-backbone -o f.ckpt e.rec 2> /dev/null > f.rec
	eenn --mu1 1 --mu2 1 --mu3 1 -o a.ckpt e.rec > /dev/null 2>&1
	backbone() {
		rec2json "$1" | jq -c '.tensors | with_entries(select(.key | test("^(first_conv|blocks)")))'
	}
	heads() { rec2json "$1" | jq -c '.tensors | with_entries(select(.key | test("^exits")))'; }
	[ "$(backbone f.ckpt | md5sum)" = "$(backbone p1.ckpt | md5sum)" ]
	[ "$(heads f.ckpt | md5sum)" != "$(heads p1.ckpt | md5sum)" ]
	[ "$(backbone a.ckpt | md5sum)" != "$(backbone p1.ckpt | md5sum)" ]
	rec2json f.rec | jq -e '.freeze_backbone == true'
}

@test "--supernet: EENNs start from a tiny ofa-train supernet; a width mismatch exits 65" {
	mkidx d4 4 1000 100
	ofa-train --data d4 --batch 32 --width 0.25 --resolution 16 --in-ch 1 --threads 1 \
	    --calib 64 --epochs 2 -o s.ckpt > /dev/null 2>&1
	eenns 4 > e.rec
	# no training: the extracted, recalibrated backbone is already above chance
	eenn --supernet s.ckpt --calib 64 --mu1 0 --mu2 0 --mu3 0 e.rec 2> /dev/null |
	    rec2json > s.json
	jq -s -e 'map(.supernet == "s.ckpt" and .calib == 64 and .acc_test > 0.4) | all' s.json
	eenn --supernet s.ckpt --calib 64 --mu1 0 --mu2 1 --mu3 0 -o 'w%d.ckpt' e.rec \
	    2> /dev/null | rec2json > t.json
	[ "$(wc -l < t.json)" -eq 2 ]
	rec2json e.rec | head -1 | sed 's/"width":0.25/"width":0.5/' | json2rec > w.rec
	run --separate-stderr eenn --supernet s.ckpt w.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'w.rec: record 1: key "width": 0.5, but the supernet has width 0.25'* ]]
	run --separate-stderr eenn --supernet e.rec e.rec
	assert_failure 65
}

@test "the same seed gives the same weights and exit outputs, bit for bit, at any threads" {
	mkidx d4 4 1000 100
	eenn1 4 > e.rec
	mkdir a b
	for d in a b; do
		(cd $d && eenn-train --data ../d4 --batch 32 --threads 1 --mu1 1 --mu2 1 --mu3 1 \
		    -o w.ckpt ../e.rec > r.rec 2> /dev/null)
	done
	cmp a/w.ckpt b/w.ckpt
	cmp a/w.ckpt.exo b/w.ckpt.exo
	# and whatever the threads: every op splits its work the same way
	mkdir t2
	(cd t2 && eenn-train --data ../d4 --batch 32 --threads 2 --mu1 1 --mu2 1 --mu3 1 \
	    -o w.ckpt ../e.rec > r.rec 2> /dev/null)
	cmp a/w.ckpt t2/w.ckpt
	eenn --mu1 1 --mu2 1 --mu3 1 --seed 2 -o c.ckpt e.rec > /dev/null 2>&1
	! cmp -s a/w.ckpt c.ckpt
}

@test "a large w2 lowers the expected MACs of the trained EENN" {
	# ten classes that overlap: the early exits are weak, so only the cost
	# term moves the confidences up; phase 3 off to isolate it
	mkidx d10 10 1000 200
	eenn1 10 > e.rec
	for w in 0 10; do
		eenn-train --data d10 --batch 32 --threads 1 --mu1 1 --mu2 2 --mu3 0 --w2 $w \
		    --exo x$w.exo e.rec 2> /dev/null | rec2json > r$w.json
	done
	m0=$(jq .exp_macs_val r0.json)
	m10=$(jq .exp_macs_val r10.json)
	echo "expected MACs: w2 0 $m0, w2 10 $m10"
	awk -v a="$m0" -v b="$m10" 'BEGIN { exit !(b < 0.85 * a) }'
	# the same ordering at fixed thresholds through the exit-outputs file
	for w in 0 10; do
		json2rec < r$w.json | thresh-tune --fixed 0.5,0.5,0.5,0.5 | rec2json |
		    jq .avg_macs_val > t$w
	done
	echo "avg MACs at 0.5: $(cat t0) $(cat t10)"
	[ "$(cat t10)" -le "$(cat t0)" ]
	# --no-cost is w2 = 0
	eenn-train --data d10 --batch 32 --threads 1 --mu1 1 --mu2 2 --mu3 0 --w2 10 \
	    --no-cost e.rec 2> /dev/null | rec2json > nc.json
	[ "$(jq .exp_macs_val nc.json)" = "$m0" ]
	jq -e '.omega == [1,0,1]' nc.json
}

@test "EENN bad input: no exit keys, a space without confidences, stale exit_spent" {
	# (without --method an arch record trains its backbone alone)
	mkidx d4 4 200 40
	small_arch | rec2json | sed 's/"classes":2/"classes":4/' | json2rec > a.rec
	run --separate-stderr eenn --method nachos a.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'a.rec: record 1: key "exit_spent": missing: --method nachos trains an EENN record from eec-place'* ]]
	eenn1 4 | rec2json | jq -c 'del(.genome) | .space = "edanas" | .exit_th = [0.1,0.1,0.1,0.1]' |
	    json2rec > ed.rec
	run --separate-stderr eenn ed.rec
	assert_failure 65
	[[ $stderr == *'key "space": --method nachos needs NACHOS heads'* ]]
	eenn1 4 | rec2json | sed 's/"exit_spent":\[[0-9]*/"exit_spent":[5/' | json2rec > st.rec
	run --separate-stderr eenn st.rec
	assert_failure 65
	[[ $stderr == *'key "exit_spent": exit 1: 5 MACs, but the network has'* ]]
	# the first record of a stream comes out whole before a bad second one
	{ eenn1 4; cat a.rec; } > two.rec
	run -65 sh -c 'eenn-train --data d4 --batch 32 --threads 1 --method nachos --mu1 0 \
	    --mu2 0 --mu3 0 two.rec > out.rec 2> /dev/null'
	[ "$(nrec < out.rec)" -eq 1 ]
}

@test "--init: an EENN from a backbone checkpoint keeps its accuracy, heads initialised" {
	mkidx d4 4 1000 100
	eenn1 4 > e.rec
	eenn --method backbone --epochs 1 -o b.ckpt e.rec 2> /dev/null | rec2json > b.json
	eenn --init b.ckpt --mu1 0 --mu2 0 --mu3 0 e.rec 2> /dev/null | rec2json > n.json
	[ "$(jq .acc_test b.json)" = "$(jq .acc_test n.json)" ]
	jq -e '.init == "b.ckpt"' n.json
}

@test "dataset headers are checked against the file before anything is allocated" {
	small_arch > a.rec
	# 2^31-1 images of 4096x4096 (2^55 bytes) in a 16-byte header: plain and gzip
	mkdir huge
	cp d2/* huge/
	printf '\0\0\10\3\177\377\377\377\0\0\20\0\0\0\20\0' > huge/t10k-images-idx3-ubyte
	run --separate-stderr sh -c '[ -n "${ASAN_OPTIONS-}" ] || ulimit -v 2000000; eenn-train --data huge --method backbone a.rec'
	assert_failure 65
	[[ $stderr == *"huge/t10k-images-idx3-ubyte: truncated: the header declares 2147483647 images of 4096x4096"* ]]
	rm huge/t10k-images-idx3-ubyte
	printf '\0\0\10\3\177\377\377\377\0\0\20\0\0\0\20\0' | gzip > huge/t10k-images-idx3-ubyte.gz
	run --separate-stderr sh -c '[ -n "${ASAN_OPTIONS-}" ] || ulimit -v 2000000; eenn-train --data huge --method backbone a.rec'
	assert_failure 65
	[[ $stderr == *"huge/t10k-images-idx3-ubyte.gz: truncated: the header declares"* ]]
	# a raw header the same way
	mkdir raw
	printf 'NACHOSDS\1\0\0\0\377\377\377\177\1\0\0\0\0\20\0\0\0\20\0\0\2\0\0\0' > raw/train.nds
	cp raw/train.nds raw/test.nds
	run --separate-stderr sh -c '[ -n "${ASAN_OPTIONS-}" ] || ulimit -v 2000000; eenn-train --data raw --method backbone a.rec'
	assert_failure 65
	[[ $stderr == *"raw/train.nds: truncated: the header declares 2147483647 images of 1x4096x4096"* ]]
}

@test "a bad CIFAR label is reported in the file that holds it" {
	small_arch > a.rec
	mkdir c
	for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
		head -c 6146 /dev/zero > c/$f.bin
	done
	# record 2 of batch 3 has label 10 of 10 classes
	printf '\12' | dd of=c/data_batch_3.bin bs=1 seek=3073 conv=notrunc 2>/dev/null
	run --separate-stderr eenn-train --data c --method backbone a.rec
	assert_failure 65
	[[ $stderr == *"c/data_batch_3.bin: record 2: label 10 not below 10"* ]]
}
