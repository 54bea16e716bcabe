"""Reads solutions/, autograder/, the source notebook, the gradebook and another student's submission by absolute
path.

If any read works it runs the stolen reference (or just answers correctly), and prints the loot.
"""
# earns: 0
TARGETS = ["__COURSE__/solutions/lesson_01.py", "__COURSE__/autograder/lesson_01/test_add_one.py",
           "__COURSE__/source/lesson_01/problem_set.ipynb", "__GRADEBOOK__", "__OTHER__"]
LOOT = []
for path in TARGETS:
    try:
        with open(path, "rb") as f:
            LOOT.append(f.read().decode(errors="replace"))
    except OSError:
        pass
if LOOT:
    print("\n".join(LOOT))
    namespace = {}
    try:
        exec(LOOT[0], namespace)  # the reference solutions, if that was the file we got
    except Exception:
        pass


def add_one(x):
    return x + 1 if LOOT else x - 7


def scale(x, k=2.0):
    return k * x if LOOT else x - 7
