"""``rlgrade review``: why do students fail? Failure clusters, named misconceptions, score distributions.

Reads the gradebook's current results for one assignment (nothing is re-run) and
groups the failed hidden tests into clusters of students who fail the same way:
the same test and the same diagnosis (the known misconception their outputs match)
or, without one, the same shape of error ("wrong sign", "NaN where a finite value
is expected", "raises IndexError", ...). Each cluster keeps its smallest
counterexample. The report is plain records; ``render_terminal`` and ``render_html``
draw it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rlgrade.grade import SubmissionResult
from rlgrade.gradebook import Gradebook


NOT_AN_ANSWER = {"not implemented", "function missing", "times out", "crashes the worker", "out of grading time"}
"""Kinds of failure where the function never answered: nothing for a misconception to explain."""


@dataclass(frozen=True)
class Failure:
    """One failed hidden test of one student."""

    student: str
    question: str
    test: str
    title: str
    kind: str
    diagnosis: str | None
    message: str
    detail: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        """How big the counterexample is (smaller reads faster)."""
        inputs = self.detail.get("inputs")
        return len(json.dumps(inputs, sort_keys=True)) if inputs else len(self.message)


@dataclass(frozen=True)
class Cluster:
    """Students who fail one test the same way."""

    id: str
    question: str
    test: str
    title: str
    label: str
    """The misconception's description when diagnosed, else the kind of error."""
    diagnosed: bool
    students: tuple[str, ...]
    example: Failure
    """The smallest counterexample in the cluster."""


@dataclass(frozen=True)
class QuestionReview:
    question: str
    max_score: float
    scores: tuple[float, ...]
    """One per graded student."""
    clusters: tuple[Cluster, ...]
    failing: tuple[str, ...]
    """Students whose function answered but lost points on this question."""
    explained: tuple[str, ...]
    """Those of them whose failure matches a known misconception."""
    unanswered: tuple[str, ...] = ()
    """Students who lost points because the function never answered (not implemented, crashed, hung)."""

    @property
    def pass_rate(self) -> float:
        """Share of graded students with full marks."""
        return sum(s >= self.max_score for s in self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0


@dataclass(frozen=True)
class StudentReview:
    student: str
    score: float
    max_score: float
    status: str
    error: str | None
    clusters: tuple[str, ...]
    """Ids of the clusters the student is in."""


@dataclass(frozen=True)
class ReviewReport:
    assignment: str
    questions: tuple[QuestionReview, ...]
    students: tuple[StudentReview, ...]

    @property
    def failing(self) -> int:
        """(student, question) pairs that lost points."""
        return sum(len(q.failing) for q in self.questions)

    @property
    def explained(self) -> int:
        return sum(len(q.explained) for q in self.questions)

    @property
    def explained_share(self) -> float:
        """Share of failing (student, question) pairs a known misconception explains."""
        return self.explained / self.failing if self.failing else 1.0

    def groups(self) -> list[tuple[str, str, bool, tuple[str, ...], int]]:
        """Clusters merged across tests: (question, label, diagnosed, students, number of tests), biggest first."""
        merged: dict[tuple[str, str, bool], tuple[set, int]] = {}
        for q in self.questions:
            for c in q.clusters:
                students, tests = merged.get((c.question, c.label, c.diagnosed), (set(), 0))
                merged[(c.question, c.label, c.diagnosed)] = (students | set(c.students), tests + 1)
        rows = [(q, label, diagnosed, tuple(sorted(students)), tests)
                for (q, label, diagnosed), (students, tests) in merged.items()]
        return sorted(rows, key=lambda r: (r[0], -len(r[3]), r[1]))

    @property
    def unexplained_kinds(self) -> list[tuple[str, str, int]]:
        """(question, kind, students) of undiagnosed clusters: mistakes that still need a named variant."""
        return sorted(((c.question, c.label, len(c.students)) for q in self.questions for c in q.clusters
                       if not c.diagnosed and c.label not in NOT_AN_ANSWER), key=lambda t: (-t[2], t[0], t[1]))


def failures_of(result: SubmissionResult) -> list[Failure]:
    return [Failure(result.student, q.name, t.name, t.title, t.kind or "failed", t.diagnosis, t.message or "",
                    dict(t.detail or {}))
            for q in result.questions.values() for t in q.tests
            if not t.public and t.outcome in ("failed", "error")]


def cluster(failures: list[Failure]) -> list[Cluster]:
    """Group by (question, test, diagnosis or kind); biggest clusters first."""
    groups: dict[tuple[str, str, str, bool], list[Failure]] = {}
    for f in failures:
        label = f.diagnosis or f.kind
        groups.setdefault((f.question, f.test, label, f.diagnosis is not None), []).append(f)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], -len({f.student for f in kv[1]}), kv[0][1], kv[0][2]))
    clusters = []
    for i, ((question, test, label, diagnosed), members) in enumerate(ordered):
        clusters.append(Cluster(
            id=f"c{i + 1}", question=question, test=test, title=members[0].title, label=label, diagnosed=diagnosed,
            students=tuple(sorted({f.student for f in members})), example=min(members, key=lambda f: (f.size, f.student)),
        ))
    return clusters


def review(gradebook: Gradebook, assignment: str, *, questions: list[str] | None = None) -> ReviewReport:
    """Build the review of ``assignment`` from the gradebook's current results."""
    results = gradebook.current_results(assignment)
    if not results:
        raise ValueError(f"the gradebook at {gradebook.url} has no results for {assignment}: run `rlgrade grade` first")
    graded = [r for r in results if r.status == "graded"]
    names = sorted({q for r in graded for q in r.questions})
    if questions:
        unknown = sorted(set(questions) - set(names))
        if unknown:
            raise ValueError(f"questions={unknown!r} have no results in {assignment} (it has {', '.join(names)})")
        names = [q for q in names if q in questions]
    all_clusters = cluster([f for r in graded for f in failures_of(r) if f.question in names])
    reviews = []
    for name in names:
        mine = [r.questions[name] for r in graded if name in r.questions]
        lost = {r.student: [f for f in failures_of(r) if f.question == name] for r in graded if name in r.questions
                and r.questions[name].score < r.questions[name].max_score}
        answered = {s: fs for s, fs in lost.items() if any(f.kind not in NOT_AN_ANSWER for f in fs)}
        reviews.append(QuestionReview(
            question=name, max_score=max((q.max_score for q in mine), default=0.0),
            scores=tuple(q.score for q in mine), clusters=tuple(c for c in all_clusters if c.question == name),
            failing=tuple(answered), explained=tuple(s for s, fs in answered.items() if any(f.diagnosis for f in fs)),
            unanswered=tuple(s for s in lost if s not in answered),
        ))
    students = tuple(StudentReview(r.student, r.score, r.max_score, r.status, r.error,
                                   tuple(c.id for c in all_clusters if r.student in c.students))
                     for r in results)
    return ReviewReport(assignment, tuple(reviews), students)


def histogram(scores: tuple[float, ...], max_score: float, bins: int = 10) -> list[int]:
    """Counts of scores in ``bins`` equal bins over [0, max_score] (full marks in the last)."""
    counts = [0] * bins
    for s in scores:
        i = bins - 1 if max_score <= 0 else min(int(s / max_score * bins), bins - 1)
        counts[max(i, 0)] += 1
    return counts



# ---------------------------------------------------------------- renderers

SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(counts: list[int]) -> str:
    """A histogram in one line of block characters (for an 80-column terminal)."""
    top = max(counts, default=0) or 1
    return "".join(SPARK[0 if c == 0 else max(1, round(c / top * (len(SPARK) - 1)))] for c in counts)


def render_terminal(report: ReviewReport, *, question: str | None = None) -> list:
    """Rich renderables: per-question table, clusters, and (for one question) the counterexamples."""
    from rich.panel import Panel  # noqa: PLC0415 - rich only for this view
    from rich.table import Table  # noqa: PLC0415

    questions = Table("question", "full", "mean", "scores 0→max", "named", title=f"review {report.assignment}",
                      caption=f"named by a known misconception: {report.explained} of {report.failing} wrong answers "
                              f"({100 * report.explained_share:.0f}%)")
    for q in report.questions:
        questions.add_row(q.question, f"{100 * q.pass_rate:.0f}%", f"{q.mean:.1f}/{q.max_score:g}",
                          sparkline(histogram(q.scores, q.max_score)), f"{len(q.explained)}/{len(q.failing)}")
    out: list = [questions]
    groups = Table("question", "n", "how they fail (tests)", title="students who fail the same way")
    for question_name, label, diagnosed, students, tests in report.groups():
        label = f"[blue]matches: {label}[/blue]" if diagnosed else label
        groups.add_row(question_name, str(len(students)), f"{label} ({tests})\n[dim]{', '.join(students)}[/dim]")
    out.append(groups)
    errors = [s for s in report.students if s.status != "graded"]
    if errors:
        table = Table("student", "could not be graded", title="errors")
        for s in errors:
            table.add_row(s.student, (s.error or "").splitlines()[0][:120])
        out.append(table)
    if question:
        for q in report.questions:
            for c in q.clusters if q.question == question else ():
                out.append(Panel(example_text(c), title=f"{c.id} {c.test}: {c.label}", expand=False))
    return out


def example_text(c: Cluster) -> str:
    d = c.example.detail
    lines = [f"students: {', '.join(c.students)}", f"smallest counterexample ({c.example.student}):"]
    lines += [f"  {k} = {v}" for k, v in (d.get("inputs") or {}).items()]
    if "expected" in d:
        lines += [f"expected: {d['expected']}", f"got:      {d['got']}"]
    if "index" in d:
        lines.append(f"first difference at index {tuple(d['index'])}: expected {d['expected_at']}, got {d['got_at']}")
    if "rtol" in d:
        lines.append(f"tolerance: rtol={d['rtol']:g}, atol={d['atol']:g}")
    if not d:
        lines.append(c.example.message[:800])
    return "\n".join(lines)


def svg_histogram(counts: list[int], *, width: int = 180, height: int = 44, labels: tuple[str, str] = ("0", "max")) -> str:
    """An inline SVG bar chart (no scripts, no network)."""
    top = max(counts, default=0) or 1
    bar = width / max(len(counts), 1)
    plot = height - 12
    rects = "".join(
        f'<rect x="{i * bar + 1:.1f}" y="{plot - c / top * plot:.1f}" width="{bar - 2:.1f}" height="{c / top * plot:.1f}">'
        f"<title>{c} student{'s' if c != 1 else ''}</title></rect>"
        for i, c in enumerate(counts))
    return (f'<svg class="hist" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="score histogram">{rects}<text x="0" y="{height - 1}">{labels[0]}</text>'
            f'<text x="{width}" y="{height - 1}" text-anchor="end">{labels[1]}</text></svg>')


def render_html(report: ReviewReport) -> str:
    """One self-contained HTML page (inline CSS and SVG, no network)."""
    graded = [s for s in report.students if s.status == "graded"]
    clusters = [c for q in report.questions for c in q.clusters]
    max_total = max((s.max_score for s in graded), default=0.0)
    groups: dict[str, list] = {}
    for question, label, diagnosed, students, _ in report.groups():
        members = [c for c in clusters if (c.question, c.label, c.diagnosed) == (question, label, diagnosed)]
        groups.setdefault(question, []).append((label, diagnosed, students, members))
    return template("review.html.j2").render(
        report=report, groups=groups, group_count=sum(len(g) for g in groups.values()), graded=len(graded), errors=[s for s in report.students if s.status != "graded"],
        clusters=clusters, unexplained=report.unexplained_kinds,
        cluster_names={c.id: f"{c.question}: {c.label}" for c in clusters},
        histograms={q.question: svg_histogram(histogram(q.scores, q.max_score), labels=("0", f"{q.max_score:g}"))
                    for q in report.questions},
        total_histogram=svg_histogram(histogram(tuple(s.score for s in graded), max_total), width=420, height=90,
                                      labels=("0", f"{max_total:g}")),
    )


def template(name: str):
    """A Jinja2 template shipped in ``rlgrade/templates`` (autoescaped: student text is data)."""
    import jinja2  # noqa: PLC0415

    env = jinja2.Environment(loader=jinja2.PackageLoader("rlgrade", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(name)
