"""gen_eel_ref.py - PyTorch reference for the NACHOS losses of lib/eel.c.

Run by hand with Debian's torch (not the pyenv python), from the top
directory:  /usr/bin/python3 examples/torch/gen_eel_ref.py
It writes tests/data/eel/ref.txt, read by tests/unit/test_eel.c: the losses
of nachos-method(7) §4 computed in float64 with autograd on small random batches, from
inputs rounded to float32 (the C side's input type).

File format: whitespace-separated numbers, '#' starts a comment line.
First the number of cases; then per case:
  N K B
  y (N)                         labels
  spent (B)                     spent MACs per exit
  mbar w_acc w_cost w_conf w_peak
  S (K*(B-1))                   support matrix, row-major (class, exit)
  logits of exit 0 .. B-1       (N, K+1) for intermediate exits, (N, K) final
  acc cost conf peak total macs
  gradient of the total, exit 0 .. B-1 (same shapes as the logits)
  gradient of acc, of cost, of conf, of peak (each: every exit)
"""
import torch
import torch.nn.functional as F

OUT = "tests/data/eel/ref.txt"
EPS = 1e-12


def f32(t):
    """Round to float32 and back: the exact values the C test reads."""
    return t.float().double()


def losses(logits, y, spent, mbar, S, K, B):
    N, E = y.shape[0], B - 1
    p = [F.softmax(z[:, :K], 1) for z in logits]
    s = [logits[i][:, K] for i in range(E)]
    c = [torch.sigmoid(v) for v in s]
    cm = [torch.sigmoid(-v) for v in s]   # 1 - c without cancellation
    q = torch.ones(N, dtype=torch.float64)
    w = []
    for i in range(E):
        w.append(c[i] * q)
        q = q * cm[i]
    w.append(q)
    py = [pi.gather(1, y[:, None])[:, 0] for pi in p]
    mix = sum(w[i] * py[i] for i in range(E))
    acc = (-torch.log(py[E] + EPS) - torch.log(mix + EPS)).mean()
    macs = sum(w[i] * spent[i] for i in range(B)).mean()
    if spent[E] > mbar:
        cost = torch.clamp(macs - mbar, min=0) / (spent[E] - mbar)
    else:
        cost = torch.zeros((), dtype=torch.float64)
    conf = torch.zeros((), dtype=torch.float64)
    for i in range(E):
        t = (logits[i][:, :K].detach().argmax(1) == y).double()
        npos = float(t.sum())
        nneg = N - npos
        wt = torch.where(t > 0,
                         torch.tensor((0.5 if nneg else 1.0) / max(npos, 1)),
                         torch.tensor((0.5 if npos else 1.0) / max(nneg, 1)))
        wt = f32(wt)   # the C side keeps these weights in float
        conf = conf + F.binary_cross_entropy_with_logits(
            s[i], t, weight=wt, reduction="sum") / E
    cs = torch.stack(c, 1)                          # (N, E)
    peak = ((cs - S[y]) ** 2).mean()                # elementwise, not all pairs
    return acc, cost, conf, peak, macs


def case(gen, N, K, B, mbar, wts, conf_scale=2.0, wrong_exit0=False):
    E = B - 1
    y = torch.randint(0, K, (N,), generator=gen)
    logits = []
    for i in range(B):
        z = torch.randn(N, K + (i < E), generator=gen, dtype=torch.float64) * 2
        if i < E:
            z[:, K] *= conf_scale
        if wrong_exit0 and i == 0:
            # exit 0 never right: its L_conf has no positives
            z[torch.arange(N), y] = z[:, :K].min(1).values - 1
        logits.append(f32(z).requires_grad_(True))
    spent = [float(v) for v in sorted(torch.randint(1, 100, (B,), generator=gen).tolist())]
    spent[E] += 100.0
    S = f32(torch.rand(K, E, generator=gen, dtype=torch.float64))
    acc, cost, conf, peak, macs = losses(logits, y, spent, mbar, S, K, B)
    total = wts[0] * acc + wts[1] * cost + wts[2] * conf + wts[3] * peak
    grads = []
    for term in (total, acc, cost, conf, peak):
        if term.requires_grad:
            g = torch.autograd.grad(term, logits, retain_graph=True, allow_unused=True)
            g = [torch.zeros_like(z) if gi is None else gi for gi, z in zip(g, logits)]
        else:
            g = [torch.zeros_like(z) for z in logits]
        grads.append(g)
    return dict(N=N, K=K, B=B, y=y, spent=spent, mbar=mbar, wts=wts, S=S,
                logits=logits, terms=[acc, cost, conf, peak, total, macs], grads=grads)


def line(xs, fmt):
    return " ".join(fmt % float(x) for x in xs) + "\n"


def main():
    gen = torch.Generator().manual_seed(20261123)
    cases = [
        # cost active (Mbar below the expected MACs), every term on
        case(gen, 6, 4, 3, 25.0, (1.0, 1.0, 1.0, 1.0)),
        # four exits, weights other than 1
        case(gen, 5, 3, 4, 30.0, (0.7, 2.0, 1.0, 0.5)),
        # two exits, constraint satisfied (no L_cost), exit 0 never right,
        # large confidence logits
        case(gen, 4, 3, 2, 500.0, (1.0, 1.0, 1.0, 1.0), conf_scale=10.0,
             wrong_exit0=True),
    ]
    with open(OUT, "w") as f:
        f.write("# NACHOS loss reference, examples/torch/gen_eel_ref.py "
                "(torch %s)\n%d\n" % (torch.__version__, len(cases)))
        for c in cases:
            f.write("# case N K B\n%d %d %d\n" % (c["N"], c["K"], c["B"]))
            f.write(line(c["y"].tolist(), "%d"))
            f.write(line(c["spent"], "%.17g"))
            f.write(line([c["mbar"], c["wts"][0], c["wts"][1], c["wts"][2],
                          c["wts"][3]], "%.17g"))
            f.write(line(c["S"].flatten().tolist(), "%.9g"))
            f.write("# logits\n")
            for z in c["logits"]:
                f.write(line(z.detach().flatten().tolist(), "%.9g"))
            f.write("# acc cost conf peak total macs\n")
            f.write(line([float(t) for t in c["terms"]], "%.17g"))
            for name, g in zip(("total", "acc", "cost", "conf", "peak"), c["grads"]):
                f.write("# gradient of %s\n" % name)
                for gi in g:
                    f.write(line(gi.flatten().tolist(), "%.17g"))
            print("case N=%d K=%d B=%d: acc %.6f cost %.6f conf %.6f peak %.6f "
                  "total %.6f macs %.3f" % ((c["N"], c["K"], c["B"]) +
                                            tuple(float(t) for t in c["terms"])))
    print(OUT)


if __name__ == "__main__":
    main()
