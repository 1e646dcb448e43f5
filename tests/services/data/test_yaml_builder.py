"""The import's YAML loader: the direct builder gives what PyYAML's safe loader gives, and
hands anything it does not build to the general constructor, errors included."""

from __future__ import annotations

import gc
from typing import Any

import pytest
import yaml

from app.services import gcpause
from app.services.data.imports.load import ImportInvalid, load_yaml
from app.services.gcpause import paused_gc

DOCS = [
    "a: 1\nb: [1, 2.5, true, null, ~, '2026-01-01', 2026-01-01]\nc: {d: e}\n",
    "t: 2026-01-01 10:00:00\nempty: []\nnone: {}\n",
    "a: &x {b: 1}\nc: *x\n",  # an alias shares its value
    "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n",  # merge key: the general constructor
    "a: !!set {x, y}\n",  # an explicit collection tag: the general constructor
    "- 1\n- - 2\n  - - 3\n",
    "1: one\n2.5: two\nnull: three\ntrue: four\n",
]


@pytest.mark.parametrize("text", DOCS)
def test_same_values_as_the_safe_loader(text: str) -> None:
    assert load_yaml(text) == yaml.safe_load(text)


def test_aliases_share_one_value() -> None:
    data = load_yaml("a: &x {b: 1}\nc: *x\n")
    assert data["a"] is data["c"]


def test_a_recursive_alias_gets_the_general_constructor() -> None:
    data: Any = load_yaml("a: &x [1, *x]\n")
    assert data["a"][1] is data["a"]


@pytest.mark.parametrize(("text", "where", "reason"), [
    ("? [1]\n: 2\n", "line 1, column 3", "found unhashable key"),
    ("a: 2026-13-45\n", "line 1, column 4", "'2026-13-45' is not a real date"),
    ('a: "x\\0y"\n', "line 1, column 4", "a text contains a NUL character"),
    ('a: ["ok", "\\ud800"]\n', "line 1, column 14", "invalid Unicode character escape"),
    ("a: !!python/object:os.system x\n", "line 1, column 4", "could not determine"),
])
def test_errors_name_the_line(text: str, where: str, reason: str) -> None:
    with pytest.raises(ImportInvalid) as exc:
        load_yaml(text)
    [problem] = exc.value.problems
    assert problem.path == where
    assert reason in problem.reason


def test_a_text_repeated_is_checked_every_time_it_is_bad() -> None:
    with pytest.raises(ImportInvalid):
        load_yaml('a: "fine"\nb: "fine"\nc: "bad\\0"\n')


def test_the_collector_pause_nests_and_restores() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


class _Node:
    def __init__(self, n: int) -> None:
        self.n = n
        self.kids: list[_Node] = []


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


def test_a_large_build_goes_to_the_oldest_generation_unscanned() -> None:
    # After a large pause the young generation holds none of what was built, so the
    # collector does not traverse it all at once; a small pause changes nothing.
    with paused_gc():
        built = [_Node(n) for n in range(gcpause.PROMOTE_AFTER + 1000)]
    assert gc.get_count()[0] < 1000
    assert _in_generation(built[-1], 2) and not _in_generation(built[-1], 0)
    with paused_gc():
        small = [_Node(n) for n in range(10)]
    assert not _in_generation(small[-1], 2)
    # Cyclic garbage among what was promoted is still found by a full collection.
    ring = built[0]
    ring.kids.append(ring)
    del built
    assert gc.collect() >= 1
