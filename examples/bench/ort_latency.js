// ort_latency.js FILE.onnx C H W [REPS] - ONNX Runtime's batch-1 latency on
// one thread (intra- and inter-op), all graph optimisations on: a forward
// of one C x H x W image (values fixed), REPS runs (default 200) after 20
// untimed ones, each timed alone. Prints one JSON line: {"latency_ms": mean,
// "min_ms": fastest run (the quiet machine's figure: other jobs only add
// time), "p50_ms": median, "ort": version}. onnxruntime-node comes from
// tests/onnx/node_modules (tests/npm-deps.sh, make deps-bench).
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'tests', 'onnx', 'node_modules',
    'onnxruntime-node'));

async function main() {
	const [file, c, h, w, r] = process.argv.slice(2), reps = Number(r || 200);
	const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1,
		interOpNumThreads: 1, executionMode: 'sequential',
		graphOptimizationLevel: 'all' });
	const name = s.inputNames[0];
	const shape = [1, Number(c), Number(h), Number(w)];
	const data = new Float32Array(shape[1] * shape[2] * shape[3]);
	for (let i = 0; i < data.length; i++)
		data[i] = Math.sin(i) * 0.5;
	const feeds = { [name]: new ort.Tensor('float32', data, shape) };
	for (let i = 0; i < 20; i++)
		await s.run(feeds);
	const t = [];
	for (let i = 0; i < reps; i++) {
		const t0 = process.hrtime.bigint();
		await s.run(feeds);
		t.push(Number(process.hrtime.bigint() - t0) / 1e6);
	}
	const ms = t.reduce((a, b) => a + b, 0) / reps;
	t.sort((a, b) => a - b);
	console.log(JSON.stringify({ latency_ms: ms, min_ms: t[0], p50_ms: t[reps >> 1], ort: require(path.join(__dirname, '..',
	    '..', 'tests', 'onnx', 'node_modules', 'onnxruntime-node', 'package.json')).version }));
}

main().catch((e) => { console.error(`ort_latency.js: ${e.message}`); process.exit(1); });
