#!/usr/bin/env bats
# ofa-train: options, bad input, supernet training on a tiny easy IDX set,
# the supernet file, resume after kill -9, --extract with recalibration.
load helper
load arch-helper
load idx-helper
bats_require_minimum_version 1.5.0

# A tiny supernet run on the two-class 8x8 set: width 0.25, 16x16x1.
TINY=(--data d2 --batch 32 --width 0.25 --resolution 16 --in-ch 1 --threads 1 --calib 64)
tiny_archs() { ofa-sample --extremes -n 2 --width 0.25 --resolution 16 --in-ch 1 --classes 2; }

setup() {
	mkidx d2 2 400 100
}

@test "-h prints the usage and exits 0" {
	run ofa-train -h
	assert_success
	assert_line --index 0 --partial "usage: ofa-train [-hv] [--data dir] [--skip-bad] [--preset quick|paper]"
	assert_line --partial "ofa-train [-hv] --extract supernet"
}

@test "bad options exit 64 with nothing on stdout" {
	for args in "--epochs x -o s" "--batch 1 -o s" "--preset slow -o s" "--lr -1 -o s" \
	    "--kd -1 -o s" "--clip -1 -o s" "--random 17 -o s" "--threads 0 -o s" "--width 0 -o s" \
	    "--bogus -o s" "--epochs 1 --warmup 2 -o s" "--epochs 2 --ps 1,1,1 -o s" "--ps 1,1 -o s" "--ps 1.5,0,0 -o s" "" "--eval -o s" "-o s a.rec" \
	    "--extract s --resume"; do
		run --separate-stderr ofa-train "${TINY[@]}" $args
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
		[ -z "$output" ]
	done
	run --separate-stderr ofa-train --preset slow -o s
	[[ $stderr == *'--preset: "slow" is not one of quick, paper'* ]]
	run --separate-stderr ofa-train "${TINY[@]}"
	[[ $stderr == *'-o supernet is required for training'* ]]
	run --separate-stderr ofa-train "${TINY[@]}" --resume -o none.ckpt
	assert_failure 66
	[[ $stderr == *"none.ckpt"* ]]
	run --separate-stderr ofa-train --extract none.ckpt
	assert_failure 66
}

@test "training: the result record, the supernet file, probes above chance" {
	ofa-train "${TINY[@]}" --epochs 5 -o s.ckpt 2> err.txt | rec2json > out.json
	cat out.json
	[ "$(wc -l < out.json)" -eq 1 ]
	for k in '"type":"result"' '"method":"ofa"' '"ks":\[7,7' '"e":\[6,6' '"d":\[4,4,4,4,4\]' \
	    '"width":0.25' '"classes":2' '"n_train":360' '"n_val":40' '"epochs":5' \
	    '"random":1' '"weights":"s.ckpt"' '"curve_loss":\[[0-9.e-]*,[0-9.e-]*,[0-9.e-]*,[0-9.e-]*,[0-9.e-]*\]' \
	    '"name":"min"' '"name":"mid"' '"name":"max"'; do
		grep -q "$k" out.json || { echo "missing $k"; return 1; }
	done
	# each probe subnet is well above chance (0.5) on this easy set
	[ "$(jq '[.probes[].acc_val | select(. >= 0.8)] | length' out.json)" -eq 3 ]
	grep -q 'epoch 5/5' err.txt
	# the supernet: a ckpt of the all-max arch with the matrices, their
	# momentum and the training state
	rec2json s.ckpt > s.json
	[ "$(jq -r .type s.json)" = ckpt ]
	[ "$(jq -c .arch.d s.json)" = "[4,4,4,4,4]" ]
	[ "$(jq -c '.tensors["blocks.20.conv.depth_conv.conv.7to5_matrix"].shape' s.json)" = "[25,25]" ]
	[ "$(jq -c '.tensors["blocks.1.conv.depth_conv.conv.5to3_matrix"].shape' s.json)" = "[9,9]" ]
	[ "$(jq -c '.tensors["momentum.blocks.1.conv.depth_conv.conv.5to3_matrix"].shape' s.json)" = "[9,9]" ]
	# exit heads: at each of the 4 exit points one head per pool window
	# (16x16 input: maps 4x4, 2x2, 1x1, 1x1: windows 1,2,4 / 1,2 / 1 / 1),
	# 8 tensors each, K+1 outputs, with their momentum
	[ "$(jq '[.tensors | keys[] | select(startswith("exits."))] | length' s.json)" -eq 56 ]
	[ "$(jq '[.tensors | keys[] | select(startswith("momentum.exits."))] | length' s.json)" -eq 56 ]
	[ "$(jq -c '.tensors["exits.0.pool4.linear.weight"].shape' s.json)" = "[3,128]" ]
	[ "$(jq -c '.tensors["exits.0.pool1.linear.weight"].shape' s.json)" = "[3,2048]" ]
	[ "$(jq .train.epoch s.json)" -eq 5 ]
	[ "$(jq .step s.json)" -eq 5 ]
}

@test "--clip: every step above the norm is clipped; the setting is in the result and the checkpoint" {
	# 360 training images at batch 32: 12 steps an epoch; a tiny norm clips them all.
	ofa-train "${TINY[@]}" --epochs 1 --clip 1e-6 -o c.ckpt 2> err.txt | rec2json > out.json
	grep -q 'epoch 1/1 .* grad norm mean [0-9.e+-]* max [0-9.e+-]* clipped 12 ' err.txt
	[ "$(jq .clip out.json)" = 1e-06 ]
	[ "$(rec2json c.ckpt | jq .train.clip)" = 1e-06 ]
	# --clip 0: no step is clipped (the presets clip at 10).
	ofa-train "${TINY[@]}" --epochs 1 --clip 0 -o n.ckpt 2> err.txt > /dev/null
	grep -q 'clipped 0 ' err.txt
	# Clipped to almost nothing, the weights barely move: far less than unclipped.
	ofa-train "${TINY[@]}" --epochs 0 -o z.ckpt > /dev/null 2>&1
	d() { rec2json "$1" | jq -r '.tensors["first_conv.conv.weight"].data["$base64"]' | base64 -d | od -An -f -v; }
	paste <(d z.ckpt) <(d c.ckpt) <(d n.ckpt) | awk '{ for (i = 1; i <= NF / 3; i++) {
		c += ($(NF / 3 + i) - $i) ^ 2; n += ($(2 * NF / 3 + i) - $i) ^ 2 } }
	    END { print c, n; exit !(c < 1e-6 * n) }'
}

@test "killed with SIGKILL after the first epoch, --resume ends as the whole run" {
	# with progressive shrinking's phases (full, kernel, depth) first, so a
	# resume crosses a phase change and may cross the channel sorting
	ofa-train "${TINY[@]}" --epochs 4 --ps 1,1,1 -o whole.ckpt > whole.json 2> /dev/null
	ofa-train "${TINY[@]}" --epochs 4 --ps 1,1,1 -o part.ckpt > /dev/null 2>&1 &
	pid=$!
	while [ ! -e part.ckpt ]; do sleep 0.02; done
	kill -9 "$pid"
	wait "$pid" || true
	done_ep=$(rec2json part.ckpt | jq .train.epoch)
	echo "killed after epoch $done_ep"
	[ "$done_ep" -ge 1 ] && [ "$done_ep" -le 4 ]
	# the run's settings come from the checkpoint, not the command line
	ofa-train --data d2 --threads 1 --resume -o part.ckpt > part.rec 2> err.txt
	grep -q "resuming after epoch $done_ep of 4" err.txt
	rec2json part.rec > part.json
	rec2json whole.json > whole.j && mv whole.j whole.json
	[ "$(jq .epochs part.json)" -eq 4 ]
	[ "$(jq -c .ps part.json)" = "[1,1,1]" ]
	[ "$(jq -c .probes part.json)" = "$(jq -c .probes whole.json)" ]
	[ "$(jq -c .curve_loss part.json)" = "$(jq -c .curve_loss whole.json)" ]
	# bit for bit the same supernet, apart from the wall time
	[ "$(rec2json part.ckpt | jq -c 'del(.train.wall)' | md5sum)" = \
	    "$(rec2json whole.ckpt | jq -c 'del(.train.wall)' | md5sum)" ]
}

@test "--extract: recalibrated subnets, their checkpoints and accuracies" {
	ofa-train "${TINY[@]}" --epochs 8 -o s.ckpt > /dev/null 2>&1
	tiny_archs > a.rec
	ofa-train --extract s.ckpt --data d2 --threads 1 --calib 64 --eval -o 'sub%d.ckpt' a.rec \
	    2> err.txt | rec2json > out.json
	cat out.json
	[ "$(wc -l < out.json)" -eq 2 ]
	for k in '"type":"result"' '"id":"s1-0"' '"id":"s1-1"' '"method":"supernet"' \
	    '"supernet":"s.ckpt"' '"calib":64' '"weights":"sub1.ckpt"' '"weights":"sub2.ckpt"' \
	    '"n_train":360' '"n_test":100'; do
		grep -q "$k" out.json || { echo "missing $k"; return 1; }
	done
	[ "$(jq -s '[.[].acc_test | select(. >= 0.8)] | length' out.json)" -eq 2 ]
	# the subnet checkpoints are ordinary ones: eenn-train evaluates them
	# as they are (0 epochs) with the same test accuracy
	for i in 1 2; do
		rec2json a.rec | sed -n "${i}p" | json2rec > a$i.rec
		want=$(jq -s ".[$((i - 1))].acc_test" out.json)
		got=$(eenn-train --data d2 --threads 1 --epochs 0 --init sub$i.ckpt a$i.rec |
		    rec2json | jq .acc_test)
		[ "$got" = "$want" ] || { echo "subnet $i: $got vs $want"; return 1; }
	done
	# without --eval: no accuracies; the depthwise kernels of the all-min
	# subnet are 3x3
	ofa-train --extract s.ckpt --data d2 --threads 1 --calib 64 -o sub.ckpt a1.rec |
	    rec2json > one.json
	! grep -q acc_test one.json
	[ "$(rec2json sub.ckpt | jq -c '.tensors["blocks.1.conv.depth_conv.conv.weight"].shape[2:]')" = "[3,3]" ]
	# a whole EENN: the heads of its exits' windows, from the supernet's
	rec2json sub.ckpt > sub.json
	rec2json s.ckpt > s.json
	[ "$(jq '[.tensors | keys[] | select(startswith("exits."))] | length' sub.json)" -eq 32 ]
	pool=$(eec-place < a1.rec | rec2json | jq '.heads[0].pool')
	[ "$(jq -c '.tensors["exits.0.conv1.weight"].data' sub.json)" = \
	    "$(jq -c ".tensors[\"exits.0.pool$pool.conv1.weight\"].data" s.json)" ]
}

@test "--no-exits: a supernet without heads (as before them) extracts backbones, with a note" {
	ofa-train "${TINY[@]}" --epochs 1 --no-exits -o n.ckpt > /dev/null 2>&1
	[ "$(rec2json n.ckpt | jq '[.tensors | keys[] | select(startswith("exits."))] | length')" -eq 0 ]
	tiny_archs > a.rec
	ofa-train --extract n.ckpt --data d2 --threads 1 --calib 64 -o 'sub%d.ckpt' a.rec \
	    2> err.txt > /dev/null
	grep -q 'has no exit heads' err.txt
	[ "$(rec2json sub1.ckpt | jq '[.tensors | keys[] | select(startswith("exits."))] | length')" -eq 0 ]
	run --separate-stderr ofa-train --extract n.ckpt --no-exits a.rec
	assert_failure 64
}

@test "--extract: bad records exit 65 naming the record and the key" {
	# a full-size supernet (untrained) for the shared checks' arch records
	mkidx d10 10 50 20
	ofa-train --data d10 --epochs 0 --threads 1 --subset 0 -o big.ckpt > /dev/null 2>&1
	mkdir wrap
	printf '#!/bin/sh\nexec "%s" --extract big.ckpt --data d10 --batch 8 --calib 8 --threads 1 "$@"\n' \
	    "$TOP/bin/ofa-train" > wrap/ofa-train
	chmod +x wrap/ofa-train
	PATH="$PWD/wrap:$PATH" bad_input ofa-train
	# a record the supernet cannot give
	check() {
		echo "$1" | json2rec > bad.rec
		run --separate-stderr wrap/ofa-train bad.rec
		assert_failure 65
		[ -z "$output" ]
		[[ $stderr == *"bad.rec: record 1: $2"* ]] || { echo "got: $stderr"; return 1; }
	}
	check "$(arch_json 3 3 2 3 10 1.2)" 'key "width": 1.2, but the supernet has width 1'
	check "$(arch_json 3 3 2 1 10)" 'key "in_ch": 1, but the supernet has 3 input channels'
	check "$(arch_json 3 3 2 3 5)" 'key "classes": 5, but the supernet has 10 classes'
}

@test "--extract and --resume refuse files that are no supernet" {
	ofa-train "${TINY[@]}" --epochs 1 -o s.ckpt > /dev/null 2>&1
	tiny_archs > a.rec
	ofa-train --extract s.ckpt --data d2 --threads 1 --calib 64 -o 'sub%d.ckpt' a.rec > /dev/null
	mv sub1.ckpt sub.ckpt
	# a subnet checkpoint: no training state
	run --separate-stderr ofa-train --extract sub.ckpt --data d2 a.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'sub.ckpt: record 1: key "train": missing'* ]]
	cp sub.ckpt r.ckpt
	run --separate-stderr ofa-train --data d2 --resume -o r.ckpt
	assert_failure 65
	[[ $stderr == *'r.ckpt: record 1: key "train": missing'* ]]
	# a truncated supernet
	head -c 5000 s.ckpt > cut.ckpt
	run --separate-stderr ofa-train --extract cut.ckpt --data d2 a.rec
	assert_failure 65
	[[ $stderr == *'cut.ckpt: record 1: truncated'* ]]
	# a dataset with other classes
	mkidx d3 3 60 30
	run --separate-stderr ofa-train --data d3 --threads 1 --resume -o s.ckpt
	assert_failure 65
	[[ $stderr == *'s.ckpt: record 1: key "arch": 2 classes, but the dataset in d3 has 3'* ]]
}

@test "a checkpoint whose shape overflows 64 bits exits 65 naming the tensor" {
	# 2^120 elements wrapped to 0 in a signed long and matched empty data
	echo '{"type":"ckpt","v":1,"arch":{},"tensors":{"w":{"shape":[1073741824,1073741824,1073741824,1073741824],"dtype":"f32","data":{"$base64":""}}}}' |
	    json2rec > big.ckpt
	run --separate-stderr ofa-train --extract big.ckpt --data nowhere a.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'big.ckpt: record 1: key "tensors.w.shape": more elements than a record can hold'* ]]
}
