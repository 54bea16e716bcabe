"""A forbidden built-in the framework cannot detect yet (kept out of validate by the leading "_").

The attention built-ins are caught by the forbid marker and live in scaled_dot_product_attention.py.

They compute the right numbers, so the hidden tests alone pass them; the framework's forbidden-call detector is
what must reject them. This file starts with "_", so ``rlgrade validate`` does not collect it.

What each question forbids (also stated in the notebook's docstrings):

- ``scaled_dot_product_attention``: F.scaled_dot_product_attention (torch.nn.functional.scaled_dot_product_attention),
  torch.nn.MultiheadAttention, F.multi_head_attention_forward. The hidden tests mark the first with
  ``pytest.mark.forbid`` (its CPU kernels: aten::_scaled_dot_product_flash_attention_for_cpu when d_v == d,
  aten::_safe_softmax on the math path otherwise). MultiheadAttention with need_weights=True decomposes into
  bmm/_softmax at the dispatcher and is not detectable by operator name.
- ``entropy_from_logits``: torch.distributions (Categorical(logits=...).entropy()). Not detectable by operator name
  (it runs logsumexp, clamp, _softmax, mul, sum — all allowed).
- every other lesson-3 question: nothing.
"""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception


@misconception("entropy_from_logits", "uses torch.distributions.Categorical(logits=...).entropy()")
def categorical_entropy(logits):
    return torch.distributions.Categorical(logits=logits).entropy()
