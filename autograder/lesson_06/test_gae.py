"""Hidden tests for ``gae``: GAE(gamma, lambda) over a rollout whose episodes end where dones[t] = 1."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_06.strategies import SECONDARY_EXAMPLES, discounted_atol, gammas, lams, largest, rollouts
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("gae")


def gae_atol(rollout: dict) -> float:
    """Rounding room: an advantage adds up to T TD errors, each built from |r| + |V_t| + |V_{t+1}|."""
    magnitude = largest(rollout["rewards"]) + 2 * max(largest(rollout["values"]), abs(rollout["last_value"]))
    return discounted_atol(rollout["values"].dtype, rollout["values"].shape[0] * magnitude)


def check_tuple(got, rollout: dict) -> None:
    steps = rollout["values"].shape[0]
    assert isinstance(got, (tuple, list)) and len(got) == 2, (
        f"gae must return a tuple (advantages, returns), got {type(got).__name__}: {got!r}")
    for name, value in zip(("advantages", "returns"), got, strict=True):
        assert isinstance(value, torch.Tensor) and tuple(value.shape) == (steps,), (
            f"{name} should be a tensor of shape ({steps},), got {value!r}")


def bootstrapped_returns(rollout: dict, gamma: float) -> torch.Tensor:
    """G_t = r_t + gamma (1 - d_t) G_{t+1}, G_T = last_value: discounted returns cut at the dones (float64)."""
    r, d = rollout["rewards"].double(), rollout["dones"].double()
    running, out = rollout["last_value"], []
    for t in reversed(range(r.shape[0])):
        running = float(r[t]) + gamma * (1.0 - float(d[t])) * running
        out.append(running)
    return torch.tensor(out[::-1], dtype=torch.float64)


def td_errors(rollout: dict, gamma: float) -> torch.Tensor:
    """delta_t = r_t + gamma (1 - d_t) V_{t+1} - V_t with V_T = last_value (float64)."""
    r, v, d = rollout["rewards"].double(), rollout["values"].double(), rollout["dones"].double()
    following = torch.cat([v[1:], torch.tensor([rollout["last_value"]], dtype=torch.float64)])
    return r + gamma * (1.0 - d) * following - v


@pytest.mark.points(3)
@given(rollout=rollouts(), gamma=gammas(), lam=lams())
def test_matches_reference(student, rollout, gamma, lam):
    """Advantages and returns match on rollouts with dones anywhere (bool/float dones, float32/float64)."""
    kwargs = {**rollout, "gamma": gamma, "lam": lam}
    assert_close(student.gae(**kwargs), ref.gae(**kwargs), atol=gae_atol(rollout), inputs=kwargs)


@pytest.mark.points(1)
@given(rollout=rollouts(), gamma=gammas(), lam=lams())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_returns_are_advantages_plus_values(student, rollout, gamma, lam):
    """returns = advantages + values (the lambda-returns), with the right advantages."""
    kwargs = {**rollout, "gamma": gamma, "lam": lam}
    got = student.gae(**kwargs)
    check_tuple(got, rollout)
    adv, returns = got
    assert_close(adv, ref.gae(**kwargs)[0], atol=gae_atol(rollout), what="the advantages", inputs=kwargs)
    assert_close(returns, adv + rollout["values"], atol=gae_atol(rollout),
                 what="returns (should be your advantages + values)", inputs=kwargs)


@pytest.mark.points(2)
@given(rollout=rollouts(), gamma=gammas())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_lambda_one_is_monte_carlo(student, rollout, gamma):
    """With lambda = 1: returns = discounted returns (bootstrapped with last_value, cut at dones), A = returns - V."""
    kwargs = {**rollout, "gamma": gamma, "lam": 1.0}
    got = student.gae(**kwargs)
    check_tuple(got, rollout)
    dtype = rollout["values"].dtype
    returns = bootstrapped_returns(rollout, gamma)
    expected = ((returns - rollout["values"].double()).to(dtype), returns.to(dtype))
    assert_close(got, expected, atol=gae_atol(rollout), what="(advantages, returns) with lambda = 1", inputs=kwargs)


@pytest.mark.points(2)
@given(rollout=rollouts(), gamma=gammas())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_lambda_zero_is_the_td_error(student, rollout, gamma):
    """With lambda = 0 the advantage is the one-step TD error r_t + gamma (1 - done_t) V_{t+1} - V_t."""
    kwargs = {**rollout, "gamma": gamma, "lam": 0.0}
    got = student.gae(**kwargs)
    check_tuple(got, rollout)
    dtype = rollout["values"].dtype
    delta = td_errors(rollout, gamma)
    expected = (delta.to(dtype), (delta + rollout["values"].double()).to(dtype))
    assert_close(got, expected, atol=gae_atol(rollout), what="(advantages, returns) with lambda = 0", inputs=kwargs)


@pytest.mark.points(1)
@given(rollout=rollouts(done_last=True), gamma=st.sampled_from([0.5, 0.9, 1.0]), lam=lams(),
       other=st.sampled_from([-100.0, 0.0, 37.5]))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_done_at_the_last_step_ignores_last_value(student, rollout, gamma, lam, other):
    """When the episode ends at the last step, last_value is not used: any last_value gives the same result."""
    kwargs = {**rollout, "last_value": other, "gamma": gamma, "lam": lam}
    assert_close(student.gae(**kwargs), ref.gae(**rollout, gamma=gamma, lam=lam), atol=gae_atol(rollout),
                 what="(advantages, returns) with a done at the last step", inputs=kwargs)


@pytest.mark.points(1)
@given(rollout=rollouts(min_len=2), gamma=st.sampled_from([0.5, 0.9, 1.0]), lam=st.sampled_from([0.5, 0.95, 1.0]),
       data=st.data())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_a_done_splits_the_rollout(student, rollout, gamma, lam, data):
    """A done after step k makes steps 0..k and k+1..T-1 independent: each part gets its own GAE."""
    steps = rollout["values"].shape[0]
    k = data.draw(st.integers(0, steps - 2))
    dones = rollout["dones"].clone()
    dones[k] = 1
    kwargs = {**rollout, "dones": dones, "gamma": gamma, "lam": lam}
    head = {name: value[: k + 1] for name, value in kwargs.items() if isinstance(value, torch.Tensor)}
    tail = {name: value[k + 1:] for name, value in kwargs.items() if isinstance(value, torch.Tensor)}
    # the head ends with a done, so its last_value is irrelevant; the tail keeps the rollout's last_value
    head_adv, head_ret = ref.gae(**head, last_value=0.0, gamma=gamma, lam=lam)
    tail_adv, tail_ret = ref.gae(**tail, last_value=rollout["last_value"], gamma=gamma, lam=lam)
    expected = (torch.cat([head_adv, tail_adv]), torch.cat([head_ret, tail_ret]))
    assert_close(student.gae(**kwargs), expected, atol=gae_atol(rollout),
                 what=f"(advantages, returns) with the episode ending after step {k}", inputs=kwargs)


@pytest.mark.points(1)
@given(rollout=rollouts(min_len=1, max_len=1), gamma=gammas(), lam=lams())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_single_step(student, rollout, gamma, lam):
    """A one-step rollout: A_0 = r_0 + gamma (1 - done_0) last_value - V_0, whatever lambda."""
    kwargs = {**rollout, "gamma": gamma, "lam": lam}
    dtype = rollout["values"].dtype
    delta = td_errors(rollout, gamma)
    expected = (delta.to(dtype), (delta + rollout["values"].double()).to(dtype))
    assert_close(student.gae(**kwargs), expected, atol=gae_atol(rollout), what="(advantages, returns) of one step",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(rollout=rollouts(dtype=torch.float32, dones_dtype=torch.float64), gamma=gammas(), lam=lams())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_result_dtype_follows_values_not_dones(student, rollout, gamma, lam):
    """float32 rewards and values with float64 dones still give float32 results (the dones must not promote them)."""
    kwargs = {**rollout, "gamma": gamma, "lam": lam}
    assert_close(student.gae(**kwargs), ref.gae(**kwargs), atol=gae_atol(rollout), inputs=kwargs)


@pytest.mark.points(1)
@given(rollout=rollouts(), gamma=gammas(), lam=lams())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_does_not_modify_inputs(student, rollout, gamma, lam):
    """gae leaves its input tensors unchanged (and returns the right result)."""
    result = student.call("gae", **rollout, gamma=gamma, lam=lam)
    assert not result.mutated, f"gae modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.gae(**rollout, gamma=gamma, lam=lam), atol=gae_atol(rollout),
                 inputs={**rollout, "gamma": gamma, "lam": lam})
