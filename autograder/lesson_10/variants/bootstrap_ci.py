"""Known mistakes in ``bootstrap_ci`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _float(values):
    return values if values.is_floating_point() else values.to(torch.float32)


def _levels(confidence, dtype):
    return torch.tensor([(1 - confidence) / 2, (1 + confidence) / 2], dtype=dtype)


@misconception("bootstrap_ci", "draws the indices with shape (N, n_resamples) and averages over dim 0")
def transposed_draws(values, n_resamples, confidence, generator):
    values = _float(values)
    n = values.shape[0]
    indices = torch.randint(0, n, (n, n_resamples), generator=generator)
    means = values[indices].mean(dim=0)
    lo, hi = torch.quantile(means, _levels(confidence, means.dtype))
    return float(lo), float(hi)


@misconception("bootstrap_ci", "uses the levels (1 - c, c): a one-sided tail on each side")
def one_sided_levels(values, n_resamples, confidence, generator):
    values = _float(values)
    n = values.shape[0]
    means = values[torch.randint(0, n, (n_resamples, n), generator=generator)].mean(dim=1)
    lo, hi = torch.quantile(means, torch.tensor([1 - confidence, confidence], dtype=means.dtype))
    return float(min(lo, hi)), float(max(lo, hi))


@misconception("bootstrap_ci", "normal approximation: mean of the resample means +- 1.96 of their std")
def normal_approximation(values, n_resamples, confidence, generator):
    values = _float(values)
    n = values.shape[0]
    means = values[torch.randint(0, n, (n_resamples, n), generator=generator)].mean(dim=1)
    z = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor((1 + confidence) / 2)).item()
    spread = float(means.std()) if n_resamples > 1 else 0.0
    return float(means.mean()) - z * spread, float(means.mean()) + z * spread


@misconception("bootstrap_ci", "ignores the generator (global random state): not reproducible from the seed")
def global_random_state(values, n_resamples, confidence, generator):
    values = _float(values)
    n = values.shape[0]
    means = values[torch.randint(0, n, (n_resamples, n))].mean(dim=1)
    lo, hi = torch.quantile(means, _levels(confidence, means.dtype))
    return float(lo), float(hi)


@misconception("bootstrap_ci", "reads the quantiles by rank (sorted[int(q * (R - 1))]) instead of interpolating")
def nearest_rank(values, n_resamples, confidence, generator):
    values = _float(values)
    n = values.shape[0]
    means = values[torch.randint(0, n, (n_resamples, n), generator=generator)].mean(dim=1)
    ordered = torch.sort(means).values
    pick = lambda q: float(ordered[int(q * (n_resamples - 1))])
    return pick((1 - confidence) / 2), pick((1 + confidence) / 2)


@misconception("bootstrap_ci", "returns the quantiles as 0-dim tensors instead of Python floats")
def returns_tensors(values, n_resamples, confidence, generator):
    values = _float(values)
    n = values.shape[0]
    means = values[torch.randint(0, n, (n_resamples, n), generator=generator)].mean(dim=1)
    lo, hi = torch.quantile(means, _levels(confidence, means.dtype))
    return lo, hi


@misconception("bootstrap_ci", "calls values[indices].mean() on integer scores without converting them: fails")
def no_integer_cast(values, n_resamples, confidence, generator):
    n = values.shape[0]
    means = values[torch.randint(0, n, (n_resamples, n), generator=generator)].mean(dim=1)
    lo, hi = torch.quantile(means, _levels(confidence, means.dtype))
    return float(lo), float(hi)


@rewrite("bootstrap_ci", "sorts the means and interpolates linearly by hand at position q * (R - 1)")
def manual_interpolation(values, n_resamples, confidence, generator):
    values = values.float() if not values.is_floating_point() else values
    n = len(values)
    resamples = values[torch.randint(0, n, (n_resamples, n), generator=generator)]
    ordered = resamples.mean(dim=1).sort().values

    def quantile(q):
        q = float(torch.tensor(q, dtype=ordered.dtype))  # the level as torch.quantile sees it
        pos = q * (n_resamples - 1)
        below = int(pos)
        above = min(below + 1, n_resamples - 1)
        frac = pos - below
        return float(ordered[below] + frac * (ordered[above] - ordered[below]))

    return quantile((1 - confidence) / 2), quantile((1 + confidence) / 2)


@rewrite("bootstrap_ci", "means through per-resample index counts (bincount) times the values, then torch.quantile")
def counts_times_values(values, n_resamples, confidence, generator):
    values = values.to(torch.float32) if not torch.is_floating_point(values) else values
    n = values.numel()
    indices = torch.randint(0, n, (n_resamples, n), generator=generator)
    counts = torch.stack([torch.bincount(row, minlength=n) for row in indices]).to(values.dtype)  # (R, N)
    means = (counts * values).sum(dim=1) / n
    q = torch.tensor([(1 - confidence) / 2, (1 + confidence) / 2], dtype=means.dtype)
    lo, hi = torch.quantile(means, q).tolist()
    return lo, hi
