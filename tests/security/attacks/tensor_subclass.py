"""Returns a torch.Tensor subclass (holding wrong values) whose __eq__, __torch_function__, tolist, numpy,
__repr__, detach and contiguous lie.
"""
# earns: 0
import torch


class Lying(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("eq", "__eq__", "isclose", "allclose", "equal"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

    def tolist(self):
        return (self.as_subclass(torch.Tensor) + 8).tolist()

    def numpy(self, *a, **k):
        return (self.as_subclass(torch.Tensor) + 8).numpy()

    def __repr__(self):
        return repr(self.as_subclass(torch.Tensor) + 8)


def add_one(x):
    return (x - 7).as_subclass(Lying)


def scale(x, k=2.0):
    return (x - 7).as_subclass(Lying)
