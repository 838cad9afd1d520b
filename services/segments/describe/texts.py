"""Conditions on words in the profile (describe.py): city ("from Mumbai or
Pune", "not in New Delhi"), tags ("tagged vip"), name ("named Priya") and
email ("@gmail.com", "email domain example.com"). Readers follow the contract
of describe_conditions.py.

A value is a quoted text or a run of words up to the next word the grammar
knows ("from New Delhi who spent ..." stops at "who"); lists are joined by
commas, "or", "/" (and "and" where only a list makes sense).
"""
from __future__ import annotations

from segments.describe.conditions import Unreadable, condition, negate

_CITY = (("from",), ("in",), ("city",), ("city", "is"), ("city", "of"), ("city", "="),
         ("city", ":"), ("lives", "in"), ("live", "in"), ("living", "in"), ("based", "in"),
         ("located", "in"), ("staying", "in"), ("residing", "in"), ("resident", "of"),
         ("residents", "of"), ("outside",), ("city", "is", "one", "of"), ("city", "in"))
_TAGS = (("tagged",), ("tagged", "with"), ("tagged", "as"), ("tag",), ("tags",), ("tag", "is"),
         ("tags", "include"), ("tags", "includes"), ("tags", "contain"), ("labelled",),
         ("labeled",), ("label",), ("tag", "of"), ("tags", "of"))
_NAME = (("named",), ("called",), ("name",), ("name", "is"), ("first", "name"),
         ("first", "name", "is"))
_EMAIL = (("email",), ("emails",), ("e-mail",), ("email", "address"), ("email", "id"),
          ("mail", "id"))
_TEXT_OPS = {("starts", "with"): "starts_with", ("starting", "with"): "starts_with",
             ("begins", "with"): "starts_with", ("beginning", "with"): "starts_with",
             ("contains",): "contains", ("containing",): "contains", ("includes",): "contains",
             ("including",): "contains", ("like",): "contains", ("is",): "eq", ("=",): "eq",
             (":",): "eq", ("is", "one", "of"): "eq", ("one", "of"): "eq"}
_DOMAIN_WORDS = (("domain",), ("domain", "is"), ("ends", "with"), ("ending", "with"),
                 ("ending", "in"), ("at",), ("on",), ("from",), ("@",), ("is", "at"),
                 ("is", "on"), ("domain", "of"))
_EMAIL_NOUNS = (("email",), ("emails",), ("address",), ("addresses",), ("users",),
                ("customers",), ("accounts",), ("ids",), ("email", "addresses"),
                ("email", "address"), ("email", "ids"), ("email", "id"))
TEXT_WORDS = {word for table in (_CITY, _TAGS, _NAME, _EMAIL, _TEXT_OPS)
              for phrase in table for word in phrase}


def read_values(reader, joiners, *, one_word: bool = False, any_first: bool = False,
                and_needs_capital: bool = False) -> tuple[list[str], bool]:
    """The values written here and whether "and" joined any of them. `any_first`
    lets the first word be one the grammar knows ("tagged new", "name starts
    with A"); `and_needs_capital` keeps "from Delhi and loyal" from reading
    "loyal" as a city."""
    values, joined_by_and = [], False
    value = _value(reader, any_first, one_word)
    while value is not None:
        values.append(value)
        mark = reader.cursor.mark()
        joiner = reader.cursor.accept(*joiners)
        value = _value(reader, False, one_word) if joiner else None
        if value is not None and "and" in joiner:
            joined_by_and = True
            if and_needs_capital and not value[:1].isupper():
                value = None
        if value is None:
            reader.cursor.back(mark)
    return values, joined_by_and


def _value(reader, any_first: bool, one_word: bool) -> str | None:
    cursor = reader.cursor
    token = cursor.peek()
    if token is not None and token.kind == "quoted" and token.text.strip():
        cursor.take()
        return token.text.strip()
    first = last = None
    while (token := cursor.peek()) is not None and token.kind == "word" and (
            token.low not in reader.reserved or (any_first and first is None
                                                 and token.low not in reader.joining)):
        first = first or token
        last = cursor.take()
        if one_word:
            break
    return None if first is None else reader.text[first.start:last.end]


def read_city(reader, negated: bool) -> dict | None:
    cursor, start = reader.cursor, reader.cursor.mark()
    phrase = cursor.accept(*_CITY)
    if phrase is None:
        return None
    negated = negated != (phrase == ("outside",))
    if cursor.accept(("not",), ("not", "in"), ("is", "not")):
        negated = not negated
    op = _TEXT_OPS.get(cursor.accept(*_TEXT_OPS), "eq")
    values, _ = read_values(reader, ((",",), ("or",), (",", "or"), ("/",), ("and",),
                                     (",", "and")), and_needs_capital=True)
    if not values:
        if phrase[-1] in ("in", "from", "outside"):
            return None  # "in the last 30 days" is not a city
        raise Unreadable(start, max(start, cursor.mark() - 1), "which city?")
    return _text_rule("city", op, values, negated, start, reader)


def read_tags(reader, negated: bool) -> dict | None:
    cursor, start = reader.cursor, reader.cursor.mark()
    if cursor.accept(*_TAGS) is None:
        return None
    if cursor.accept(("not",), ("is", "not")):
        negated = not negated
    op = _TEXT_OPS.get(cursor.accept(*_TEXT_OPS), "eq")
    values, all_of = read_values(reader, ((",",), ("or",), (",", "or"), ("/",), ("and",),
                                          (",", "and")), one_word=True, any_first=True)
    if not values:
        raise Unreadable(start, max(start, cursor.mark() - 1), "which tag?")
    if all_of and len(values) > 1:  # "tagged vip and gold": both tags
        rule = {"all": [condition("tags", op, value) for value in values]}
        return {"not": rule} if negated else rule
    return _text_rule("tags", op, values, negated, start, reader)


def read_name(reader, negated: bool) -> dict | None:
    cursor, start = reader.cursor, reader.cursor.mark()
    if cursor.accept(*_NAME) is None:
        return None
    if cursor.accept(("not",), ("is", "not")):
        negated = not negated
    op = _TEXT_OPS.get(cursor.accept(*_TEXT_OPS), "eq")
    values, _ = read_values(reader, ((",",), ("or",), (",", "or"), ("/",)), any_first=True)
    if not values:
        raise Unreadable(start, max(start, cursor.mark() - 1), "which name?")
    return _text_rule("name", op, values, negated, start, reader)


def read_email(reader, negated: bool) -> dict | None:
    cursor, start = reader.cursor, reader.cursor.mark()
    said_email = cursor.accept(*_EMAIL) is not None
    if said_email and cursor.accept(("not",), ("is", "not")):
        negated = not negated
    domain_words = cursor.accept(*_DOMAIN_WORDS)
    op = None if domain_words else _TEXT_OPS.get(cursor.accept(*_TEXT_OPS))
    token = cursor.peek()
    if token is None or not (said_email or token.kind in ("email", "domain", "host")):
        return None
    if token.kind not in ("email", "domain", "host", "quoted", "word"):
        raise Unreadable(start, cursor.mark(), "which email or domain?")
    cursor.take()
    value = token.text.strip()
    if token.kind == "email" and not domain_words:
        op = op or "eq"
    elif domain_words or token.kind in ("domain", "host") and op in (None, "eq"):
        op, value = "contains", value if value.startswith(("@", ".")) else "@" + value
    if not token.kind == "email":
        cursor.accept(*_EMAIL_NOUNS)
    return _text_rule("email", op or "contains", [value], negated, start, reader)


def _text_rule(field, op, values, negated, start, reader) -> dict:
    if len(values) > 1 and op != "eq":
        raise Unreadable(start, reader.cursor.mark() - 1,
                         "a list works only with 'is': say each on its own, joined by 'or'")
    rule = condition(field, "in", values) if len(values) > 1 else condition(field, op, values[0])
    return negate(rule) if negated else rule
