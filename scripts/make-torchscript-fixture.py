#!/usr/bin/python3
"""Writes the bring-your-own-classifier test fixture: a tiny TorchScript classifier and what Python says it outputs.

Run from the repository root with Debian's python3-torch (apt-get install python3-torch; /usr/bin/python3):

    /usr/bin/python3 scripts/make-torchscript-fixture.py

It trains a small CNN (two convolutions with BatchNorm, global average pooling, dropout, a linear layer; 1,466
parameters) for 1,500 Adam steps of 64 (5–7 s on one core) on the shipped data/validation images, so the fixture classifies real Fashion-MNIST images better than chance,
then traces it with torch.jit.trace and writes, under lustra-core/src/test/resources/org/lustra/model/torchscript/:

  tiny-fmnist.pt           the traced module (eval mode); it expects (N, 1, 28, 28) inputs normalised as
                           (x - 0.2860) / 0.3530 for x in [0, 1], and returns logits (N, 10)
  tiny-fmnist.json         the description Lustra reads beside it (classes, channels, size, range, mean, std)
  tiny-fmnist.expected.json  logits of three fixed inputs computed here (float32) from the saved file, the input
                           gradient of log-sum-exp(logits) at the first one, and the fixture's accuracy on
                           data/eval512, for the Java tests to compare against

BatchNorm and dropout are there on purpose: in training mode they change the output, so matching Python's eval-mode
logits shows that Lustra runs the module in eval mode while still recording input gradients.
The tests need only the committed files; this script is for regenerating them.
"""
import gzip
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "lustra-core/src/test/resources/org/lustra/model/torchscript")
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
MEAN, STD = 0.2860, 0.3530
SEED = 20261201
STEPS = 1500  # 5–7 s on one core; a step count, not a time, so reruns give the same weights


def idx(name):
    """An IDX file of data/ as a tensor: images (N, 1, 28, 28) in [0, 1] or labels (N,)."""
    with gzip.open(os.path.join(ROOT, "data", name), "rb") as f:
        raw = f.read()
    magic, n = struct.unpack(">II", raw[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        x = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, 1, rows, cols)
        return x.float() / 255.0
    return torch.frombuffer(bytearray(raw[8:]), dtype=torch.uint8).long()


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.b2 = nn.BatchNorm2d(16)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.relu(self.b2(self.c2(x)))
        x = x.mean(dim=(2, 3))
        return self.fc(self.drop(x))


def fixed_inputs():
    """Three inputs in [0, 1] the Java test rebuilds: eval512 image 0, constant 0.5, and a smooth pattern."""
    first = idx("eval512-images-idx3-ubyte.gz")[0:1]
    half = torch.full((1, 1, 28, 28), 0.5)
    i = torch.arange(28, dtype=torch.float32).reshape(28, 1)
    j = torch.arange(28, dtype=torch.float32).reshape(1, 28)
    # (i * 28 + j) mod 97 / 96: exact in float32 on both sides
    pattern = (torch.remainder(i * 28 + j, 97) / 96.0).reshape(1, 1, 28, 28)
    return [("eval512[0]", first), ("constant 0.5", half), ("(i*28+j) mod 97 / 96", pattern)]


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    x = idx("validation-images-idx3-ubyte.gz")
    y = idx("validation-labels-idx1-ubyte.gz")
    ex = idx("eval512-images-idx3-ubyte.gz")
    ey = idx("eval512-labels-idx1-ubyte.gz")
    net = TinyNet()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net.train()
    start = time.time()
    for _ in range(STEPS):
        pick = torch.randint(0, x.shape[0], (64,))
        loss = F.cross_entropy(net((x[pick] - MEAN) / STD), y[pick])
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.time() - start
    net.eval()
    with torch.no_grad():
        acc = (net((ex - MEAN) / STD).argmax(1) == ey).float().mean().item()
    traced = torch.jit.trace(net, torch.zeros(1, 1, 28, 28))
    os.makedirs(OUT, exist_ok=True)
    traced.save(os.path.join(OUT, "tiny-fmnist.pt"))
    reloaded = torch.jit.load(os.path.join(OUT, "tiny-fmnist.pt"))
    reloaded.eval()
    expected = []
    with torch.no_grad():
        for name, inp in fixed_inputs():
            logits = reloaded((inp - MEAN) / STD)[0]
            expected.append({"input": name, "logits": [float(v) for v in logits]})
    # the input gradient of log-sum-exp(logits) at eval512[0], through the normalisation, for the Java gradient test
    first = fixed_inputs()[0][1].clone().requires_grad_(True)
    torch.logsumexp(reloaded((first - MEAN) / STD), 1).sum().backward()
    gradient = [float(v) for v in first.grad.reshape(-1)]
    with open(os.path.join(OUT, "tiny-fmnist.json"), "w") as f:
        json.dump({"name": "tiny-fmnist", "classes": CLASSES, "channels": 1, "size": 28, "range": [0, 1],
                   "mean": [MEAN], "std": [STD]}, f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "tiny-fmnist.expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "seed": SEED, "trainedOn": "data/validation",
                   "trainingSteps": STEPS, "batch": 64, "learningRate": 0.01,
                   "eval512Accuracy": round(acc, 4), "outputs": expected,
                   "logSumExpGradientAtEval512First": gradient}, f, indent=1)
        f.write("\n")
    print(f"torch {torch.__version__}: {STEPS} steps in {seconds:.1f} s, eval512 accuracy {acc:.4f}; "
          f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
