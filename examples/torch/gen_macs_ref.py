"""gen_macs_ref.py - an independent MAC count at resolutions other than 32,
for tests/resolution.bats.

Run by hand with Debian's torch, from the top directory:
    /usr/bin/python3 examples/torch/gen_macs_ref.py
For each arch record of tests/data/res/arch.jsonl (ofa-sample output at 64,
128 and 160 pixels) it builds the network in PyTorch (ofa_net.OFANet, exits
placed by its own Algorithm 1), runs one input of the record's resolution
and counts, with forward hooks on every Conv2d and Linear, the
multiply-accumulates of the shapes PyTorch actually produced:
C_in/groups * k_h * k_w * C_out * H_out * W_out for a convolution, in * out
for a linear layer (mac-count's rule: nothing else costs). It writes one
JSON line per record to tests/data/res/macs.jsonl: the line number, the
resolution, macs_backbone, macs_heads and each exit's pooling window.
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ofa_net import OFANet, describe  # noqa: E402

DIR = "tests/data/res"


def count(net, r):
    macs = {"backbone": 0, "heads": 0}

    def hook(name):
        def f(m, inp, out):
            if isinstance(m, nn.Conv2d):
                n = (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1] \
                    * out.shape[1] * out.shape[2] * out.shape[3]
            else:
                n = m.in_features * m.out_features
            macs["heads" if name.startswith("exits.") else "backbone"] += n
        return f

    for name, m in net.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(hook(name))
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, r["in_ch"], r["resolution"], r["resolution"]))
    return macs


def main():
    out = []
    with open(os.path.join(DIR, "arch.jsonl")) as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            _, _, exits = describe(r)
            macs = count(OFANet(r), r)
            out.append({"line": i + 1, "resolution": r["resolution"],
                        "macs_backbone": macs["backbone"], "macs_heads": macs["heads"],
                        "pools": [x["pool"] for x in exits]})
    with open(os.path.join(DIR, "macs.jsonl"), "w") as f:
        for o in out:
            f.write(json.dumps(o, separators=(",", ":")) + "\n")
    print(os.path.join(DIR, "macs.jsonl"), len(out), "records")


if __name__ == "__main__":
    main()
