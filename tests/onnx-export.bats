#!/usr/bin/env bats
# The ONNX export (lib/onnx_export.c, formats/onnx.md) is the engine: a tiny
# NACHOS EENN trained by eenn-train (as in eenn-infer.bats) and random
# EDANAS / AEBNAS / grey-to-RGB networks are written one graph per segment
# by `test_onnx dump`, pass python3-onnx's checker, and run in ONNX Runtime
# (onnxruntime-node 1.16.3, tests/onnx; make deps installs it) segment after
# segment from the raw test images: every logit, confidence and feature
# within 1e-4 of the engine's, and the chain with the exit rule between
# segments leaves every image at eenn-infer's exit with its class; the same
# for the files eenn-export --onnx writes.
load helper
load idx-helper
load exo-helper
bats_require_minimum_version 1.5.0

ONNX_DIR=$TOP/tests/onnx
DUMP=$TOP/tests/unit/bin/test_onnx

setup_file() {
	F=$BATS_FILE_TMPDIR
	[ -f "$TOP/tests/onnx/node_modules/onnxruntime-node/package.json" ] ||
	    { echo "onnxruntime-node missing: run make deps (tests/npm-deps.sh)" >&2; return 1; }
	[ -x "$TOP/tests/unit/bin/test_onnx" ] || make -s -C "$TOP" tests/unit/bin/test_onnx >&2
	cd "$F" || return 1
	tiny_eenn "$F"
}

setup() {
	F=$BATS_FILE_TMPDIR
}

# onnx_run DIR MODEL RULE EPS: the dump of MODEL on the 120 test images into
# DIR, python3-onnx's full check of each segment, then ONNX Runtime: its
# summary in DIR/check.json.
onnx_run() {
	"$DUMP" dump "$1" "$F/h3" 120 "$2" "$3" "$4"
	/usr/bin/python3 -c 'import onnx, sys
for p in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(p), full_check=True)' "$1"/onnx/seg*.onnx
	node "$ONNX_DIR/check.js" "$1" > "$1/check.json"
	cat "$1/check.json"
}

# The figures of DIR/check.json within 1e-4 of the engine, every image at
# the engine's exit with its class.
agree() {
	jq -e '(.max_abs.logits | max) < 1e-4 and (.max_abs.conf | max) < 1e-4 and
	    (.max_abs.features_rel | max) < 1e-4' "$1/check.json" &&
	    cmp "$1/engine.txt" "$1/ort.txt"
}

@test "a trained NACHOS EENN: one checked graph per segment, the engine's outputs" {
	onnx_run d "$F/h.ckpt" cumulative 0.6,0.8,0.9,0.95
	agree d
	[ "$(ls d/onnx | tr '\n' ' ')" = "seg1.onnx seg2.onnx seg3.onnx seg4.onnx seg5.onnx " ]
	jq -e '.segments == 5 and .n == 120 and .ort.node == "1.16.3"' d/check.json
	/usr/bin/python3 -c 'import onnx
m = onnx.load("d/onnx/seg2.onnx")
assert m.opset_import[0].version == 17 and m.ir_version == 8
assert [i.name for i in m.graph.input] == ["features_1"]
assert [o.name for o in m.graph.output] == ["logits_2", "conf_2", "features_2"]
assert {p.key: p.value for p in m.metadata_props}["nachos.segment"] == "2"
m = onnx.load("d/onnx/seg1.onnx")
assert m.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
assert [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim] == ["N", 1, 8, 8]
ops = {n.op_type for n in m.graph.node}
assert {"Pad", "HardSwish", "BatchNormalization", "Sigmoid"} <= ops and "If" not in ops, ops
m = onnx.load("d/onnx/seg5.onnx")
assert [o.name for o in m.graph.output] == ["logits_5"]'
}

@test "chained with the thresholds: eenn-infer's accuracy and exit histogram, every rule" {
	n=0
	# thresholds at quantiles of the trained net's own scores, so samples
	# leave at several exits whatever the training's last bits
	for rt in cumulative:cumw:0.6,0.5,0.5,0.5 cumulative:cumw:0.9,0.8,0.7,0.6 \
	    max-softmax:maxp:0.7,0.6,0.5,0.5 margin:margin:0.7,0.6,0.5,0.5 \
	    entropy:entropy:0.3,0.4,0.5,0.5 weight::0.75,0.2,0.05,0.02; do
		rule=${rt%%:*} key=${rt#*:} key=${key%%:*} th=${rt##*:}
		[ -z "$key" ] || th=$(quantiles "$F/h.exo" "$key" "$th")
		onnx_run "$rule.$n" "$F/h.ckpt" "$rule" "$th" > /dev/null
		agree "$rule.$n" || { echo "$rule $th"; return 1; }
		eenn-infer --rule "$rule" --thresholds "$th" "$F/x.rec" 2> /dev/null |
		    rec2json > i.json
		jq -e --slurpfile c "$rule.$n/check.json" '.infer_top1 == $c[0].top1 and
		    .infer_exit_count == $c[0].exit_count' i.json ||
		    { cat "$rule.$n/check.json" i.json; return 1; }
		# samples leave at two exits at least
		jq -e '[.exit_count[] | select(. > 0)] | length >= 2' "$rule.$n/check.json" ||
		    { echo "$rule $th: one exit only"; return 1; }
		n=$((n + 1))
	done
}

@test "EDANAS, AEBNAS and a 3-channel net on grey images: random weights, the engine's outputs" {
	for m in init:edanas:1:3 init:aebnas:1:4 init:nachos:3:5 init:aebnas:3:6; do
		onnx_run "${m//:/_}" "$m" max-softmax 0.5,0.6,0.7,0.8 > /dev/null
		agree "${m//:/_}" || { echo "$m"; cat "${m//:/_}/check.json"; return 1; }
	done
}

@test "eenn-export --onnx: its files are the engine too, the record's rule in their metadata" {
	th=0.6,0.8,0.9,0.95
	thresh-tune --fixed "$th" "$F/x.rec" > t.rec 2> /dev/null
	eenn-export -o o --onnx --dtype f32 t.rec 2> /dev/null | rec2json > o.json
	jq -e '.onnx_files | length == 5' o.json
	# the dump's engine outputs against eenn-export's graphs
	"$DUMP" dump d "$F/h3" 120 "$F/h.ckpt" cumulative "$th"
	rm -r d/onnx
	ln -s "$PWD/$(jq -r '.onnx_files[0]' o.json | xargs dirname)" d/onnx
	node "$ONNX_DIR/check.js" d > d/check.json
	agree d
	/usr/bin/python3 -c 'import onnx, sys
for f in sys.argv[1:]:
    p = {x.key: x.value for x in onnx.load(f).metadata_props}
    t = [float(v) for v in p["nachos.thresholds"].split(",")]
    assert p["nachos.rule"] == "cumulative" and t == [0.6, 0.8, 0.9, 0.95], p' \
	    $(jq -r '.onnx_files[]' o.json)
}

@test "the comparison fails when a graph differs from the engine" {
	onnx_run d "$F/h.ckpt" cumulative 0.6,0.8,0.9,0.95 > /dev/null
	# h-swish as ReLU in segment 3: its outputs and everything after differ
	/usr/bin/python3 -c 'import onnx
m = onnx.load("d/onnx/seg3.onnx")
n = [n for n in m.graph.node if n.op_type == "HardSwish"]
assert n
n[0].op_type = "Relu"
onnx.save(m, "d/onnx/seg3.onnx")'
	node "$ONNX_DIR/check.js" d > d/check.json
	jq -e '.max_abs.logits[1] < 1e-4 and .max_abs.logits[2] > 1e-4 and
	    .max_abs.features[2] > 1e-4' d/check.json
	run ! agree d
	# a missing segment
	rm d/onnx/seg5.onnx
	run node "$ONNX_DIR/check.js" d
	assert_failure
	assert_output --partial '4 segment files, the dump has 5'
}

@test "the latency bench: batch 1, one thread, early exit, per-sample figures" {
	"$DUMP" dump d "$F/h3" 20 "$F/h.ckpt" cumulative 0.6,0.8,0.9,0.95
	node "$TOP/examples/bench/onnx-latency.js" --rule cumulative \
	    --thresholds 0.6,0.8,0.9,0.95 --repeat 2 d/onnx d/images.u8 1 8 8 > b.json
	cat b.json
	jq -e --slurpfile c <(node "$ONNX_DIR/check.js" d) '.n == 20 and .threads == 1 and
	    .latency_ms > 0 and .p50_ms > 0 and .p99_ms >= .p50_ms and
	    .exit_count == $c[0].exit_count and (.cpu | length) > 0' b.json
	run node "$TOP/examples/bench/onnx-latency.js" d/onnx d/images.u8 1 8 8
	assert_failure
	assert_output --partial 'usage'
}
