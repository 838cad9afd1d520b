"""The words of an audience description (describe.py): the text cut into
tokens that remember where they stand, and readers for the values a marketer
writes in them: amounts ("INR 10,000", "₹1.5L", "10k"), counts ("twice"),
durations ("3 months") and dates ("1 Jan", "2026-01-15", "Jan 2026").

Readers take a `Cursor` and return a value with the cursor moved past it, or
None with the cursor where it was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

_TOKEN = re.compile(r"""
  (?P<space>\s+)
| (?P<quoted>"[^"]*"|“[^”]*”|'[^'\s][^']*')
| (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
| (?P<domain>@[\w-]+(?:\.[\w-]+)+)
| (?P<date>\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})
| (?P<currency>₹|(?i:rs|inr)\.?(?=\s*\d))
| (?P<number>\d{1,3}(?:,\d{2,3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<unit>[^\W\d_]+)?
| (?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?!\w)
| (?P<word>[^\W\d_][\w'’-]*)
| (?P<symbol>>=|<=|≥|≤|>|<|=|\(|\)|,|\+|-|–|—|:|/|&)
| (?P<skip>[.?!;]+)
| (?P<junk>\S)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # word, quoted, number, date, email, domain, host, currency, symbol, junk
    text: str  # as written (quotes stripped for `quoted`)
    start: int
    end: int
    unit: str = ""  # letters written straight after a number: "k" in "10k"

    @property
    def low(self) -> str:
        return self.text.casefold().replace("’", "'") if self.kind != "symbol" else self.text


def tokenize(text: str) -> list[Token]:
    tokens = []
    for found in _TOKEN.finditer(text):
        kind = found.lastgroup if found.lastgroup != "unit" else "number"
        if kind in ("space", "skip"):
            continue
        if kind == "quoted":
            tokens.append(Token(kind, found[0][1:-1], found.start(), found.end()))
        elif kind == "number":
            tokens.append(Token(kind, found["number"], found.start(), found.end(),
                                (found["unit"] or "").casefold()))
        else:
            tokens.append(Token(kind, found[0], found.start(), found.end()))
    return tokens


class Cursor:
    """A position in the tokens; `mark()` / `back(mark)` undo a failed read."""

    def __init__(self, tokens: list[Token]):
        self.tokens, self.pos = tokens, 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def word(self, ahead: int = 0) -> str:
        token = self.peek(ahead)
        return token.low if token is not None and token.kind in ("word", "symbol") else ""

    def at(self, phrase: tuple[str, ...]) -> bool:
        return all(self.word(i) == part for i, part in enumerate(phrase))

    def accept(self, *phrases: tuple[str, ...]) -> tuple[str, ...] | None:
        """The longest of `phrases` written here, consumed; None if none is."""
        for phrase in sorted(phrases, key=len, reverse=True):
            if self.at(phrase):
                self.pos += len(phrase)
                return phrase
        return None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    def mark(self) -> int:
        return self.pos

    def back(self, mark: int) -> None:
        self.pos = mark


NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20,
                "zero": 0, "once": 1, "twice": 2, "thrice": 3}
_SCALES = {"k": 1_000, "thousand": 1_000, "l": 100_000, "lakh": 100_000, "lakhs": 100_000,
           "lac": 100_000, "lacs": 100_000, "cr": 10_000_000, "crore": 10_000_000,
           "crores": 10_000_000, "mn": 1_000_000, "million": 1_000_000}
_MONEY_AFTER = {"inr", "rupees", "rupee", "rs"}


@dataclass(frozen=True)
class Amount:
    value: int | float
    money: bool  # written with a currency: INR, ₹, Rs, rupees


def plain(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def read_amount(cursor: Cursor) -> Amount | None:
    mark = cursor.mark()
    money = _accept_currency(cursor)
    token = cursor.peek()
    if token is not None and token.kind == "number":
        scale = _SCALES.get(token.unit, 1 if not token.unit else None)
        if scale is None:
            cursor.back(mark)
            return None
        cursor.take()
        if scale == 1 and cursor.word() in _SCALES:
            scale = _SCALES[cursor.take().low]
        number = Decimal(token.text.replace(",", "")) * scale
    elif token is not None and token.low in NUMBER_WORDS and not money:
        cursor.take()
        number = Decimal(NUMBER_WORDS[token.low])
    else:
        cursor.back(mark)
        return None
    if cursor.word() in _MONEY_AFTER:
        cursor.take()
        money = True
    elif cursor.at(("/", "-")):
        cursor.pos += 2  # "500/-", the Indian way of writing a round rupee amount
        money = True
    return Amount(plain(number), money)


def _accept_currency(cursor: Cursor) -> bool:
    token = cursor.peek()
    if token is not None and token.kind == "currency":
        cursor.take()
        return True
    return False


_UNITS = {"day": (1, "d"), "days": (1, "d"), "d": (1, "d"), "week": (1, "w"),
          "weeks": (1, "w"), "wk": (1, "w"), "wks": (1, "w"), "w": (1, "w"),
          "fortnight": (2, "w"), "fortnights": (2, "w"), "month": (1, "mo"),
          "months": (1, "mo"), "mo": (1, "mo"), "mos": (1, "mo"), "mon": (1, "mo"),
          "mth": (1, "mo"), "mths": (1, "mo"), "quarter": (3, "mo"), "quarters": (3, "mo"),
          "year": (1, "y"), "years": (1, "y"), "yr": (1, "y"), "yrs": (1, "y"), "y": (1, "y")}


def read_duration(cursor: Cursor, implied_one: bool = False) -> str | None:
    """ "3 months" -> "3mo"; "a week" -> "1w"; with `implied_one`, a bare unit
    ("the last month") counts one."""
    mark = cursor.mark()
    token = cursor.peek()
    count, unit_word = None, None
    if token is not None and token.kind == "number" and "." not in token.text:
        count, unit_word = int(token.text.replace(",", "")), token.unit or None
        cursor.take()
    elif token is not None and token.low in ("a", "an", *NUMBER_WORDS):
        count = 1 if token.low in ("a", "an") else NUMBER_WORDS[token.low]
        cursor.take()
    elif implied_one:
        count = 1
    if unit_word is None:
        unit_word = cursor.word()
        if unit_word in _UNITS:
            cursor.take()
    if count is None or count < 1 or unit_word not in _UNITS:
        cursor.back(mark)
        return None
    times, unit = _UNITS[unit_word]
    return f"{count * times}{unit}"


MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
     ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
     ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}


@dataclass(frozen=True)
class Day:
    """A calendar date as written: `span` is "day", "month" or "year" (the
    whole of January 2026 for "Jan 2026")."""

    first: date
    span: str


def read_date(cursor: Cursor, today: date) -> Day | None:
    mark = cursor.mark()
    token = cursor.peek()
    if token is None:
        return None
    if token.kind == "date":
        cursor.take()
        return _written_date(token.text)
    if token.low == "this" and cursor.word(1) in ("month", "year"):
        cursor.pos += 2
        span = cursor.tokens[cursor.pos - 1].low
        return Day(today.replace(day=1) if span == "month" else date(today.year, 1, 1), span)
    if token.low in ("today", "yesterday"):
        cursor.take()
        return Day(date.fromordinal(today.toordinal() - (token.low == "yesterday")), "day")
    day = _day_number(cursor)
    if day is not None:
        cursor.accept(("of",))
    month = MONTHS.get(cursor.word())
    if month is None:
        cursor.back(mark)
        return _year(cursor) if day is None else None
    cursor.take()
    if day is None:
        day = _day_number(cursor)
    cursor.accept((",",))
    year = _year_number(cursor)
    if day is not None and not 1 <= day <= 31:
        cursor.back(mark)
        return None
    return _calendar(year, month, day, today, cursor, mark)


def _calendar(year, month, day, today, cursor, mark) -> Day | None:
    if year is None:  # the latest such date that is not in the future
        year = today.year
        if (month, day or 1) > (today.month, today.day):
            year -= 1
    try:
        return Day(date(year, month, day or 1), "day" if day else "month")
    except ValueError:
        cursor.back(mark)
        return None


def _written_date(text: str) -> Day | None:
    try:
        if "/" in text:  # day/month/year, as dates are written in India
            day, month, year = (int(part) for part in text.split("/"))
            return Day(date(year, month, day), "day")
        return Day(date.fromisoformat(text), "day")
    except ValueError:
        return None


def _day_number(cursor: Cursor) -> int | None:
    token = cursor.peek()
    if (token is not None and token.kind == "number" and token.text.isdigit()
            and len(token.text) <= 2 and token.unit in ("", "st", "nd", "rd", "th")):
        cursor.take()
        return int(token.text)
    return None


def _year_number(cursor: Cursor) -> int | None:
    token = cursor.peek()
    if token is not None and token.kind == "number" and not token.unit and (
            token.text.isdigit() and len(token.text) == 4 and 1900 <= int(token.text) <= 2100):
        cursor.take()
        return int(token.text)
    return None


def _year(cursor: Cursor) -> Day | None:
    year = _year_number(cursor)
    return None if year is None else Day(date(year, 1, 1), "year")
