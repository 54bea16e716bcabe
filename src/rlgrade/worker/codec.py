"""The wire format between the grader and a sandboxed worker.

Plain data only: JSON for structure, raw little-endian bytes for tensors. Nothing is
ever unpickled, so a submission can only ever hand the grader numbers, strings and
tensors of whitelisted dtypes — never code or objects with behaviour.

This module runs on both sides of the trust boundary, so it imports only the
standard library and torch.
"""

from __future__ import annotations

import json
import struct

import dataclasses

import torch

from .callables import FAMILIES

MAX_FRAME_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 100_000

DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}


class CodecError(ValueError):
    """A value cannot be encoded, or a frame is not well formed."""


def encode(value: object) -> bytes:
    """Serialize ``value`` (None, bool, int, float, str, tensors, lists, tuples, str-keyed dicts,
    CPU ``torch.Generator``s by their state, and the callables of :mod:`.callables` by their fields)."""
    blobs: list[bytes] = []
    offset = [0]

    def walk(x: object, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise CodecError(f"value is nested deeper than {MAX_DEPTH} levels")
        # exact type checks: a subclass could override __eq__, __float__, ...
        if type(x) is str and len(x) > MAX_FRAME_BYTES:  # refuse before json.dumps copies it
            raise CodecError(f"a string of {len(x)} characters is more than the {MAX_FRAME_BYTES} bytes allowed")
        if x is None or type(x) in (bool, int, float, str):
            return x
        if isinstance(x, torch.Tensor):
            return {"$t": tensor_header(x, blobs, offset)}
        if type(x) is tuple:
            return {"$tuple": [walk(item, depth + 1) for item in x]}
        if type(x) is list:
            return [walk(item, depth + 1) for item in x]
        if type(x) is dict:
            if not all(type(k) is str for k in x):
                raise CodecError("dict keys must be str")
            return {"$dict": [[k, walk(v, depth + 1)] for k, v in x.items()]}
        if type(x) is torch.Generator:
            if x.device.type != "cpu":
                raise CodecError("only CPU generators can be sent")
            return {"$gen": tensor_header(x.get_state(), blobs, offset)}
        if FAMILIES.get(type(x).__name__) is type(x):
            fields = [[f.name, walk(getattr(x, f.name), depth + 1)] for f in dataclasses.fields(x)]
            return {"$fn": [type(x).__name__, fields]}
        raise CodecError(f"cannot send a value of type {type(x).__name__}")

    try:
        header = json.dumps(walk(value, 0), allow_nan=True).encode()
    except CodecError:
        raise
    except (NotImplementedError, RuntimeError, TypeError, ValueError) as exc:  # sparse, meta, ... tensors
        raise CodecError(f"cannot send a {type(value).__name__}: {type(exc).__name__}: {exc}"[:500]) from None
    payload = struct.pack("<I", len(header)) + header + b"".join(blobs)
    if len(payload) > MAX_FRAME_BYTES:
        raise CodecError(f"value is {len(payload)} bytes, more than the {MAX_FRAME_BYTES} allowed")
    return payload


def tensor_header(x: torch.Tensor, blobs: list[bytes], offset: list[int]) -> list:
    plain = torch.Tensor.as_subclass(x, torch.Tensor).detach()
    name = DTYPE_NAMES.get(plain.dtype)
    if name is None:
        raise CodecError(f"tensors of dtype {plain.dtype} are not supported")
    # before any copy: a stride-0 view of 10^12 elements costs nothing until .contiguous()
    nbytes = plain.numel() * plain.element_size()
    if offset[0] + nbytes > MAX_FRAME_BYTES:
        raise CodecError(f"a tensor of shape {tuple(plain.shape)} ({nbytes} bytes) is more than the "
                         f"{MAX_FRAME_BYTES} bytes allowed")
    plain = plain.to("cpu").contiguous()
    raw = plain.reshape(-1).view(torch.uint8).numpy().tobytes() if plain.numel() else b""
    blobs.append(raw)
    start = offset[0]
    offset[0] += len(raw)
    return [name, list(plain.shape), start, len(raw)]


def decode(payload: bytes) -> object:
    """Inverse of :func:`encode`; validates every length, dtype and shape it reads.

    Frames from a worker are written by the submission if it wants: whatever is wrong with
    one, the only exception that leaves here is CodecError (a RecursionError or a TypeError
    would escape the grader's handling of a broken worker)."""
    try:
        return _decode(payload)
    except CodecError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError, RuntimeError) as exc:
        raise CodecError(f"frame cannot be decoded: {type(exc).__name__}") from None


def _decode(payload: bytes) -> object:
    if len(payload) < 4 or len(payload) > MAX_FRAME_BYTES:
        raise CodecError("frame has an invalid length")
    (header_len,) = struct.unpack_from("<I", payload)
    if 4 + header_len > len(payload):
        raise CodecError("frame header is truncated")
    try:
        tree = json.loads(payload[4 : 4 + header_len].decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"frame header is not JSON: {exc}") from None
    blob = memoryview(payload)[4 + header_len :]
    budget = [MAX_ITEMS]

    def walk(x: object, depth: int) -> object:
        budget[0] -= 1
        if depth > MAX_DEPTH or budget[0] < 0:
            raise CodecError("frame is nested too deeply or has too many items")
        if x is None or type(x) in (bool, int, float, str):
            return x
        if type(x) is list:
            return [walk(item, depth + 1) for item in x]
        if type(x) is dict and len(x) == 1:
            (tag, body), = x.items()
            if tag == "$t":
                return tensor_from(body, blob)
            if tag == "$tuple" and type(body) is list:
                return tuple(walk(item, depth + 1) for item in body)
            if tag == "$dict" and type(body) is list:
                return {str(k): walk(v, depth + 1) for k, v in (pair_of(p) for p in body)}
            if tag == "$gen":
                return generator_from(tensor_from(body, blob))
            if tag == "$fn" and type(body) is list and len(body) == 2 and type(body[1]) is list:
                fields = {k: walk(v, depth + 1) for k, v in (pair_of(p) for p in body[1])}
                return callable_from(body[0], fields)
        raise CodecError("frame holds an unknown value")

    return walk(tree, 0)


def generator_from(state: torch.Tensor) -> torch.Generator:
    generator = torch.Generator()
    try:
        generator.set_state(state)
    except (RuntimeError, TypeError) as exc:
        raise CodecError(f"invalid generator state: {exc}") from None
    return generator


def callable_from(name: object, fields: dict) -> object:
    cls = FAMILIES.get(name) if type(name) is str else None
    if cls is None:
        raise CodecError(f"unknown callable family {name!r}")
    if set(fields) != {f.name for f in dataclasses.fields(cls)}:
        raise CodecError(f"callable {name} needs the fields {sorted(f.name for f in dataclasses.fields(cls))}")
    return cls(**fields)


def pair_of(p: object) -> tuple[str, object]:
    if type(p) is not list or len(p) != 2 or type(p[0]) is not str:
        raise CodecError("malformed dict entry")
    return p[0], p[1]


def tensor_from(body: object, blob: memoryview) -> torch.Tensor:
    if type(body) is not list or len(body) != 4:
        raise CodecError("malformed tensor header")
    name, shape, start, nbytes = body
    dtype = DTYPES.get(name) if type(name) is str else None
    if dtype is None:
        raise CodecError(f"unsupported tensor dtype {name!r}")
    if type(shape) is not list or not all(type(d) is int and d >= 0 for d in shape) or len(shape) > 16:
        raise CodecError("malformed tensor shape")
    numel = 1
    for d in shape:
        numel *= d
    itemsize = torch.empty((), dtype=dtype).element_size()
    if type(start) is not int or type(nbytes) is not int or nbytes != numel * itemsize:
        raise CodecError("tensor byte count does not match its shape")
    if start < 0 or start + nbytes > len(blob):
        raise CodecError("tensor bytes out of range")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    raw = bytearray(blob[start : start + nbytes])
    return torch.frombuffer(raw, dtype=torch.uint8).view(dtype).reshape(shape).clone()


def write_frame(stream, payload: bytes) -> None:
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def read_frame(stream) -> bytes | None:
    """One frame from a binary stream; None at end of stream."""
    head = read_exactly(stream, 8)
    if head is None:
        return None
    (length,) = struct.unpack("<Q", head)
    if length > MAX_FRAME_BYTES:
        raise CodecError(f"frame of {length} bytes is larger than the {MAX_FRAME_BYTES} allowed")
    body = read_exactly(stream, length)
    if body is None:
        raise CodecError("stream ended inside a frame")
    return body


def read_exactly(stream, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            if got == 0:
                return None
            raise CodecError("stream ended inside a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
