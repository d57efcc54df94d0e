#!/usr/bin/env bats
# eenn-export: the exported float C is the engine (every test image's class
# and exit equal those the engine's own exit outputs give at the same
# thresholds, and eenn-infer's accuracy and exit histogram), the int8 C
# holds up and equals the interpreter the record's figures come from, the
# sizes in the record are what the code declares, the int8 build runs on an
# emulated Cortex-M7 with the host's predictions bit for bit, and bad input
# leaves nothing behind. The fixture (built once): the all-min EENN at
# 16x16, width 0.25, trained a few epochs on a tiny three-class IDX set
# whose classes overlap (tests/eenn-infer.bats's), thresholds that send
# test samples out at every exit.
load helper
load idx-helper
load exo-helper
bats_require_minimum_version 1.5.0

# expected EXO THRESHOLDS: per test sample, "class exit" (exit from 1) as
# the cumulative rule decides on the engine's exit outputs (thr.h).
expected() {
	rec2json < "$1" | jq -r 'select(.split == "test") |
	    (.cumw | map(."$base64") | join(" ")), (.pred | map(."$base64") | join(" "))' |
	    perl -MMIME::Base64 -e '
		my @eps = split /,/, $ARGV[0];
		my @w = map { [unpack("f<*", decode_base64($_))] } split / /, scalar <STDIN>;
		my @p = map { [unpack("l<*", decode_base64($_))] } split / /, scalar <STDIN>;
		for my $j (0 .. $#{$w[0]}) {
			my $x = $#w;
			for my $i (0 .. $#eps) {
				if ($eps[$i] < 1 && $w[$i][$j] >= $eps[$i]) { $x = $i; last }
			}
			printf "%d %d\n", $p[$x][$j], $x + 1;
		}' "$2"
}

setup_file() {
	F=$BATS_FILE_TMPDIR
	cd "$F" || return 1
	mkidx h3 3 600 120 hard
	ofa-sample --extremes -n 1 --in-ch 1 --resolution 16 --classes 3 --width 0.25 |
	    eec-place > e.rec
	eenn-train --data "$F/h3" --method nachos --mu1 1 --mu2 2 --mu3 1 --batch 16 \
	    --threads 1 -o "$F/h.ckpt" e.rec > r.rec 2> /dev/null
	eenn-infer --weights "$F/h.ckpt" --data "$F/h3" --write-exo "$F/h1.exo" e.rec \
	    > /dev/null 2>&1
	quantiles h1.exo cumw 0.85,0.8,0.7,0.6 > thr
	rec2json < r.rec | jq -c --arg x "$F/h1.exo" '.exo = $x' | json2rec |
	    thresh-tune --method fixed --fixed "$(cat thr)" > t.rec 2> /dev/null
	eenn-infer t.rec > i.rec 2> /dev/null
	eenn-export -o "$F/out" --eval 1000 --cc "cc -std=c99 -O2" t.rec > x.rec 2> /dev/null
	zcat -f h3/t10k-images-idx3-ubyte | tail -c +17 > test.u8
	expected h1.exo "$(cat thr)" > want
	for d in f32 int8; do
		(cd "out/s1-0/$d" && cc -std=c99 -Wall -Wextra -Werror -O2 -o run *.c -lm &&
		    ./run ../../../test.u8 > ../../../$d.out) || return 1
	done
}

setup() {
	F=$BATS_FILE_TMPDIR
}

@test "-h prints the usage and exits 0" {
	run eenn-export -h
	assert_success
	assert_line --index 0 --partial "usage: eenn-export [-h] -o dir [--dtype f32|int8]"
}

@test "bad options exit 64 with nothing on stdout" {
	for args in "" "-o o --dtype f16" "-o o --calib 0" "-o o --name 1x" "-o o --name a-b" \
	    "-o o --rule foo" "-o o --thresholds 2" "-o o --bogus" "-o o --eval 0"; do
		run --separate-stderr eenn-export $args "$F/t.rec"
		[ "$status" -eq 64 ] || { echo "$args: status $status"; return 1; }
		[ -z "$output" ]
	done
	run --separate-stderr eenn-export -o o --dtype f16 "$F/t.rec"
	[[ $stderr == *'--dtype'*'f16'* ]]
	[ ! -e o ]
}

@test "each record gets its directory: f32/ and int8/ with NAME.h, NAME.c, NAME_main.c" {
	cd "$F"
	run ls out/s1-0/f32 out/s1-0/int8
	assert_output --partial "eenn.c"
	[ -f out/s1-0/f32/eenn.h ] && [ -f out/s1-0/f32/eenn_main.c ]
	[ -f out/s1-0/int8/eenn.h ] && [ -f out/s1-0/int8/eenn_main.c ]
	# nothing else: no temporary directory left
	[ "$(ls -A out)" = "s1-0" ]
	rec2json < x.rec | jq -e --arg d "$F/out/s1-0" '.export_dir == $d and
	    .export_name == "eenn" and .type == "result" and .id == "s1-0" and
	    .thresholds == .export_thresholds and .rule == .export_rule'
}

@test "float C: every test image's class and exit are the engine's at the same thresholds" {
	cd "$F"
	# the thresholds send samples out at every exit
	[ "$(cut -d' ' -f2 want | sort -u | wc -l)" -eq 5 ]
	[ "$(wc -l < f32.out)" -eq 120 ]
	diff want f32.out
}

@test "gcc -O3 -march=native and clang build both dtypes without a warning, with the -O2 build's predictions" {
	# other vector widths and each compiler's shuffles and dispatch; the
	# plain build too
	cd "$F"
	for d in f32 int8; do
		for cc in "gcc -O3 -march=native" "clang -O2" "clang -O3 -march=native" \
		    "gcc -O2 -DK_PLAIN"; do
			(cd "out/s1-0/$d" && $cc -std=c99 -Wall -Wextra -Werror -o run2 *.c -lm) ||
			    { echo "$d: $cc"; return 1; }
			"out/s1-0/$d/run2" test.u8 > o2.out
			cmp "$d.out" o2.out || { echo "$d: $cc"; return 1; }
		done
	done
}

@test "float C: accuracy and exit histogram equal eenn-infer's and the record's" {
	cd "$F"
	c=$(paste -d' ' f32.out <(zcat -f h3/t10k-labels-idx1-ubyte | tail -c +9 | od -An -v -tu1 -w1) |
	    awk '{ c += $1 == $3 } END { print c }')
	rec2json < i.rec | jq -e --argjson c "$c" '.infer_top1 == $c / 120'
	rec2json < x.rec | jq -e --argjson c "$c" '.export_f32_top1 == $c / 120'
	hist=$(cut -d' ' -f2 f32.out | sort -n | uniq -c | awk '{ h[$2] = $1 }
	    END { printf "[%d,%d,%d,%d,%d]", h[1], h[2], h[3], h[4], h[5] }')
	rec2json < i.rec | jq -e --argjson h "$hist" '.infer_exit_count == $h'
	rec2json < x.rec | jq -e --argjson h "$hist" '.export_f32_exit_count == $h'
	rec2json < i.rec > i.json
	rec2json < x.rec | jq -e --slurpfile i i.json '.export_f32_avg_macs == $i[0].infer_avg_macs'
}

@test "int8 C: the interpreter's figures in the record, and within 5 points of float" {
	cd "$F"
	labels=$(zcat -f h3/t10k-labels-idx1-ubyte | tail -c +9 | od -An -v -tu1 -w1)
	acc() { paste -d' ' "$1" <(echo "$labels") | awk '{ c += $1 == $3 } END { print c }'; }
	q=$(acc int8.out)
	f=$(acc f32.out)
	rec2json < x.rec | jq -e --argjson q "$q" '.export_int8_top1 == $q / 120'
	hist=$(cut -d' ' -f2 int8.out | sort -n | uniq -c | awk '{ h[$2] = $1 }
	    END { printf "[%d,%d,%d,%d,%d]", h[1], h[2], h[3], h[4], h[5] }')
	rec2json < x.rec | jq -e --argjson h "$hist" '.export_int8_exit_count == $h'
	[ "$q" -ge $((f - 6)) ]
	# and mostly the same decisions
	same=$(paste -d' ' f32.out int8.out | awk '$1 == $3 && $2 == $4' | wc -l)
	[ "$same" -ge 100 ]
}

@test "sizes in the record are what the code declares (arena, constants)" {
	cd "$F"
	for d in f32 int8; do
		(cd out/s1-0/$d && cc -std=c99 -O0 -c eenn.c -o eenn.o)
		arena=$(nm -S -td out/s1-0/$d/eenn.o | awk '$4 == "arena" { print $2 + 0 }')
		consts=$(nm -S -td out/s1-0/$d/eenn.o | awk 'tolower($3) == "r" { s += $2 }
		    END { print s }')
		rec2json < x.rec | jq -e --arg d "$d" --argjson a "$arena" --argjson c "$consts" '
		    .["sram_bytes_" + $d] == $a and .["flash_bytes_" + $d] == $c and
		    .["sram_exit_bytes_" + $d][-1] == $a and
		    (.["sram_exit_bytes_" + $d] | . == sort)'
		grep -q "#define EENN_ARENA_BYTES $arena " out/s1-0/$d/eenn.h
	done
	rec2json < x.rec | jq -e '.sram_bytes_f32 == 4 * .sram_bytes_int8 and
	    .flash_bytes_int8 < .flash_bytes_f32 / 3'
}

# the bytes of the allocated sections with contents (objdump -h: ALLOC and
# CONTENTS; .bss has no contents) of object $2, by objdump $1
flash_of() {
	"$1" -h "$2" | perl -ne '$z = hex($1) if /^\s*\d+\s+\S+\s+([0-9a-f]+)\s/;
	    $s += $z if /ALLOC/ && /CONTENTS/; END { print $s + 0 }'
}

@test "--cc: code and total flash of NAME.c compiled, as objdump reads the object" {
	cd "$F"
	rec2json < x.rec | jq -e '.export_cc == "cc -std=c99 -O2"'
	for d in f32 int8; do
		(cd out/s1-0/$d && cc -std=c99 -O2 -c eenn.c -o size.o)
		total=$(flash_of objdump out/s1-0/$d/size.o)
		rec2json < x.rec | jq -e --arg d "$d" --argjson t "$total" '
		    .["flash_total_bytes_" + $d] == $t and
		    .["flash_code_bytes_" + $d] == $t - .["flash_bytes_" + $d] and
		    .["flash_code_bytes_" + $d] > 1000'
		[ ! -e out/s1-0/$d/eenn.size.o ]
	done
	# the Cortex-M7 build of the int8 code, at -Os
	cc="arm-none-eabi-gcc -mcpu=cortex-m7 -mthumb -std=c99 -Os"
	eenn-export -o arm --dtype int8 --cc "$cc" t.rec > arm.rec 2> /dev/null
	(cd arm/s1-0/int8 && $cc -c eenn.c -o size.o)
	total=$(flash_of arm-none-eabi-objdump arm/s1-0/int8/size.o)
	rec2json < arm.rec | jq -e --argjson t "$total" '.flash_total_bytes_int8 == $t and
	    .flash_code_bytes_int8 > 1000 and (has("flash_total_bytes_f32") | not)'
	# a compiler that fails: a clear error, nothing written
	run --separate-stderr eenn-export -o bad-cc --cc false t.rec
	assert_failure 70
	[[ $stderr == *'--cc'*'false'*'failed'* ]]
	[ -z "$(ls -A bad-cc 2> /dev/null)" ]
}

@test "--dtype, --name and a second export replace the first whole" {
	cd "$F"
	eenn-export -o o2 --dtype f32 t.rec > /dev/null 2>&1
	[ -f o2/s1-0/f32/eenn.c ]
	run --separate-stderr eenn-export -o o2 --dtype int8 --name net --calib 16 t.rec
	assert_success
	[ ! -e o2/s1-0/f32 ] && [ -f o2/s1-0/int8/net.c ] && [ -f o2/s1-0/int8/net_main.c ]
	grep -q 'int net_run(const unsigned char \*img, int \*exit);' o2/s1-0/int8/net.h
	echo "$output" | rec2json | jq -e 'has("sram_bytes_f32") | not'
	echo "$output" | rec2json | jq -e '.export_calib == 16 and has("export_int8_top1") == false'
	[ "$(ls -A o2)" = "s1-0" ]
}

@test "exits that never fire are left out when the rule scores exits alone (AEBNAS's no exit)" {
	cd "$F"
	rec2json t.rec | jq -c '.rule = "margin" | .thresholds = [0.3, 1, 0.4, 1]' | json2rec > m.rec
	eenn-infer m.rec 2> /dev/null | rec2json > mi.json
	eenn-export -o o3 --dtype f32 --eval 1000 m.rec 2> /dev/null | rec2json > mx.json
	jq -e '.export_exit_stages == [1, 3, 5] and .export_thresholds == [0.3, 0.4]' mx.json
	# what runs is what eenn-infer runs with the exits in place
	jq -e --slurpfile i mi.json '.export_f32_top1 == $i[0].infer_top1 and
	    .export_f32_exit_count == ($i[0].infer_exit_count | [.[0], .[2], .[4]]) and
	    $i[0].infer_exit_count[1] == 0 and $i[0].infer_exit_count[3] == 0' mx.json
	(cd o3/s1-0/f32 && cc -std=c99 -O2 -o run *.c -lm) && o3/s1-0/f32/run test.u8 > m.out
	[ "$(cut -d ' ' -f 2 m.out | sort | uniq -c | awk '{ print $1 }' | paste -sd ,)" = \
	    "$(jq -r '.export_f32_exit_count | map(select(. > 0)) | join(",")' mx.json)" ]
	# their heads are not in the code
	jq -e --slurpfile f <(rec2json x.rec) '.flash_bytes_f32 < $f[0].flash_bytes_f32' mx.json
	grep -q 'exits\.1\.\|exits\.3\.' out/s1-0/f32/eenn.c
	! grep -q 'exits\.1\.\|exits\.3\.' o3/s1-0/f32/eenn.c
	# all of them: the backbone and its final exit alone
	rec2json t.rec | jq -c '.rule = "entropy" | .thresholds = [1, 1, 1, 1]' | json2rec |
	    eenn-export -o o5 --dtype int8 --eval 1000 2> /dev/null | rec2json > m5.json
	jq -e '.export_exit_stages == [5] and .export_thresholds == [] and
	    .export_int8_exit_count == [120]' m5.json
	(cd o5/s1-0/int8 && cc -std=c99 -Wall -Wextra -Werror -O2 -o run *.c -lm) &&
	    o5/s1-0/int8/run test.u8 | cut -d ' ' -f 2 | sort -u | grep -qx 1
	# the cumulative rule reads every exit's confidence: all stay
	rec2json t.rec | jq -c '.thresholds = [0.3, 1, 0.4, 1]' | json2rec |
	    eenn-export -o o4 --dtype f32 2> /dev/null | rec2json |
	    jq -e '.export_exit_stages == [1, 2, 3, 4, 5]'
}

@test "--onnx: one graph per segment beside the C, python3-onnx's checker accepts them" {
	cd "$F"
	run --separate-stderr eenn-export -o o3 --onnx --dtype f32 t.rec
	assert_success
	echo "$output" | rec2json | jq -e --arg d "o3/s1-0/onnx" '
	    .onnx_files == [range(1; 6) | "\($d)/seg\(.).onnx"] and .onnx_bytes > 0'
	[ -f o3/s1-0/f32/eenn.c ] && [ ! -e o3/s1-0/int8 ]
	/usr/bin/python3 -c 'import onnx, sys
for f in sys.argv[2:]:
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    p = {x.key: x.value for x in m.metadata_props}
    assert p["nachos.rule"] == "cumulative", p
    assert [float(v) for v in p["nachos.thresholds"].split(",")] == \
        [float(v) for v in sys.argv[1].split(",")], p' "$(cat thr)" o3/s1-0/onnx/seg*.onnx
}

@test "the harness reads stdin too and rejects a partial image" {
	cd "$F/out/s1-0/f32"
	run ./run < "$F/test.u8"
	assert_success
	diff <(echo "$output") "$F/f32.out"
	head -c 100 "$F/test.u8" > part.u8
	run --separate-stderr ./run part.u8
	assert_failure 65
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	run --separate-stderr ./run no-such-file
	assert_failure 66
}

@test "-DEENN_PROFILE: the hook sees each op run, in order, and -1 after each segment" {
	cd "$F/out/s1-0/f32"
	printf '#include <stdio.h>\nvoid eenn_profile(int op) { fprintf(stderr, "%%d\\n", op); }\n' > prof.c
	cc -std=c99 -Wall -Wextra -Werror -O2 -DEENN_PROFILE -o prof eenn.c eenn_main.c prof.c -lm
	./prof "$F/test.u8" > p.out 2> p.err
	diff p.out "$F/f32.out"
	last=$(sed -n 's/.*of the schedule (0 to \([0-9]*\) in the order.*/\1/p' eenn.h)
	[ -n "$last" ]
	# per image (op 0 starts one): ops increasing, below the header's
	# count; one -1 per segment run, as many as its exit
	awk -v last="$last" '
	    $1 == 0 { if (n++) print segs; segs = 0; prev = 0; next }
	    $1 == -1 { segs++; next }
	    { if ($1 <= prev || $1 > last) { print "bad op " $1 " after " prev > "/dev/stderr"; exit 1 }
	      prev = $1 }
	    END { print segs }' p.err > segs
	[ "$(wc -l < segs)" -eq 120 ]
	diff segs <(cut -d' ' -f2 "$F/f32.out")
	# without the macro no hook is called (nothing to link)
	! nm run | grep -q eenn_profile
}

@test "MCU: the int8 export on an emulated Cortex-M7 predicts as the host build, bit for bit" {
	cd "$F"
	run --separate-stderr "$TOP/examples/mcu/run.sh" "$F/out/s1-0/int8" "$F/test.u8" "$F/m.elf"
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 120 ]
	diff <(echo "$output") int8.out
	# arm-none-eabi-size: the constants are in text; the arena in bss
	echo "$stderr" | awk 'NR == 2 { exit !($1 > 0 && $3 > 0) }'
	text=$(echo "$stderr" | awk 'NR == 2 { print $1 }')
	rec2json < x.rec | jq -e --argjson t "$text" '.flash_bytes_int8 < $t'
	# instructions per exit (-icount): five per image, increasing, the same
	# count for every image to within a few percent (data-dependent only in
	# the clamps and comparisons)
	head -c 640 test.u8 > ten.u8
	run --separate-stderr "$TOP/examples/mcu/run.sh" -c "$F/out/s1-0/int8" "$F/ten.u8"
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 10 ]
	echo "$output" | awk 'NF != 5 || !($1 > 1000 && $1 < $2 && $2 < $3 && $3 < $4 &&
	    $4 < $5) { exit 1 } NR == 1 { a = $5 } $5 > 1.05 * a || $5 < 0.95 * a { exit 1 }'
}

@test "MCU: the int8 kernels with the Cortex-M7's DSP instructions equal their plain twins" {
	# test_kern_q cross-compiled: there the pointwise tiles take the SMLAD
	# path (K_DSP); its exit status comes back through semihosting
	cd "$F"
	. "$TOP/examples/mcu/flags.sh"
	echo 'void cli_leak_check_at_exit(void) {}' > stub.c
	# shellcheck disable=SC2086
	arm-none-eabi-gcc $MCU_CFLAGS -std=gnu11 -Wall -Wextra -Werror -T "$TOP/examples/mcu/mps2-an500.ld" \
	    -I"$TOP/lib" -o kq.elf "$TOP/examples/mcu/startup.c" "$TOP/tests/unit/test_kern_q.c" \
	    "$TOP/tests/unit/unit.c" "$TOP/lib/rng.c" stub.c -lm 2> kq.log ||
	    { cat kq.log; false; }
	arm-none-eabi-objdump -d kq.elf | grep -q 'smlad'
	run --separate-stderr timeout 600 qemu-system-arm -M mps2-an500 -cpu cortex-m7 -display none \
	    -serial none -monitor none -semihosting-config enable=on,target=native -kernel kq.elf
	assert_success
	[[ $output == *"kern_q: 6 passed, 0 failed"* ]]
	[[ $stderr == *"862 cases (0 pointwise and 0 depthwise on vectors), 0 outputs differ"* ]]
}

@test "int8 vector kernels: gcc and clang, SSE4.1 and AVX2, equal their plain twins" {
	# the portable form (SSE4.1: the products widened) and AVX2's
	# multiply-add of pairs, each compiler's shuffles; the host build
	# (tests/unit) runs only the AVX2 copy of K_DISPATCH
	cd "$F"
	grep -q avx2 /proc/cpuinfo || skip "this CPU has no AVX2"
	echo 'void cli_leak_check_at_exit(void) {}' > stub.c
	for cc in gcc clang; do
		for isa in -msse4.1 -mavx2; do
			$cc $isa -std=gnu11 -Wall -Wextra -Werror -O2 -DK_NO_DISPATCH -I"$TOP/lib" \
			    -o kq "$TOP/tests/unit/test_kern_q.c" "$TOP/tests/unit/unit.c" \
			    "$TOP/lib/rng.c" stub.c -lm
			run --separate-stderr ./kq
			assert_success
			[[ $stderr == *"vector requantisation: 1.6M outputs, 0 differ"* ]]
			[[ $stderr == *"862 cases (127 pointwise and 110 depthwise on vectors), 0 outputs differ"* ]]
		done
	done
}

@test "bad input: clear errors, exit codes of the table, nothing written" {
	cd "$F"
	mkdir -p bad
	# no weights
	rec2json < t.rec | jq -c 'del(.weights)' | json2rec > nw.rec
	run --separate-stderr eenn-export -o bad nw.rec
	assert_failure 65
	[[ $stderr == *'record 1'*'weights'*'missing'* ]]
	# no thresholds
	rec2json < t.rec | jq -c 'del(.thresholds)' | json2rec > nt.rec
	run --separate-stderr eenn-export -o bad nt.rec
	assert_failure 65
	[[ $stderr == *'thresholds'*'missing'* ]]
	# weights of another network
	rec2json < t.rec | jq -c '.ks[0] = 5 | del(.genome)' | json2rec > other.rec
	run --separate-stderr eenn-export -o bad other.rec
	assert_failure 65
	[[ $stderr == *'another EENN'* ]]
	# unknown dtype
	run --separate-stderr eenn-export -o bad --dtype fp16 t.rec
	assert_failure 64
	# an id that cannot name a directory
	rec2json < t.rec | jq -c '.id = "../x"' | json2rec > id.rec
	run --separate-stderr eenn-export -o bad id.rec
	assert_failure 65
	[[ $stderr == *'id'* ]]
	[ -z "$(ls -A bad)" ]
	# unwritable -o
	if [ "$(id -u)" -eq 0 ]; then
		run --separate-stderr eenn-export -o /proc/nachos-x t.rec
	else
		mkdir -p ro && chmod 555 ro
		run --separate-stderr eenn-export -o ro t.rec
	fi
	assert_failure 73
	[ -z "$output" ]
	run --separate-stderr eenn-export -o "$F/t.rec" t.rec
	assert_failure 73
	[[ $stderr == *'not a directory'* ]]
}
