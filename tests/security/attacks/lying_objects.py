"""Returns objects that lie: a class whose __eq__, __ne__, __bool__, __float__, __array__, __len__, __iter__,
tolist and __torch_function__ all claim success, and subclasses of float, list and tuple (a namedtuple) that
equal anything.
"""
# earns: 0
import collections

import numpy


class Liar:
    __eq__ = lambda self, other: True
    __ne__ = lambda self, other: False
    __bool__ = lambda self: True
    __float__ = lambda self: 1.0
    __index__ = lambda self: 1
    __len__ = lambda self: 1
    __hash__ = lambda self: 0
    __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __iter__(self):
        return iter([self])

    def __array__(self, dtype=None, copy=None):
        return numpy.ones(1)

    def tolist(self):
        return [1.0]

    def __getattr__(self, name):
        return lambda *a, **k: self

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return True

    def __repr__(self):
        return "tensor([1., 1., 1.])"


class F(float):
    __eq__ = lambda self, other: True
    __ne__ = lambda self, other: False
    __hash__ = float.__hash__


class L(list):
    __eq__ = lambda self, other: True
    __ne__ = lambda self, other: False


Point = collections.namedtuple("Point", "a b")


def add_one(x):
    return Liar() if x.numel() % 2 else L([F(1.0)] * x.numel())


def scale(x, k=2.0):
    return Point(F(0.0), Liar())
