"""`./dev bench`'s harness reads any script's figures from its output, and puts both databases side by side."""
from pathlib import Path

from bench.__main__ import Run, figures, merged_rows, takes

SQLITE_OUTPUT = """Gather webhook, 1,080 requests over one keep-alive connection (waitress, SQLite WAL), 12 alternating rounds:
  full webhook (signature, DB writes, TwiML)       1234 req/s   p50   0.80 ms   p99   2.00 ms
  bare Flask endpoint, constant TwiML              2000 req/s   p50   0.50 ms   p99   1.00 ms
  full / bare throughput: 0.62 (goal: at least 0.50)
  baseline: bare twilio client, create() loop          2.70 s   740.1 messages/s
Traceback (most recent call last):"""


def test_figures_are_label_and_value_lines_whatever_the_script():
    assert figures(SQLITE_OUTPUT.splitlines()) == [
        ("full webhook (signature, DB writes, TwiML)", "1234 req/s p50 0.80 ms p99 2.00 ms"),
        ("bare Flask endpoint, constant TwiML", "2000 req/s p50 0.50 ms p99 1.00 ms"),
        ("full / bare throughput", "0.62 (goal: at least 0.50)"),
        ("baseline: bare twilio client, create() loop", "2.70 s 740.1 messages/s"),
    ]


def test_both_databases_are_merged_by_label_in_the_order_printed():
    sqlite = Run("bench_x.py", "SQLite", lines=["  one thing   1 ms", "  baseline   2 ms"])
    postgres = Run("bench_x.py", "PostgreSQL", lines=["  baseline   4 ms", "  one thing   3 ms", "  only here: 5"])
    assert merged_rows([sqlite, postgres]) == [
        ("one thing", {"SQLite": "1 ms", "PostgreSQL": "3 ms"}),
        ("baseline", {"SQLite": "2 ms", "PostgreSQL": "4 ms"}),
        ("only here", {"PostgreSQL": "5"}),
    ]


def test_options_are_passed_only_to_scripts_that_declare_them():
    bench = Path(__file__).resolve().parents[2] / "bench"
    assert takes(bench / "bench_ivr.py", "--database-url") and takes(bench / "bench_ivr.py", "--quick")
    assert not takes(bench / "bench_guidance.py", "--database-url")
