"""The grader's handle on a submission: ``student.ppo_clip_loss(...)`` calls across the boundary.

Hidden tests see a :class:`Student`; they never see the worker process, the
submission's source or its objects — only the plain data the worker sends back,
decoded by the grader's own codec.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import torch

from rlgrade.sandbox import Limits, Worker, WorkerDied, WorkerTimeout, ZygoteGone, storable_text
from rlgrade.worker.codec import CodecError, decode, encode
from rlgrade.worker.server import Session


MAX_TEXT_CHARS = 4000
"""The longest error message or load error kept from a worker."""
MAX_LOAD_ERRORS = 50


class StudentError(AssertionError):
    """The student's function raised, timed out, crashed its worker or returned junk."""


class _Refused(Exception):
    """Internal: why the backend cannot answer a call."""


@dataclass(frozen=True)
class CallResult:
    """What one call to a student's function produced."""

    value: object
    """The return value, as plain data (tensors, floats, tuples, ...)."""
    mutated: tuple = ()
    """Positions / names of tensor arguments the function modified in place."""
    grads: tuple | None = None
    """Gradients w.r.t. the requested inputs, in the order asked, when requested."""


@dataclass(frozen=True)
class RecordedCall:
    """A call the hidden tests made, kept so that a failure can be diagnosed afterwards."""

    fn: str
    args: tuple
    kwargs: dict
    grad: dict | None
    result: CallResult | None
    """None when the call raised."""


class Backend(Protocol):
    def request(self, message: dict) -> dict: ...
    def close(self) -> None: ...


class InProcessBackend:
    """Trusted code only (reference, misconceptions): same codec round trip, no process."""

    def __init__(self, namespace: dict):
        self.session = Session(dict(namespace))
        self.load_errors: list = []

    def request(self, message: dict) -> dict:
        return decode(self.session.handle(encode(message)))

    def close(self) -> None:
        pass


@dataclass
class SandboxBackend:
    """A submission's code in a (re)startable worker with per-call and total deadlines."""

    cells: list
    filename: str
    limits: Limits = Limits()
    sandbox: bool = True
    secrets: list = field(default_factory=list)
    budget_seconds: float = 1200.0
    max_losses_per_function: int = 2
    """After this many timeouts or crashes in one function, it is not called again."""
    max_restarts: int = 30
    zygote: object = None
    """A warm worker factory's control socket (``rlgrade.sandbox.Zygote``): workers fork from it."""
    load_errors: list = field(default_factory=list)
    output: list = field(default_factory=list)

    def __post_init__(self):
        self._worker: Worker | None = None
        self._started = time.monotonic()
        self._losses: dict[str, list[str]] = {}
        self._restarts = 0
        self._fatal: str | None = None

    def request(self, message: dict) -> dict:
        fn = message.get("fn", "")
        try:
            return self._request(fn, message)
        except _Refused as refused:
            problem = str(refused)
        # one raise site: hypothesis replays a failing case and calls it flaky if the
        # same failure is raised from a different line (e.g. timeout, then fast-fail)
        raise StudentError(problem)

    def _request(self, fn: str, message: dict) -> dict:
        if self._fatal:
            raise _Refused(self._fatal)
        if fn in self._losses and len(self._losses[fn]) >= self.max_losses_per_function:
            raise _Refused(f"{self._losses[fn][-1]} ({len(self._losses[fn])} times; not called again)")
        if time.monotonic() - self._started > self.budget_seconds:
            raise _Refused(f"the submission used up its grading time ({self.budget_seconds:.0f} s)")
        worker = self._ensure_worker()
        timeout = message.get("seconds")  # a training run may take minutes, a call seconds
        try:
            return checked_response(worker.request(message, timeout=timeout))
        except WorkerTimeout:
            lost = f"{fn} did not return within {timeout or self.limits.call_seconds:g} s (infinite loop?)"
        except WorkerDied as exc:
            lost = f"calling {fn} ended the worker process: {exc}"
        except CodecError as exc:
            lost = f"{fn} returned something that cannot be read: {exc}"
        self._losses.setdefault(fn, []).append(lost)
        self._lost_worker()
        raise _Refused(lost)

    def _ensure_worker(self) -> Worker:
        if self._worker is not None:
            return self._worker
        if self._restarts > self.max_restarts:
            self._fatal = f"the worker was restarted {self.max_restarts} times; giving up on this submission"
            raise _Refused(self._fatal)
        self._restarts += 1
        worker = self._new_worker()
        try:
            loaded = worker.request({"op": "load", "cells": self.cells, "filename": self.filename})
        except WorkerTimeout:
            self._fatal = f"running the notebook's code did not finish within {self.limits.call_seconds:g} s"
        except (WorkerDied, CodecError) as exc:
            self._fatal = f"running the notebook's code ended the worker: {exc}"
        if self._fatal:
            worker.kill()
            self.output.append(worker.output_tail())
            raise _Refused(self._fatal)
        if not self.load_errors and isinstance(loaded, dict):
            self.load_errors = checked_load_errors(loaded.get("errors"))
        self._worker = worker
        return worker

    def _new_worker(self) -> Worker:
        if self.zygote is not None:
            try:
                return Worker(limits=self.limits, sandbox=self.sandbox, secrets=self.secrets, zygote=self.zygote)
            except ZygoteGone:
                self.zygote = None  # the rest of this submission starts cold workers
        return Worker(limits=self.limits, sandbox=self.sandbox, secrets=self.secrets)

    def _lost_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self.output.append(self._worker.output_tail())
        self._worker = None

    def start(self) -> None:
        """Load the code now (so that a broken notebook is seen before any test)."""
        try:
            self._ensure_worker()
        except _Refused as refused:
            raise StudentError(str(refused)) from None

    def close(self) -> None:
        if self._worker is not None:
            self._worker.kill()  # first: the output is complete only once the worker has ended
            self.output.append(self._worker.output_tail())
            self._worker = None


# The worker runs the submission's code, which can replace the worker's own code and write any
# frame it likes: everything below treats a response as hostile data. Text that reaches a result
# row must also be storable — a lone surrogate or a NUL byte in an error message made the
# gradebook write (and with it the rest of the batch) fail.

def clean_text(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` as bounded text that any database stores: no NUL bytes, no lone surrogates."""
    return storable_text((value if type(value) is str else repr(value))[:limit])


def checked_response(response: object) -> dict:
    """A worker's answer, or CodecError (the worker is then replaced) when it is not one."""
    if type(response) is not dict or type(response.get("ok")) is not bool:
        raise CodecError(f"the worker sent a malformed response ({type(response).__name__})")
    if response["ok"]:
        return response
    error = response.get("error")
    if type(error) is not dict:
        error = {"type": "MalformedResponse", "message": "the worker sent a malformed error"}
    return {**response, "error": {"type": clean_text(error.get("type", "Error"), 200),
                                  "message": clean_text(error.get("message", ""))}}


def checked_load_errors(errors: object) -> list[dict]:
    """The cells that raised while loading, as ``{"cell": int, "error": str}``."""
    if type(errors) is not list:
        return [{"cell": -1, "error": "the worker sent malformed load errors"}] if errors else []
    checked = []
    for entry in errors[:MAX_LOAD_ERRORS]:
        entry = entry if type(entry) is dict else {}
        cell = entry.get("cell")
        checked.append({"cell": cell if type(cell) is int else -1, "error": clean_text(entry.get("error", "?"))})
    return checked


class Student:
    """Calls a submission's functions by name; values come back as plain data."""

    RECORDED_CALLS = 32

    def __init__(self, backend: Backend):
        self._backend = backend
        self._calls: deque[RecordedCall] = deque(maxlen=self.RECORDED_CALLS)
        """The latest calls (the plugin clears them before each test): what a diagnosis replays."""
        self._forbid: dict[str, list[str]] = {}
        """function → torch operators it may not use (from the hidden tests' ``forbid`` markers)."""

    def __repr__(self) -> str:
        return "student"  # stable: it appears in hypothesis' falsifying examples

    def call(self, fn: str, *args, **kwargs) -> CallResult:
        return self._request(fn, args, kwargs, None)

    def grad(self, fn: str, args: tuple, kwargs: dict | None = None, *, wrt: list, output: int | None = None,
             cotangent: torch.Tensor | None = None) -> CallResult:
        """Call ``fn`` and differentiate ``<value[output], cotangent>`` w.r.t. ``wrt`` (positions or names)."""
        grad = {"wrt": list(wrt), "output": output, "cotangent": cotangent}
        return self._request(fn, args, kwargs or {}, grad)

    def train(self, task: str, request: dict, *, seconds: float, max_weight_bytes: int = 2 * 1024**3
              ) -> tuple[list[dict], dict[str, torch.Tensor]]:
        """Run a GPU-marked task's training loop on the submission's functions (``request``: see the
        ``train`` op of :mod:`rlgrade.worker.server`); returns (per-step log, trained weights)."""
        from safetensors.torch import load  # noqa: PLC0415 - a plain tensor format: nothing to execute

        response = self._backend.request({**request, "op": "train", "task": task, "fn": task, "seconds": seconds})
        if not isinstance(response, dict) or not response.get("ok"):
            raise StudentError(describe_error(f"the {task} task", response.get("error") if isinstance(response, dict)
                                              else None))
        log, size = response.get("log"), response.get("weights_bytes")
        if type(size) is not int or not 0 < size <= max_weight_bytes or type(log) is not list:
            raise StudentError(f"the {task} task sent back a malformed result")
        pieces, received = [], 0
        while received < size:
            piece = self._backend.request({"op": "weights", "offset": received, "fn": task}).get("piece")
            if not isinstance(piece, torch.Tensor) or piece.dtype != torch.uint8 or piece.numel() == 0:
                raise StudentError(f"the {task} task sent back malformed weights")
            pieces.append(piece.numpy().tobytes())
            received += piece.numel()
        try:
            weights = load(b"".join(pieces)[:size])
        except Exception as exc:  # noqa: BLE001 - hostile bytes
            raise StudentError(f"the {task} task's weights cannot be read: {exc}") from None
        return [entry for entry in log if isinstance(entry, dict)], weights

    def __getattr__(self, fn: str):
        if fn.startswith("_"):
            raise AttributeError(fn)
        return lambda *args, **kwargs: self.call(fn, *args, **kwargs).value

    def _request(self, fn: str, args: tuple, kwargs: dict, grad: dict | None) -> CallResult:
        message = {"op": "call", "fn": fn, "args": list(args), "kwargs": dict(kwargs), "grad": grad,
                   "forbid": self._forbid.get(fn, [])}
        self._calls.append(RecordedCall(fn, tuple(args), dict(kwargs), grad, None))
        response = self._backend.request(message)
        if not isinstance(response, dict) or not isinstance(response.get("ok"), bool):
            raise StudentError(f"{fn}: the worker sent a malformed response")
        if not response["ok"]:
            raise StudentError(describe_error(fn, response.get("error")))
        grads = response.get("grads")
        mutated = response.get("mutated") or []
        result = CallResult(
            value=response.get("value"),
            mutated=tuple(m for m in mutated if isinstance(m, (int, str))),
            grads=tuple(grads) if isinstance(grads, list) else None,
        )
        self._calls[-1] = RecordedCall(fn, tuple(args), dict(kwargs), grad, result)
        return result


def describe_error(fn: str, error: object) -> str:
    if not isinstance(error, dict):
        return f"{fn} failed"
    kind, message = str(error.get("type", "Error")), str(error.get("message", ""))
    if kind == "NotImplementedError":
        return f"{fn} is not implemented yet (it raises NotImplementedError)"
    if kind == "MissingFunction":
        return message
    if kind == "ForbiddenCall":
        return message
    if kind == "GradientError":
        return f"{fn}: could not differentiate the result: {message}"
    return f"{fn} raised {kind}:\n{message}"
