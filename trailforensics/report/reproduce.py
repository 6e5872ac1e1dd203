"""The CLI commands that reproduce each table of the report (its appendix and "N more" notes)."""

from __future__ import annotations

import shlex
from pathlib import Path

from trailforensics.output.formats import plain
from trailforensics.report.model import ReportOptions

INCIDENT_SEVERITY_SQL = "severity IN ('high', 'critical')"


class Commands:
    """Command lines for a dataset and the report's options (values shell-quoted)."""

    def __init__(self, dataset: Path | str, options: ReportOptions) -> None:
        self.dataset = str(dataset)
        self.options = options

    def _cli(self, *args: object) -> str:
        return "trailforensics " + " ".join(shlex.quote(str(a)) for a in args)

    def _window(self) -> list[str]:
        out: list[str] = []
        if self.options.since:
            out += ["--since", str(plain(self.options.since))]
        if self.options.until:
            out += ["--until", str(plain(self.options.until))]
        return out

    def _hunt_extra(self) -> list[str]:
        out: list[str] = []
        for path in self.options.sigma:
            out += ["--sigma", str(path)]
        if self.options.known_accounts_file:
            out += ["--known-accounts", str(self.options.known_accounts_file)]
        return out

    def report(self, output: Path | str, fmt: str = "html") -> str:
        args: list[object] = ["report", "-d", self.dataset, "-o", output]
        if fmt != "html":
            args += ["--format", fmt]
        if self.options.title:
            args += ["--title", self.options.title]
        return self._cli(*args, *self._window(), *self._hunt_extra())

    def summary(self) -> str:
        return self._cli("summary", "-d", self.dataset, *self._window())

    def hunt(self, detection_id: str | None = None, *, sigma_rule: bool = False) -> str:
        only = ["--only", detection_id] if detection_id and not sigma_rule else []
        return self._cli("hunt", "-d", self.dataset, *only, *self._window(), *self._hunt_extra(), "-f", "csv")

    def hunt_high(self) -> str:
        """The high and critical hits, whose keys and principals the attacker's path traces."""
        return self._cli(
            "hunt", "-d", self.dataset, "--min-severity", "high", *self._window(), *self._hunt_extra(), "-f", "csv"
        )

    def detections(self) -> str:
        return self._cli("detections")

    def trace(self, target: str) -> str:
        return self._cli("trace", target, "-d", self.dataset)

    def trails(self) -> str:
        return self._cli("trails", "-d", self.dataset, *self._window())

    def coverage(self) -> str:
        return self._cli("coverage", "-d", self.dataset, *self._window())

    def identities(self) -> str:
        return self._cli("identities", "-d", self.dataset, *self._window())

    def timeline(self, since: object, until: object) -> str:
        return self._cli("timeline", "-d", self.dataset, "--since", plain(since), "--until", plain(until))

    def sql(self, query: str) -> str:
        return self._cli("sql", "-d", self.dataset, query)

    def verification_findings(self) -> str:
        return self.sql("SELECT severity, kind, start_time, end_time, message FROM verification_findings")

    def failed_files(self) -> str:
        return self.sql(
            "SELECT source_file, kind, status, reason, records, rejected FROM files "
            "WHERE status NOT IN ('ingested', 'skipped', 'unchanged') OR rejected > 0"
        )

    def user_agents(self) -> str:
        return self.sql(
            "SELECT user_agent, count(*) AS events, count(DISTINCT actor) AS actors FROM events "
            "GROUP BY ALL ORDER BY events DESC"
        )
