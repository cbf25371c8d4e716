"""R-52 retention (core.retention), pure: which days go, and the batching loop (a transaction per batch)."""
import contextlib
import datetime as dt

from core.retention import oldest_kept_day, purge_before, purge_in_batches


def test_day_90_is_kept_and_day_91_deleted():
    today = dt.date(2026, 4, 10)
    assert oldest_kept_day(today, 90) == today - dt.timedelta(days=90)
    before = purge_before(today, 90)
    day_90 = dt.datetime.combine(today - dt.timedelta(days=90), dt.time(0, 0))
    day_91_last_second = dt.datetime.combine(today - dt.timedelta(days=91), dt.time(23, 59, 59))
    assert not day_90 < before
    assert day_91_last_second < before


def test_batches_each_in_their_own_transaction_until_nothing_is_left():
    rows = list(range(23))
    transactions = []

    @contextlib.contextmanager
    def transaction():
        transactions.append("open")
        yield
        transactions[-1] = "closed"

    def take(size):
        assert transactions[-1] == "open"
        return rows[:size]

    def delete(keys):
        del rows[:len(keys)]
        return len(keys)

    assert purge_in_batches(take, delete, 10, transaction) == 23
    assert rows == []
    assert transactions == ["closed"] * 3  # 10 + 10 + 3: the short batch ends it without another query


def test_exact_multiple_needs_one_empty_look_more():
    rows = list(range(20))
    calls = []

    def take(size):
        calls.append(size)
        return rows[:size]

    def delete(keys):
        del rows[:len(keys)]
        return len(keys)

    assert purge_in_batches(take, delete, 10, contextlib.nullcontext) == 20
    assert calls == [10, 10, 10]
