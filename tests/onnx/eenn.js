// eenn.js - run nachos' per-segment ONNX export (formats/onnx.md) in ONNX
// Runtime: load the segments, run them one after another on an image, and
// apply the exit rule between them as eenn-infer does (lib/thr.c, lib/exo.c:
// scores rounded to float32 as the exit-outputs file stores them; a
// threshold of 1 switches its exit off).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const RULES = ['cumulative', 'weight', 'max-softmax', 'margin', 'entropy'];

// Sessions for DIR/seg1.onnx, DIR/seg2.onnx, ... (as many as there are).
async function load(dir, threads) {
	const opt = {
		intraOpNumThreads: threads || 1, interOpNumThreads: 1,
		executionMode: 'sequential', graphOptimizationLevel: 'all',
	};
	const seg = [];
	for (let i = 1; fs.existsSync(path.join(dir, `seg${i}.onnx`)); i++)
		seg.push(await ort.InferenceSession.create(path.join(dir, `seg${i}.onnx`), opt));
	if (seg.length === 0)
		throw new Error(`${dir}: no seg1.onnx`);
	return seg;
}

const clamp01 = (x) => (x < 0 ? 0 : x > 1 ? 1 : x);

// The early-exit state of one sample: exit i's outputs go in through
// leave(), which says whether the sample leaves there.
class Rule {
	constructor(rule, eps, nexit, useConf = true) {
		if (!RULES.includes(rule))
			throw new Error(`rule ${rule} is not one of ${RULES.join(', ')}`);
		if (eps.length !== nexit - 1)
			throw new Error(`${eps.length} thresholds for ${nexit - 1} intermediate exits`);
		this.rule = rule, this.eps = eps, this.nexit = nexit, this.useConf = useConf;
		this.c = [];
	}

	// logits (K), conf (the segment's conf output or undefined), exit i
	score(i, logits, conf) {
		const K = logits.length;
		let mx = logits[0];
		for (let k = 1; k < K; k++) mx = Math.max(mx, logits[k]);
		let sum = 0;
		for (let k = 0; k < K; k++) sum += Math.exp(logits[k] - mx);
		let p1 = -1, p2 = -1, h = 0;
		for (let k = 0; k < K; k++) {
			const p = Math.exp(logits[k] - mx) / sum;
			if (p > p1) p2 = p1, p1 = p;
			else if (p > p2) p2 = p;
			if (p > 0) h -= p * Math.log(p);
		}
		const c = this.useConf && conf !== undefined ? Math.fround(clamp01(conf)) : 0;
		this.c[i] = c;
		let prod = 1;
		switch (this.rule) {
		case 'cumulative':
			for (let k = 0; k <= i; k++) prod *= 1 - this.c[k];
			return Math.fround(clamp01(1 - prod));
		case 'weight':
			for (let k = 0; k < i; k++) prod *= 1 - this.c[k];
			return Math.fround(c * prod);
		case 'max-softmax': return Math.fround(clamp01(p1));
		case 'margin': return Math.fround(clamp01(p1 - p2));
		default: return Math.fround(clamp01(1 - h / Math.log(K)));
		}
	}

	leave(i, logits, conf) {
		if (i === this.nexit - 1) return true;
		const s = this.score(i, logits, conf);
		return this.eps[i] < 1 && s >= this.eps[i];
	}
}

// Index of the largest logit, the first on ties.
function argmax(v) {
	let b = 0;
	for (let k = 1; k < v.length; k++) if (v[k] > v[b]) b = k;
	return b;
}

// Run segment i on its input tensor: { logits, conf, features } (tensors).
async function runSegment(seg, i, input) {
	const feeds = {};
	feeds[seg[i].inputNames[0]] = input;
	const r = await seg[i].run(feeds);
	return {
		logits: r[`logits_${i + 1}`], conf: r[`conf_${i + 1}`],
		features: r[`features_${i + 1}`],
	};
}

// One image (Uint8Array c*h*w) through the segments until its exit fires:
// { cls, exit } (exit counted from 1).
async function classify(seg, img, c, h, w, rule) {
	let x = new ort.Tensor('uint8', img, [1, c, h, w]);
	for (let i = 0; i < seg.length; i++) {
		const o = await runSegment(seg, i, x);
		const conf = o.conf ? o.conf.data[0] : undefined;
		if (rule.leave(i, o.logits.data, conf))
			return { cls: argmax(o.logits.data), exit: i + 1 };
		x = o.features;
	}
	throw new Error('no exit fired');
}

module.exports = { ort, load, Rule, RULES, argmax, runSegment, classify };
