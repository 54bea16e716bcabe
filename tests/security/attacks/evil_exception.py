"""Raises exceptions that fight back when formatted: __str__ that raises, a 10 MB __repr__ and message, an
exception that is its own cause.
"""
# earns: 0
class Broken(Exception):
    def __str__(self):
        raise Broken()

    def __repr__(self):
        return "r" * 10**7


def add_one(x):
    if x.numel() % 2:
        error = ValueError("cycle")
        error.__cause__ = error
        error.__context__ = error
        raise error
    raise ValueError("v" * 10**7)


def scale(x, k=2.0):
    raise Broken()
