#!/usr/bin/env python3
"""Times the seed EmotionCNN in PyTorch on this machine, for the README's ratio to PyTorch.

Optional (needs torch: `apt-get install -y python3-torch`, then `/usr/bin/python3 bench/pytorch_reference.py`).
Prints one JSON object: train-step samples/s at batch 32 and batch-1 inference ms, with the thread count.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit('/', 2)[0] + '/scripts')
from gen_torch_fixtures import EmotionCNN  # noqa: E402


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main(threads=2, batch=32, iters=20):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = EmotionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    x = torch.randn(batch, 1, 40, 174)
    y = torch.arange(batch) % 8

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    train = median(times)

    model.eval()
    x1 = torch.randn(1, 1, 40, 174)
    with torch.no_grad():
        for _ in range(10):
            model(x1)
        inf = []
        for _ in range(100):
            t0 = time.perf_counter()
            model(x1)
            inf.append(time.perf_counter() - t0)
    print(json.dumps({
        'torch': torch.__version__, 'threads': threads, 'batch': batch,
        'train_step_ms': train * 1e3, 'train_samples_per_s': batch / train,
        'infer_b1_ms': median(inf) * 1e3,
    }))


if __name__ == '__main__':
    main(threads=int(sys.argv[1]) if len(sys.argv) > 1 else 2,
         iters=int(sys.argv[2]) if len(sys.argv) > 2 else 20)
