#!/usr/bin/env python3
"""Golden values from PyTorch for the tensor-core tests.

Run with Debian's PyTorch:  apt-get install -y python3-torch && /usr/bin/python3 scripts/gen_torch_fixtures.py
Writes test/fixtures/torch/*.safetensors (inputs where small, expected outputs, gradients). Each file's
__metadata__ "torch" holds the version of PyTorch that made the file, "config" the case parameters as JSON. Tests never need Python.

Large inputs (the whole EmotionCNN) come from an integer LCG that test/helpers/lcg.ts reproduces
bit for bit, so only outputs are stored.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch')
torch.set_num_threads(1)
torch.manual_seed(1234)


def save(name, tensors, config=None):
    """Minimal safetensors writer (F32 only), so no extra Python package is needed."""
    header, blobs, off = {}, [], 0
    # every fixture says which PyTorch made it, so a value that moves can be traced to a version
    header['__metadata__'] = {'torch': torch.__version__, **({'config': json.dumps(config)} if config is not None else {})}
    for k, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype('<f4'))
        b = a.tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':'))
    h += ' ' * ((8 - len(h) % 8) % 8)
    path = os.path.join(OUT, name + '.safetensors')
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h.encode())
        for b in blobs:
            f.write(b)
    os.replace(path + '.tmp', path)


def lcg(n, seed, scale=1.0):
    """Uniform in [-scale, scale): state = state*1664525 + 1013904223 mod 2^32 (see lcg.ts)."""
    out = np.empty(n, dtype=np.float64)
    s = seed & 0xFFFFFFFF
    for i in range(n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = (s / 4294967296.0 * 2 - 1) * scale
    return torch.from_numpy(out.astype(np.float32))


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def leaf(t):
    return t.clone().detach().requires_grad_(True)


# ── conv2d ────────────────────────────────────────────────────────────────────────────────────
def conv_cases():
    cases = [
        dict(name='conv_pad1', x=[2, 3, 7, 9], w=[4, 3, 3, 3], stride=[1, 1], padding=[1, 1], bias=True),
        dict(name='conv_stride2_nopad', x=[1, 2, 8, 7], w=[3, 2, 3, 3], stride=[2, 2], padding=[0, 0], bias=True),
        dict(name='conv_rect', x=[2, 2, 6, 9], w=[5, 2, 2, 3], stride=[2, 1], padding=[1, 0], bias=False),
        dict(name='conv_1x1', x=[3, 4, 5, 5], w=[2, 4, 1, 1], stride=[1, 1], padding=[0, 0], bias=True),
    ]
    for c in cases:
        x, w = leaf(randn(*c['x'])), leaf(randn(*c['w']) * 0.3)
        b = leaf(randn(c['w'][0])) if c['bias'] else None
        y = F.conv2d(x, w, b, stride=tuple(c['stride']), padding=tuple(c['padding']))
        gy = randn(*y.shape)
        (y * gy).sum().backward()
        t = dict(x=x, w=w, y=y, gy=gy, gx=x.grad, gw=w.grad)
        if b is not None:
            t.update(b=b, gb=b.grad)
        save(c['name'], t, c)


# ── max pooling ───────────────────────────────────────────────────────────────────────────────
def pool_cases():
    cases = [
        dict(name='pool_k2_odd', x=[2, 3, 7, 9], kernel=[2, 2], stride=[2, 2]),
        dict(name='pool_k3_s2', x=[1, 2, 9, 8], kernel=[3, 3], stride=[2, 2]),
        dict(name='pool_rect', x=[2, 1, 6, 7], kernel=[2, 3], stride=[1, 2]),
    ]
    for c in cases:
        x = leaf(randn(*c['x']))
        y = F.max_pool2d(x, tuple(c['kernel']), tuple(c['stride']))
        gy = randn(*y.shape)
        (y * gy).sum().backward()
        save(c['name'], dict(x=x, y=y, gy=gy, gx=x.grad), c)


# ── batch norm ────────────────────────────────────────────────────────────────────────────────
def bn_cases():
    for name, shape in [('bn_train', [4, 3, 5, 7]), ('bn_batch1', [1, 2, 3, 5])]:
        bn = nn.BatchNorm2d(shape[1], momentum=0.1, eps=1e-5)
        with torch.no_grad():
            bn.weight.copy_(randn(shape[1]) * 0.5 + 1)
            bn.bias.copy_(randn(shape[1]) * 0.5)
        w0, b0 = bn.weight.detach().clone(), bn.bias.detach().clone()
        x1 = leaf(randn(*shape) * 2 + 0.5)
        x2 = randn(*shape) * 3 - 1
        y = bn(x1)
        gy = randn(*shape)
        (y * gy).sum().backward()
        rm1, rv1 = bn.running_mean.clone(), bn.running_var.clone()
        bn(x2)  # second update of the running statistics
        bn.eval()
        x3 = leaf(randn(*shape))
        y3 = bn(x3)
        gy3 = randn(*shape)
        bn.weight.grad = None
        bn.bias.grad = None
        (y3 * gy3).sum().backward()
        save(name, dict(weight=w0, bias=b0, x1=x1, x2=x2, y=y, gy=gy, gx=x1.grad,
                        rm1=rm1, rv1=rv1, rm2=bn.running_mean, rv2=bn.running_var,
                        x3=x3, y3=y3, gy3=gy3, gx3=x3.grad, gw3=bn.weight.grad, gb3=bn.bias.grad),
             dict(shape=shape))
        # the train-mode parameter gradients, recomputed cleanly
        bn2 = nn.BatchNorm2d(shape[1])
        with torch.no_grad():
            bn2.weight.copy_(w0)
            bn2.bias.copy_(b0)
        (bn2(x1.detach()) * gy).sum().backward()
        save(name + '_params', dict(gw=bn2.weight.grad, gb=bn2.bias.grad))


# ── linear, matmul, elementwise, reductions, softmax, losses ─────────────────────────────────
def misc_cases():
    x, w, b = leaf(randn(5, 7)), leaf(randn(3, 7)), leaf(randn(3))
    y = F.linear(x, w, b)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    save('linear', dict(x=x, w=w, b=b, y=y, gy=gy, gx=x.grad, gw=w.grad, gb=b.grad))

    a, c = leaf(randn(4, 6)), leaf(randn(6, 3))
    y = a @ c
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    save('matmul2d', dict(a=a, b=c, y=y, gy=gy, ga=a.grad, gb=c.grad))

    a, c = leaf(randn(3, 4, 5)), leaf(randn(3, 5, 2))
    y = torch.bmm(a, c)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    save('matmul3d', dict(a=a, b=c, y=y, gy=gy, ga=a.grad, gb=c.grad))

    # broadcasting arithmetic: one expression exercising add, sub, mul, div and unary ops
    p, q = leaf(randn(3, 1, 4)), leaf(randn(2, 4).abs() + 0.5)
    y = ((p + q) * p - q / (p * p + 1)).exp().log1p() + torch.sqrt(q) * torch.tanh(p) - torch.sigmoid(q) * p.pow(3)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    save('elementwise', dict(p=p, q=q, y=y, gy=gy, gp=p.grad, gq=q.grad))

    r = leaf(randn(2, 3, 4))
    s1 = r.sum(dim=1)
    s2 = r.mean(dim=(0, 2), keepdim=True)
    gs1, gs2 = randn(*s1.shape), randn(*s2.shape)
    ((s1 * gs1).sum() + (s2 * gs2).sum()).backward()
    save('reduce', dict(x=r, sum1=s1, mean02=s2, g1=gs1, g2=gs2, gx=r.grad))

    z = leaf(randn(6, 8) * 3)
    ls = F.log_softmax(z, dim=1)
    sm = F.softmax(z, dim=1)
    g1, g2 = randn(6, 8), randn(6, 8)
    ((ls * g1).sum() + (sm * g2).sum()).backward()
    save('softmax', dict(x=z, logsoftmax=ls, softmax=sm, g1=g1, g2=g2, gx=z.grad))

    target = torch.tensor([0, 3, 7, 2, 2, 5])
    for name, smooth in [('xent', 0.0), ('xent_smooth', 0.1)]:
        z = leaf(randn(6, 8) * 2)
        loss = F.cross_entropy(z, target, label_smoothing=smooth)
        loss.backward()
        save(name, dict(x=z, target=target.float(), loss=loss.reshape(1), gx=z.grad), dict(labelSmoothing=smooth))


# ── optimisers: fixed gradient sequences, parameters after each step ──────────────────────────
def optim_cases():
    p0 = randn(17)
    grads = [randn(17) for _ in range(5)]
    configs = [
        ('adam', lambda ps: torch.optim.Adam(ps, lr=5e-4), {}),
        ('adam_wd', lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1), {}),
        ('adamw', lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.05), {}),
        ('sgd_momentum', lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3), {}),
        ('sgd_nesterov', lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True), {}),
    ]
    for name, make, _ in configs:
        p = p0.clone().requires_grad_(True)
        opt = make([p])
        after = {}
        for i, g in enumerate(grads):
            p.grad = g.clone()
            opt.step()
            after[f'p{i + 1}'] = p.detach().clone()
        save('optim_' + name, dict(p0=p0, **{f'g{i + 1}': g for i, g in enumerate(grads)}, **after))


# ── the whole seed model ──────────────────────────────────────────────────────────────────────
def delta(x, half_width=4):
    """HTK's delta along time (the last axis), frames beyond the edges zero: a fixed 1x9 conv."""
    k = torch.arange(-half_width, half_width + 1, dtype=torch.float32) / (2 * sum(n * n for n in range(1, half_width + 1)))
    return F.conv2d(x, k.reshape(1, 1, 1, -1), padding=(0, half_width))


class EmotionCNN(nn.Module):
    def __init__(self, num_classes=8, deltas=0):
        super().__init__()
        self.deltas = deltas
        self.conv1 = nn.Conv2d(1 + deltas, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 5 * 21, 128)
        self.dropout = nn.Dropout(0.3)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        channels = [x]
        for _ in range(self.deltas):
            channels.append(delta(channels[-1]))
        x = torch.cat(channels, 1)
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = self.pool(F.relu(self.bn3(self.conv3(x))))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        return self.fc2(x)


def lcg_init(model):
    """Parameters from the LCG, seeded per tensor by its index, scaled like PyTorch's init."""
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if 'bn' in name:
                base = 1.0 if name.endswith('weight') else 0.0
                p.copy_(base + lcg(p.numel(), 1000 + i, 0.1).reshape(p.shape))
            else:
                fan_in = p.shape[1] * int(np.prod(p.shape[2:])) if p.dim() > 1 else model_fan_in(model, name)
                p.copy_(lcg(p.numel(), 1000 + i, 1 / np.sqrt(fan_in)).reshape(p.shape))


def model_fan_in(model, bias_name):
    w = dict(model.named_parameters())[bias_name.replace('bias', 'weight')]
    return w.shape[1] * int(np.prod(w.shape[2:]))


def emotion_cnn_case():
    batch = 4
    model = EmotionCNN()
    lcg_init(model)
    model.train()
    model.dropout.eval()  # dropout masks are random; keep every other train-mode behaviour
    x = lcg(batch * 40 * 174, 7, 30.0).reshape(batch, 1, 40, 174)
    target = torch.tensor([0, 5, 3, 7])
    logits = model(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    out = dict(x_check=x.reshape(-1)[:16], logits=logits, loss=loss.reshape(1), target=target.float())
    # clone: later steps zero and refill .grad and the running buffers in place
    for k, p in model.named_parameters():
        out['grad.' + k] = p.grad.clone()
    for k, v in model.state_dict().items():
        if 'running' in k:
            out['after1.' + k] = v.clone()
    # three Adam steps from the same start (the first uses the gradients above)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    opt.step()
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), target).backward()
        opt.step()
    for k, v in model.state_dict().items():
        out['adam3.' + k] = v.detach().clone().float()
    model.eval()
    with torch.no_grad():
        out['eval_logits'] = model(x)
    save('emotion_cnn', out, dict(batch=batch, steps=3, lr=5e-4))


def emotion_cnn_deltas_case():
    """EmotionCNN with Δ and ΔΔ channels: the parts that differ from the seed model (conv1 and what
    its gradient flows through), plus logits and loss; the full model is checked above."""
    batch = 2
    model = EmotionCNN(deltas=2)
    lcg_init(model)
    model.train()
    model.dropout.eval()
    x = lcg(batch * 40 * 174, 11, 3.0).reshape(batch, 1, 40, 174)
    target = torch.tensor([2, 6])
    logits = model(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    out = dict(logits=logits, loss=loss.reshape(1), target=target.float())
    for k in ['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'fc2.weight']:
        out['grad.' + k] = dict(model.named_parameters())[k].grad.clone()
    model.eval()
    with torch.no_grad():
        out['eval_logits'] = model(x)
    save('emotion_cnn_deltas', out, dict(batch=batch, deltas=2))


def xent_weighted_cases():
    """Cross-entropy with class weights (alone and with label smoothing), batch-mean and per sample.
    Its own generator, so the cases above keep their inputs."""
    g = torch.Generator().manual_seed(99)
    target = torch.tensor([0, 3, 7, 2, 2, 5, 5, 1])
    weight = torch.rand(8, generator=g) + 0.25
    for name, smooth in [('xent_weighted', 0.0), ('xent_weighted_smooth', 0.1)]:
        z = leaf(torch.randn(8, 8, generator=g) * 2)
        loss = F.cross_entropy(z, target, weight=weight, label_smoothing=smooth)
        loss.backward()
        per_sample = F.cross_entropy(z.detach(), target, weight=weight, label_smoothing=smooth, reduction='none')
        save(name, dict(x=z, target=target.float(), weight=weight, loss=loss.reshape(1), gx=z.grad, per_sample=per_sample),
             dict(labelSmoothing=smooth))


def xent_soft_cases():
    """Cross-entropy with class-probability targets (as distillation uses), plain, weighted, and weighted
    with label smoothing; batch mean and per sample. Its own generator."""
    g = torch.Generator().manual_seed(11)
    weight = torch.rand(8, generator=g) + 0.25
    for name, w, smooth in [('xent_soft', None, 0.0), ('xent_soft_weighted', weight, 0.0), ('xent_soft_weighted_smooth', weight, 0.1)]:
        z = leaf(torch.randn(6, 8, generator=g) * 2)
        p = torch.softmax(torch.randn(6, 8, generator=g) * 1.5, 1)
        loss = F.cross_entropy(z, p, weight=w, label_smoothing=smooth)
        loss.backward()
        per_sample = F.cross_entropy(z.detach(), p, weight=w, label_smoothing=smooth, reduction='none')
        save(name, dict(x=z, target=p, weight=weight if w is not None else torch.ones(8), loss=loss.reshape(1), gx=z.grad, per_sample=per_sample),
             dict(labelSmoothing=smooth, weighted=w is not None))


def swa_case():
    """Weight averaging and batch-norm recomputation (torch.optim.swa_utils): three snapshots of a small
    conv/BN/linear net averaged by AveragedModel, statistics by update_bn over three batches, then
    eval outputs. Its own generator, so the cases above keep their inputs."""
    from torch.optim.swa_utils import AveragedModel, update_bn
    g = torch.Generator().manual_seed(7)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 5, 4))
    avg = AveragedModel(net)
    out = {}
    for i in range(3):
        with torch.no_grad():
            for k, p in net.named_parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
                out[f'snap{i}.{k}'] = p.detach().clone()
        avg.update_parameters(net)
    batches = [torch.randn(5, 2, 4, 5, generator=g) * 2 + 1, torch.randn(3, 2, 4, 5, generator=g), torch.randn(4, 2, 4, 5, generator=g) - 0.5]
    update_bn(batches, avg)
    avg.eval()
    x = torch.randn(2, 2, 4, 5, generator=g)
    with torch.no_grad():
        y = avg(x)
    for k, t in avg.module.state_dict().items():
        if not k.endswith('num_batches_tracked'):
            out[f'avg.{k}'] = t
    out.update({f'batch{i}': b for i, b in enumerate(batches)})
    out.update(x=x, y=y)
    save('swa', out, dict(snapshots=3, batches=len(batches)))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    conv_cases()
    pool_cases()
    bn_cases()
    misc_cases()
    optim_cases()
    emotion_cnn_case()
    emotion_cnn_deltas_case()
    xent_weighted_cases()
    swa_case()
    xent_soft_cases()
    print('torch', torch.__version__, '->', os.path.abspath(OUT))
