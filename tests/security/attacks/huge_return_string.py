"""Returns a 10^8-character string from add_one and a 4-million-character one (under the frame limit: it reaches
the grader) from scale.
"""
# earns: 0
def add_one(x):
    return "1" * 10**8


def scale(x, k=2.0):
    return "2" * 4_000_000
