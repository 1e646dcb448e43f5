"""Words that agree with their numbers, and names as a DM addresses people. Pure.

    count(1, "key result")            -> "1 key result"
    count(2, "key result")            -> "2 key results"
    noun(1, "key result")             -> "key result"
    your(1, "key result")             -> "your key result"
    your(3, "key result")             -> "your 3 key results"
    pick(1, "is", "are")              -> "is"
    singular("game days")             -> "game day"
    first_name("Arjun Mehta")         -> "Arjun"

Plurals default to the word plus "s"; pass ``many`` for any other ("person", "people").
"""

from __future__ import annotations

# Units that read the same with one: abbreviations and words without a singular.
_INVARIANT = frozenset({"news", "series", "species", "kudos", "status", "bonus", "plus",
                        "minus", "campus", "corpus", "virus", "thesis", "analysis", "basis",
                        "process", "access", "success", "loss", "less", "yes"})
_SHORT = {"hrs": "hr", "mins": "min", "secs": "sec", "pts": "pt", "yrs": "yr", "wks": "wk"}


def noun(n: float, word: str, many: str | None = None) -> str:
    """``word`` as it reads with ``n`` (singular only for exactly 1 or -1)."""
    return word if abs(n) == 1 else (many if many is not None else f"{word}s")


def count(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {noun(n, word, many)}"


def your(n: int, word: str, many: str | None = None) -> str:
    """"your key result" for one, "your 3 key results" for more (or none)."""
    return f"your {word}" if n == 1 else f"your {count(n, word, many)}"


def pick(n: float, one: str, many: str) -> str:
    """The form of a verb (or any word) that agrees with ``n``: ``pick(n, "is", "are")``."""
    return one if abs(n) == 1 else many


def _singular_word(word: str) -> str:
    low = word.lower()
    if low in _SHORT and word.islower():
        return _SHORT[low]
    if (len(word) <= 3 or not word.isalpha() or word.isupper() or low in _INVARIANT
            or not low.endswith("s") or low.endswith(("ss", "us", "is"))):
        return word  # "ms", "hrs", "NPS", "bus", "access": not a regular plural
    if low.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-3].isupper() else "y")  # stories -> story
    if low.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]  # matches -> match, fixes -> fix
    return word[:-1]  # deals -> deal, game days -> game day


def singular(unit: str) -> str:
    """A count unit as it reads with 1: the last word of a regular English plural loses
    its plural ending (``deals`` -> ``deal``, ``game days`` -> ``game day``,
    ``stories`` -> ``story``, ``hrs`` -> ``hr``); abbreviations (``ms``, ``NPS``), symbols
    and other words stay as they are."""
    head, sep, last = unit.rpartition(" ")
    return f"{head}{sep}{_singular_word(last)}"


def first_name(name: str | None, *, fallback: str = "there") -> str:
    """The first word of a display name (``Arjun Mehta`` -> ``Arjun``), or ``fallback``.
    Not escaped: callers escape for mrkdwn."""
    words = (name or "").split()
    return words[0][:40] if words else fallback
