"""Known mistakes in ``bradley_terry_fit`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _mm(wins, iters, tol, games_of, normalise):
    w = wins.to(torch.float64)
    games = games_of(w)
    total_wins = w.sum(dim=1)
    p = torch.ones(w.shape[0], dtype=torch.float64)
    for _ in range(iters):
        new_p = normalise(total_wins / (games / (p[:, None] + p[None, :])).sum(dim=1))
        done = bool((new_p - p).abs().max() <= tol)
        p = new_p
        if done:
            break
    return p


def _geometric(p):
    return p / torch.exp(torch.log(p).mean())


@misconception("bradley_terry_fit", "normalises the strengths to sum 1 instead of geometric mean 1")
def sum_to_one(wins, iters=1000, tol=1e-10):
    return _mm(wins, iters, tol, lambda w: w + w.T, lambda p: p / p.sum())


@misconception("bradley_terry_fit", "counts only the games i won (n_ij = wins[i, j], not wins[i, j] + wins[j, i])")
def one_sided_games(wins, iters=1000, tol=1e-10):
    return _mm(wins, iters, tol, lambda w: w, _geometric)


@misconception("bradley_terry_fit", "reads wins[i, j] as j beating i (the transposed convention): strengths inverted")
def transposed_convention(wins, iters=1000, tol=1e-10):
    return _mm(wins.T, iters, tol, lambda w: w + w.T, _geometric)


@misconception("bradley_terry_fit", "returns the log-strengths theta instead of the strengths p = exp(theta)")
def returns_log_strengths(wins, iters=1000, tol=1e-10):
    return torch.log(_mm(wins, iters, tol, lambda w: w + w.T, _geometric))


@misconception("bradley_terry_fit", "keeps the dtype of the counts (float32 in, float32 out) instead of float64")
def keeps_input_dtype(wins, iters=1000, tol=1e-10):
    p = _mm(wins, iters, tol, lambda w: w + w.T, _geometric)
    return p.to(wins.dtype) if wins.is_floating_point() else p


@misconception("bradley_terry_fit", "runs a fixed 15 MM iterations, ignoring iters and tol (not converged)")
def fixed_few_iterations(wins, iters=1000, tol=1e-10):
    return _mm(wins, 15, 0.0, lambda w: w + w.T, _geometric)


@misconception("bradley_terry_fit", "win/loss ratio p_i = W_i / L_i (exact only for two players)")
def win_loss_ratio(wins, iters=1000, tol=1e-10):
    w = wins.to(torch.float64)
    return _geometric(w.sum(dim=1) / w.sum(dim=0))


@misconception("bradley_terry_fit", "turns the counts into frequencies in place (w = wins.to(float64) is wins itself "
                                    "when wins is float64; then w /= w.sum())")
def frequencies_in_place(wins, iters=1000, tol=1e-10):
    w = wins.to(torch.float64)  # no copy for a float64 input
    w /= w.sum()                # the MLE does not change with the scale, but the caller's counts do
    return _mm(w, iters, tol, lambda v: v + v.T, _geometric)


@rewrite("bradley_terry_fit", "Newton's method on the log-likelihood in theta (Laplacian Hessian, mean-0 constraint)")
def newton(wins, iters=1000, tol=1e-10):
    w = wins.double()
    m = w.shape[0]
    games = w + w.T
    theta = torch.zeros(m, dtype=torch.float64)
    centre = torch.eye(m, dtype=torch.float64) - 1.0 / m
    for _ in range(100):
        prob = torch.sigmoid(theta[:, None] - theta[None, :])            # P(i beats j)
        gradient = w.sum(dim=1) - (games * prob).sum(dim=1)
        info = games * prob * (1 - prob)
        hessian = torch.diag(info.sum(dim=1)) - info                     # Laplacian: singular along ones
        step = torch.linalg.lstsq(hessian + 1.0 / m, gradient.unsqueeze(1)).solution.squeeze(1)
        # damped: halve the step until the likelihood does not decrease
        def loglik(t):
            return (w * torch.nn.functional.logsigmoid(t[:, None] - t[None, :])).sum()
        scale = 1.0
        while loglik(theta + scale * step) < loglik(theta) - 1e-12 and scale > 1e-8:
            scale /= 2
        theta = centre @ (theta + scale * step)
        if step.abs().max() * scale < 1e-13:
            break
    return theta.exp()


@rewrite("bradley_terry_fit", "Gauss-Seidel MM: updates one player at a time with the newest strengths")
def gauss_seidel(wins, iters=1000, tol=1e-10):
    w = wins.to(torch.float64)
    m = w.shape[0]
    games = (w + w.T).tolist()
    total = w.sum(dim=1).tolist()
    p = [1.0] * m
    for _ in range(iters):
        old = list(p)
        for i in range(m):
            p[i] = total[i] / sum(games[i][j] / (p[i] + p[j]) for j in range(m) if j != i)
        p_t = torch.tensor(p, dtype=torch.float64)
        p_t = p_t / torch.exp(torch.log(p_t).mean())
        p = p_t.tolist()
        if max(abs(a - b) for a, b in zip(p, old)) <= tol * 1e-2:
            break
    return torch.tensor(p, dtype=torch.float64)
