#!/usr/bin/env bats
# The datasets people have, through eenn-train and eenn-infer: image
# folders (PNG, JPEG, mixed; odd sizes; train/test, val or valid), their
# cache reused and rebuilt, every class of bad image; SVHN's .mat files and
# their bad forms. The folders and .mat files are written here by
# tests/unit/bin/test_data_img (its generator modes).
load helper
bats_require_minimum_version 1.5.0

gen() { "$TOP/tests/unit/bin/test_data_img" "$@"; }

# A tiny all-min network for K classes at resolution R (default 16), RGB.
net() {
	ofa-sample --extremes -n 1 --width 0.25 --resolution "${2:-16}" --in-ch "${3:-3}" \
	    --classes "$1"
}
train() { eenn-train --method backbone --batch 16 --threads 1 "$@"; }

setup_file() {
	[ -x "$TOP/tests/unit/bin/test_data_img" ] ||
	    make -s -C "$TOP" tests/unit/bin/test_data_img >&2
}

@test "a PNG folder trains: classes in name order, named in the result; val is the test split" {
	gen folder f 3 300 30 png val
	net 3 > a.rec
	train --data f --epochs 4 a.rec > out.rec 2> err.txt
	rec2json < out.rec > out.json
	cat err.txt out.json
	grep -q '"class_names":\["bird","dog","frog"\]' out.json
	grep -q '"n_train":270,"n_val":30,"n_test":30' out.json
	grep -q 'f: 300 + 30 images decoded to 3x16x16' err.txt
	# brightness tells the class: far above chance (1/3)
	jq -e '.acc_test >= 0.8' out.json
	# the second run reads the cache, and gives the same result
	train --data f --epochs 4 a.rec 2> err2.txt | rec2json > out2.json
	grep -q 'f: 300 + 30 images 3x16x16 from the cache f/.nachos-cache/folder-r16-auto.cache' err2.txt
	[ "$(jq -c 'del(.wall, .cpu)' out.json)" = "$(jq -c 'del(.wall, .cpu)' out2.json)" ]
}

@test "the cache is rebuilt when a file changes or is added, per resolution" {
	gen folder f 2 20 6 png
	net 2 > a.rec
	train --data f --epochs 0 a.rec 2>&1 >/dev/null | grep -q 'decoded'
	train --data f --epochs 0 a.rec 2>&1 >/dev/null | grep -q 'from the cache'
	touch -d '2001-01-01' f/train/dog/img0002.png
	train --data f --epochs 0 a.rec 2>&1 >/dev/null | grep -q 'decoded'
	train --data f --epochs 0 a.rec 2>&1 >/dev/null | grep -q 'from the cache'
	cp f/train/dog/img0002.png f/test/dog/new.png
	run -0 sh -c 'eenn-train --method backbone --epochs 0 --threads 1 --data f a.rec 2>&1 >/dev/null'
	assert_output --partial 'f: 20 + 7 images decoded'
	# another resolution is another cache; the first stays
	net 2 24 > b.rec
	train --data f --epochs 0 b.rec 2>&1 >/dev/null | grep -q 'decoded to 3x24x24'
	ls f/.nachos-cache/folder-r16-auto.cache f/.nachos-cache/folder-r24-auto.cache
	# one run, records of two resolutions: each gets the folder at its own
	cat a.rec b.rec a.rec | train --data f --epochs 0 > out.rec 2> err.txt
	[ "$(grep -c 'f: 20 + 7 images 3x16x16 from the cache' err.txt)" -eq 2 ]
	[ "$(grep -c 'f: 20 + 7 images 3x24x24 from the cache' err.txt)" -eq 1 ]
	[ "$(rec2json < out.rec | jq -r .resolution | tr '\n' ' ')" = "16 24 16 " ]
}

@test "a folder that cannot be written caches in XDG_CACHE_HOME" {
	gen folder f 2 10 4 png
	net 2 > a.rec
	mkdir f/.nachos-cache
	touch f/.nachos-cache/x
	chmod 500 f/.nachos-cache
	if [ -w f/.nachos-cache/x ] && [ "$(id -u)" -eq 0 ]; then
		# root writes anywhere: make the cache directory a file instead
		chmod 700 f/.nachos-cache && rm -r f/.nachos-cache && touch f/.nachos-cache
	fi
	XDG_CACHE_HOME=$PWD/xdg train --data f --epochs 0 a.rec 2> err.txt > /dev/null
	cat err.txt
	grep -q "cached in $PWD/xdg/nachos/[0-9a-f]*-r16-auto.cache" err.txt
	XDG_CACHE_HOME=$PWD/xdg train --data f --epochs 0 a.rec 2>&1 >/dev/null |
	    grep -q 'from the cache'
	chmod -R 700 f/.nachos-cache 2>/dev/null || true
}

@test "JPEG and mixed folders (grey, RGBA, 16-bit PNGs among JPEGs) load, as grey for one input channel" {
	gen folder j 4 40 8 jpeg valid
	net 4 > a.rec
	train --data j --epochs 1 a.rec 2> err.txt | rec2json > out.json
	grep -q 'j: 40 + 8 images decoded to 3x16x16' err.txt
	jq -e '.n_test == 8 and (.class_names | length) == 4' out.json
	gen folder m 3 30 10 mixed
	net 3 20 1 > g.rec
	train --data m --epochs 1 g.rec 2> err.txt | rec2json > out.json
	grep -q 'm: 30 + 10 images decoded to 1x20x20' err.txt
	jq -e '(.norm_mean | length) == 1' out.json
	net 3 20 3 > c.rec
	train --data m --epochs 0 c.rec 2>&1 >/dev/null | grep -q 'decoded to 3x20x20'
}

@test "eenn-infer reads the folder at the record's resolution (40), MACs as mac-count's" {
	gen folder f 3 60 12 png
	net 3 40 | eec-place > e.rec
	eenn-train --data f --batch 16 --threads 1 --mu1 1 --mu2 1 --mu3 1 -o w.ckpt e.rec \
	    2> /dev/null > r.rec
	rec2json < r.rec | jq -e '.resolution == 40'
	all=$(mac-count -f rec e.rec | rec2json | jq '.macs_backbone + .macs_heads')
	# thresholds 1 run every exit: the whole EENN's MACs
	eenn-infer --weights w.ckpt --thresholds 1,1,1,1 --split test r.rec 2> err.txt |
	    rec2json > out.json
	grep -q 'f: 60 + 12 images 3x40x40 from the cache' err.txt
	jq -e --argjson all "$all" '.infer_n == 12 and .infer_exit_count == [0,0,0,0,12] and
	    .infer_avg_macs == $all' out.json
}

@test "bad images: a clear error naming the file, or --skip-bad with a count" {
	gen folder f 3 30 6 png
	net 3 > a.rec
	cp -r f good
	echo "not an image" > f/train/dog/notes.png
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"f/train/dog/notes.png: not a PNG or JPEG file (1 bad image file; --skip-bad leaves them out)"* ]]
	run --separate-stderr train --data f --epochs 0 --skip-bad a.rec
	assert_success
	[[ $stderr == *"f: skipped 1 bad image file, the first f/train/dog/notes.png"* ]]
	echo "$output" | rec2json | jq -e '.n_train + .n_val == 30'
	# a truncated JPEG: libjpeg's warning is an error here
	gen image big.jpg jpeg 64 64 3
	head -c $(($(stat -c %s big.jpg) / 2)) big.jpg > f/train/bird/cut.jpg
	run --separate-stderr train --data f --epochs 0 --skip-bad a.rec
	assert_success
	[[ $stderr == *"skipped 2 bad image files"* ]]
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"(2 bad image files;"* ]]
	rm f/train/dog/notes.png
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"f/train/bird/cut.jpg: JPEG: Premature end of JPEG file"* ]]
	# a truncated PNG
	gen image big.png png 64 64 3
	head -c $(($(stat -c %s big.png) / 2)) big.png > good/train/bird/cut.png
	run --separate-stderr train --data good --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"good/train/bird/cut.png: PNG: "* ]]
	rm good/train/bird/cut.png
	# another channel count: a CMYK JPEG
	gen image good/train/bird/cmyk.jpg jpeg 20 20 4
	run --separate-stderr train --data good --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"good/train/bird/cmyk.jpg: JPEG with 4 channels (only grey and colour are read)"* ]]
}

@test "bad folders: empty class, stray file, nested folder, no test split, unknown test class" {
	net 3 > a.rec
	gen folder f 3 30 6 png
	mkdir f/train/zebra
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"f/train/zebra: empty class folder"* ]]
	rmdir f/train/zebra
	echo x > f/train/README
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"f/train/README: not a class folder (f/train/CLASS/IMAGE is the layout)"* ]]
	rm f/train/README
	mkdir f/train/dog/sub
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"f/train/dog/sub: not a regular file"* ]]
	rmdir f/train/dog/sub
	mkdir f/test/whale && cp f/test/dog/* f/test/whale/
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"f/test/whale: class not in f/train"* ]]
	rm -r f/test/whale
	mv f/test f/other
	run --separate-stderr train --data f --epochs 0 a.rec
	assert_failure 66
	[[ $stderr == *"f: a train folder but no test, val or valid folder"* ]]
	mkdir -p one/train/a one/test/a
	cp f/train/dog/* one/train/a/
	cp f/other/dog/* one/test/a/
	run --separate-stderr train --data one --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"one/train: 1 class folder, need at least 2"* ]]
}

@test "SVHN as published: train_32x32.mat and test_32x32.mat, plain and compressed" {
	mkdir s z
	gen mat s/train_32x32.mat 120
	gen mat s/test_32x32.mat 30
	gen mat z/train_32x32.mat 120 compressed
	gen mat z/test_32x32.mat 30 compressed
	net 10 32 > a.rec
	train --data s --epochs 1 a.rec 2> /dev/null | rec2json > s.json
	train --data z --epochs 1 a.rec 2> /dev/null | rec2json > z.json
	jq -e '.n_test == 30 and .n_train + .n_val == 120' s.json
	[ "$(jq -c 'del(.wall, .cpu, .data)' s.json)" = "$(jq -c 'del(.wall, .cpu, .data)' z.json)" ]
}

@test "bad .mat files: not MATLAB, no X, truncated, a label that is no digit" {
	net 10 32 > a.rec
	mkdir b
	gen mat b/test_32x32.mat 10
	echo "hello" > b/train_32x32.mat
	run --separate-stderr train --data b --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"b/train_32x32.mat: not a MATLAB file libmatio can read"* ]]
	gen mat b/train_32x32.mat 40
	head -c 20000 b/train_32x32.mat > cut.mat && mv cut.mat b/train_32x32.mat
	run --separate-stderr train --data b --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"b/train_32x32.mat: X claims 122880 bytes, more than the file can hold"* ]]
	gen mat b/train_32x32.mat 40 compressed
	head -c $(($(stat -c %s b/train_32x32.mat) / 2)) b/train_32x32.mat > cut.mat
	mv cut.mat b/train_32x32.mat
	run --separate-stderr train --data b --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"b/train_32x32.mat: no variable y"* ]]
	# X under another name
	gen mat b/train_32x32.mat 40
	sed 's/X/Q/' b/train_32x32.mat > q.mat
	LC_ALL=C grep -c Q q.mat > /dev/null
	mv q.mat b/train_32x32.mat
	run --separate-stderr train --data b --epochs 0 a.rec
	assert_failure 65
	[[ $stderr == *"b/train_32x32.mat: no variable X"* ]]
}

@test "an image that claims too many pixels is refused before anything is allocated" {
	gen folder f 2 10 4 png
	ofa-sample --extremes -n 1 --width 0.25 --resolution 16 --classes 2 > a.rec
	# a PNG signature, an IHDR of 70000 x 70000 grey pixels, CRCs right, an
	# empty IDAT and IEND
	perl -MCompress::Zlib -e '
		my $ihdr = "IHDR" . pack("NNCCCCC", 70000, 70000, 8, 0, 0, 0, 0);
		print "\x89PNG\r\n\x1a\n", pack("N", 13), $ihdr, pack("N", crc32($ihdr));
		for my $c ("IDAT", "IEND") { print pack("N", 0), $c, pack("N", crc32($c)) }' \
	    > f/train/dog/huge.png
	run --separate-stderr eenn-train --method backbone --threads 1 --epochs 0 --data f a.rec
	assert_failure 65
	[[ $stderr == *"f/train/dog/huge.png: 70000x70000 pixels, more than 67108864"* ]]
}
