"""``record`` classes behave as frozen dataclasses do: equal and hashed by value."""

from __future__ import annotations

import dataclasses

import pytest

from app.domain import KRFacts, KRType, ObjectiveFacts
from app.domain.records import record


def test_records_compare_and_hash_by_value() -> None:
    a = KRFacts(id="k", kr_type=KRType.INCREASE, start=0.0, target=10.0, current=5.0)
    b = KRFacts(id="k", kr_type=KRType.INCREASE, start=0.0, target=10.0, current=5.0)
    c = dataclasses.replace(b, current=6.0)
    assert a == b and hash(a) == hash(b) and a != c
    assert len({a, b, c}) == 2
    assert ObjectiveFacts(id="o", key_results=(a,)) == ObjectiveFacts(id="o", key_results=(b,))


def test_records_are_slotted_dataclasses() -> None:
    fields = [f.name for f in dataclasses.fields(KRFacts)]
    assert fields[:2] == ["id", "kr_type"]
    assert not hasattr(KRFacts(id="k", kr_type=KRType.MANUAL), "__dict__")


def test_a_record_must_say_frozen_and_slotted() -> None:
    with pytest.raises(TypeError):
        @record(frozen=False, slots=True)
        class Loose:
            x: int
