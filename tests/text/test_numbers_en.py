"""English numbers in words (audio/text/numbers_en.py) exactly as num2words says them: the edges, then
thousands of generated numbers, whole and decimal."""
from __future__ import annotations

from decimal import Decimal

import pytest


def _num2words_en(value: int | float, to: str) -> str | Exception:
    from num2words import num2words

    try:
        return str(num2words(value, lang="en", to=to))
    except Exception as exc:  # noqa: BLE001 - the same failure is expected of ours
        return exc


def _ours_en(value: int | float, to: str) -> str | Exception:
    from audio.text import numbers_en

    try:
        return numbers_en.say(value, to)
    except Exception as exc:  # noqa: BLE001
        return exc


def _same(value: int | float, to: str) -> None:
    theirs, ours = _num2words_en(value, to), _ours_en(value, to)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), (value, to, theirs, ours)
    else:
        assert ours == theirs, (value, to)


EDGES = [0, 1, 9, 10, 11, 12, 13, 19, 20, 21, 99, 100, 101, 110, 999, 1000, 1001, 1005, 1010, 1099, 1100, 1905, 1999,
         2000, 2005, 2010, 2759, 10000, 100000, 100001, 123456, 1000000, 1000005, 1001000, 1100000, 999999999999999,
         10**9, 10**12 + 1, 10**14 * 9]


@pytest.mark.parametrize("to", ["cardinal", "ordinal", "year"])
def test_english_numbers_are_num2words_own(to: str) -> None:
    """audio/text/numbers_en.py says every number as num2words does (it spares a build importing num2words)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    for value in EDGES + [-v for v in EDGES]:
        _same(value, to)

    @settings(max_examples=1500, deadline=None, derandomize=True)
    @given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1) | st.integers(min_value=-3000, max_value=12000))
    def whole(value: int) -> None:
        _same(value, to)

    whole()


def test_english_decimals_are_num2words_own() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    for value in (0.5, -0.5, 2.5, -2.5, 1.05, 1.239999999, 0.1, 3.14159, 1e-05, 12.0001, 999.99, 1234567.89):
        _same(value, "cardinal")

    places = st.integers(min_value=1, max_value=6)

    @settings(max_examples=1500, deadline=None, derandomize=True)
    @given(places.flatmap(lambda n: st.decimals(min_value=-(10**9), max_value=10**9, places=n,
                                                allow_nan=False, allow_infinity=False)))
    def decimal(value: Decimal) -> None:
        _same(float(value), "cardinal")

    decimal()
