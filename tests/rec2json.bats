#!/usr/bin/env bats
# rec2json and json2rec: JSON lines <-> records, and the errors of both.
load helper
bats_require_minimum_version 1.5.0

@test "-h prints the usage of each tool and exits 0" {
	run rec2json -h
	assert_success
	assert_output "usage: rec2json [-hp] [file ...]"
	run json2rec -h
	assert_success
	assert_output "usage: json2rec [-h] [file ...]"
}

@test "an unknown option exits 64 with the usage on stderr" {
	run --separate-stderr rec2json -x
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"usage: rec2json"* ]]
	run --separate-stderr json2rec --bogus
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"usage: json2rec"* ]]
}

@test "a JSON line survives json2rec | rec2json unchanged" {
	line='{"type":"x","v":1,"a":[1,-2,2.5,0.1,1.0,1.2,1e+300],"s":"\u00e9\n\"","m":{"k":null,"t":true,"f":false},"b":{"$base64":"aGVsbG8="}}'
	want='{"type":"x","v":1,"a":[1,-2,2.5,0.1,1.0,1.2,1e+300],"s":"é\n\"","m":{"k":null,"t":true,"f":false},"b":{"$base64":"aGVsbG8="}}'
	run sh -c "printf '%s\n' '$line' | json2rec | rec2json"
	assert_success
	assert_output "$want"
}

@test "floats keep full precision and stay floats" {
	echo '{"type":"x","v":1,"p":0.30000000000000004,"q":2.0,"r":1e-07}' > in.json
	run sh -c 'json2rec in.json | rec2json'
	assert_success
	assert_output '{"type":"x","v":1,"p":0.30000000000000004,"q":2.0,"r":1e-07}'
}

@test "json2rec: integer literals too large for int64 are the numbers they write (jq's 1e+28)" {
	# jq 1.6 prints the double 1.2068383140518726e+28 without an exponent
	echo '{"type":"x","v":1,"a":1.2068383140518726e+28}' > in.json
	jq -c . in.json > jq.json
	grep -q '"a":12068383140518726000000000000' jq.json
	run sh -c 'json2rec jq.json | rec2json'
	assert_success
	assert_output '{"type":"x","v":1,"a":1.2068383140518726e+28}'
	# int64's limits stay integers; strings and keys are left alone
	echo '{"type":"x","v":1,"lo":-9223372036854775808,"hi":9223372036854775807,"s":"99999999999999999999","n":[-99999999999999999999,0],"e":"\"123456789012345678901\""}' > b.json
	run sh -c 'json2rec b.json | rec2json'
	assert_success
	assert_output '{"type":"x","v":1,"lo":-9223372036854775808,"hi":9223372036854775807,"s":"99999999999999999999","n":[-1e+20,0],"e":"\"123456789012345678901\""}'
}

@test "blank lines are skipped and key order is kept" {
	printf '\n{"v":2,"type":"b","z":1,"a":2}\n   \n{"type":"c","v":0}\n' > in.json
	run sh -c 'json2rec < in.json | rec2json'
	assert_success
	assert_output $'{"v":2,"type":"b","z":1,"a":2}\n{"type":"c","v":0}'
}

@test "several files are read in order" {
	echo '{"type":"a","v":1}' > a.json
	echo '{"type":"b","v":1}' > b.json
	json2rec a.json > a.rec
	json2rec b.json > b.rec
	run sh -c 'rec2json a.rec - b.rec < a.rec'
	assert_success
	assert_output $'{"type":"a","v":1}\n{"type":"a","v":1}\n{"type":"b","v":1}'
}

@test "rec2json -p writes pretty JSON that jq reads back to the same value" {
	echo '{"type":"x","v":1,"a":[1,2],"m":{"k":[{"x":1}]}}' | json2rec > in.rec
	run rec2json -p in.rec
	assert_success
	assert_line --index 0 '{'
	assert_line '  "a": [1, 2],'
	[ "$(rec2json -p in.rec | jq -c .)" = '{"type":"x","v":1,"a":[1,2],"m":{"k":[{"x":1}]}}' ]
}

@test "json2rec: bad JSON exits 65 naming the line, earlier records stay whole" {
	printf '{"type":"x","v":1}\n{"type":"x","v":1,\n' > in.json
	json2rec in.json > out.rec 2> err || status=$?
	[ "$status" -eq 65 ]
	grep -q 'json2rec: in.json: line 2: bad JSON' err
	run rec2json out.rec
	assert_success
	assert_output '{"type":"x","v":1}'
}

@test "json2rec: a value that is not an object exits 65 with empty stdout" {
	run --separate-stderr sh -c 'echo "[1,2]" | json2rec'
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"stdin: line 1: not a JSON object"* ]]
}

@test "json2rec: missing or mistyped type and v exit 65 naming the key" {
	run --separate-stderr sh -c 'echo "{\"v\":1}" | json2rec'
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'line 1: key "type": missing'* ]]
	run --separate-stderr sh -c 'echo "{\"type\":3,\"v\":1}" | json2rec'
	assert_failure 65
	[[ $stderr == *'key "type": not a string'* ]]
	run --separate-stderr sh -c 'printf "\n{\"type\":\"x\"}\n" | json2rec'
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'line 2: key "v": missing'* ]]
	run --separate-stderr sh -c 'echo "{\"type\":\"x\",\"v\":\"1\"}" | json2rec'
	assert_failure 65
	[[ $stderr == *'key "v": not a non-negative integer'* ]]
}

@test "json2rec: bad base64 exits 65" {
	run --separate-stderr sh -c 'echo "{\"type\":\"x\",\"v\":1,\"b\":{\"\$base64\":\"abc\"}}" | json2rec'
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'line 1: $base64'* ]]
}

@test "rec2json: a truncated record exits 65 naming it, earlier lines stay whole" {
	printf '{"type":"x","v":1}\n{"type":"x","v":1,"a":[1,2,3]}\n' | json2rec | head -c -3 > in.rec
	run --separate-stderr rec2json in.rec
	assert_failure 65
	assert_output '{"type":"x","v":1}'
	[[ $stderr == *"rec2json: in.rec: record 2: truncated"* ]]
}

@test "rec2json: a record that is not a map, or lacks type, exits 65" {
	printf '\x93\x01\x02\x03' > in.rec
	run --separate-stderr rec2json in.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"record 1: not a map"* ]]
	printf '\x81\xa1v\x01' > in.rec
	run --separate-stderr rec2json in.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'record 1: key "type": missing'* ]]
}

@test "a missing input file exits 66" {
	run rec2json no-such-file
	assert_failure 66
	run json2rec no-such-file
	assert_failure 66
}

# ---- hostile input (issue 16) ----

@test "rec2json: a 5-byte array header declaring 2^32 elements exits 65, allocating nothing" {
	# msgpack-c would reserve 96 GiB of objects for it; the limit keeps
	# the test's address space small so an attempt fails loudly (70).
	run --separate-stderr sh -c "[ -n \"\${ASAN_OPTIONS-}\" ] || ulimit -v 400000; printf '\\335\\377\\377\\377\\377' | rec2json"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"rec2json: stdin: record 1: array of 4294967295 elements"* ]]
	printf '\337\020\000\000\000' > in.rec
	run --separate-stderr sh -c '[ -n "${ASAN_OPTIONS-}" ] || ulimit -v 400000; rec2json in.rec'
	assert_failure 65
	[[ $stderr == *"rec2json: in.rec: record 1: truncated: map of 268435456 pairs"* ]]
}

@test "rec2json: a string or bin longer than the file exits 65 before reading it" {
	printf '\202\244type\241x\241v\333\177\377\377\377ab' > in.rec
	run --separate-stderr sh -c '[ -n "${ASAN_OPTIONS-}" ] || ulimit -v 400000; rec2json in.rec'
	assert_failure 65
	[[ $stderr == *"in.rec: record 1: truncated: value of 2147483647 bytes"* ]]
	printf '\202\244type\241x\241v\306\377\377\377\377' > in.rec
	run --separate-stderr sh -c '[ -n "${ASAN_OPTIONS-}" ] || ulimit -v 400000; rec2json < in.rec'
	assert_failure 65
	[[ $stderr == *"stdin: record 1: truncated: value of 4294967295 bytes"* ]]
}

@test "nesting: 32 levels read back, 33 exit 65 in rec2json and are refused by json2rec" {
	deep() { printf '{"type":"x","v":1,"a":'; printf '%*s' "$1" '' | tr ' ' '['; printf '%*s' "$1" '' | tr ' ' ']'; printf '}\n'; }
	deep 31 > ok.json
	run sh -c 'json2rec ok.json | rec2json | jq -c .type'
	assert_success
	assert_output '"x"'
	deep 32 > deep.json
	run --separate-stderr json2rec deep.json
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"json2rec: deep.json: line 1: nested deeper than 32 levels"* ]]
	# The same record made by hand: a map holding 32 nested arrays.
	{ printf '\203\244type\241x\241v\001\241a'; for i in $(seq 32); do printf '\221'; done; printf '\300'; } > deep.rec
	run --separate-stderr rec2json deep.rec
	assert_failure 65
	[[ $stderr == *"rec2json: deep.rec: record 1: nested deeper than 32 levels"* ]]
}

@test "rec2json: invalid UTF-8 exits 65 naming record and key, with no part of its line" {
	printf '{"type":"x","v":1}\n' | json2rec > in.rec
	printf '\203\244type\241x\241v\001\241s\243a\377b' >> in.rec
	run --separate-stderr rec2json in.rec
	assert_failure 65
	assert_output '{"type":"x","v":1}'
	[[ $stderr == *'rec2json: in.rec: record 2: key "s": invalid UTF-8'* ]]
	# overlong '/', a surrogate, above U+10FFFF
	for bad in '\300\257' '\355\240\200' '\364\220\200\200'; do
		{ printf '\203\244type\241x\241v\001\241s'; printf "\\24$(printf '%s' "$bad" | tr -cd '\\' | wc -c)"; printf "$bad"; } > bad.rec
		run rec2json bad.rec
		assert_failure 65
	done
	printf '\203\244type\241x\241v\001\241s\242\303\251' > ok.rec
	run rec2json ok.rec
	assert_success
	assert_output '{"type":"x","v":1,"s":"é"}'
}

@test "rec2json: a non-string map key inside a value exits 65 rather than writing bad JSON" {
	printf '\203\244type\241x\241v\001\241m\201\001\002' > in.rec
	run --separate-stderr rec2json in.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'record 1: key "m": a map inside the value: key 1 is not a string'* ]]
}

@test "rec2json: 2^64-1 and -2^63 print as themselves" {
	printf '\204\244type\241x\241v\001\241u\317\377\377\377\377\377\377\377\377\241i\323\200\000\000\000\000\000\000\000' > in.rec
	run rec2json in.rec
	assert_success
	assert_output '{"type":"x","v":1,"u":18446744073709551615,"i":-9223372036854775808}'
}

@test "json2rec: only canonical base64 is taken" {
	for b in aGVsbG9= aGVsbB== 'aGVs=G8=' 'aG=sbG8=' 'aGVsbG=='; do
		run --separate-stderr sh -c "echo '{\"type\":\"x\",\"v\":1,\"b\":{\"\$base64\":\"$b\"}}' | json2rec"
		assert_failure 65
		[ -z "$output" ]
		[[ $stderr == *'line 1: $base64'* ]]
	done
	run sh -c "echo '{\"type\":\"x\",\"v\":1,\"b\":{\"\$base64\":\"aGVsbA==\"}}' | json2rec | rec2json"
	assert_success
	assert_output '{"type":"x","v":1,"b":{"$base64":"aGVsbA=="}}'
}

@test "rec2json: a full disk exits 74" {
	[ -w /dev/full ] || skip "no /dev/full"
	for i in $(seq 3000); do echo '{"type":"x","v":1,"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}'; done | json2rec > in.rec
	run --separate-stderr sh -c 'rec2json in.rec > /dev/full'
	assert_failure 74
	[[ $stderr == *"stdout"* ]]
}
