"""R-52 retention (core.retention), pure: which days go, and the batching loop (a transaction per batch)."""
import contextlib
import datetime as dt

from core.retention import KeyRange, oldest_kept_day, purge_before, purge_in_batches


def test_day_90_is_kept_and_day_91_deleted():
    today = dt.date(2026, 4, 10)
    assert oldest_kept_day(today, 90) == today - dt.timedelta(days=90)
    before = purge_before(today, 90)
    day_90 = dt.datetime.combine(today - dt.timedelta(days=90), dt.time(0, 0))
    day_91_last_second = dt.datetime.combine(today - dt.timedelta(days=91), dt.time(23, 59, 59))
    assert not day_90 < before
    assert day_91_last_second < before


def ranges_of(rows: list[int]):
    """next_range over a sorted list of keys, as delete_rows finds them; the ranges it was asked for."""
    asked = []

    def next_range(after, size):
        asked.append(after)
        batch = [key for key in rows if after is None or key > after][:size]
        return KeyRange(after, batch[-1], len(batch)) if batch else None

    return next_range, asked


def delete_from(rows: list[int]):
    def delete_range(batch):
        gone = [key for key in rows if (batch.after is None or key > batch.after) and key <= batch.upto]
        for key in gone:
            rows.remove(key)
        return len(gone)

    return delete_range


def test_batches_each_in_their_own_transaction_until_nothing_is_left():
    rows = list(range(100, 123))
    transactions = []

    @contextlib.contextmanager
    def transaction():
        transactions.append("open")
        yield
        transactions[-1] = "closed"

    next_range, asked = ranges_of(rows)

    def delete_range(batch):
        assert transactions[-1] == "open"
        return delete_from(rows)(batch)

    assert purge_in_batches(next_range, delete_range, 10, transaction) == 23
    assert rows == []
    assert transactions == ["closed"] * 3  # 10 + 10 + 3: the short batch ends it without another query
    assert asked == [None, 109, 119]  # each range starts past the last key of the one before


def test_exact_multiple_needs_one_empty_look_more():
    rows = list(range(20))
    next_range, asked = ranges_of(rows)
    transactions = []

    @contextlib.contextmanager
    def transaction():
        transactions.append("open")
        yield

    assert purge_in_batches(next_range, delete_from(rows), 10, transaction) == 20
    assert asked == [None, 9, 19]
    assert len(transactions) == 2  # the look that finds nothing opens no transaction

