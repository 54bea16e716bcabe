"""Known mistakes in ``gae`` (mostly wrong done conventions) and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _recursion(deltas, carry, gamma, lam):
    """A_t = delta_t + gamma * lam * carry_t * A_{t+1}, A_T = 0."""
    running, out = torch.zeros_like(deltas[0]), []
    for t in reversed(range(deltas.shape[0])):
        running = deltas[t] + gamma * lam * carry[t] * running
        out.append(running)
    return torch.stack(out[::-1])


def _next_values(values, last_value):
    return torch.cat([values[1:], values.new_tensor([last_value])])


@misconception("gae",
               "masks only the TD error with the done flag: the recursion carries advantages across episode ends")
def done_masks_only_delta(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards + gamma * not_done * _next_values(values, last_value) - values
    adv = _recursion(deltas, torch.ones_like(values), gamma, lam)
    return adv, adv + values


@misconception("gae",
               "masks only the recursion with the done flag: the TD error still bootstraps V_{t+1} across episode ends")
def done_masks_only_recursion(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards + gamma * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    return adv, adv + values


@misconception("gae", "reads the done flag one step late: uses done_{t+1} where the convention says done_t")
def uses_next_done(rewards, values, dones, last_value, gamma, lam):
    d = dones.to(values.dtype)
    not_done = 1.0 - torch.cat([d[1:], torch.zeros_like(d[:1])])
    deltas = rewards + gamma * not_done * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    return adv, adv + values


@misconception("gae", "ignores last_value: bootstraps the last step from V_T = 0")
def ignores_last_value(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards + gamma * not_done * _next_values(values, 0.0) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    return adv, adv + values


@misconception("gae",
               "always bootstraps the last step from last_value, even when the episode ended there (done_{T-1} = 1)")
def last_step_always_bootstraps(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    bootstrap = torch.cat([not_done[:-1], torch.ones_like(not_done[:1])])
    deltas = rewards + gamma * bootstrap * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    return adv, adv + values


@misconception("gae", "decays the sum by lambda alone: A_t = delta_t + lam * (1 - done_t) * A_{t+1} (gamma forgotten)")
def lambda_without_gamma(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards + gamma * not_done * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, 1.0, lam)
    return adv, adv + values


@misconception("gae", "returns the Monte-Carlo discounted returns as 'returns' instead of the lambda-returns A + V")
def monte_carlo_returns(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards + gamma * not_done * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    returns = _recursion(rewards.clone(), not_done, gamma, 1.0)          # sum of gamma^k r, cut at dones
    return adv, returns


@misconception("gae", "computes 1 - dones without casting: a float64 dones tensor turns float32 results into float64")
def dones_promote_dtype(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - (dones if dones.is_floating_point() else dones.to(values.dtype))
    deltas = rewards + gamma * not_done * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    return adv, adv + values


@misconception("gae", "writes 1 - dones on the raw tensor: raises for bool dones (torch has no bool subtraction)")
def bool_subtraction(rewards, values, dones, last_value, gamma, lam):
    not_done = (1 - dones).to(values.dtype)
    deltas = rewards + gamma * not_done * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    return adv, adv + values


@misconception("gae",
               "turns the rewards into TD errors in place (rewards += gamma V' - V): the caller's rewards change")
def deltas_in_place(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards
    deltas += gamma * not_done * _next_values(values, last_value) - values
    adv = _recursion(deltas, not_done, gamma, lam)
    return adv, adv + values


@rewrite("gae", "explicit sum over future TD errors: A_t = sum_l (gamma lam)^l delta_{t+l}, stopped at the first done")
def explicit_sum(rewards, values, dones, last_value, gamma, lam):
    steps = values.shape[0]
    ended = dones.bool().tolist()
    next_value = [values[t + 1] if t + 1 < steps else torch.tensor(last_value, dtype=values.dtype)
                  for t in range(steps)]
    deltas = [rewards[t] + (0.0 if ended[t] else gamma * next_value[t]) - values[t] for t in range(steps)]
    advantages = []
    for t in range(steps):
        total, weight = torch.zeros((), dtype=values.dtype), 1.0
        for k in range(t, steps):
            total = total + weight * deltas[k]
            if ended[k]:
                break                                                    # the episode of step t is over
            weight *= gamma * lam
        advantages.append(total)
    advantages = torch.stack(advantages)
    return advantages, advantages + values


@rewrite("gae", "lambda-returns first (R_t = r_t + gamma (1-d_t) ((1-lam) V_{t+1} + lam R_{t+1})), then A = R - V")
def lambda_returns_first(rewards, values, dones, last_value, gamma, lam):
    r = rewards.tolist()
    v = values.tolist() + [float(last_value)]
    cont = [not bool(d) for d in dones.tolist()]
    steps = len(r)
    returns = [0.0] * steps
    following = float(last_value)                                        # R_T = V_T: nothing after it
    for t in reversed(range(steps)):
        if cont[t]:
            returns[t] = r[t] + gamma * ((1 - lam) * v[t + 1] + lam * following)
        else:
            returns[t] = r[t]
        following = returns[t]
    returns = torch.tensor(returns, dtype=torch.float64).to(values.dtype)
    return returns - values, returns


@rewrite("gae", "per-step loop filling a preallocated tensor, continuation flags as float32 (1 - dones.float())")
def float_flags_loop(rewards, values, dones, last_value, gamma, lam):
    carry = 1.0 - dones.float()
    steps = values.shape[0]
    advantages = torch.empty_like(values)
    following = 0.0
    for t in range(steps - 1, -1, -1):
        next_value = values[t + 1] if t + 1 < steps else last_value
        delta = rewards[t] + gamma * carry[t] * next_value - values[t]
        following = delta + gamma * lam * carry[t] * following
        advantages[t] = following
    return advantages, values + advantages
