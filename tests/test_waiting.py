"""The tests' one wait helper: returns what it waited for, and a timeout names what was awaited and was seen."""

from __future__ import annotations

import itertools

import pytest

from tests.waiting import WaitTimeout, wait_until


def test_returns_the_first_true_value() -> None:
    values = iter([0, [], {"n": 3}])
    assert wait_until(lambda: next(values), 5, poll_s=0) == {"n": 3}


def test_until_checks_the_value_and_returns_it() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter), 5, until=lambda n: n >= 3, poll_s=0) == 3


def test_timeout_names_the_condition_and_the_last_value() -> None:
    counter = itertools.count()
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: {"seen": next(counter)}, 0, until=lambda v: v["seen"] < 0)
    message = str(info.value)
    assert message.startswith("waited 0 s for ")
    assert 'until=lambda v: v["seen"] < 0' in message  # the condition's own source line
    assert message.endswith("last seen: {'seen': 0}")


def test_timeout_says_what_was_awaited_when_told() -> None:
    with pytest.raises(WaitTimeout, match=r"waited 0 s for the hub to start; last seen: False$"):
        wait_until(lambda: False, 0, what="the hub to start")


def test_ignored_errors_mean_not_yet_and_the_last_one_is_shown() -> None:
    attempts = iter([ConnectionError("refused"), ConnectionError("refused"), "up"])

    def connect() -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert wait_until(connect, 5, ignoring=(ConnectionError,), poll_s=0) == "up"
    with pytest.raises(WaitTimeout, match=r"last seen: ConnectionError: refused$"):
        wait_until(lambda: connect_refused(), 0, ignoring=(ConnectionError,))


def test_other_errors_fail_at_once() -> None:
    calls = []

    def crashed() -> bool:
        calls.append(1)
        raise RuntimeError("hub exited")

    with pytest.raises(RuntimeError, match="hub exited"):
        wait_until(crashed, 60, ignoring=(ConnectionError,))
    assert len(calls) == 1


def connect_refused() -> None:
    raise ConnectionError("refused")
