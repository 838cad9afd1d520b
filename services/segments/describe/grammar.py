"""The shape of an audience description (describe.py): conditions joined by
"and", "or", commas and parentheses, negated by "not", "never", "no", ...

Precedence, tightest first: "not" (and its kin) applies to the one condition
or parenthesised group after it; "and", "but", commas and plain juxtaposition
("from Mumbai who spent over 10k") join conditions; "or" joins those. So
"a and b or c" is any[all[a, b], c]. Lists ("from Mumbai, Pune or Delhi")
are read by the condition, before "or" is seen as a join.

Words no reader knows are skipped up to the next join and reported as an
unread span; the parse goes on, so every unread part is reported at once.
"""
from __future__ import annotations

from datetime import date

from segments.describe import conditions as counted
from segments.describe import texts
from segments.describe.conditions import Unreadable, negate
from segments.describe.words import Cursor, tokenize

FILLERS = {"customers", "customer", "people", "users", "user", "shoppers", "buyers", "members",
           "those", "everyone", "anyone", "all", "who", "that", "which", "whose", "with",
           "having", "have", "has", "had", "are", "is", "were", "was", "been", "be", "the",
           "a", "an", "their", "placed", "made", "did", "do", "does", "either", "both", "show",
           "me", "find", "get", "list", "target", "give", "audience", "of", "any", "ever",
           "also", "still", "only", "them"}
NOT_WORDS = {"not", "no", "never", "without", "haven't", "hasn't", "hadn't", "didn't", "don't",
             "doesn't", "havent", "hasnt", "didnt", "dont", "doesnt", "aren't", "isn't",
             "weren't", "wasn't", "except", "excluding", "exclude", "non"}
_AND = ((",",), ("and",), ("but",), ("&",), ("while",), ("plus",), (",", "and"), ("and", "also"),
        ("as", "well", "as"), (",", "but"), ("and", "who"), (";",))
_OR = (("or",), (",", "or"), ("or", "else"))
_JOINING = {"and", "or", ",", "but", "&", "(", ")", "nor", "while", "plus"}
_READERS = (texts.read_email, texts.read_tags, texts.read_name, counted.read_last_event,
            counted.read_activity, counted.read_counted, counted.read_amount_first,
            counted.read_consent, texts.read_city)
MAX_PARENTHESES = 16  # deeper than the rule language's 8 levels anyway


class _TooDeep(Exception):
    def __init__(self, opening: int):
        super().__init__(opening)
        self.opening = opening


RESERVED = (counted.reserved_words() | texts.TEXT_WORDS | FILLERS | NOT_WORDS | _JOINING
            | {"neither", "nor", "else"})


class Grammar:
    def __init__(self, text: str, today: date):
        self.text, self.today = text, today
        self.cursor = Cursor(tokenize(text))
        self.reserved, self.joining = RESERVED, _JOINING
        self.unread: list[Unreadable] = []
        self.depth = 0

    def read(self) -> dict | None:
        try:
            return self._read()
        except _TooDeep as deep:
            self.unread = [Unreadable(deep.opening, len(self.cursor.tokens) - 1,
                                      f"parentheses nested deeper than {MAX_PARENTHESES}")]
            return None

    def _read(self) -> dict | None:
        parts = []
        while not self.cursor.done():
            parts.append(self._any_of())
            if not self.cursor.done():  # a ")" without its "(", or a join with nothing after
                at = self.cursor.mark()
                self.cursor.take()
                self.unread.append(Unreadable(at, at, "nothing to join this to"))
        return _join("all", parts)

    def _any_of(self) -> dict | None:
        parts = [self._all_of()]
        while self.cursor.accept(*_OR):
            parts.append(self._all_of())
        return _join("any", parts)

    def _all_of(self) -> dict | None:
        parts = [self._unary()]
        while not self.cursor.done() and self.cursor.word() not in (")", "nor"):
            if any(self.cursor.at(phrase) for phrase in _OR):
                break
            self.cursor.accept(*_AND)
            if self.cursor.done() or self.cursor.word() == ")":
                break
            parts.append(self._unary())
        return _join("all", parts)

    def _unary(self) -> dict | None:
        negated = False
        while True:
            while self.cursor.word() in FILLERS:
                self.cursor.take()
            if self.cursor.word() not in NOT_WORDS:
                break
            self.cursor.take()
            negated = not negated
        if self.cursor.word() == "(":
            return self._parenthesised(negated)
        if self.cursor.accept(("neither",)):
            first = self._unary()
            self.cursor.accept(("nor",), ("or",))
            second = self._unary()
            rule = _join("all", [negate(part) for part in (first, second) if part])
            return negate(rule) if rule and negated else rule
        return self._condition(negated)

    def _parenthesised(self, negated: bool) -> dict | None:
        opening = self.cursor.mark()
        self.cursor.take()
        self.depth += 1
        if self.depth > MAX_PARENTHESES:
            raise _TooDeep(opening)
        rule = self._any_of()
        self.depth -= 1
        if not self.cursor.accept((")",)):
            self.unread.append(Unreadable(opening, opening, "this '(' is never closed"))
        return negate(rule) if rule and negated else rule

    def _condition(self, negated: bool) -> dict | None:
        start = self.cursor.mark()
        for read in _READERS:
            try:
                rule = read(self, negated)
            except Unreadable as unread:
                self._skip_to_join(start)  # the rest up to the join is unread too
                self.unread.append(Unreadable(unread.first, max(unread.last,
                                                                self.cursor.mark() - 1),
                                              unread.reason))
                return None
            if rule is not None:
                return rule
            self.cursor.back(start)
        if self.cursor.done():
            return None
        self._skip_to_join(start)
        self.unread.append(Unreadable(start, self.cursor.mark() - 1, "not understood"))
        return None

    def _skip_to_join(self, start: int) -> None:
        if self.cursor.mark() == start and not self.cursor.done():
            self.cursor.take()
        while not self.cursor.done() and self.cursor.word() not in self._stops():
            self.cursor.take()

    def _stops(self) -> set[str]:
        return {"and", "or", ",", ")", "(", "but", "&", "nor"}

    def spans(self) -> list[dict]:
        tokens, spans = self.cursor.tokens, []
        for unread in self.unread:
            first, last = tokens[unread.first], tokens[min(unread.last, len(tokens) - 1)]
            last = last if last.end > first.start else first
            spans.append({"start": first.start, "end": last.end,
                          "text": self.text[first.start:last.end], "reason": unread.reason})
        return spans


def _join(kind: str, parts: list) -> dict | None:
    """One group of the readable parts, nested groups of the same kind
    flattened ("a and (b and c)" is all[a, b, c])."""
    flat = []
    for part in parts:
        if part is None:
            continue
        flat.extend(part[kind] if kind in part else [part])
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else {kind: flat}
