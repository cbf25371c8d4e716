"""Ticket allocation (R-44, R-45): the seed's example exactly, and the edges around it."""
import pytest

from sms.bulk.allocation import allocate, shortage_message, tickets_needed


def test_seed_example_ten_recipients_two_messages_fifteen_tickets():
    result = allocate([(True, True)] * 10, tickets=15)

    assert [result.outcome(r) for r in range(10)] == ["all"] * 7 + ["partial"] + ["none"] * 2
    assert result.granted[7] == (True, False)
    assert result.granted[8] == (False, False) and result.granted[9] == (False, False)
    assert result.used == 14 + 1
    assert result.needed == 20
    assert result.denied == 5
    assert result.first_denied == (7, 1)


def test_tickets_not_in_use_grant_everything():
    result = allocate([(True, True)] * 3, tickets=None)
    assert result.used == 6 and result.first_denied is None
    assert all(result.outcome(r) == "all" for r in range(3))


@pytest.mark.parametrize("tickets, expected", [
    (0, ["none", "none", "none"]),
    (1, ["partial", "none", "none"]),
    (2, ["all", "none", "none"]),
    (5, ["all", "all", "partial"]),
    (6, ["all", "all", "all"]),
    (100, ["all", "all", "all"]),
])
def test_recipient_by_recipient_then_message_by_message(tickets, expected):
    result = allocate([(True, True)] * 3, tickets)
    assert [result.outcome(r) for r in range(3)] == expected
    assert result.used == min(tickets, 6)


def test_slots_not_wanted_cost_nothing_and_stay_distinct_from_unpaid():
    # A resend of failures: the 1st recipient needs only its 2nd message, the 2nd both, the 3rd only the 1st.
    wants = [(False, True), (True, True), (True, False)]
    result = allocate(wants, tickets=2)
    assert tickets_needed(wants) == 4
    assert result.granted == [(None, True), (True, False), (False, None)]
    assert [result.outcome(r) for r in range(3)] == ["all", "partial", "none"]
    assert allocate([(False, False)], 0).outcome(0) == "nothing"


def test_single_message_sends():
    result = allocate([(True,)] * 4, tickets=3)
    assert [result.outcome(r) for r in range(4)] == ["all", "all", "all", "none"]


def test_shortage_message_names_both_counts_in_japanese():
    assert shortage_message(20, 20) is None
    assert shortage_message(20, 25) is None
    message = shortage_message(20, 15)
    assert "チケットが不足" in message and "必要 20 枚" in message and "残り 15 枚" in message
