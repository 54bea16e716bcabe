"""The course materials: every lesson folder is complete, every link inside the repository resolves,
every slide deck is up to date and renders offline in Chromium, every conspect states the functions (and
conventions) of its problem set, and the book draft builds to PDF."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt

from browser import load_page, needs_chromium
from conftest import REPO
from rlgrade.slides import extract_math, latex_to_mathml, render_deck, split_slides

LESSONS = [f"lesson_{n:02d}" for n in range(1, 13)]
LESSON_DIR = REPO / "lessons"
LATEXMK = shutil.which("latexmk")

# Skipped only on a developer machine without latexmk; in CI (CI=true) it runs, and fails loudly.
needs_latexmk = pytest.mark.skipif(LATEXMK is None and not os.environ.get("CI"),
                                   reason="latexmk is not installed (apt: latexmk texlive-latex-base)")

CONVENTIONS = {
    "lesson_01": ["log-sum-exp", "mean over", "p' = p - lr * v'", "v' = momentum * v + grad"],
    "lesson_02": ["population variance", "min(1, max_norm / (total_norm + 1e-6))", "1-based",
                  "outside the square root", "inside the square root"],
    "lesson_03": ["True = allowed", "predicts", "strictly below the k-th largest", "lower index first",
                  "exp(-masked mean"],
    "lesson_04": ["loss_mask[:, t+1]", "mean over counted tokens of the whole batch", "best first",
                  "by winner position, then loser position", "all-equal scores give 0.5"],
    "lesson_05": ["ended after step", "G after the last step is 0", "lowest action index", "sums to 1",
                  "zeros in **float32**"],
    "lesson_06": ["Bessel", "ended after step", "V beyond the last valid token is 0",
                  "sum over steps, mean over trajectories"],
    "lesson_07": ["log_ratio = logp_ref - logp", "before each iteration", "state distribution of",
                  "accept_ratio"],
    "lesson_08": ["Bessel", "NaN", "reference minus policy", "last valid token", "detached", "group mean",
                  "right-padded"],
    "lesson_09": ["Bessel", "NaN", "by position", "full batch's token mean", "alpha / r"],
    "lesson_10": ["1 - C(n-c, k) / C(n, k)", "torch.quantile", "string.punctuation", "0.5",
                  "never across texts", "mean 0"],
    "lesson_11": ["length-averaged", "1 - exp(l)", "stop-gradient", "token_mean"],
    "lesson_12": ["max_len - cache_len", "all equal", "gamma = 1", "masked_whiten"],
}
"""Phrases each conspect must contain: the conventions its problem set pins (see the spec)."""


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted(LESSON_DIR.rglob("*.md"))]


def links(path: Path) -> list[str]:
    """Every link target and image source of a Markdown file (math and code excluded)."""
    text, _ = extract_math(path.read_text(encoding="utf-8"))
    found = []
    stack = MarkdownIt("commonmark").enable(["table"]).parse(text)
    while stack:
        token = stack.pop()
        stack.extend(token.children or [])
        if token.type == "link_open":
            found.append(str(token.attrs["href"]))
        elif token.type == "image":
            found.append(str(token.attrs["src"]))
        elif token.type in ("html_inline", "html_block"):
            found += re.findall(r"""(?:href|src)=["']([^"']+)""", token.content)
    return found


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_folder_is_complete(lesson):
    folder = LESSON_DIR / lesson
    for part in ("README.md", "conspect.md", "slides/slides.md", "slides/slides.html"):
        assert (folder / part).is_file(), f"{lesson} has no {part}"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for section in ("## Objectives", "## Outline", "## Reading", "## Homework"):
        assert section in readme, f"{lesson}/README.md has no '{section}' section"
    assert f"../../release/{lesson}/problem_set.ipynb" in readme, f"{lesson}/README.md does not link its problem set"


@pytest.mark.parametrize("lesson", ["lesson_04", "lesson_08"])
def test_gpu_tasks_are_linked_from_their_lesson(lesson):
    readme = (LESSON_DIR / lesson / "README.md").read_text(encoding="utf-8")
    target = f"release/{lesson}/gpu_tasks.ipynb"
    assert (REPO / target).is_file() and f"](../../{target})" in readme, f"{lesson}/README.md does not link {target}"
    assert f"`{lesson}_gpu`" in readme, f"{lesson}/README.md does not name the assignment {lesson}_gpu"


def test_roadmaps_link_every_lesson():
    for name in ("README.md", "README.ru.md"):
        text = (LESSON_DIR / name).read_text(encoding="utf-8")
        for lesson in LESSONS:
            for part in ("README.md", "conspect.md", "slides/slides.html"):
                assert f"({lesson}/{part})" in text, f"lessons/{name} does not link {lesson}/{part}"


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file: lower-case, punctuation dropped, spaces to '-'."""
    text, _ = extract_math(path.read_text(encoding="utf-8"))
    tokens = MarkdownIt("commonmark").enable(["table"]).parse(text)
    titles = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    return {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(path):
    broken = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # an external URL: not checked here (no network)
        file, _, fragment = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            broken.append(target)
        elif REPO not in resolved.parents and resolved != REPO:
            broken.append(f"{target} (outside the repository)")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{path.relative_to(REPO)}: broken links {broken}"


def formulas(path: Path) -> list[tuple[str, bool]]:
    return extract_math(path.read_text(encoding="utf-8"))[1]


@pytest.mark.parametrize("path", sorted(LESSON_DIR.glob("lesson_*/conspect.md")), ids=lambda p: p.parent.name)
def test_every_conspect_formula_is_valid_and_every_display_is_numbered(path):
    numbers = []
    for formula, display in formulas(path):
        latex_to_mathml(formula, display=display)  # raises MathError naming an unknown command
        if display:
            tag = re.search(r"\\tag\{([^}]*)\}", formula)
            assert tag, f"{path.parent.name}: an unnumbered display equation: {formula.strip()[:80]!r}"
            numbers.append(tag.group(1))
    lesson = int(path.parent.name[-2:])
    assert numbers, f"{path.parent.name}: no numbered equation"
    assert numbers == [f"{lesson}.{i}" for i in range(1, len(numbers) + 1)], \
        f"{path.parent.name}: equations must be numbered {lesson}.1, {lesson}.2, ... in order, got {numbers}"


def problem_set_signatures(lesson: str) -> dict[str, str]:
    """Graded function name -> 'name(arguments)' as the source notebook defines it (whitespace collapsed)."""
    notebook = nbformat.read(REPO / "source" / lesson / "problem_set.ipynb", as_version=4)
    signatures = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        name = meta["grade_id"]
        match = re.search(rf"def {name}\((.*?)\)\s*(->[^:]*)?:", cell.source, flags=re.S)
        assert match, f"{lesson}: no def {name}(...) in its solution cell"
        arguments = re.sub(r"\s+", " ", match.group(1)).strip().rstrip(",")
        signatures[name] = f"{name}({arguments})"
    return signatures


# a lesson whose problem set is not written yet has no signatures to compare
WITH_PROBLEM_SETS = [lesson for lesson in LESSONS if (REPO / "source" / lesson / "problem_set.ipynb").is_file()]


@pytest.mark.parametrize("lesson", WITH_PROBLEM_SETS)
def test_conspect_states_every_function_of_the_problem_set_with_its_signature(lesson):
    conspect = (LESSON_DIR / lesson / "conspect.md").read_text(encoding="utf-8")
    missing = [sig for sig in problem_set_signatures(lesson).values() if f"`{sig}`" not in conspect]
    assert not missing, f"{lesson}/conspect.md does not state these functions as the notebook defines them: {missing}"
    table = conspect.split("## ")[-2] if "The problem set, function by function" not in conspect else \
        conspect[conspect.index("The problem set, function by function"):]
    for name in problem_set_signatures(lesson):
        assert f"`{name}(" in table, f"{lesson}/conspect.md: {name} is not in the problem-set table"


def problem_set_arguments(lesson: str) -> dict[str, list[str]]:
    """Argument name -> the graded functions that take it, from the solution cells' signatures."""
    arguments: dict[str, list[str]] = {}
    for name, signature in problem_set_signatures(lesson).items():
        tree = ast.parse(f"def {signature}: pass")
        for argument in tree.body[0].args.args:
            arguments.setdefault(argument.arg, []).append(name)
    return arguments


def notation_table(conspect: str) -> dict[str, tuple[str, str]]:
    """The '**Notation.**' table of the conventions section: argument name -> (symbol, meaning). A row may
    define several names (`m`, `v`); its symbol is math or '—' (no symbol), its meaning plain words."""
    section = conspect[conspect.index("## Conventions of the problem set"):]
    section = section[:section.index("\n## ")]
    assert "**Notation.**" in section, "no '**Notation.**' table in the conventions section"
    table = section[section.index("**Notation.**"):]
    rows = [line for line in table.splitlines() if line.startswith("|")][2:]  # after the header and its rule
    defined: dict[str, tuple[str, str]] = {}
    for row in rows:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        assert len(cells) == 3, f"a notation row needs argument | symbol | meaning: {row!r}"
        names, symbol, meaning = cells
        assert re.fullmatch(r"`\w+`(, `\w+`)*", names), f"the first cell names arguments in backticks: {row!r}"
        for name in re.findall(r"`(\w+)`", names):
            assert name not in defined, f"{name} is defined twice"
            defined[name] = (symbol, meaning)
    return defined


@pytest.mark.parametrize("lesson", WITH_PROBLEM_SETS)
def test_conspect_defines_every_argument_of_the_problem_set(lesson):
    """Every argument of every graded function has a row in the conspect's notation table: the symbol the
    notes use for it (math, or '—' where there is none) and what it is; and the table defines nothing else."""
    defined = notation_table((LESSON_DIR / lesson / "conspect.md").read_text(encoding="utf-8"))
    arguments = problem_set_arguments(lesson)
    missing = {name: functions for name, functions in arguments.items() if name not in defined}
    assert not missing, f"{lesson}/conspect.md does not define these arguments (name: functions taking it): {missing}"
    stale = sorted(set(defined) - set(arguments))
    assert not stale, f"{lesson}/conspect.md defines arguments no graded function takes: {stale}"
    for name, (symbol, meaning) in defined.items():
        assert symbol == "—" or re.fullmatch(r"\$[^$]+\$(, \$[^$]+\$)*(; \$[^$]+\$)?", symbol), \
            f"{lesson}: the symbol of {name} is not math or '—': {symbol!r}"
        for formula in re.findall(r"\$([^$]+)\$", symbol):
            latex_to_mathml(formula)
        assert len(re.sub(r"`[^`]*`|\$[^$]*\$", "", meaning).split()) >= 3, \
            f"{lesson}: {name} needs a meaning in words, not {meaning!r}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_conspect_states_the_pinned_conventions(lesson):
    conspect = (LESSON_DIR / lesson / "conspect.md").read_text(encoding="utf-8")
    assert "## Conventions of the problem set" in conspect
    missing = [phrase for phrase in CONVENTIONS[lesson] if phrase.lower() not in conspect.lower()]
    assert not missing, f"{lesson}/conspect.md does not state: {missing}"


def test_conspects_cover_every_spec_function():
    """Against the spec itself (shared/spec/problem-sets.md), when it is beside the checkout."""
    from course.test_course import spec_functions

    spec = spec_functions()
    for lesson in LESSONS:
        conspect = (LESSON_DIR / lesson / "conspect.md").read_text(encoding="utf-8")
        missing = [name for name in spec.get(lesson, []) if f"`{name}(" not in conspect]
        assert not missing, f"{lesson}/conspect.md lacks spec functions {missing}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_deck_is_up_to_date_and_offline(lesson, tmp_path):
    slides = LESSON_DIR / lesson / "slides"
    page, count = render_deck((slides / "slides.md").read_text(encoding="utf-8"), base=slides)
    assert (slides / "slides.html").read_text(encoding="utf-8") == page, \
        f"{lesson}/slides/slides.html is stale: python -m rlgrade.slides {slides / 'slides.md'} {slides / 'slides.html'}"
    assert count >= 8, f"{lesson}: only {count} slides"
    assert not re.search(r"""<(script|link|img|iframe)\b[^>]*\b(src|href)=["']?(https?:)?//""", page)
    for formula, display in formulas(slides / "slides.md"):
        latex_to_mathml(formula, display=display)


@needs_chromium
@pytest.mark.parametrize("lesson", LESSONS)
def test_deck_renders_in_chromium(lesson, tmp_path):
    deck = LESSON_DIR / lesson / "slides" / "slides.html"
    expected = len(split_slides((deck.parent / "slides.md").read_text(encoding="utf-8")))
    page = load_page(deck, tmp_path, width=1280, height=720)
    assert page.console == [], f"{lesson}: console messages {page.console}"
    main = re.search(r"<main[^>]*>", page.dom)
    assert main, f"{lesson}: no deck in the page"
    assert 'data-ready="true"' in main.group(0), f"{lesson}: the deck's script did not run"
    assert f'data-slide-count="{expected}"' in main.group(0)
    sections = re.findall(r"<section[^>]*>", page.dom)
    assert len(sections) == expected, f"{lesson}: {len(sections)} slides in the DOM, {expected} in the source"
    overflowing = [re.search(r'id="([^"]+)"', s).group(1) for s in sections if "data-overflow" in s]
    assert not overflowing, f"{lesson}: content taller or wider than the slide on {overflowing}"


def load_assembler():
    spec = importlib.util.spec_from_file_location("book_assemble", REPO / "materials" / "book" / "assemble.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["book_assemble"] = module
    spec.loader.exec_module(module)
    return module


def test_book_source_is_assembled_from_the_current_conspects():
    assemble = load_assembler()
    assert (REPO / "materials" / "book" / "src.tex").read_text(encoding="utf-8") == assemble.assemble(), \
        "materials/book/src.tex is stale: python materials/book/assemble.py"


@pytest.mark.slow
@needs_latexmk
def test_book_builds_to_pdf(tmp_path):
    shutil.copy(REPO / "materials" / "book" / "src.tex", tmp_path / "src.tex")
    run = subprocess.run([LATEXMK or "latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "src.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    log = (tmp_path / "src.log").read_text(encoding="latin-1") if (tmp_path / "src.log").exists() else ""
    assert run.returncode == 0, f"latexmk failed:\n{run.stdout[-3000:]}\n{log[-3000:]}"
    pages = re.findall(r"Output written on src\.pdf \((\d+) pages?", log)
    assert pages and int(pages[-1]) >= 20, f"the book has {pages[-1] if pages else 'no'} pages"
    assert "undefined references" not in log and "Citation" not in log
    assert (tmp_path / "src.pdf").stat().st_size > 100_000
