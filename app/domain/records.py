"""``record``: a frozen dataclass for type checkers, built without ``frozen``'s cost.

The read model builds hundreds of thousands of small value objects per cycle (a
``KRFacts`` and a ``KRView`` per KR). A frozen dataclass's ``__init__`` sets every field
through ``object.__setattr__``: for a 28-field ``KRView`` that is 1.6 us, four times a
plain slotted class's. ``record`` makes the class a slotted dataclass that compares and
hashes by value, exactly like a frozen one, while mypy sees ``dataclass(frozen=True)``,
so an assignment to a field is still a type error everywhere it is checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    from dataclasses import dataclass

    def record(cls: type[Any] | None = None, /, *, frozen: bool = True,
               slots: bool = True, **options: Any) -> Any:
        """``dataclass(slots=True, unsafe_hash=True)``; ``frozen`` is for type checkers."""
        if not frozen or not slots:
            raise TypeError("record classes are frozen and slotted")
        return dataclass(cls, slots=True, unsafe_hash=True, **options) if cls is not None \
            else dataclass(slots=True, unsafe_hash=True, **options)

__all__ = ["record"]
