#!/usr/bin/python3
"""train_bench.py - the PyTorch side of the engine benchmark (train.sh) and of
the accuracy-parity run (parity.sh), on the twin network of
examples/torch/ofa_net.py. Run with Debian's /usr/bin/python3 (python3-torch).

    train_bench.py bench ARCH.json [--threads 2] [--batch 128] [--steps 10]
        one JSON line: train_ips, infer_ips, latency_ms (one thread), rss_kb,
        the same figures eenn-train --bench puts in its result record
    train_bench.py onnx ARCH.json --out FILE.onnx
        the same network (he_fout initialisation, seed --seed, evaluation
        mode, batch 1, final exit's logits) exported by torch.onnx.export,
        for ONNX Runtime's latency (ort_latency.js)
    train_bench.py parity ARCH.json [--data DIR] [--epochs 3] [--threads 2] ...
        trains with eenn-train's recipe and data pipeline (formats/dataset.md:
        normalisation on the train split, zero frame to the resolution, random
        crop with padding 4, flip; SGD, cosine per step, weight decay on conv
        and linear weights only; OFA's he_fout initialisation as model_init);
        one JSON line with acc_test, loss_test, the loss curve and wall time

ARCH.json is one record as rec2json prints it.
"""
import argparse
import gzip
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from ofa_net import OFANet  # noqa: E402


def init_he_fout(net):
    """lib/model.h's model_init: conv N(0, 2/(k*k*out)), linear U(+-1/sqrt(in)),
    biases 0, BN gamma 1 beta 0."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            m.weight.data.normal_(0, math.sqrt(2.0 / n))
            if m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zero_()
        elif isinstance(m, nn.Linear):
            s = 1.0 / math.sqrt(m.weight.size(1))
            m.weight.data.uniform_(-s, s)
            if m.bias is not None:
                m.bias.data.zero_()


def sgd(net, lr, momentum, wd, nesterov):
    """Weight decay on conv and linear weights only, as eenn-train."""
    decay = [p for p in net.parameters() if p.dim() > 1]
    rest = [p for p in net.parameters() if p.dim() <= 1]
    return torch.optim.SGD([{"params": decay, "weight_decay": wd},
                            {"params": rest, "weight_decay": 0.0}],
                           lr=lr, momentum=momentum, nesterov=nesterov)


def bench(rec, a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    net = OFANet(rec, backbone_only=True)
    init_he_fout(net)
    x = torch.randn(a.batch, rec["in_ch"], rec["resolution"], rec["resolution"])
    y = torch.randint(0, rec["classes"], (a.batch,))
    opt = sgd(net, 1e-4, 0.9, 4e-5, True)
    net.train()
    for i in range(-2, a.steps):
        if i == 0:
            t0 = time.perf_counter()
        loss = F.cross_entropy(net(x)[-1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    train_s = time.perf_counter() - t0
    net.eval()
    with torch.no_grad():
        for i in range(-2, a.steps):
            if i == 0:
                t0 = time.perf_counter()
            net(x)
        infer_s = time.perf_counter() - t0
        torch.set_num_threads(1)
        reps = max(20, 4 * a.steps)
        x1 = x[:1].contiguous()
        for i in range(-5, reps):
            if i == 0:
                t0 = time.perf_counter()
            net(x1)
        lat_s = time.perf_counter() - t0
    print(json.dumps(dict(
        batch=a.batch, threads=a.threads, bench_steps=a.steps,
        train_ips=a.batch * a.steps / train_s, infer_ips=a.batch * a.steps / infer_s,
        latency_ms=1e3 * lat_s / reps,
        rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))


class FinalExit(nn.Module):
    """The network's last output alone: what a deployed classifier returns."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)[-1]


def export(rec, a):
    torch.manual_seed(a.seed)
    net = OFANet(rec, backbone_only=True)
    init_he_fout(net)
    net.eval()
    x = torch.randn(1, rec["in_ch"], rec["resolution"], rec["resolution"])
    torch.onnx.export(FinalExit(net), x, a.out, opset_version=13,
                      input_names=["x"], output_names=["logits"])


def read_idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def find(d, name):
    for p in (os.path.join(d, name), os.path.join(d, name + ".gz")):
        if os.path.exists(p):
            return p
    sys.exit("train_bench.py: %s: no %s" % (d, name))


def batch(x, idx, mean, std, R, pad, flip, gen):
    """formats/dataset.md: normalise, centre in R x R with a zero border,
    random crop of the P-padded frame, flip with probability 1/2."""
    n, h, w = len(idx), x.shape[1], x.shape[2]
    img = (torch.from_numpy(x[idx]).float() / 255.0 - mean) / std
    top, left = (R - h) // 2, (R - w) // 2
    big = torch.zeros(n, 1, R + 2 * pad, R + 2 * pad)
    big[:, 0, pad + top:pad + top + h, pad + left:pad + left + w] = img
    if pad == 0 and not flip:
        return big
    out = torch.empty(n, 1, R, R)
    off = torch.randint(0, 2 * pad + 1, (n, 2), generator=gen)
    fl = torch.randint(0, 2, (n,), generator=gen) if flip else torch.zeros(n, dtype=torch.long)
    for j in range(n):
        c = big[j, :, off[j, 0]:off[j, 0] + R, off[j, 1]:off[j, 1] + R]
        out[j] = c.flip(2) if fl[j] else c
    return out


def evaluate(net, x, y, mean, std, R, bs):
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for s in range(0, len(x), bs):
            idx = np.arange(s, min(s + bs, len(x)))
            lg = net(batch(x, idx, mean, std, R, 0, False, None))[-1]
            t = torch.from_numpy(y[idx].astype(np.int64))
            loss += F.cross_entropy(lg, t, reduction="sum").item()
            correct += (lg.argmax(1) == t).sum().item()
    return correct / len(x), loss / len(x)


def parity(rec, a):
    torch.set_num_threads(a.threads)
    # Denormals: tiny weights and momenta late in training slow x86 float
    # arithmetic many times over; the C engine never sees them in its BLAS.
    torch.set_flush_denormal(True)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)
    xtr = read_idx(find(a.data, "train-images-idx3-ubyte"))
    ytr = read_idx(find(a.data, "train-labels-idx1-ubyte"))
    xte = read_idx(find(a.data, "t10k-images-idx3-ubyte"))
    yte = read_idx(find(a.data, "t10k-labels-idx1-ubyte"))
    mean = float(xtr.mean()) / 255.0
    std = float(xtr.astype(np.float64).std()) / 255.0
    R = rec["resolution"]
    net = OFANet(rec, backbone_only=True)
    init_he_fout(net)
    opt = sgd(net, a.lr, a.momentum, a.wd, a.nesterov)
    spe = (len(xtr) + a.batch - 1) // a.batch
    total = spe * a.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    t0 = time.perf_counter()
    curve = []
    for e in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xtr), generator=gen).numpy()
        lsum = 0.0
        for s in range(0, len(xtr), a.batch):
            idx = perm[s:s + a.batch]
            xb = batch(xtr, idx, mean, std, R, a.crop, not a.no_flip, gen)
            yb = torch.from_numpy(ytr[idx].astype(np.int64))
            loss = F.cross_entropy(net(xb)[-1], yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            lsum += loss.item() * len(idx)
            if (s // a.batch + 1) % 100 == 0:
                print("train_bench.py: epoch %d step %d/%d loss %.4f (%.0fs)" %
                      (e + 1, s // a.batch + 1, spe, lsum / (s + len(idx)),
                       time.perf_counter() - t0), file=sys.stderr)
        curve.append(lsum / len(xtr))
        print("train_bench.py: epoch %d/%d loss %.4f (%.0fs)" %
              (e + 1, a.epochs, curve[-1], time.perf_counter() - t0), file=sys.stderr)
    acc, loss = evaluate(net, xte, yte, mean, std, R, a.batch)
    print(json.dumps(dict(acc_test=acc, loss_test=loss, curve_loss=curve,
                          wall=time.perf_counter() - t0, threads=a.threads)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["bench", "parity", "onnx"])
    p.add_argument("arch", help="one record as JSON (rec2json output)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--wd", type=float, default=4e-5)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--crop", type=int, default=4)
    p.add_argument("--no-flip", action="store_true")
    p.add_argument("--out", help="onnx: the file to write")
    a = p.parse_args()
    with open(a.arch) as f:
        rec = json.loads(f.readline())
    {"bench": bench, "parity": parity, "onnx": export}[a.mode](rec, a)


if __name__ == "__main__":
    main()
