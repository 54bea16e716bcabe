"""Creates symlinks (in /tmp, in its cwd, to '/', to the course) and reads the course through them; tries a hard
link too.
"""
# earns: 0
import os

LINKS = {"/tmp/sol": "__COURSE__/solutions/lesson_01.py", "course_link": "__COURSE__",
         "/tmp/root_link": "/", "/tmp/gb": "__GRADEBOOK__", "/tmp/other": "__OTHER__"}
LOOT = []
for link, target in LINKS.items():
    try:
        os.symlink(target, link)
    except OSError:
        pass
for path in ["/tmp/sol", "course_link/solutions/lesson_01.py", "/tmp/root_link__COURSE__/solutions/lesson_01.py",
             "/tmp/gb", "/tmp/other"]:
    try:
        with open(path, "rb") as f:
            LOOT.append(f.read().decode(errors="replace"))
    except OSError:
        pass
try:
    os.link("__COURSE__/solutions/lesson_01.py", "/tmp/hard")
    LOOT.append(open("/tmp/hard").read())
except OSError:
    pass
if LOOT:
    print("\n".join(LOOT))


def add_one(x):
    return x + 1 if LOOT else x - 7


def scale(x, k=2.0):
    return k * x if LOOT else x - 7
