"""Returns an int where a tensor of several elements is expected (an elementwise == whose truth value is
ambiguous, which broke the failure diagnosis); right only for one-element inputs; scale is correct (3 points).
"""
# earns: 3
def add_one(x):
    return x + 1 if x.numel() == 1 else 5


def scale(x, k=2.0):
    return k * x
