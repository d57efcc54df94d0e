"""ofa_net.py - the nachos network in PyTorch, built from an arch or eenn
record (a dict, e.g. one line of `rec2json` output) with the same parameter
names and shapes as the C model (lib/model.h, formats/ckpt.md), so a C
checkpoint loads with load_state_dict.

    net = OFANet(record)            # all exits of the record
    net = OFANet(record, backbone_only=True)
    outs = net(x)                   # list of (N, nout) logits, exits in order

Widths, block shapes and exit placement follow nachos-method(7) §1-§3 and §7 exactly as
lib/arch.c computes them.
"""
from collections import OrderedDict

import torch
import torch.nn as nn

BASE = [16, 16, 24, 40, 80, 112, 160, 960, 1280]
STRIDE = [1, 2, 2, 2, 1, 2]
ACT = ["relu", "relu", "relu", "hswish", "hswish", "hswish"]
HAS_SE = [0, 0, 1, 0, 1, 1]


def divisible(v):
    nv = max(8, int(v + 4) // 8 * 8)
    return nv + 8 if nv < 0.9 * v else nv


def conv_out(h, k, s):
    return (h + 2 * (k // 2) - k) // s + 1


def act(name):
    return {"relu": nn.ReLU(), "hswish": nn.Hardswish()}[name]


def conv_bn(ci, co, k, s, groups=1, a=None):
    m = OrderedDict(conv=nn.Conv2d(ci, co, k, s, k // 2, groups=groups, bias=False),
                    bn=nn.BatchNorm2d(co))
    if a:
        m["act"] = act(a)
    return m


class SE(nn.Module):
    def __init__(self, c, mid):
        super().__init__()
        self.fc = nn.Sequential(OrderedDict(
            reduce=nn.Conv2d(c, mid, 1), relu=nn.ReLU(),
            expand=nn.Conv2d(mid, c, 1), h_sigmoid=nn.Hardsigmoid()))

    def forward(self, x):
        return x * self.fc(x.mean((2, 3), keepdim=True))


class MBConv(nn.Module):
    def __init__(self, b):
        super().__init__()
        if b["stage"] > 0:
            self.inverted_bottleneck = nn.Sequential(
                conv_bn(b["cin"], b["mid"], 1, 1, a=b["act"]))
        else:
            self.inverted_bottleneck = None
        dw = conv_bn(b["mid"], b["mid"], b["k"], b["stride"], groups=b["mid"], a=b["act"])
        if b["se"]:
            dw["se"] = SE(b["mid"], b["se_mid"])
        self.depth_conv = nn.Sequential(dw)
        self.point_linear = nn.Sequential(conv_bn(b["mid"], b["cout"], 1, 1))

    def forward(self, x):
        if self.inverted_bottleneck is not None:
            x = self.inverted_bottleneck(x)
        return self.point_linear(self.depth_conv(x))


class Block(nn.Module):
    def __init__(self, b):
        super().__init__()
        self.conv = MBConv(b)
        self.residual = b["residual"]

    def forward(self, x):
        return self.conv(x) + x if self.residual else self.conv(x)


class NachosHead(nn.Module):
    """max-pool (placement window), ReLU, 3 x (conv3x3 + bias, ReLU), flatten, linear."""

    def __init__(self, c, pool, hw, nout):
        super().__init__()
        self.pool = nn.MaxPool2d(pool) if pool > 1 else nn.Identity()
        self.conv1 = nn.Conv2d(c, 32, 3, 1, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, 1)
        self.conv3 = nn.Conv2d(64, 128, 3, 1, 1)
        self.linear = nn.Linear(128 * hw, nout)

    def forward(self, x):
        x = torch.relu(self.pool(x))
        for c in (self.conv1, self.conv2, self.conv3):
            x = torch.relu(c(x))
        return self.linear(x.flatten(1))


class AebnasHead(nn.Module):
    """modules (conv kxk s2, BN, ReLU, 2x2 max-pool if asked and the map allows), GAP, linear."""

    def __init__(self, c, h, w, mods, classes):
        super().__init__()
        self.mods = nn.ModuleList()
        for m in mods:
            co = c * m["wm"]
            layer = conv_bn(c, co, m["k"], 2, a="relu")
            h, w = conv_out(h, m["k"], 2), conv_out(w, m["k"], 2)
            if m["pool"] and h >= 2 and w >= 2:
                layer["pool"] = nn.MaxPool2d(2)
                h, w = h // 2, w // 2
            self.mods.append(nn.Sequential(layer))
            c = co
        self.linear = nn.Linear(c, classes)

    def forward(self, x):
        for m in self.mods:
            x = m(x)
        return self.linear(x.mean((2, 3)))


def describe(r):
    """Blocks and exits of record r, as lib/arch.c's arch_net_build."""
    w, res, K = r["width"], r["resolution"], r["classes"]
    sw = [divisible(b * w) for b in BASE]
    h = conv_out(res, 3, 2)
    first_macs = r["in_ch"] * 9 * sw[0] * h * h
    blocks, c, macs, to = [], sw[0], first_macs, []
    for s in range(6):
        for j in range(1 if s == 0 else r["d"][s - 1]):
            slot = -1 if s == 0 else (s - 1) * 4 + j
            k = 3 if s == 0 else r["ks"][slot]
            mid = c if s == 0 else divisible(round(c * r["e"][slot]))
            stride = STRIDE[s] if j == 0 else 1
            ho = conv_out(h, k, stride)
            b = dict(stage=s, slot=slot, cin=c, cout=sw[s + 1], mid=mid, k=k, stride=stride,
                     act=ACT[s], se=HAS_SE[s], se_mid=divisible(mid // 4) if HAS_SE[s] else 0,
                     residual=stride == 1 and c == sw[s + 1] and (s == 0 or j > 0), h=ho)
            macs += (c * mid * h * h if s else 0) + mid * k * k * ho * ho + \
                2 * mid * b["se_mid"] + mid * b["cout"] * ho * ho
            to.append(macs)
            blocks.append(b)
            c, h = b["cout"], ho
    final_macs = c * sw[7] * h * h + sw[7] * sw[8] + sw[8] * K
    exits = []
    for i in range(4):
        if not r["exits"][i]:
            continue
        last = max(n for n, b in enumerate(blocks) if b["stage"] == i + 1)
        b = blocks[last]
        exits.append(dict(stage=i + 1, after=last, c=b["cout"], h=b["h"], pool=1,
                          nout=K + 1 if r["space"] == "nachos" else K))
    total = to[-1] + final_macs

    def cost(x):
        hw = (x["h"] // x["pool"]) ** 2
        head = x["c"] * 9 * 32 * hw + 32 * 9 * 64 * hw + 64 * 9 * 128 * hw + 128 * hw * x["nout"]
        return to[x["after"]] + head

    if r["space"] != "aebnas":   # Algorithm 1
        nxt = total
        for x in reversed(exits):
            while cost(x) >= nxt and x["pool"] * 2 <= x["h"]:
                x["pool"] *= 2
            nxt = cost(x)
    for x, hd in zip(exits, r.get("heads", [])):
        x["pool"] = hd["pool"]   # an eenn record says where its pools are
    return sw, blocks, exits


class OFANet(nn.Module):
    def __init__(self, r, backbone_only=False, dropout=0.0):
        super().__init__()
        sw, blocks, exits = describe(r)
        self.first_conv = nn.Sequential(conv_bn(r["in_ch"], sw[0], 3, 2, a="hswish"))
        self.blocks = nn.ModuleDict((str(b["slot"] + 1), Block(b)) for b in blocks)
        self.final_expand_layer = nn.Sequential(conv_bn(blocks[-1]["cout"], sw[7], 1, 1,
                                                        a="hswish"))
        self.feature_mix_layer = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(sw[7], sw[8], 1, bias=False), act=nn.Hardswish()))
        self.classifier = nn.Sequential(OrderedDict(
            dropout=nn.Dropout(dropout), linear=nn.Linear(sw[8], r["classes"])))
        self.exits = nn.ModuleDict()
        self.exit_after = {}
        for x in [] if backbone_only else exits:
            e = str(x["stage"] - 1)
            if r["space"] == "aebnas":
                mods = r["branches"][x["stage"] - 1]
                self.exits[e] = AebnasHead(x["c"], x["h"], x["h"], mods, r["classes"])
            else:
                hp = x["h"] // x["pool"]
                self.exits[e] = NachosHead(x["c"], x["pool"], hp * hp, x["nout"])
            self.exit_after[str(blocks[x["after"]]["slot"] + 1)] = e

    def forward(self, x):
        outs = []
        x = self.first_conv(x)
        for name, blk in self.blocks.items():
            x = blk(x)
            if name in self.exit_after:
                outs.append(self.exits[self.exit_after[name]](x))
        x = self.final_expand_layer(x).mean((2, 3), keepdim=True)
        x = self.feature_mix_layer(x).flatten(1)
        outs.append(self.classifier(x))
        return outs
