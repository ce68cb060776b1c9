"""What can go wrong with a lesson file, said so that a teacher can fix it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LessonError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or doubtful) in a lesson file, located as closely as the text allows."""

    file: str  # the file's name or path as given
    message: str
    line: int | None = None  # 1-based line in the file, when it could be found
    step: int | None = None  # 1-based step number, when the problem belongs to a step
    severity: str = "error"  # "error" (the lesson cannot be used) or "warning" (it can, but look again)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        step = f" step {self.step}:" if self.step else ""
        kind = " warning:" if self.severity == "warning" else ""
        return f"{where}:{kind}{step} {self.message}"


class LessonError(ValueError):
    """A lesson file cannot be used. The message names the file and every problem found.

    ``problems`` holds them one by one (with line and step) for a tool that wants to list them.
    """

    def __init__(self, file: str, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file, problems)]
        self.file = file
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"] or self.problems
        if len(errors) == 1:
            text = str(errors[0])
        else:
            text = f"{file}: {len(errors)} problems:\n" + "\n".join(f"  {p}" for p in errors)
        super().__init__(text)
