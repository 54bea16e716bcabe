"""The worker side of the call interface: it runs a submission's code and answers calls.

In grading this runs inside the sandbox (see ``rlgrade.sandbox``), started as
``python -I -c ...`` with only this package on its path. Everything here must be
standard library + torch: the grader's own modules are not visible in the sandbox.

Requests and responses are codec frames (plain data):

- ``{"op": "load", "cells": [[index, source], ...], "filename": str}`` executes the
  submission's code cells in order in one namespace; a cell that raises is recorded
  and the next cell still runs (as when a student runs all cells of a notebook).
- ``{"op": "call", "fn": str, "args": [...], "kwargs": {...}, "grad": None | {...}}``
  calls one function. With ``grad = {"wrt": [0, "logp", ...], "output": int | None,
  "cotangent": tensor | None}`` the worker also returns d<output, cotangent>/d(wrt),
  computed here so that no autograd graph ever crosses the boundary.
  An optional ``"forbid": ["aten::_log_softmax", ...]`` lists torch operators the call
  may not run (a question that asks students to implement a built-in): they are
  watched at the dispatcher, below every Python name, so no alias hides them.
- ``{"op": "check", "fn": name, "source": str}`` runs one of the notebook's public
  check cells against the submission, in a copy of its namespace (so a check's
  variables never replace the student's globals).
- ``{"op": "train", "task": "sft"|"dpo"|"grpo", "model": spec, "data": [...], "config": {...},
  "pad_id": int, "eos_id": int, "tokenizer": json | None}`` runs the GPU-marked task's training loop
  (:mod:`.finetune`) with the submission's own loss functions; the answer holds the per-step log and
  the size of the trained weights (safetensors), which ``{"op": "weights", "offset": int}`` then
  returns in frame-sized pieces.
"""

from __future__ import annotations

import builtins
import contextlib
import linecache
import os
import sys
import traceback

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from .codec import CodecError, decode, encode, read_frame, write_frame

MAX_MESSAGE_CHARS = 4000
WEIGHTS_PIECE_BYTES = 32 * 1024 * 1024
"""Trained weights go back in pieces of this size (a frame holds at most 64 MiB)."""


class Session:
    """One submission's namespace and the handler for requests against it."""

    def __init__(self, namespace: dict | None = None):
        self.namespace = namespace if namespace is not None else {"__name__": "__main__", "__builtins__": builtins}

    def handle(self, frame: bytes) -> bytes:
        try:
            request = decode(frame)
            response = self.dispatch(request)
            return encode(response)
        except CodecError as exc:
            return encode(error_response("ReturnValueError", f"could not send the result back: {exc}"))
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a response
            return encode(error_response(type(exc).__name__, str(exc)[:MAX_MESSAGE_CHARS]))

    def dispatch(self, request: object) -> dict:
        if type(request) is not dict or type(request.get("op")) is not str:
            raise ValueError("malformed request")
        op = request["op"]
        if op == "ping":
            return {"ok": True}
        if op == "load":
            return self.load(request["cells"], request.get("filename", "submission"))
        if op == "call":
            return self.call(request["fn"], request["args"], request["kwargs"], request.get("grad"),
                             request.get("forbid") or [])
        if op == "check":
            return self.check(request["fn"], request["source"])
        if op == "train":
            return self.train(request)
        if op == "weights":
            return self.weights_piece(request["offset"])
        raise ValueError(f"unknown op {op!r}")

    def load(self, cells: list, filename: str) -> dict:
        errors = []
        for index, source in cells:
            name = f"<{filename} cell {index}>"
            linecache.cache[name] = (len(source), None, source.splitlines(True), name)
            try:
                exec(compile(source, name, "exec"), self.namespace)  # noqa: S102 - sandboxed by design
            except BaseException as exc:  # noqa: BLE001 - SystemExit included: keep loading
                errors.append({"cell": index, "error": format_exception(exc)})
        functions = sorted(k for k, v in self.namespace.items() if callable(v) and not k.startswith("__"))
        return {"ok": True, "errors": errors, "functions": functions}

    def check(self, name: str, source: str) -> dict:
        filename = f"<public check {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), dict(self.namespace))  # noqa: S102 - sandboxed by design
        except BaseException as exc:  # noqa: BLE001
            return error_response(type(exc).__name__, str(exc) or format_exception(exc))
        return {"ok": True}

    def train(self, request: dict) -> dict:
        from . import finetune  # noqa: PLC0415 - transformers: only the GPU-marked tasks pay for it

        from safetensors.torch import save  # noqa: PLC0415

        decode = None
        if request.get("tokenizer"):
            from tokenizers import Tokenizer  # noqa: PLC0415

            tokenizer = Tokenizer.from_str(request["tokenizer"])
            decode = lambda ids: tokenizer.decode(ids, skip_special_tokens=True)  # noqa: E731
        config = finetune.TrainConfig.from_dict(request.get("config") or {})
        device = "cuda" if request.get("cuda") and torch.cuda.is_available() else "cpu"
        run = finetune.Run(model=finetune.build_model(request["model"], device), data=request["data"], config=config,
                           pad_id=request["pad_id"], eos_id=request["eos_id"], decode=decode)
        try:
            log = finetune.train(request["task"], self.namespace, run)
        except finetune.TaskError as exc:
            return error_response("TaskError", str(exc))
        except BaseException as exc:  # noqa: BLE001 - the student's functions raised
            return error_response(type(exc).__name__, format_exception(exc))
        self.trained = save(finetune.trained_weights(run.model))
        return {"ok": True, "log": log, "weights_bytes": len(self.trained)}

    def weights_piece(self, offset: int) -> dict:
        trained = getattr(self, "trained", b"")
        piece = trained[offset: offset + WEIGHTS_PIECE_BYTES]
        return {"ok": True, "piece": torch.frombuffer(bytearray(piece), dtype=torch.uint8) if piece else
                torch.zeros(0, dtype=torch.uint8)}

    def call(self, fn_name: str, args: list, kwargs: dict, grad: dict | None, forbid: list | None = None) -> dict:
        fn = self.namespace.get(fn_name)
        if fn is None or not callable(fn):
            return error_response("MissingFunction", f"your submission does not define a function named {fn_name!r}")
        args, kwargs = list(args), dict(kwargs)
        leaves = mark_grad_inputs(args, kwargs, grad["wrt"]) if grad else []
        before = snapshot(args, kwargs)
        watch = ForbiddenOps(forbid) if forbid else contextlib.nullcontext()
        try:
            with watch:
                value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are the student's too
            if forbid and watch.used:
                return forbidden_response(fn_name, watch.used)
            return error_response(type(exc).__name__, format_exception(exc))
        if forbid and watch.used:  # even if the student caught our exception
            return forbidden_response(fn_name, watch.used)
        response = {"ok": True, "value": plain(value), "mutated": mutated(before, args, kwargs), "grads": None}
        if grad:
            try:
                response["grads"] = gradients(value, leaves, grad.get("output"), grad.get("cotangent"))
            except BaseException as exc:  # noqa: BLE001
                return error_response("GradientError", f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE_CHARS])
        return response


class ForbiddenOps(TorchDispatchMode):
    """Records (and stops) any of the named aten operators, however the student reached them."""

    def __init__(self, names: list):
        super().__init__()
        self.names = {str(n).removeprefix("aten::") for n in names}
        self.used: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.removeprefix("aten::")
        if name in self.names:
            self.used.append(name)
            raise RuntimeError(f"torch's built-in {name} is not allowed in this question")
        return func(*args, **(kwargs or {}))


def forbidden_response(fn_name: str, used: list) -> dict:
    return error_response("ForbiddenCall", f"{fn_name} calls torch's built-in {used[0]}, which this question asks you "
                                           "to implement yourself from basic operations")


def error_response(kind: str, message: str) -> dict:
    return {"ok": False, "error": {"type": kind, "message": message[:MAX_MESSAGE_CHARS]}}


def format_exception(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename.startswith("<")]  # the student's cells, not ours
    lines = traceback.format_list(own[-5:]) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-MAX_MESSAGE_CHARS:]


def mark_grad_inputs(args: list, kwargs: dict, wrt: list) -> list[torch.Tensor]:
    leaves = []
    for key in wrt:
        container = args if type(key) is int else kwargs
        tensor = container[key]
        if not (isinstance(tensor, torch.Tensor) and tensor.is_floating_point()):
            raise ValueError(f"argument {key!r} is not a float tensor")
        leaf = tensor.detach().clone().requires_grad_(True)
        container[key] = leaf
        leaves.append(leaf)
    return leaves


def snapshot(args: list, kwargs: dict) -> dict:
    """Copies of every tensor argument, also those inside list/tuple arguments (e.g. a list of gradients)."""
    found = {}
    for key, value in list(enumerate(args)) + list(kwargs.items()):
        if isinstance(value, torch.Tensor):
            found[key] = (value, value.detach().clone())
        elif type(value) in (list, tuple):
            found.update({f"{key}[{i}]": (item, item.detach().clone())
                          for i, item in enumerate(value) if isinstance(item, torch.Tensor)})
    return found


def mutated(before: dict, args: list, kwargs: dict) -> list:
    """Names/positions (``"grads[1]"`` inside a list) of tensor arguments the function changed in place."""
    changed = []
    for key, (tensor, copy) in before.items():
        now = tensor.detach()
        same = now.shape == copy.shape and now.dtype == copy.dtype and bytes_of(now) == bytes_of(copy)
        if not same:
            changed.append(key)
    return changed


def bytes_of(t: torch.Tensor) -> bytes:
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""


def plain(value: object) -> object:
    """Detach tensors (the graph stays here); structure is checked by the codec."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if type(value) in (tuple, list):
        return type(value)(plain(v) for v in value)
    return value


def gradients(value: object, leaves: list, output: int | None, cotangent) -> list:
    out = value[output] if output is not None else value
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the output is a {type(out).__name__}, not a tensor, so it has no gradient")
    if not out.requires_grad:
        raise ValueError("the output is not differentiable w.r.t. the inputs (was it detached, or built with .item() / torch.tensor(...)?)")
    if cotangent is None:
        cotangent = torch.ones_like(out)
    if tuple(cotangent.shape) != tuple(out.shape):
        raise ValueError(f"the output has shape {tuple(out.shape)}, expected {tuple(cotangent.shape)}")
    grads = torch.autograd.grad(out, leaves, grad_outputs=cotangent.to(out.dtype), allow_unused=True)
    return [torch.zeros_like(leaf) if g is None else g.detach() for leaf, g in zip(leaves, grads)]


def warm_up() -> None:
    torch.set_num_threads(1)
    with ForbiddenOps(["warm-up"]):  # its first use loads torch internals: pay that at start-up, not in a call
        torch.zeros(1) + 1


def serve(read_fd: int = 3, write_fd: int = 4, *, warm_up_first: bool = True) -> None:
    """Answer requests on ``read_fd`` until the grader closes it (a zygote's fork is warm already)."""
    if warm_up_first:
        warm_up()
    reader = os.fdopen(read_fd, "rb", buffering=0)
    writer = os.fdopen(write_fd, "wb", buffering=0)
    session = Session()
    write_frame(writer, encode({"ok": True, "ready": True, "pid": os.getpid()}))
    while True:
        frame = read_frame(reader)
        if frame is None:
            break
        write_frame(writer, session.handle(frame))
    sys.stdout.flush()
