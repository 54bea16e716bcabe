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


def test_generators_arrive_in_the_same_state():
    generator = torch.Generator().manual_seed(7)
    torch.rand(3, generator=generator)  # not at its seed any more: the state is what travels
    back = decode(encode(generator))
    assert torch.equal(torch.randint(0, 100, (20,), generator=back), torch.randint(0, 100, (20,), generator=generator))


def test_a_malformed_generator_state_is_rejected():
    header = {"$gen": ["uint8", [3], 0, 3]}
    with pytest.raises(CodecError, match="generator state"):
        decode(frame(header, b"\0\0\0"))


def test_registered_callables_cross_by_value_and_compute_the_same():
    from rlgrade.worker.callables import LogisticLoss, MatVec, QuadraticLoss, SoftmaxPolicyKL

    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    x = torch.tensor([0.5, -1.0], dtype=torch.float64)
    for fn in (MatVec(A), QuadraticLoss(A, x, 1.5), LogisticLoss(A, torch.tensor([1.0, 0.0])),
               SoftmaxPolicyKL(A, torch.arange(4.0, dtype=torch.float64), n_actions=2)):
        back = decode(encode(fn))
        assert type(back) is type(fn)
        arg = torch.arange(4.0, dtype=torch.float64) / 3 if isinstance(fn, SoftmaxPolicyKL) else x
        assert torch.allclose(back(arg), fn(arg))


def test_a_subclass_of_a_callable_family_is_refused():
    from rlgrade.worker.callables import MatVec

    class Sneaky(MatVec):
        pass

    with pytest.raises(CodecError):
        encode(Sneaky(torch.eye(2)))


@pytest.mark.parametrize("bad", [
    frame({"$fn": ["os.system", []]}),                                        # not a registered family
    frame({"$fn": ["MatVec", [["A", 1.0], ["evil", 2]]]}),                   # fields it does not have
    frame({"$fn": ["MatVec", []]}),                                           # fields missing
    frame({"$fn": ["MatVec", "A"]}),                                          # fields not a list
])
def test_malformed_callables_are_rejected(bad):
    with pytest.raises(CodecError):
        decode(bad)


@pytest.mark.parametrize("bad", [
    struct.pack("<I", 200_000) + b"[" * 100_000 + b"]" * 100_000,  # nested past Python's recursion limit
    frame({"$t": ["float32", [0, 2**70], 0, 0]}),            # a dimension torch cannot hold
    frame({"$dict": "not pairs"}),
])
def test_a_hostile_frame_raises_only_codec_errors(bad):
    # a worker writes whatever frame it likes; anything but CodecError escaped the grader's handling
    with pytest.raises(CodecError):
        decode(bad)


@pytest.mark.parametrize("value", [
    torch.zeros(1).expand(10**12),            # a stride-0 view: free until copied
    "x" * (MAX_FRAME_BYTES + 1),
    torch.zeros(3).to_sparse(),
    torch.empty(3, device="meta"),
])
def test_huge_or_dataless_values_are_refused_before_any_copy(value):
    with pytest.raises(CodecError):
        encode(value)
