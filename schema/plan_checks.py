"""Checking compiled plans against graphql-core's path, for the test suite.

With ``PLAN_CHECKS.enabled`` (set for every test by ``tests/conftest.py``), every value a
plan completes is completed again from the same resolved value by graphql-core's path,
and any difference in the data, an error the plan did not report, or a compilation that
failed otherwise than by refusing a selection, is recorded in
``mismatches`` (the suite fails the test that caused it). Every document is then compiled
on its first run, so each query the suite sends is a differential test of the plan. Off in
production: a plan is then the only completion.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PlanChecks:
    enabled: bool = False
    completed: int = 0  # values a plan completed (and that were checked)
    mismatches: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.completed = 0
        self.mismatches.clear()


PLAN_CHECKS = PlanChecks()
