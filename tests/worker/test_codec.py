import math
import struct

import pytest
import torch

from rlgrade.worker.codec import MAX_FRAME_BYTES, CodecError, decode, encode


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64, torch.int32,
                                   torch.bool, torch.uint8])
def test_tensors_round_trip_bit_for_bit(dtype):
    t = (torch.arange(12, dtype=torch.float64).reshape(3, 4) - 5).to(dtype)
    back = decode(encode(t))
    assert back.dtype == dtype and back.shape == t.shape and torch.equal(back, t)


def test_structures_round_trip_with_tuples_lists_dicts_and_special_floats():
    value = {"a": (1, 2.5, None, True, "s"), "b": [torch.zeros(0, 3), torch.tensor(1.0)], "c": [math.inf]}
    back = decode(encode(value))
    assert back["a"] == (1, 2.5, None, True, "s")
    assert back["b"][0].shape == (0, 3) and back["b"][1].item() == 1.0 and back["b"][1].dim() == 0
    assert back["c"] == [math.inf]
    assert math.isnan(decode(encode(float("nan"))))


def test_non_contiguous_and_grad_tensors_are_sent_as_plain_values():
    base = torch.arange(6.0, requires_grad=True).reshape(2, 3)
    back = decode(encode(base.t()))
    assert torch.equal(back, base.detach().t()) and not back.requires_grad


def test_tensor_subclasses_arrive_as_plain_tensors():
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    liar = torch.ones(2).as_subclass(Liar)
    back = decode(encode(liar))
    assert type(back) is torch.Tensor


@pytest.mark.parametrize("value", [object(), {1: 2}, {"a"}, (lambda: 0), type("F", (float,), {})(1.0)])
def test_objects_with_behaviour_are_refused(value):
    with pytest.raises(CodecError):
        encode(value)


def test_deep_nesting_is_refused():
    value = []
    for _ in range(100):
        value = [value]
    with pytest.raises(CodecError):
        encode(value)


def frame(header: object, blob: bytes = b"") -> bytes:
    import json

    text = json.dumps(header).encode()
    return struct.pack("<I", len(text)) + text + blob


@pytest.mark.parametrize("bad", [
    frame({"$t": ["float32", [4], 0, 16]}, b"\0" * 8),      # bytes missing
    frame({"$t": ["float32", [3], 0, 16]}, b"\0" * 16),     # count does not match shape
    frame({"$t": ["object", [1], 0, 8]}, b"\0" * 8),        # dtype not whitelisted
    frame({"$t": ["float32", [-1], 0, 0]}),                 # negative dimension
    frame({"$pickle": "gASVAAAAAAAAAAA="}),                 # unknown tag
    b"\xff\xff\xff\xff",                                    # header length beyond the frame
    struct.pack("<I", 3) + b"{x}",                          # not JSON
])
def test_malformed_frames_are_rejected(bad):
    with pytest.raises(CodecError):
        decode(bad)


def test_oversized_values_are_refused():
    with pytest.raises(CodecError):
        encode(torch.zeros(MAX_FRAME_BYTES // 4 + 1))
