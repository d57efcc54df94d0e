#!/usr/bin/env bats
# nsga-step: candidates from surrogate models of a synthetic archive; new,
# distinct, valid arch records; reproducible; the MACs and accuracy
# constraints, the EDANAS and AEBNAS objectives; every class of bad input.
load helper
bats_require_minimum_version 1.5.0

# archive N [SEED [SPACE]]: N result records (JSON lines) drawn by
# ofa-sample, their MACs counted; avg_macs_val shrinks with early exits
# and top1_ee_val grows with the backbone's MACs.
archive() {
	ofa-sample -n "$1" --seed "${2:-1}" --space "${3:-nachos}" | mac-count | rec2json |
	    sed 's/"type":"arch"/"type":"result"/' | awk '{
		match($0, /"macs_backbone":[0-9]+/); m = substr($0, RSTART + 16, RLENGTH - 16) + 0
		match($0, /"exits":\[[0-9,]+\]/); split(substr($0, RSTART + 9, RLENGTH - 10), x, ",")
		avg = m * (1 - 0.12 * x[1] - 0.08 * x[2] - 0.05 * x[3] - 0.02 * x[4])
		acc = 0.6 + 0.3 * (1 - exp(-m / 6e6)) - 0.01 * (x[1] + x[2] + x[3] + x[4])
		sub(/}$/, sprintf(",\"top1_ee_val\":%.5f,\"avg_macs_val\":%d}", acc, avg))
		print
	}'
}

# models ARCHIVE [MODEL]: em.rec (error of top1_ee_val) and mm.rec (avg_macs_val).
models() {
	surrogate-fit -t top1_ee_val --error -m "${2:-rbf}" --folds 0 -o em.rec "$1"
	surrogate-fit -t avg_macs_val -m "${2:-rbf}" --folds 0 -o mm.rec "$1"
}

# The standard setup: a 60-record nachos archive a.rec and its models.
setup_archive() {
	archive 60 | json2rec > a.rec
	models a.rec
}

# key K < json: the values of key K, one a line.
key() {
	grep -o "\"$1\":[^,}]*" | cut -d: -f2
}

genomes() {
	grep -o '"genome":\[[^]]*\]'
}

@test "-h prints the usage and exits 0" {
	run nsga-step -h
	assert_success
	assert_line --index 0 "usage: nsga-step [-h] --err-model FILE --macs-model FILE [--macs-max MACS]"
	assert_line --index 4 "                 [--skip-missing] [--flash-max BYTES] [--sram-max BYTES]"
	assert_line --index 5 "                 [--target NAME] [--mem-dtype int8|f32] [--cost macs|latency]"
	assert_line --index 6 "                 [--lat-max MS] [FILE ...]"
}

@test "bad options exit 64 with the usage or a message, nothing on stdout" {
	setup_archive
	m="--err-model em.rec --macs-model mm.rec"
	for args in "-x" "" "--err-model em.rec --macs-max 4e6" "$m" "$m --macs-max 0" \
	    "$m --macs-max x" "$m --macs-max 4e6 --objectives nsga3" "$m --objectives aebnas" \
	    "$m --objectives aebnas --target-macs 4e6 --macs-max 4e6" \
	    "$m --macs-max 4e6 --target-macs 4e6" "$m --no-constraints --macs-max 4e6" \
	    "$m --no-constraints --acc-min 0.8" "$m --macs-max 4e6 --acc-min 1.5" \
	    "$m --macs-max 4e6 --pop 1" "$m --macs-max 4e6 -k 41" "$m --macs-max 4e6 --k 0" \
	    "$m --macs-max 4e6 --gens -1" "$m --macs-max 4e6 --eta 0" \
	    "$m --macs-max 4e6 --penalty -1" "$m --macs-max 4e6 --seed x" "$m --macs-max 4e6 --iter -2"; do
		run --separate-stderr nsga-step $args a.rec
		assert_failure 64
		[ -z "$output" ]
		[ -n "$stderr" ]
	done
}

@test "K new arch records: valid for eec-place, distinct, none in the archive" {
	setup_archive
	nsga-step --err-model em.rec --macs-model mm.rec --macs-max 5e6 --iter 3 a.rec > c.rec
	rec2json c.rec > c.json
	[ "$(wc -l < c.json)" -eq 8 ]
	[ "$(grep -c '^{"type":"arch","v":1,"id":"i3-[0-7]","space":"nachos","ks":\[' c.json)" -eq 8 ]
	[ "$(grep -c '"width":1.0,"resolution":32,"in_ch":3,"classes":10,"genome":\[[0-9,]*\],"iter":3,"pred_err":0\.[0-9]*,"pred_macs":[0-9.e+]*}$' c.json)" -eq 8 ]
	# eec-place reads every one of them back (and checks genome against ks/e/d/exits)
	eec-place c.rec | rec2json > e.json
	[ "$(grep -c '^{"type":"eenn"' e.json)" -eq 8 ]
	# distinct, and new (the archive's genomes are canonical, as are these)
	[ "$(genomes < c.json | sort -u | wc -l)" -eq 8 ]
	rec2json a.rec | genomes | sort -u > arch.g
	[ "$(genomes < c.json | sort -u | comm -12 - arch.g | wc -l)" -eq 0 ]
}

@test "--gens 0: the archive front in the population is never written; padding is" {
	setup_archive
	# nf: the archive's non-dominated records in (error, avg MACs)
	nf=$(rec2json a.rec | awk '{
		match($0, /"top1_ee_val":[0-9.]+/); e[NR] = 1 - substr($0, RSTART + 14, RLENGTH - 14)
		match($0, /"avg_macs_val":[0-9]+/); m[NR] = substr($0, RSTART + 15, RLENGTH - 15) + 0
	} END {
		for (i = 1; i <= NR; i++) {
			d = 0
			for (j = 1; j <= NR; j++)
				if (e[j] <= e[i] && m[j] <= m[i] && (e[j] < e[i] || m[j] < m[i])) d = 1
			nf += !d
		}
		print nf
	}')
	[ "$nf" -gt 5 ] && [ "$nf" -lt 35 ]
	nsga-step --err-model em.rec --macs-model mm.rec --no-constraints -k 40 --gens 0 a.rec \
	    > c.rec 2> err
	grep -q "only $((40 - nf)) new genomes in the final population, not 40" err
	[ "$(rec2json c.rec | genomes | sort -u | wc -l)" -eq $((40 - nf)) ]
	rec2json a.rec | genomes | sort -u > arch.g
	[ "$(rec2json c.rec | genomes | sort -u | comm -12 - arch.g | wc -l)" -eq 0 ]
}

@test "reproducible by seed; another seed gives other candidates" {
	setup_archive
	m="--err-model em.rec --macs-model mm.rec --macs-max 5e6"
	nsga-step $m --seed 7 a.rec > s7a.rec
	nsga-step $m --seed 7 < a.rec > s7b.rec
	cmp s7a.rec s7b.rec
	nsga-step $m --seed 8 a.rec > s8.rec
	! cmp -s s7a.rec s8.rec
}

@test "-k, --pop and --gens; the progress line on stderr" {
	setup_archive
	nsga-step --err-model em.rec --macs-model mm.rec --macs-max 5e6 --pop 12 --gens 3 \
	    --k 5 a.rec > c.rec 2> err
	grep -q 'generation 3/3.*new in the final population.*5 picked' err
	[ "$(rec2json c.rec | wc -l)" -eq 5 ]
	nsga-step --err-model em.rec --macs-model mm.rec --macs-max 5e6 -k 3 --gens 0 a.rec |
	    rec2json > k3.json
	[ "$(wc -l < k3.json)" -eq 3 ]
}

@test "a tight --macs-max: most candidates are predicted within it" {
	setup_archive
	# the archive's cheapest measured avg MACs is about 3.6M
	nsga-step --err-model em.rec --macs-model mm.rec --macs-max 4e6 a.rec | rec2json > c.json
	key pred_macs < c.json | awk '$1 <= 4.2e6 { n++ } END { print n; exit !(n >= 6) }'
	# without the constraint the candidates spread up the MACs range
	nsga-step --err-model em.rec --macs-model mm.rec --no-constraints a.rec | rec2json > u.json
	key pred_macs < u.json | awk '$1 > 5e6 { n++ } END { print n; exit !(n >= 2) }'
}

@test "--acc-min: candidates are predicted accurate enough when the population allows" {
	setup_archive
	nsga-step --err-model em.rec --macs-model mm.rec --macs-max 9e6 --acc-min 0.8 a.rec |
	    rec2json > c.json
	[ "$(wc -l < c.json)" -eq 8 ]
	key pred_err < c.json | awk '$1 <= 0.2 + 1e-9 { n++ } END { print n; exit !(n == 8) }'
}

@test "EDANAS space without constraints, AEBNAS space and objectives" {
	archive 60 1 edanas | json2rec > ed.rec
	models ed.rec
	nsga-step --err-model em.rec --macs-model mm.rec --no-constraints ed.rec > c.rec
	rec2json c.rec | grep -c '"space":"edanas".*"exit_th":\[' | grep -qx 8
	eec-place c.rec | rec2json | grep -c '^{"type":"eenn"' | grep -qx 8

	archive 40 1 aebnas | json2rec > ae.rec
	models ae.rec cart
	nsga-step --err-model em.rec --macs-model mm.rec --objectives aebnas --target-macs 5e6 \
	    ae.rec > c.rec
	rec2json c.rec > c.json
	[ "$(grep -c '"space":"aebnas".*"branches":\[' c.json)" -eq 8 ]
	eec-place c.rec | rec2json | grep -c '^{"type":"eenn"' | grep -qx 8
	# MAPE pulls the predicted MACs towards the target
	key pred_macs < c.json | awk '{ d = $1 / 5e6 - 1; if (d < 0) d = -d; if (d < 0.25) n++ }
	    END { print n; exit !(n >= 6) }'
}

@test "--skip-missing: a failed candidate only rules out its genome" {
	archive 60 | json2rec > a.rec
	models a.rec
	archive 61 | tail -1 | sed 's/,"top1_ee_val":[^,]*,"avg_macs_val":[0-9]*//' > failed.json
	json2rec < failed.json > failed.rec
	run --separate-stderr nsga-step --err-model em.rec --macs-model mm.rec --macs-max 5e6 \
	    a.rec failed.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'failed.rec: record 1: key "top1_ee_val": missing'* ]]
	run --separate-stderr nsga-step --err-model em.rec --macs-model mm.rec --macs-max 5e6 \
	    --skip-missing a.rec failed.rec
	assert_success
	[[ $stderr == *"1 archive records without"* ]]
}

@test "bad archive records: exit 65 naming file, record and key, nothing on stdout" {
	setup_archive
	m="--err-model em.rec --macs-model mm.rec --macs-max 5e6"
	rec2json a.rec > a.json
	check() {   # check FILE MESSAGE
		run --separate-stderr nsga-step $m "$1"
		assert_failure 65
		[ -z "$output" ]
		[[ $stderr == *"$2"* ]] || { echo "$stderr"; false; }
	}
	sed '3s/"genome":\[[^]]*\],//; 3s/"ks":\[[^]]*\],//' a.json | json2rec > nogenome.rec
	check nogenome.rec 'nogenome.rec: record 3: key "genome": missing'
	sed '2s/"genome":\[[^]]*\],//' a.json | json2rec > onlyks.rec
	check onlyks.rec 'onlyks.rec: record 2: key "genome": missing'
	sed '4s/"top1_ee_val":[^,]*/"top1_ee_val":"high"/' a.json | json2rec > str.rec
	check str.rec 'str.rec: record 4: key "top1_ee_val"'
	sed '5s/"avg_macs_val":[0-9]*/"avg_macs_val":-3/' a.json | json2rec > neg.rec
	check neg.rec 'neg.rec: record 5: key "avg_macs_val"'
	sed '2s/"width":1.0/"width":1.2/' a.json | json2rec > width.rec
	check width.rec 'width.rec: record 2: key "width": differs from the archive'"'"'s first record'
	{ head -3 a.json; archive 1 1 edanas; } | json2rec > space.rec
	check space.rec 'space.rec: record 4: key "space": "edanas", but the archive'"'"'s first record is "nachos"'
	: > empty.rec
	check empty.rec 'no archive record with "top1_ee_val" and "avg_macs_val"'
	head -c 100 a.rec > trunc.rec
	check trunc.rec 'trunc.rec: record 1'
	run --separate-stderr nsga-step $m missing.rec
	assert_failure 66
	[ -z "$output" ]
}

@test "bad model records: wrong type, wrong target, genomes of another length" {
	setup_archive
	run --separate-stderr nsga-step --err-model a.rec --macs-model mm.rec --macs-max 5e6 a.rec
	assert_failure 65
	[[ $stderr == *'a.rec: record 1: key "type": not "model"'* ]]
	run --separate-stderr nsga-step --err-model mm.rec --macs-model mm.rec --macs-max 5e6 a.rec
	assert_failure 65
	[[ $stderr == *'mm.rec: record 1: key "target": "avg_macs_val" is not an error'* ]]
	run --separate-stderr nsga-step --err-model em.rec --macs-model em.rec --macs-max 5e6 a.rec
	assert_failure 65
	[[ $stderr == *'em.rec: record 1: key "target": "top1_ee_val" as an error is not an average MACs key'* ]]
	: > none.rec
	run --separate-stderr nsga-step --err-model none.rec --macs-model mm.rec --macs-max 5e6 a.rec
	assert_failure 65
	[[ $stderr == *'none.rec: no model record'* ]]
	run --separate-stderr nsga-step --err-model nofile.rec --macs-model mm.rec --macs-max 5e6 a.rec
	assert_failure 66
	# models of 77-gene AEBNAS genomes against a 49-gene archive
	archive 40 1 aebnas | json2rec > ae.rec
	surrogate-fit -t avg_macs_val -m cart --folds 0 -o mm77.rec ae.rec
	run --separate-stderr nsga-step --err-model em.rec --macs-model mm77.rec --macs-max 5e6 a.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'mm77.rec: record 1: key "d": 77 genes, but the nachos genomes of the archive have 49'* ]]
}

@test "--cost latency: the cost model predicts ms (a MACs model refused), F_CM's limit --lat-max" {
	# the synthetic archive's cost in "ms": its MACs / 1e6
	archive 60 | jq -c '. + {avg_latency_val: (.avg_macs_val / 1e6), cost: "latency"}' |
	    json2rec > l.rec
	models l.rec
	surrogate-fit -t avg_latency_val -m rbf --folds 0 -o lm.rec l.rec
	run --separate-stderr nsga-step --err-model em.rec --macs-model mm.rec --cost latency \
	    --lat-max 4.2 -k 4 --gens 2 l.rec
	[ "$status" -eq 65 ]
	[[ $stderr == *'mm.rec: record 1: key "target": "avg_macs_val" is not an average latency key (--macs-model with --cost latency: fit avg_latency_val)'* ]]
	nsga-step --err-model em.rec --macs-model lm.rec --cost latency --lat-max 4.2 -k 8 \
	    --gens 10 --seed 3 l.rec 2> /dev/null | rec2json > c.json
	[ "$(wc -l < c.json)" -eq 8 ]
	jq -e -s 'all(.pred_macs == null and .pred_latency > 0)' c.json > /dev/null
	# the same search as with MACs: the constraint holds for most candidates
	key pred_latency < c.json | awk '$1 <= 4.2 { n++ } END { print n; exit !(n >= 6) }'
}
