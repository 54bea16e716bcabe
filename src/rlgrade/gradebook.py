"""The gradebook: students, assignments, submissions, every grading run and its per-test results.

Any SQLAlchemy URL works (SQLite by default, PostgreSQL for a shared deployment:
``postgresql+psycopg://user@host/db``, tested against a real server in tests/test_gradebook_postgres.py).
A regrade adds a new :class:`Grading` and moves the submission's ``current``
pointer to it: the latest result is what counts, earlier ones stay as history.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import (JSON, DateTime, Float, ForeignKey, String, Text, UniqueConstraint, create_engine, event, inspect,
                        select, text)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from rlgrade.grade import QuestionResult, SubmissionResult
from rlgrade.sandbox import storable_text
from rlgrade.testing.plugin import TestOutcome
from rlgrade.testing.training import stored_curves

DEFAULT_URL = "sqlite:///gradebook.db"
WRITE_ATTEMPTS = 8
"""Two graders on one gradebook can collide creating the same student row, or (SQLite)
find the database locked; a write that fails that way is retried this many times."""


class Base(DeclarativeBase):
    pass


class StudentRow(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)


class AssignmentRow(Base):
    __tablename__ = "assignments"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)


class SubmissionRow(Base):
    """One student's submission of one assignment; points at its current grading."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("student_id", "assignment_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"))
    current_grading_id: Mapped[int | None] = mapped_column(ForeignKey("gradings.id", use_alter=True), nullable=True)
    gradings: Mapped[list["GradingRow"]] = relationship(
        back_populates="submission", foreign_keys="GradingRow.submission_id", order_by="GradingRow.id")
    current: Mapped["GradingRow | None"] = relationship(foreign_keys=[current_grading_id], post_update=True)


class GradingRow(Base):
    """One grading run of a submission (a regrade adds another)."""

    __tablename__ = "gradings"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    grader_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    output: Mapped[str] = mapped_column(Text, default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    curves: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """The training runs' learning curves (``SubmissionResult.curves``); NULL in older gradebooks."""
    submission: Mapped[SubmissionRow] = relationship(back_populates="gradings", foreign_keys=[submission_id])
    tests: Mapped[list["TestResultRow"]] = relationship(back_populates="grading", order_by="TestResultRow.id",
                                                        cascade="all, delete-orphan")


class TestResultRow(Base):
    __tablename__ = "test_results"
    __test__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    grading_id: Mapped[int] = mapped_column(ForeignKey("gradings.id"))
    question: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20))
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(default=False)
    diagnosis: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    grading: Mapped[GradingRow] = relationship(back_populates="tests")


class Gradebook:
    """A gradebook at a SQLAlchemy URL; tables are created on first use."""

    def __init__(self, url: str = DEFAULT_URL):
        self.url = url
        self.engine = create_engine(with_driver(url), **engine_options(url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", sqlite_pragmas)
        retrying(lambda: Base.metadata.create_all(self.engine))
        retrying(lambda: add_missing_columns(self.engine))

    def record(self, result: SubmissionResult, *, graded_at: datetime | None = None) -> int:
        """Store one grading; it becomes the submission's current result. Returns the grading id."""
        return retrying(lambda: self._record(result, graded_at))

    def _record(self, result: SubmissionResult, graded_at: datetime | None) -> int:
        result = storable(result, fit_lengths=self.engine.dialect.name != "sqlite")
        with Session(self.engine) as db, db.begin():
            submission = self._submission(db, result.student, result.assignment)
            grading = GradingRow(
                graded_at=graded_at or datetime.now(timezone.utc), path=result.path, content_hash=result.content_hash,
                grader_hash=result.grader_hash or None,
                status=result.status, error=result.error, score=result.score, max_score=result.max_score,
                warnings=list(result.warnings), output=result.output, seconds=result.seconds,
                curves=list(result.curves) or None,
                tests=[TestResultRow(question=t.question, name=t.name, title=t.title, outcome=t.outcome,
                                     points=t.points, max_points=t.max_points, message=t.message, kind=t.kind,
                                     diagnosis=t.diagnosis, detail=t.detail, public=t.public)
                       for q in result.questions.values() for t in q.tests],
            )
            submission.gradings.append(grading)
            db.flush()
            submission.current = grading
            return grading.id

    def _submission(self, db: Session, student: str, assignment: str) -> SubmissionRow:
        if db.get(StudentRow, student) is None:
            db.add(StudentRow(id=student))
        if db.get(AssignmentRow, assignment) is None:
            db.add(AssignmentRow(id=assignment))
        row = db.scalar(select(SubmissionRow).where(SubmissionRow.student_id == student,
                                                    SubmissionRow.assignment_id == assignment))
        if row is None:
            row = SubmissionRow(student_id=student, assignment_id=assignment)
            db.add(row)
        return row

    def current_results(self, assignment: str) -> list[SubmissionResult]:
        """The current result of every student for ``assignment``, sorted by student."""
        with Session(self.engine) as db:
            rows = db.scalars(select(SubmissionRow).where(SubmissionRow.assignment_id == assignment)
                              .order_by(SubmissionRow.student_id)).all()
            return [to_result(row.student_id, assignment, row.current) for row in rows if row.current is not None]

    def history(self, student: str, assignment: str) -> list[SubmissionResult]:
        """Every grading of one submission, oldest first."""
        with Session(self.engine) as db:
            row = db.scalar(select(SubmissionRow).where(SubmissionRow.student_id == student,
                                                        SubmissionRow.assignment_id == assignment))
            return [] if row is None else [to_result(student, assignment, g) for g in row.gradings]

    def recorded(self, assignment: str) -> dict[str, tuple[str, str, str]]:
        """student → (content hash, grader hash, status) of the current grading: what a rerun may skip."""
        with Session(self.engine) as db:
            rows = db.execute(select(SubmissionRow.student_id, GradingRow.content_hash, GradingRow.grader_hash,
                                     GradingRow.status)
                              .join(GradingRow, SubmissionRow.current_grading_id == GradingRow.id)
                              .where(SubmissionRow.assignment_id == assignment)).all()
            return {student: (content, grader or "", status) for student, content, grader, status in rows}

    def assignments(self) -> list[str]:
        with Session(self.engine) as db:
            return list(db.scalars(select(AssignmentRow.id).order_by(AssignmentRow.id)))


def to_result(student: str, assignment: str, grading: GradingRow) -> SubmissionResult:
    tests: dict[str, list[TestOutcome]] = {}
    for t in grading.tests:
        tests.setdefault(t.question, []).append(
            TestOutcome(t.name, t.question, t.outcome, t.points, t.max_points, t.message, t.title, t.kind or "",
                        t.diagnosis, t.public, t.detail))
    questions = {name: QuestionResult(name, sum(t.points for t in ts), sum(t.max_points for t in ts), tuple(ts))
                 for name, ts in tests.items()}
    warnings = grading.warnings if isinstance(grading.warnings, list) else json.loads(grading.warnings or "[]")
    return SubmissionResult(student, assignment, grading.path, grading.content_hash, grading.status, grading.error,
                            grading.score, grading.max_score, questions, tuple(warnings), grading.output,
                            grading.seconds, grading.grader_hash or "", curves=tuple(grading.curves or ()))


def storable(result: SubmissionResult, *, fit_lengths: bool = False) -> SubmissionResult:
    """The result with every free text made storable (a submission chooses what it prints and raises).

    ``fit_lengths``: also cut test names to their column's length, for a database that enforces
    declared lengths (PostgreSQL refuses a longer value; SQLite ignores them and keeps it whole).
    A test's name is pytest's, parametrized ids included: a long prompt string makes a long name."""
    fit = fitted if fit_lengths else (lambda value, _column: value)
    questions = {name: replace(q, tests=tuple(replace(t, name=fit(t.name, TestResultRow.__table__.c.name),
                                                      message=storable_text(t.message), title=storable_text(t.title) or "",
                                                      kind=storable_text(t.kind) or "", diagnosis=storable_text(t.diagnosis))
                                              for t in q.tests))
                 for name, q in result.questions.items()}
    return replace(result, error=storable_text(result.error), output=storable_text(result.output) or "", questions=questions,
                   warnings=tuple(storable_text(w) or "" for w in result.warnings),
                   curves=tuple(stored_curves(result.curves)))  # numbers the worker sent: finite, and not too many


def fitted(value: str, column) -> str:
    """``value`` cut to ``column``'s declared length, its last kept character an ellipsis."""
    limit = column.type.length
    return value if len(value) <= limit else value[:limit - 1] + "\u2026"


def with_driver(url: str) -> URL:
    """``url`` with a driver rlgrade installs: ``postgresql://`` means psycopg 3 here, where
    SQLAlchemy would pick psycopg2."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg") if parsed.drivername == "postgresql" else parsed


def engine_options(url: str) -> dict:
    # SQLite waits this long for another grader's write lock instead of failing at once
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}


def sqlite_pragmas(connection, _record) -> None:
    """WAL lets readers (review, feedback) run while a grader writes; synchronous=NORMAL is safe with WAL."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def retrying(write):
    """Run ``write`` (one transaction), again after a collision with another grader."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return write()
        except (IntegrityError, OperationalError, ProgrammingError) as exc:
            # two graders creating or migrating the tables at once: PostgreSQL says "already exists"
            # (a ProgrammingError), SQLite "duplicate column"
            if attempt == WRITE_ATTEMPTS - 1 or not is_collision(exc):
                raise
            time.sleep(0.05 * 2**attempt)


def is_collision(exc: Exception) -> bool:
    message = str(exc).lower()
    return isinstance(exc, IntegrityError) or "locked" in message or "busy" in message or "already exists" in message \
        or "duplicate column" in message or "deadlock" in message or "could not serialize" in message


def add_missing_columns(engine) -> None:
    """Bring a gradebook written by an older rlgrade up to date: add the columns it lacks (all nullable)."""
    existing = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            have = {c["name"] for c in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=engine.dialect)
                    connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
