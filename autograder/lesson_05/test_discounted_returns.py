"""Hidden tests for ``discounted_returns``: G_t = r_t + gamma (1 - done_t) G_{t+1}, G_T = 0."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_05.strategies import largest, scaled_atol, trajectories
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("discounted_returns")
GAMMAS = st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0])


def returns_atol(rewards: torch.Tensor) -> float:
    """A return sums up to T rewards: room for another summation order."""
    dtype = rewards.dtype if rewards.is_floating_point() else torch.float32
    return scaled_atol(dtype, largest(rewards) * rewards.shape[0])


@pytest.mark.points(3)
@given(traj=trajectories(), gamma=GAMMAS)
def test_matches_reference(student, traj, gamma):
    """Returns match on random trajectories: episode ends anywhere (bool/float dones or none), float32/float64."""
    kwargs = {**traj, "gamma": gamma}
    assert_close(student.discounted_returns(**kwargs), ref.discounted_returns(**kwargs),
                 atol=returns_atol(traj["rewards"]), inputs=kwargs)


@pytest.mark.points(2)
@given(first=trajectories(allow_no_dones=False), second=trajectories(), gamma=GAMMAS)
def test_a_done_separates_episodes(student, first, second, gamma):
    """Two episodes stored back to back (done at the end of the first) get the returns each has on its own."""
    dtype = first["rewards"].dtype
    second_rewards = second["rewards"].to(dtype)
    first_dones = first["dones"].to(dtype).clone()
    first_dones[-1] = 1.0
    second_dones = torch.zeros_like(second_rewards) if second["dones"] is None else second["dones"].to(dtype)
    rewards = torch.cat([first["rewards"], second_rewards])
    dones = torch.cat([first_dones, second_dones])
    expected = torch.cat([ref.discounted_returns(first["rewards"], gamma, first_dones),
                          ref.discounted_returns(second_rewards, gamma, second_dones)])
    assert_close(student.discounted_returns(rewards, gamma, dones), expected, atol=returns_atol(rewards),
                 what="the returns of two episodes stored back to back",
                 inputs={"rewards": rewards, "gamma": gamma, "dones": dones})


@pytest.mark.points(1)
@given(dtype=float_dtypes(), steps=st.integers(1, 6), c=st.sampled_from([-2.0, 0.5, 1.0, 3.0]),
       gamma=GAMMAS)
def test_constant_rewards_give_a_geometric_sum(student, dtype, steps, c, gamma):
    """Without dones, a constant reward c gives G_t = c (1 + gamma + ... + gamma^(T-1-t))."""
    rewards = torch.full((steps,), c, dtype=dtype)
    expected = torch.tensor([c * sum(gamma ** k for k in range(steps - t)) for t in range(steps)],
                            dtype=torch.float64).to(dtype)
    assert_close(student.discounted_returns(rewards, gamma), expected, atol=returns_atol(rewards),
                 what="the returns of a constant reward", inputs={"rewards": rewards, "gamma": gamma})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(traj=trajectories(allow_no_dones=False))
def test_gamma_zero_gives_the_rewards(student, traj):
    """With gamma = 0 every return is its own reward, whatever the dones."""
    got = student.discounted_returns(traj["rewards"], 0.0, traj["dones"])
    assert_close(got, traj["rewards"], what="the returns with gamma = 0", inputs={**traj, "gamma": 0.0})


@pytest.mark.points(1)
@given(dtype=float_dtypes(), data=st.data(), gamma=GAMMAS)
def test_every_step_done_gives_the_rewards(student, dtype, data, gamma):
    """When every step ends an episode (the last one too), each return is its own reward."""
    steps = data.draw(st.integers(1, 6))
    rewards = data.draw(tensors((steps,), dtype, floats(-5.0, 5.0)))
    dones = torch.ones(steps, dtype=data.draw(st.sampled_from([torch.bool, torch.float32, torch.float64])))
    got = student.discounted_returns(rewards, gamma, dones)
    assert_close(got, rewards, what="the returns when every step is done",
                 inputs={"rewards": rewards, "gamma": gamma, "dones": dones})


@pytest.mark.points(1)
@given(traj=trajectories(dtype=torch.float32, done_dtype=torch.float64, allow_no_dones=False), gamma=GAMMAS)
def test_result_dtype_follows_rewards_not_dones(student, traj, gamma):
    """float32 rewards with float64 dones give float32 returns (the dones must not promote them)."""
    kwargs = {**traj, "gamma": gamma}
    assert_close(student.discounted_returns(**kwargs), ref.discounted_returns(**kwargs),
                 atol=returns_atol(traj["rewards"]), inputs=kwargs)


@pytest.mark.points(1)
@given(traj=trajectories(dtype=torch.float64), gamma=GAMMAS)
def test_integer_rewards_give_float32(student, traj, gamma):
    """Integer rewards (e.g. 0/1 success per step) give float32 returns."""
    rewards = traj["rewards"].round().to(torch.int64)
    kwargs = {**traj, "rewards": rewards, "gamma": gamma}
    assert_close(student.discounted_returns(**kwargs), ref.discounted_returns(**kwargs), atol=returns_atol(rewards),
                 inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(traj=trajectories(), gamma=GAMMAS)
def test_does_not_modify_inputs(student, traj, gamma):
    """discounted_returns leaves rewards and dones unchanged (and returns the right values)."""
    result = student.call("discounted_returns", traj["rewards"], gamma, traj["dones"])
    assert not result.mutated, (
        f"discounted_returns modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.discounted_returns(traj["rewards"], gamma, traj["dones"]),
                 atol=returns_atol(traj["rewards"]), inputs={**traj, "gamma": gamma})
