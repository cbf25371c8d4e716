"""`./dev bench [--quick] [NAME ...]`: every bench/bench_*.py (or those named), on SQLite and on PostgreSQL.

Each script runs once on SQLite, and once more on PostgreSQL when one is reachable (`--database-url URL` of an
empty database made for that run and dropped after it; the server: --postgres, default the local one, trust auth)
if the script takes `--database-url`. `--quick` is passed to the scripts that take it (and BENCH_QUICK=1 is set for
all), for a short run. The scripts' own output is shown as they run; at the end one table puts each figure of
both runs side by side, in the order printed, so every figure stays beside the same-run baseline printed with it.

The harness knows nothing of what a script measures: a script's figures are the lines of its output shaped
"label   value" (a label, two or more spaces or a colon, then a number), keyed by their label.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
# "label  12.3 unit..." or "label: 12.3 unit...": the label, then the figure text from its first number on.
FIGURE = re.compile(r"^(?P<label>\S.*?)(?:\s{2,}|:\s+)(?P<value>[-+~]?\d[\d.,]*(?:\s*\S.*)?)$")
CELL_WIDTH = 46


@dataclass
class Run:
    script: str
    database: str            # "SQLite" or "PostgreSQL"
    exit_code: int = 0
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)


def takes(script: Path, option: str) -> bool:
    """Whether the script's argument parser declares `option` (read from its source; nothing is imported)."""
    return f'"{option}"' in script.read_text(encoding="utf-8")


def postgres_server(url: str | None) -> str | None:
    """The PostgreSQL server's admin URL when one answers, else None."""
    url = url or DEFAULT_POSTGRES
    try:
        import psycopg2

        psycopg2.connect(url, connect_timeout=2).close()
        return url
    except Exception:  # noqa: BLE001 - any failure to connect means: no PostgreSQL for this run
        return None


def admin_sql(server: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(server)
    connection.autocommit = True
    try:
        connection.cursor().execute(sql)
    finally:
        connection.close()


def database_url(server: str, name: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + name


def run_script(script: Path, database: str, extra: list[str], env: dict) -> Run:
    run = Run(script.name, database)
    print(f"=== {script.name} ({database}) ===", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(script), *extra], cwd=HERE.parent, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
    for line in process.stdout:
        print(line, end="", flush=True)
        run.lines.append(line.rstrip("\n"))
    run.exit_code = process.wait()
    run.seconds = time.perf_counter() - started
    print(f"--- {script.name} ({database}): exit {run.exit_code}, {run.seconds:.1f} s\n", flush=True)
    return run


def run_on_postgres(script: Path, server: str, extra: list[str], env: dict) -> Run:
    """The script against a fresh database of its own, dropped afterwards."""
    name = f"bench_{script.stem.removeprefix('bench_')}_{uuid.uuid4().hex[:8]}"
    admin_sql(server, f'CREATE DATABASE "{name}"')
    try:
        return run_script(script, "PostgreSQL", [*extra, "--database-url", database_url(server, name)], env)
    finally:
        admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def figures(lines: list[str]) -> list[tuple[str, str]]:
    """(label, value) of each figure line, labels made unique by numbering repeats."""
    out, seen = [], {}
    for line in lines:
        match = FIGURE.match(line.strip())
        if not match or line.startswith(("===", "---", "Traceback")):
            continue
        label = " ".join(match["label"].split())
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        out.append((label, " ".join(match["value"].split())))
    return out


def merged_rows(runs: list[Run]) -> list[tuple[str, dict[str, str]]]:
    """Labels in the order first printed (SQLite's order, then what only PostgreSQL printed) with each run's value."""
    rows: dict[str, dict[str, str]] = {}
    for run in runs:
        for label, value in figures(run.lines):
            rows.setdefault(label, {})[run.database] = value
    return list(rows.items())


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def print_table(runs_by_script: dict[str, list[Run]], databases: list[str]) -> None:
    """One table: a section per script, each figure with one column per database."""
    label_width = 58
    header = f"{'figure':<{label_width}} | " + " | ".join(f"{db:<{CELL_WIDTH}}" for db in databases)
    print("=" * len(header))
    print(header)
    print("-" * len(header))
    for script, runs in runs_by_script.items():
        status = ", ".join(f"{run.database} exit {run.exit_code} in {run.seconds:.0f} s" for run in runs)
        print(f"[{script}] {status}")
        for label, values in merged_rows(runs):
            cells = " | ".join(f"{clip(values.get(db, '–'), CELL_WIDTH):<{CELL_WIDTH}}" for db in databases)
            print(f"  {clip(label, label_width - 2):<{label_width - 2}} | {cells}")
    print("=" * len(header))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only the scripts whose file name contains one of these")
    parser.add_argument("--quick", action="store_true", help="a short run (smaller data, fewer rounds)")
    parser.add_argument("--postgres", default=None,
                        help=f"the PostgreSQL server to also run on (an admin URL; default {DEFAULT_POSTGRES})")
    parser.add_argument("--sqlite-only", action="store_true", help="do not run on PostgreSQL")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.names:
        scripts = [s for s in scripts if any(n in s.name for n in args.names)]
    server = None if args.sqlite_only else postgres_server(args.postgres)
    print(f"benchmarks: {', '.join(s.name for s in scripts)}; PostgreSQL: "
          f"{'at ' + server.rsplit('@', 1)[-1] if server else 'not reachable, SQLite only'}; "
          f"{'quick' if args.quick else 'full'} run, {os.cpu_count()} CPUs\n", flush=True)
    env = {**os.environ, **({"BENCH_QUICK": "1"} if args.quick else {})}
    runs_by_script: dict[str, list[Run]] = {}
    for script in scripts:
        extra = ["--quick"] if args.quick and takes(script, "--quick") else []
        runs = [run_script(script, "SQLite", extra, env)]
        if server and takes(script, "--database-url"):
            runs.append(run_on_postgres(script, server, extra, env))
        runs_by_script[script.name] = runs
    databases = ["SQLite"] + (["PostgreSQL"] if server else [])
    print_table(runs_by_script, databases)
    return 1 if any(run.exit_code for runs in runs_by_script.values() for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
