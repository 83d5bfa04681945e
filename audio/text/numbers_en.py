"""English numbers in words exactly as num2words 0.5 says them (cardinal, ordinal, year), below a
thousand trillion, without importing num2words: its package imports all of its 56 languages first
(what that cost: docs/performance.md). Larger numbers, and every other language, still go to
num2words (audio/text/normalize.py). tests/text/test_numbers_en.py holds these to num2words' own answers.
"""
from __future__ import annotations

import math
from decimal import Decimal

LIMIT = 10**15  # from here on, num2words itself

_LOW = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
_ORDINALS = {"one": "first", "two": "second", "three": "third", "four": "fourth", "five": "fifth", "six": "sixth",
             "seven": "seventh", "eight": "eighth", "nine": "ninth", "ten": "tenth", "eleven": "eleventh",
             "twelve": "twelfth"}


FORMS = ("cardinal", "ordinal", "year")


def say(value: int | float, to: str) -> str:
    """The number as num2words(value, lang="en", to=to) says it, for the FORMS; `to` "year" wants an int."""
    if to == "year":
        return year(int(value))
    return ordinal(value) if to == "ordinal" else cardinal(value)


def cardinal(value: int | float) -> str:
    """"two thousand, seven hundred and fifty-nine"; "minus two point five"."""
    if value != int(value):
        return _decimal(float(value))
    number = int(value)
    return f"minus {_whole(-number)}" if number < 0 else _whole(number)


def ordinal(value: int | float) -> str:
    """"fifty-ninth"; num2words' TypeError for a negative or fractional value."""
    if value != int(value) or value < 0:
        raise TypeError(f"no ordinal for {value}")
    words = cardinal(value).split(" ")
    parts = words[-1].split("-")
    last = parts[-1]
    parts[-1] = _ORDINALS.get(last) or (last[:-1] + "ie" if last.endswith("y") else last) + "th"
    words[-1] = "-".join(parts)
    return " ".join(words)


def year(value: int) -> str:
    """"nineteen ninety-nine", "nineteen oh-five", "two thousand and five", "forty-four BC"."""
    suffix = " BC" if value < 0 else ""
    value = abs(value)
    high, low = divmod(value, 100)
    if high == 0 or (high % 10 == 0 and low < 10) or high >= 100:
        return cardinal(value) + suffix
    tail = "hundred" if low == 0 else f"oh-{cardinal(low)}" if low < 10 else cardinal(low)
    return f"{cardinal(high)} {tail}{suffix}"


def _whole(number: int) -> str:
    if number < 20:
        return _LOW[number]
    if number < 100:
        tens, units = divmod(number, 10)
        return _TENS[tens] + (f"-{_LOW[units]}" if units else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{_LOW[hundreds]} hundred" + (f" and {_whole(rest)}" if rest else "")
    for scale, word in _SCALES:
        if number >= scale:
            count, rest = divmod(number, scale)
            head = f"{_whole(count)} {word}"
            if not rest:
                return head
            return f"{head} and {_whole(rest)}" if rest < 100 else f"{head}, {_whole(rest)}"
    raise ValueError(number)  # (not reached: 1000 and more have a scale)


def _decimal(value: float) -> str:
    """num2words' reading of a float, its rounding and its quirks kept (-0.5 is "zero point five")."""
    whole = int(value)
    exponent = Decimal(str(value)).as_tuple().exponent
    if not isinstance(exponent, int):  # inf, nan: num2words fails the same way
        raise TypeError(f"not a number: {value}")
    places = abs(exponent)
    fraction = abs(value - whole) * 10**places
    digits = int(round(fraction)) if abs(round(fraction) - fraction) < 0.01 else int(math.floor(fraction))
    shown = str(digits).rjust(places, "0")
    out = [cardinal(whole)] + (["point"] if places else [])
    return " ".join(out + [cardinal(int(shown[i])) for i in range(places)])
