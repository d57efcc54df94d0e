// check.js OUT - ONNX Runtime against the engine on what `test_onnx dump`
// wrote into OUT (tests/unit/test_onnx.c): every segment run at batch 1 in
// a chain from the raw images; prints one JSON line: per segment the largest
// absolute differences from the engine's logits, conf and features, and the
// early-exit run under the dump's rule and thresholds (accuracy, exit
// counts); writes OUT/ort.txt, "class exit" per image as OUT/engine.txt.
'use strict';
const fs = require('fs');
const path = require('path');
const { ort, load, Rule, argmax, runSegment } = require('./eenn.js');

async function main() {
	const out = process.argv[2];
	const meta = JSON.parse(fs.readFileSync(path.join(out, 'meta.json')));
	const img = fs.readFileSync(path.join(out, 'images.u8'));
	const eb = fs.readFileSync(path.join(out, 'engine.f32'));
	const eng = new Float32Array(eb.buffer, eb.byteOffset, eb.length / 4);
	const seg = await load(path.join(out, 'onnx'), 1);
	const B = seg.length, K = meta.classes, size = meta.c * meta.h * meta.w;
	if (B !== meta.segments.length)
		throw new Error(`${B} segment files, the dump has ${meta.segments.length}`);
	const diff = { logits: Array(B).fill(0), conf: Array(B).fill(0),
		features: Array(B).fill(0), features_rel: Array(B).fill(0) };
	const count = Array(B).fill(0);
	let at = 0, correct = 0, lines = '';
	const cmp = (key, i, got, n) => {
		if (!got || got.length !== n)
			throw new Error(`segment ${i + 1}: ${key} has ${got ? got.length : 0} values, ` +
			    `the engine ${n}`);
		for (let k = 0; k < n; k++, at++) {
			const d = Math.abs(got[k] - eng[at]);
			diff[key][i] = Math.max(diff[key][i], d);
			if (key === 'features')
				diff.features_rel[i] = Math.max(diff.features_rel[i],
				    d / Math.max(1, Math.abs(eng[at])));
		}
	};
	for (let j = 0; j < meta.n; j++) {
		const rule = new Rule(meta.rule, meta.thresholds, B);
		let x = new ort.Tensor('uint8', img.subarray(j * size, (j + 1) * size),
		    [1, meta.c, meta.h, meta.w]);
		let exit = 0, cls = -1;
		for (let i = 0; i < B; i++) {
			const s = meta.segments[i];
			const o = await runSegment(seg, i, x);
			cmp('logits', i, o.logits.data, K);
			if (s.conf)
				cmp('conf', i, o.conf && o.conf.data, 1);
			else if (o.conf)
				throw new Error(`segment ${i + 1}: a conf output the engine does not have`);
			if (s.features)
				cmp('features', i, o.features && o.features.data, s.features);
			if (!exit && rule.leave(i, o.logits.data, s.conf ? o.conf.data[0] : undefined))
				exit = i + 1, cls = argmax(o.logits.data);
			x = o.features;
		}
		count[exit - 1]++;
		correct += cls === meta.labels[j];
		lines += `${cls} ${exit}\n`;
	}
	if (at !== eng.length)
		throw new Error(`read ${at} engine values of ${eng.length}`);
	fs.writeFileSync(path.join(out, 'ort.txt'), lines);
	console.log(JSON.stringify({ n: meta.n, segments: B, max_abs: diff,
		top1: correct / meta.n, exit_count: count, ort: ort.env.versions }));
}

main().catch((e) => { console.error(`check.js: ${e.message}`); process.exit(1); });
