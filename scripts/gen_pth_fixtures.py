#!/usr/bin/env python3
"""PyTorch .pth fixtures for the .pth importer (src/nn/pth.ts), written by torch.save itself.

Run with Debian's PyTorch:  apt-get install -y python3-torch && /usr/bin/python3 scripts/gen_pth_fixtures.py
Writes test/fixtures/pth/:
  emotion_cnn.pth             the seed EmotionCNN's state dict (attribute names: conv1.weight, bn1.running_mean, ...)
  emotion_cnn_sequential.pth  the same weights as an nn.Sequential's state dict (0.weight, 1.running_var, ...)
  emotion_cnn_dataparallel.pth  the same, saved from nn.DataParallel (module. prefix)
  expected.safetensors        eval-mode logits of those weights on an LCG input (test/helpers/lcg.ts), and the torch version
  hostile_*.pth               files a safe loader must refuse: os.system and builtins.eval through __reduce__,
                              subprocess.Popen, a storage claiming 2^40 elements, the legacy (pre-1.6) format
fc1's weights are zero outside one entry in 17, so that git stores the 3.4 MB files compactly; every
other parameter and buffer is dense.
"""
import io, os, pickle, struct, sys, zipfile, json
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from gen_torch_fixtures import EmotionCNN, lcg, lcg_init  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'pth')
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(4321)


def write_safetensors(name, tensors, metadata):
    header, blobs, off = {'__metadata__': metadata}, [], 0
    for k, t in tensors.items():
        b = np.ascontiguousarray(t.detach().numpy().astype('<f4')).tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':'))
    h += ' ' * ((8 - len(h) % 8) % 8)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h.encode() + b''.join(blobs))


model = EmotionCNN()
lcg_init(model)
with torch.no_grad():
    mask = torch.zeros_like(model.fc1.weight)
    mask.view(-1)[::17] = 1
    model.fc1.weight.mul_(mask)
    # running statistics other than the defaults, so that loading them is tested
    for i, bn in enumerate([model.bn1, model.bn2, model.bn3]):
        bn.running_mean.copy_(torch.linspace(-0.5, 0.5, bn.num_features) * (i + 1))
        bn.running_var.copy_(torch.linspace(0.5, 2.0, bn.num_features))
        bn.num_batches_tracked.fill_(7 + i)
model.eval()
torch.save(model.state_dict(), os.path.join(OUT, 'emotion_cnn.pth'))

seq = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 5 * 21, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 8))
seq.load_state_dict(dict(zip(seq.state_dict().keys(), model.state_dict().values())))
torch.save(seq.state_dict(), os.path.join(OUT, 'emotion_cnn_sequential.pth'))
torch.save(nn.DataParallel(model).state_dict(), os.path.join(OUT, 'emotion_cnn_dataparallel.pth'))

x = lcg(2 * 40 * 174, 5, 20.0).reshape(2, 1, 40, 174)
with torch.no_grad():
    logits = model(x)
    assert torch.allclose(seq.eval()(x), logits, atol=1e-5)
write_safetensors('expected.safetensors', {'x_check': x.reshape(-1)[:16], 'logits': logits}, {'torch': torch.__version__})


class OsSystem:
    def __reduce__(self):
        return (os.system, ('echo this must never run',))


class Eval:
    def __reduce__(self):
        return (eval, ('__import__("os").system("echo nor this")',))


class Popen:
    def __reduce__(self):
        import subprocess
        return (subprocess.Popen, (['true'],))


for name, payload in [('os_system', OsSystem()), ('builtins_eval', Eval()), ('popen', Popen())]:
    torch.save({'weight': torch.zeros(2), 'evil': payload}, os.path.join(OUT, f'hostile_{name}.pth'))


class HugeStorage(pickle.Pickler):
    """A tensor whose storage claims 2^40 float32 elements while the archive holds 8 bytes."""
    def persistent_id(self, obj):
        if isinstance(obj, torch.storage.TypedStorage) or isinstance(obj, torch.UntypedStorage):
            return ('storage', torch.FloatStorage, '0', 'cpu', 2 ** 40)
        return None


buf = io.BytesIO()
HugeStorage(buf, protocol=2).dump({'weight': torch.zeros(2)})
with zipfile.ZipFile(os.path.join(OUT, 'hostile_huge_storage.pth'), 'w', zipfile.ZIP_STORED) as z:
    z.writestr('archive/data.pkl', buf.getvalue())
    z.writestr('archive/data/0', bytes(8))
    z.writestr('archive/version', '3\n')

torch.save({'weight': torch.zeros(2)}, os.path.join(OUT, 'hostile_legacy.pth'), _use_new_zipfile_serialization=False)
print('torch', torch.__version__, '->', os.path.abspath(OUT))
