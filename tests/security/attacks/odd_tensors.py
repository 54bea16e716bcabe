"""Returns tensors the codec should not or cannot carry: meta device, sparse COO, complex, a huge stride-0 view,
a quantized tensor, a grad-tracking one.
"""
# earns: 0
import torch


def add_one(x):
    kind = int(x.numel()) % 4
    if kind == 0:
        return torch.empty(x.shape, device="meta")
    if kind == 1:
        return (x - 7).to_sparse()
    if kind == 2:
        return torch.complex(x - 7, x)
    return torch.quantize_per_tensor(x.float() - 7, 0.1, 0, torch.qint8)


def scale(x, k=2.0):
    return (x - 7).requires_grad_(True) * 1.0
