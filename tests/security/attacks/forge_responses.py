"""Replaces the worker's responses (patching its server) with frames of the wrong shape: junk load errors, a
number instead of a dict for add_one, a list for the public check, an error for scale whose type and message
hold lone surrogates, NUL bytes and 1 MB of text.
"""
# earns: 0
from rlgrade_worker import server

_dispatch = server.Session.dispatch
EVIL = "\udcff\x00\ud800"


def dispatch(self, request):
    op, fn = request.get("op"), request.get("fn")
    if op == "load":
        _dispatch(self, request)
        junk = [5, "junk", None, {"cell": EVIL, "error": ["x"]}, {"cell": 0, "error": EVIL * 10}]
        return {"ok": True, "errors": junk * 200, "functions": None}
    if op == "check":
        return ["not", "a", "dict"]
    if fn == "add_one":
        return 6.0
    return {"ok": False, "error": {"type": "Evil" + EVIL, "message": EVIL + "m" * 10**6}, "grads": 5}


server.Session.dispatch = dispatch


def add_one(x):
    return x + 1


def scale(x, k=2.0):
    return k * x
