import torch
import torch.nn.functional as F


def ppo_clip_loss(logp, logp_old, advantages, mask, clip_eps=0.2):
    """PPO clipped surrogate loss, averaged over all valid tokens of the batch.

    Args:
        logp:       [B, T] log-probs of the sampled tokens under the current policy
                    (gradients flow through this one).
        logp_old:   [B, T] the same log-probs under the sampling policy (constant).
        advantages: [B, T] per-token advantages A (constant).
        mask:       [B, T] bool or float, 1 = valid response token, 0 = padding (right-padded).
        clip_eps:   eps of the clip range [1 - eps, 1 + eps].

    With r = exp(logp - logp_old), per valid token
        l = -min(r * A, clip(r, 1 - eps, 1 + eps) * A)
        loss          = sum(l * mask) / sum(mask)                  (masked mean over the batch)
        clip_fraction = masked mean of 1[|r - 1| > eps]            (a diagnostic)

    Returns:
        (loss, clip_fraction): a tuple of two 0-dim tensors in the dtype of logp. Padded
        positions do not affect either. If the mask has no valid token both are NaN (0/0).
        The loss is differentiable w.r.t. logp; clip_fraction need not carry a gradient.
    """
    ratio = torch.exp(logp - logp_old)                                   # (B, T)
    clipped_ratio = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    # pessimistic bound: no gain from pushing r outside the band (PPO paper, eq. 7)
    per_token = -torch.minimum(ratio * advantages, clipped_ratio * advantages)
    m = mask.to(logp.dtype)
    loss = (per_token * m).sum() / m.sum()
    clipped = ((ratio - 1.0).abs() > clip_eps).to(logp.dtype)
    clip_fraction = (clipped * m).sum() / m.sum()
    return loss, clip_fraction


def value_loss_clipped(values, values_old, returns, mask, clip_eps=0.2):
    """PPO-style clipped value (critic) loss, averaged over all valid tokens.

    Args:
        values:     [B, T] current critic values V (gradients flow through this one).
        values_old: [B, T] critic values when the batch was collected (constant).
        returns:    [B, T] regression targets R (constant).
        mask:       [B, T] bool or float, 1 = valid token, 0 = padding (right-padded).
        clip_eps:   largest allowed move |V - V_old| (absolute, in reward units).

    Per valid token
        V_clip = V_old + clip(V - V_old, -eps, eps)
        l      = 0.5 * max((V - R)^2, (V_clip - R)^2)
    and the loss is the masked mean sum(l * mask) / sum(mask) over the whole batch.

    Returns:
        0-dim tensor in the dtype of values; NaN (0/0) if the mask has no valid token.
        Padded positions do not affect it. Differentiable w.r.t. values.
    """
    values_clipped = values_old + torch.clamp(values - values_old, -clip_eps, clip_eps)
    # loss is minimised, so the pessimistic bound is the larger error
    per_token = 0.5 * torch.maximum((values - returns) ** 2, (values_clipped - returns) ** 2)
    m = mask.to(values.dtype)
    return (per_token * m).sum() / m.sum()


def kl_penalized_rewards(scores, logp, logp_ref, mask, beta):
    """Per-token RLHF rewards: a KL penalty on every valid token plus the score on the last one.

    Args:
        scores:   [B] one reward-model score per response.
        logp:     [B, T] log-probs of the sampled tokens under the policy.
        logp_ref: [B, T] log-probs of the same tokens under the reference (SFT) model.
        mask:     [B, T] bool or float, 1 = valid token, 0 = padding. Rows are right-padded
                  (ones, then zeros); a row may have no valid token.
        beta:     KL coefficient (a Python float).

    rewards[b, t] = -beta * (logp[b, t] - logp_ref[b, t])     for each valid token,
                    + scores[b]                               on the last valid token of row b.

    Returns:
        [B, T] tensor in the dtype of logp: 0 at every padded position, and an all-zero row where
        the mask row has no valid token. Rewards are data, not a loss: gradients are not checked
        (in training you would compute them under torch.no_grad()).
    """
    m = mask.to(logp.dtype)                                              # (B, T)
    # right-padded rows: the last valid token is a 1 followed by a 0 (or by the row end)
    next_valid = torch.cat([m[:, 1:], torch.zeros_like(m[:, :1])], dim=1)
    is_last = m * (1.0 - next_valid)                                     # (B, T) one-hot or all 0
    return -beta * (logp - logp_ref) * m + scores.to(logp.dtype)[:, None] * is_last


def grpo_advantages(rewards, group_size, eps=1e-6, scale="group"):
    """Group-relative advantages (GRPO / Dr. GRPO).

    Args:
        rewards:    [N] one scalar reward per sampled response (float, or integer -> float32 result).
                    Consecutive blocks of group_size entries share a prompt.
        group_size: G >= 2; N is a multiple of G.
        eps:        added to the std before dividing.
        scale:      "group" | "batch" | "none".

    For response i in group g:  A_i = (r_i - mean(r_g)) / (std + eps), where
        "group": std = std of the G rewards of group g            (GRPO)
        "batch": std = std of all N raw rewards of the batch       (one global scale)
        "none":  no division at all                                 (Dr. GRPO)
    std is Bessel-corrected (torch.std's default). The centring always uses the group mean.
    A group of identical rewards gets advantage 0.

    Returns:
        [N] tensor, same dtype as rewards (float32 for integer rewards).
    """
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.float32)
    groups = rewards.reshape(-1, group_size)                             # (N/G, G)
    centered = groups - groups.mean(dim=1, keepdim=True)
    if scale == "group":
        centered = centered / (groups.std(dim=1, keepdim=True) + eps)
    elif scale == "batch":
        centered = centered / (rewards.std() + eps)                      # std of the raw rewards
    elif scale != "none":
        raise ValueError(f"scale={scale!r} must be 'group', 'batch' or 'none'")
    return centered.reshape(-1)


def rloo_advantages(rewards, group_size):
    """REINFORCE leave-one-out advantages.

    Args:
        rewards:    [N] one reward per sampled response (float, or integer -> float32 result).
                    Consecutive blocks of group_size entries share a prompt.
        group_size: G >= 2; N is a multiple of G.

    A_i = r_i - (1 / (G - 1)) * sum_{j in group(i), j != i} r_j
    (no division by a std).

    Returns:
        [N] tensor, same dtype as rewards (float32 for integer rewards).
    """
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.float32)
    groups = rewards.reshape(-1, group_size)                             # (N/G, G)
    # the baseline leaves r_i out, so it does not depend on sample i
    mean_of_others = (groups.sum(dim=1, keepdim=True) - groups) / (group_size - 1)
    return (groups - mean_of_others).reshape(-1)


def aggregate_token_loss(per_token, mask, mode, max_len=None):
    """Reduce a [B, T] tensor of per-token losses to one scalar.

    Args:
        per_token: [B, T] per-token losses (gradients flow through this one); padded positions
                   hold arbitrary finite values.
        mask:      [B, T] bool or float, 1 = valid token, 0 = padding (right-padded; a row may
                   have no valid token).
        mode:      "token_mean" | "seq_mean_token_mean" | "seq_mean_token_sum_norm".
        max_len:   normaliser L_max for "seq_mean_token_sum_norm" (None -> T).

    "token_mean"              sum(l * mask) / sum(mask)  over the whole batch (DAPO);
                              NaN if there is no valid token.
    "seq_mean_token_mean"     per row: sum_t(l * mask) / (number of valid tokens), then the mean
                              over the rows with >= 1 valid token (GRPO); rows with no valid token
                              are skipped; NaN if every row is empty.
    "seq_mean_token_sum_norm" sum(l * mask) / (B * max_len), B = all rows (Dr. GRPO).

    Returns:
        0-dim tensor in the dtype of per_token. Its gradient is 0 (never NaN) at padded positions
        and on rows with no valid token.
    """
    m = mask.to(per_token.dtype)                                         # (B, T)
    if mode == "token_mean":
        return (per_token * m).sum() / m.sum()
    if mode == "seq_mean_token_mean":
        lengths = m.sum(dim=1)                                           # (B,)
        # clamp keeps empty rows out of the division so their gradient stays 0, not NaN
        per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1.0)
        return per_seq[lengths > 0].mean()
    if mode == "seq_mean_token_sum_norm":
        batch, seq_len = per_token.shape
        norm = max_len if max_len is not None else seq_len
        return (per_token * m).sum() / (batch * norm)
    raise ValueError(f"mode={mode!r} is not one of 'token_mean', 'seq_mean_token_mean', 'seq_mean_token_sum_norm'")


def grpo_loss(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2,
              beta=0.0, mode="seq_mean_token_mean", max_len=None):
    """Clipped policy loss with per-sequence advantages and a k3 KL penalty (GRPO family).

    Args:
        logp:       [B, T] log-probs of the sampled tokens under the current policy
                    (gradients flow through this one).
        logp_old:   [B, T] log-probs under the sampling policy (constant).
        logp_ref:   [B, T] log-probs under the reference model (constant).
        advantages: [B] one advantage per sequence, shared by all its tokens (constant).
        mask:       [B, T] bool or float, 1 = valid token, 0 = padding (right-padded; a row may be
                    empty).
        eps_low, eps_high: clip range [1 - eps_low, 1 + eps_high] for the ratio.
        beta:       KL coefficient.
        mode, max_len: passed to aggregate_token_loss (see question 6).

    Per token, with r = exp(logp - logp_old) and delta = logp_ref - logp:
        k3 = exp(delta) - 1 - delta
        l  = -(min(r * A_b, clip(r, 1 - eps_low, 1 + eps_high) * A_b) - beta * k3)
    and the loss is aggregate_token_loss(l, mask, mode, max_len) — call your own function.

    Returns:
        0-dim tensor in the dtype of logp (NaN when the chosen mode averages over nothing).
        Differentiable w.r.t. logp; the gradient is 0 at padded positions and on empty rows.
    """
    ratio = torch.exp(logp - logp_old)                                   # (B, T)
    adv = advantages[:, None]                                            # (B, 1)
    surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv)
    log_ratio_ref = logp_ref - logp                                      # (B, T) delta
    k3 = torch.exp(log_ratio_ref) - 1.0 - log_ratio_ref                  # >= 0, unbiased for KL(pi || ref)
    per_token = -(surrogate - beta * k3)
    return aggregate_token_loss(per_token, mask, mode, max_len)


def gspo_loss(logp, logp_old, advantages, mask, eps=3e-4):
    """GSPO: PPO-style clipping on a length-normalised sequence-level ratio.

    Args:
        logp:       [B, T] log-probs of the sampled tokens under the current policy
                    (gradients flow through this one).
        logp_old:   [B, T] log-probs under the sampling policy (constant).
        advantages: [B] one advantage per sequence (constant).
        mask:       [B, T] bool or float, 1 = valid token, 0 = padding (right-padded; a row may be
                    empty).
        eps:        clip range [1 - eps, 1 + eps] for the sequence ratio.

    s_b  = exp( masked mean over t of (logp - logp_old) )     (geometric mean of token ratios)
    loss = -mean over rows b with >= 1 valid token of min(s_b * A_b, clip(s_b, 1 - eps, 1 + eps) * A_b)

    Returns:
        0-dim tensor in the dtype of logp; NaN if no row has a valid token. Rows with no valid
        token are skipped. Differentiable w.r.t. logp; the gradient is 0 (never NaN) at padded
        positions and on empty rows.
    """
    m = mask.to(logp.dtype)                                              # (B, T)
    lengths = m.sum(dim=1)                                               # (B,)
    # clamp keeps empty rows finite (they are dropped below) so their gradient is 0, not NaN
    seq_log_ratio = ((logp - logp_old) * m).sum(dim=1) / lengths.clamp(min=1.0)
    s = torch.exp(seq_log_ratio)                                         # (B,)
    per_seq = -torch.minimum(s * advantages, torch.clamp(s, 1.0 - eps, 1.0 + eps) * advantages)
    return per_seq[lengths > 0].mean()


def sapo_loss(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    """SAPO: a smooth sigmoid gate on the ratio instead of PPO's hard clip.

    Args:
        logp:       [B, T] log-probs of the sampled tokens under the current policy
                    (gradients flow through this one).
        logp_old:   [B, T] log-probs under the sampling policy (constant).
        advantages: [B] one advantage per sequence (constant).
        mask:       [B, T] bool or float, 1 = valid token, 0 = padding (right-padded; a row may be
                    empty).
        tau_pos:    temperature for sequences with A > 0.
        tau_neg:    temperature for sequences with A <= 0.

    Per token, with r = exp(logp - logp_old) and tau = tau_pos if A_b > 0 else tau_neg:
        f(r) = sigmoid(tau * (r - 1)) * 4 / tau
        l    = -f(r) * A_b
    and the loss is aggregate_token_loss(l, mask, "seq_mean_token_mean") — call your own function.

    Returns:
        0-dim tensor in the dtype of logp; NaN if no row has a valid token. Differentiable w.r.t.
        logp; the gradient is 0 at padded positions and on empty rows.
    """
    ratio = torch.exp(logp - logp_old)                                   # (B, T)
    adv = advantages[:, None]                                            # (B, 1)
    tau = torch.where(adv > 0, torch.full_like(adv, tau_pos), torch.full_like(adv, tau_neg))
    # slope f'(1) = 1: on-policy this is the plain policy gradient; it fades smoothly off-policy
    gate = torch.sigmoid(tau * (ratio - 1.0)) * 4.0 / tau
    return aggregate_token_loss(-gate * adv, mask, "seq_mean_token_mean")


def sequence_logprob(token_logps, mask, average=False):
    """Log-probability of each response: sum (or mean) of its valid token log-probs.

    Args:
        token_logps: [B, T] log-probs of the response tokens (gradients flow through this one).
        mask:        [B, T] bool or float, 1 = response token, 0 = padding / prompt (right-padded).
        average:     False -> sum over valid tokens; True -> masked mean over valid tokens.

    Returns:
        [B] tensor in the dtype of token_logps. For a row with no valid token the sum is 0 and
        the average is NaN (0/0).
    """
    m = mask.to(token_logps.dtype)                                       # (B, T)
    total = (token_logps * m).sum(dim=1)                                 # (B,)
    return total / m.shape[1] if average else total


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    """DPO loss per preference pair, plus the implicit rewards for logging.

    Args:
        pi_chosen, pi_rejected:   [B] sequence log-probs log pi(y_w|x), log pi(y_l|x) under the policy
                                  (gradients flow through these).
        ref_chosen, ref_rejected: [B] the same under the frozen reference model (constants).
        beta:                     strength of the implicit KL regularisation.
        label_smoothing:          lambda in [0, 0.5): assumed probability that a label is flipped.

    z      = beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
    losses = -(1 - lambda) * logsigmoid(z) - lambda * logsigmoid(-z)
    chosen_rewards   = beta * (pi_chosen - ref_chosen)
    rejected_rewards = beta * (pi_rejected - ref_rejected)

    Returns:
        (losses, chosen_rewards, rejected_rewards): a tuple of three [B] tensors in the input
        dtype. losses is differentiable w.r.t. pi_chosen and pi_rejected; both rewards are
        detached (requires_grad False). Finite and accurate for |z| up to 1e4 (use F.logsigmoid).
    """
    chosen_logratio = pi_chosen - ref_chosen                             # (B,)
    rejected_logratio = pi_rejected - ref_rejected                       # (B,)
    z = beta * (chosen_logratio - rejected_logratio)
    # logsigmoid stays finite for |z| ~ 1e4, log(sigmoid(z)) does not
    losses = -(1.0 - label_smoothing) * F.logsigmoid(z) - label_smoothing * F.logsigmoid(-z)
    return losses, beta * chosen_logratio, beta * rejected_logratio


def ipo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    """IPO loss per preference pair: squared distance of the log-ratio margin to 1 / (2 beta).

    Args:
        pi_chosen, pi_rejected:   [B] sequence log-probs under the policy (gradients flow here).
        ref_chosen, ref_rejected: [B] the same under the reference model (constants).
        beta:                     regularisation strength; the target margin is 1 / (2 beta).

    h      = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)
    losses = (h - 1 / (2 * beta)) ** 2

    Returns:
        [B] tensor in the input dtype, differentiable w.r.t. pi_chosen and pi_rejected.
    """
    h = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)          # (B,)
    # regress the margin onto a finite target instead of pushing it to infinity (Azar et al., 2023)
    return (h - 1.0 / (2.0 * beta)) ** 2


def kto_loss(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    """KTO loss per example, from unpaired desirable / undesirable labels.

    Args:
        pi_logps:  [B] sequence log-probs log pi(y|x) under the policy (gradients flow here).
        ref_logps: [B] the same under the reference model (constant).
        desirable: [B] bool, True = desirable (thumbs-up), False = undesirable.
        kl_ref:    0-dim tensor, the estimate of KL(pi || pi_ref) used as reference point.
        beta:      sharpness of the value function.
        lambda_d:  weight of desirable examples.
        lambda_u:  weight of undesirable examples.

    z0 = max(kl_ref, 0), treated as a constant (no gradient flows into kl_ref)
    r  = pi_logps - ref_logps
    desirable:   losses = lambda_d * (1 - sigmoid(beta * (r - z0)))
    undesirable: losses = lambda_u * (1 - sigmoid(beta * (z0 - r)))

    Returns:
        [B] tensor in the input dtype, differentiable w.r.t. pi_logps.
    """
    z0 = kl_ref.detach()                                  # reference point, a constant
    r = pi_logps - ref_logps                                             # (B,) implicit reward
    desirable_loss = lambda_d * (1.0 - torch.sigmoid(beta * (r - z0)))
    undesirable_loss = lambda_u * (1.0 - torch.sigmoid(beta * (z0 - r)))
    return torch.where(desirable.bool(), desirable_loss, undesirable_loss)
