"""Whether a text can be stored: shared by every writer that takes free text from outside."""

from __future__ import annotations


def text_problem(text: str) -> str | None:
    """Why a text cannot be stored as it is (None when it can): PostgreSQL refuses NUL
    characters, and an unpaired surrogate (which JSON and YAML escapes can spell) is no
    UTF-8."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (not valid Unicode text)"
    return None
