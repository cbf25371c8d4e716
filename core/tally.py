"""What a job run counts (sent=3 retried=1 …): counters that start at 0 and print as the job's log line.

    class RunReport(tally("sent", "retried", "failed")):
        '''What one run of the job did.'''

    report = RunReport(); report.sent += 1; log.info("%s", report)   # sent=1 retried=0 failed=0
"""
from __future__ import annotations

from dataclasses import field, fields, make_dataclass


class Tally:
    """The base of the classes `tally` makes."""

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))

    def add(self, other: Tally) -> None:
        """Count what `other` (a tally of the same class: another run) counted too."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def tally(*counters: str) -> type:
    """A dataclass with these counters (whole numbers, each 0 at first); subclass it to name it."""
    return make_dataclass("Tally", [(name, int, field(default=0)) for name in counters], bases=(Tally,))
