#!/usr/bin/env bats
# Hardware limits (lib/hw): flash and SRAM limits and board presets in
# every tool that takes them, the memory figures of mac-count and
# eec-place, and the chain at widths below 1.
load helper
load arch-helper
load idx-helper
bats_require_minimum_version 1.5.0

# fits BYTES < json records: every record's int8 flash within BYTES.
fits() { jq -e -s --argjson b "$1" 'length > 0 and all(.flash_bytes_int8 <= $b)' > /dev/null; }

@test "malformed limits and unknown boards exit 64 naming the option, in every tool" {
	for tool in ofa-sample "nsga-step --err-model x --macs-model y" pareto thresh-tune run-report; do
		for args in "--flash-max 12Q" "--flash-max -1" "--sram-max 0" "--sram-max 1.5" \
		    "--flash-max 1e6" "--flash-max K" "--target nosuch" "--mem-dtype int4"; do
			run --separate-stderr $tool $args
			[ "$status" -eq 64 ] || { echo "$tool $args: status $status"; return 1; }
			[ -z "$output" ]
		done
	done
	run --separate-stderr ofa-sample --flash-max 12Q
	[[ $stderr == *'--flash-max: "12Q": unknown unit (bytes, K = 1024 bytes or M = 1048576 bytes)'* ]]
	run --separate-stderr pareto --sram-max 1.5
	[[ $stderr == *'--sram-max: "1.5": not a whole number of bytes'* ]]
	run --separate-stderr thresh-tune --target nosuch
	[[ $stderr == *'--target: "nosuch" is not one of stm32f412, stm32f746, stm32h743'* ]]
	run --separate-stderr run-report --mem-dtype int4
	[[ $stderr == *'--mem-dtype: "int4" is not one of f32, int8'* ]]
}

@test "mac-count and eec-place agree on the memory figures; int8 below f32; per exit up to the whole" {
	ofa-sample -n 20 --seed 3 | eec-place > e.rec
	mac-count e.rec | rec2json > m.json
	rec2json e.rec > e.json
	sizes() { jq -c 'with_entries(select(.key | test("^(flash|sram)_")))' "$1"; }
	[ "$(sizes m.json)" = "$(sizes e.json)" ]
	[ "$(sizes m.json | head -1 | jq -r 'keys | join(",")')" = \
	    flash_bytes_f32,flash_bytes_int8,sram_bytes_f32,sram_bytes_int8,sram_exit_bytes_f32,sram_exit_bytes_int8 ]
	jq -e -s 'length == 20 and all(
	    .flash_bytes_int8 < .flash_bytes_f32 and .sram_bytes_int8 < .sram_bytes_f32 and
	    (.sram_exit_bytes_int8 | length) == (.exit_stages | length) and
	    .sram_exit_bytes_int8[-1] == .sram_bytes_int8 and
	    .sram_exit_bytes_f32[-1] == .sram_bytes_f32 and
	    (.sram_exit_bytes_int8 | . == sort))' m.json
	# f32 constants: 4 bytes a weight, so more than 4 bytes a parameter of the
	# backbone and heads minus the BN parameters folded away
	jq -e -s 'all(.flash_bytes_f32 > 3.9 * (.params + .params_heads))' m.json
}

@test "ofa-sample --flash-max/--target: only networks that fit, the rejections counted" {
	run --separate-stderr sh -c 'ofa-sample -n 30 --width 0.35 --flash-max 640K | mac-count | rec2json > s.json'
	assert_success
	[[ $stderr =~ ofa-sample:\ rejected\ [1-9][0-9]*\ sampled\ networks\ that\ break\ the\ limits\ \(flash\ \<=\ 655360\ B\ at\ int8\) ]]
	[ "$(wc -l < s.json)" -eq 30 ]
	fits 655360 < s.json
	# without the limit some of the same space would not fit
	ofa-sample -n 30 --width 0.35 | mac-count | rec2json > u.json
	! fits 655360 < u.json
	# a board: flash and SRAM, at f32 too
	ofa-sample -n 10 --width 0.35 --target stm32h743 --mem-dtype f32 2> /dev/null |
	    mac-count | rec2json > h.json
	jq -e -s 'length == 10 and all(.flash_bytes_f32 <= 2097152 and .sram_bytes_f32 <= 524288)' h.json
	# --extremes keeps the all-min network, drops the all-max one
	ofa-sample --extremes -n 3 --width 0.35 --target stm32f746 2> /dev/null | rec2json > x.json
	[ "$(jq -c '.ks | unique' x.json | head -1)" = "[3]" ]
	! jq -e '.ks | unique == [7]' x.json > /dev/null
}

@test "ofa-sample: a limit no network of the space meets fails at once, saying what the smallest needs" {
	run --separate-stderr ofa-sample -n 5 --target stm32f746
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"no network of the space at width 1 fits flash <= 1048576 B, SRAM <= 327680 B at int8 (stm32f746): even the all-min one with a single exit breaks them (flash "*" B > 1048576 B); try a smaller --width"* ]]
}

@test "nsga-step under a flash limit: every candidate fits; the rejected are counted" {
	# an archive of results (made-up accuracy) at width 0.35 and its surrogates
	ofa-sample -n 60 --width 0.35 --seed 2 | mac-count | rec2json |
	    jq -c '.type = "result" | .top1_ee_val = (0.5 + .macs_backbone / 4e6) |
		.avg_macs_val = .macs_backbone' | json2rec > a.rec
	surrogate-fit -t top1_ee_val --error -m rbf --folds 0 -o em.rec a.rec 2> /dev/null
	surrogate-fit -t avg_macs_val -m rbf --folds 0 -o mm.rec a.rec 2> /dev/null
	run --separate-stderr sh -c 'nsga-step --err-model em.rec --macs-model mm.rec --macs-max 2e6 \
	    --flash-max 600K --pop 20 --gens 5 -k 4 a.rec > c.rec'
	assert_success
	[[ $stderr =~ nsga-step:\ rejected\ [0-9]+\ networks\ of\ the\ final\ population\ that\ break\ the\ limits ]]
	mac-count c.rec | rec2json > c.json
	[ "$(wc -l < c.json)" -ge 1 ]
	fits 614400 < c.json
	# the same search without the limit proposes networks above it
	nsga-step --err-model em.rec --macs-model mm.rec --macs-max 2e6 --pop 20 --gens 5 -k 4 \
	    a.rec 2> /dev/null | mac-count | rec2json > u.json
	! fits 614400 < u.json
}

@test "pareto: a network over a limit is not admissible, whatever its accuracy" {
	# two results: the all-min network (small) and the all-max (large), both accurate
	{ arch_json 3 3 2 1 10 0.5; arch_json 7 6 4 1 10 0.5; } | json2rec | mac-count | rec2json |
	    jq -c '.type = "result" | .id = "r\(input_line_number)" | .top1_ee_val = 0.9 |
		.avg_macs_val = .macs_backbone / 2' | json2rec > r.rec
	pareto -a -f rec r.rec | rec2json | jq -c '[.id, .admissible]' > free.txt
	[ "$(sort free.txt | tr -d '\n')" = '["r1",true]["r2",true]' ]
	small=$(rec2json r.rec | jq -s '.[0].flash_bytes_int8')
	pareto -a -f rec --flash-max "$small" r.rec | rec2json | jq -c '[.id, .admissible, .violation > 0]' |
	    sort > lim.txt
	[ "$(tr -d '\n' < lim.txt)" = '["r1",true,false]["r2",false,true]' ]
}

@test "thresh-tune: feasible only when the network fits; mem_violation" {
	[ -x "$TOP/tests/unit/bin/test_exo" ] || make -s -C "$TOP" tests/unit/bin/test_exo >&2
	# exit outputs of a made-up 5-exit EENN whose record is the all-min arch
	exo_gen x.exo 50 5 10 1 | rec2json > r.json
	g=$(jq -c .genome r.json)
	jq -c --argjson g "$g" '. + {space: "nachos", width: 0.5, resolution: 32, in_ch: 1,
	    classes: 10}' r.json > rr.json
	json2rec < rr.json > r.rec
	thresh-tune --acc-min 0 --macs-max 1e12 r.rec 2> /dev/null | rec2json > free.json
	jq -e '.feasible == true and .mem_violation == null' free.json
	thresh-tune --acc-min 0 --macs-max 1e12 --flash-max 1K r.rec 2> /dev/null | rec2json > lim.json
	jq -e '.feasible == false and .mem_violation > 0' lim.json
	thresh-tune --acc-min 0 --macs-max 1e12 --flash-max 100M r.rec 2> /dev/null | rec2json > ok.json
	jq -e '.feasible == true and .mem_violation == 0' ok.json
}

@test "pipelines: bad limits and unmeetable ones exit 64 before anything is created" {
	load pipeline-helper
	pipeline_setup
	for args in "--flash-max 12Q" "--sram-max 0" "--target nosuch" "--width x" "--mem-dtype int4" \
	    "--target stm32f746"; do
		for p in nachos edanas; do
			run --separate-stderr $p "${tiny[@]}" $args r
			[ "$status" -eq 64 ] || { echo "$p $args: status $status"; return 1; }
			[ ! -e r ] || { echo "$p $args: created r"; return 1; }
		done
	done
	run --separate-stderr nachos "${tiny[@]}" --flash-max 12Q r
	[[ $stderr == *'nachos: --flash-max: "12Q": unknown unit'* ]]
	run --separate-stderr random "${tiny[@]}" --target stm32f746 r
	[[ $stderr == *'random: no network of the space at width 1 fits flash <= 1048576 B, SRAM <= 327680 B at int8 (stm32f746)'* ]]
}

@test "a tiny search under a flash limit the width-1.0 space cannot meet: nothing over it trained" {
	load pipeline-helper
	pipeline_setup
	run --separate-stderr nachos "${tiny[@]}" --width 0.35 --flash-max 640K run
	assert_success
	cd run
	grep -q "^WIDTH='0.35'$" config
	grep -q "^FLASH_MAX='640K'$" config
	# every network trained (archive) and every one proposed fits
	rec2json archive.rec > a.json
	[ "$(wc -l < a.json)" -eq 5 ]
	jq -e -s 'all(.width == 0.35 and .flash_bytes_int8 <= 655360 and .feasible != null)' a.json
	for id in $(cat iter/*/ids); do
		rec2json "cand/$id/eenn.rec" | jq -e '.flash_bytes_int8 <= 655360' > /dev/null
	done
	# the rejections: counted by the tools, summed in the report
	n0=$(sed -n 's/^ofa-sample: rejected \([0-9]*\) .*/\1/p' logs/ofa-sample.log)
	n1=$(sed -n 's/^nsga-step: rejected \([0-9]*\) .*/\1/p' iter/1/nsga-step.log)
	[ "$n0" -gt 0 ]
	grep -q "^Width 0.35; flash ≤ 640K, weights and activations at int8; $((n0 + n1)) network(s) that break them rejected before training.$" report.md
	grep -q '^| flash (weights etc.), int8 / f32 | [0-9]* / [0-9]* bytes |$' report.md
	# pareto under the same limit agrees: nothing in the archive breaks it
	pareto -a -f rec --flash-max 640K archive.rec | rec2json | jq -e -s 'all(.violation < 1)' > /dev/null
}

@test "mac-count's memory figures are eenn-export's for the same records (trained, tuned, exported)" {
	mkidx h3 3 300 60
	ofa-sample --extremes -n 3 --in-ch 1 --resolution 16 --classes 3 --width 0.35 --seed 4 |
	    eec-place > e.rec
	eenn-train --data h3 --method nachos --mu1 1 --mu2 1 --mu3 1 --batch 32 --threads 1 \
	    -o 'w%d.ckpt' --exo 'x%d.exo' e.rec 2> /dev/null | thresh-tune 2> /dev/null |
	    rec2json | jq -c 'with_entries(select(.key | test("^(flash|sram)_") | not))' |
	    json2rec > t.rec
	# export computes its own: the records reach it without the keys
	! rec2json t.rec | grep -q flash_bytes
	eenn-export -o out --calib 32 t.rec 2> /dev/null > x.rec
	sizes() { rec2json | jq -c '[.id, with_entries(select(.key | test("^(flash|sram)_")))]'; }
	mac-count e.rec | sizes > want
	sizes < x.rec > got
	[ "$(wc -l < got)" -eq 3 ]
	diff want got
	# and they differ between the three networks (a test that can fail)
	[ "$(jq -c '.[1].flash_bytes_int8' got | sort -u | wc -l)" -eq 3 ]
}

@test "widths 0.35, 0.5, 0.75: supernet, sampling, exits, counting, training from the supernet, thresholds" {
	mkidx d4 4 400 80
	for w in 0.35 0.5 0.75; do
		ofa-train --data d4 --batch 32 --width "$w" --resolution 16 --in-ch 1 --threads 1 \
		    --calib 64 --epochs 1 -o "s$w.ckpt" > /dev/null 2>&1
		ofa-sample --extremes -n 2 --width "$w" --resolution 16 --in-ch 1 --classes 4 |
		    eec-place | mac-count > "e$w.rec"
		rec2json "e$w.rec" | jq -e --argjson w "$w" '.width == $w and .placement == "ok" and
		    .macs_backbone > 0 and .flash_bytes_int8 > 0' > /dev/null
		eenn-train --data d4 --batch 32 --threads 1 --supernet "s$w.ckpt" --calib 64 \
		    --mu1 0 --mu2 1 --mu3 1 --exo "x$w-%d.exo" -o "w$w-%d.ckpt" "e$w.rec" 2> /dev/null |
		    thresh-tune --acc-min 0 --macs-max 1e9 2> /dev/null > "t$w.rec"
		rec2json "t$w.rec" | jq -e -s --argjson w "$w" 'length == 2 and all(.width == $w and
		    .feasible and .top1_ee_test > 0.25 and
		    (.thresholds | length) == (.exit_stages | length) - 1)' > /dev/null ||
		    { echo "width $w"; rec2json "t$w.rec"; return 1; }
	done
	# the counts grow with the width
	for w in 0.35 0.5 0.75; do rec2json "e$w.rec" | jq -s '.[1].macs_backbone'; done > macs
	sort -n -c macs
	[ "$(sort -u macs | wc -l)" -eq 3 ]
}
