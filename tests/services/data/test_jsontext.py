"""The export's JSON writer gives exactly the standard library's indented text."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.data.jsontext import dumps_indented


class Light(enum.StrEnum):
    GREEN = "green"


class Level(enum.IntEnum):
    TOP = 1


def stdlib(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text() \
    | st.sampled_from([Light.GREEN, Level.TOP])
KEYS = st.text() | st.integers() | st.floats(allow_nan=False) | st.none() | st.booleans()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.tuples(inner, inner) | st.dictionaries(KEYS, inner, max_size=4),
                      max_leaves=30)


@given(VALUES)
def test_the_text_is_the_standard_librarys(value: Any) -> None:
    assert dumps_indented(value) == stdlib(value)


@pytest.mark.parametrize("value", [
    {}, [], {"a": [], "b": {}}, {"é": "line\nbreak \"quoted\" \u2028"},
    [float("nan"), float("inf"), -float("inf"), -0.0, 1e300, 10**40],
    {Light.GREEN: Light.GREEN, Level.TOP: [Level.TOP]}, {"deep": {"er": [[{}], [[]]]}},
])
def test_edge_values(value: Any) -> None:
    assert dumps_indented(value) == stdlib(value)


@pytest.mark.parametrize("value", [{(1, 2): "x"}, {"a": object()}, [b"bytes"]])
def test_what_json_refuses_is_refused_alike(value: Any) -> None:
    with pytest.raises(TypeError) as ours:
        dumps_indented(value)
    with pytest.raises(TypeError) as theirs:
        stdlib(value)
    assert str(ours.value) == str(theirs.value)
