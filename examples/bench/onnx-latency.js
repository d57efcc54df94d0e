// onnx-latency.js - per-sample latency of an EENN's ONNX export in ONNX
// Runtime (onnxruntime-node from tests/onnx; make deps-bench installs it):
// batch 1, each image through the segments until its exit fires (the rule
// and thresholds of the result record), intra-op threads 1 by default.
//   node examples/bench/onnx-latency.js [--threads n] [--repeat n] [--warmup n]
//        [--rule rule] --thresholds list DIR IMAGES C H W
// DIR holds seg1.onnx ...; IMAGES is raw uint8 C x H x W images back to back
// (the exported C harness's input). Prints one JSON line: mean, p50 and p99
// latency per image in ms (each image's mean over --repeat runs, after
// --warmup images), the mean per
// exit, the exit histogram, the CPU model and ONNX Runtime's version.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ort, load, Rule, classify } = require('../../tests/onnx/eenn.js');

const USAGE = 'usage: onnx-latency.js [--threads n] [--repeat n] [--warmup n] ' +
    '[--rule rule] --thresholds list DIR IMAGES C H W';

function args(argv) {
	const o = { threads: 1, repeat: 1, warmup: 20, rule: 'cumulative', thresholds: null };
	const pos = [];
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '-h' || a === '--help') {
			console.log(USAGE);
			process.exit(0);
		}
		if (a.startsWith('--')) {
			const k = a.slice(2);
			if (!(k in o) || i + 1 >= argv.length)
				throw new Error(USAGE);
			o[k] = argv[++i];
		} else {
			pos.push(a);
		}
	}
	if (pos.length !== 5 || o.thresholds === null)
		throw new Error(USAGE);
	o.dir = pos[0], o.images = pos[1];
	[o.c, o.h, o.w] = pos.slice(2).map(Number);
	o.threads = Number(o.threads), o.repeat = Number(o.repeat), o.warmup = Number(o.warmup);
	// none: the final exit alone (every intermediate one left out)
	o.eps = o.thresholds === '' ? [] : o.thresholds.split(',').map(Number);
	for (const v of [o.c, o.h, o.w, o.threads, o.repeat])
		if (!(Number.isInteger(v) && v >= 1))
			throw new Error(USAGE);
	if (!(Number.isInteger(o.warmup) && o.warmup >= 0) || o.eps.some((v) => !(v >= 0 && v <= 1)))
		throw new Error(USAGE);
	return o;
}

const pct = (v, p) => v[Math.max(0, Math.min(v.length - 1, Math.ceil(p / 100 * v.length) - 1))];

async function main() {
	const o = args(process.argv.slice(2));
	const seg = await load(o.dir, o.threads);
	const buf = fs.readFileSync(o.images), size = o.c * o.h * o.w;
	const n = Math.floor(buf.length / size);
	if (n < 1 || n * size !== buf.length)
		throw new Error(`${o.images}: ${buf.length} bytes is not a whole number of ` +
		    `${o.c}x${o.h}x${o.w} images`);
	const img = (j) => buf.subarray(j * size, (j + 1) * size);
	const rule = () => new Rule(o.rule, o.eps, seg.length);
	for (let j = 0; j < o.warmup; j++)
		await classify(seg, img(j % n), o.c, o.h, o.w, rule());
	const lat = [], count = Array(seg.length).fill(0), sum = Array(seg.length).fill(0);
	for (let j = 0; j < n; j++) {
		let t = 0, r;
		for (let k = 0; k < o.repeat; k++) {
			const t0 = process.hrtime.bigint();
			r = await classify(seg, img(j), o.c, o.h, o.w, rule());
			t += Number(process.hrtime.bigint() - t0) / 1e6 / o.repeat;
		}
		lat.push(t);
		count[r.exit - 1]++;
		sum[r.exit - 1] += t;
	}
	const mean = lat.reduce((a, b) => a + b, 0) / n;
	lat.sort((a, b) => a - b);
	console.log(JSON.stringify({
		tool: 'onnxruntime-node', version: ort.env.versions.node, dir: path.resolve(o.dir),
		n, repeat: o.repeat, threads: o.threads, batch: 1, rule: o.rule, thresholds: o.eps,
		latency_ms: mean, p50_ms: pct(lat, 50), p99_ms: pct(lat, 99),
		exit_count: count, exit_latency_ms: sum.map((s, i) => (count[i] ? s / count[i] : null)),
		cpu: os.cpus()[0].model,
	}));
}

main().catch((e) => { console.error(`onnx-latency.js: ${e.message}`); process.exit(1); });
