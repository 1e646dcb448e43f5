"""The import file's YAML loader: libyaml's safe loader, checked scalars, a direct builder.

``okr import`` of a 30,000-KR file spends most of its parse time here. Three things keep it
short: libyaml's C parser (~4x faster than the pure-Python one), memoised tag resolution for
plain scalars, and a direct recursive build of plain mappings, sequences and scalars instead
of PyYAML's generator-based constructor (about a third of the load time). Anything the direct
build does not handle (merge keys, explicit collection tags, recursive aliases, keys that are
not scalars) sends the document through the general constructor, with its usual errors.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.services.text import text_problem

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = f"{_TAG}str", f"{_TAG}map", f"{_TAG}seq"
# Scalar tags whose values are plain (hashable) Python values.
_SCALARS = frozenset(f"{_TAG}{name}" for name in
                     ("str", "int", "float", "bool", "null", "timestamp"))


def _checked(construct: Any, what: str) -> Any:
    """A scalar constructor whose ValueError (an impossible date such as 2026-13-45 written
    unquoted, an integer of thousands of digits) is a YAML error at the value's line."""

    def constructor(loader: Any, node: Any) -> Any:
        try:
            value = construct(loader, node)
        except (ValueError, OverflowError) as exc:
            why = str(exc).split(";")[0]
            raise ConstructorError(None, None, f"{str(node.value)[:40]!r} is not {what} ({why})",
                                   node.start_mark) from None
        if isinstance(value, str) and (problem := text_problem(value)) is not None:
            raise ConstructorError(None, None, f"a text {problem}", node.start_mark)
        return value

    return constructor


class _General(Exception):
    """The document needs the general constructor."""


class Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader with plain-scalar tag resolution memoised per document.

    Resolving a plain scalar's tag runs a list of regexes; keys (``id``, ``title``...) and
    many values repeat thousands of times in a large file, so a per-load cache cuts load
    time by about a third. The tag of a plain scalar depends only on its text.
    """

    yaml_constructors = {
        **_BaseLoader.yaml_constructors,
        "tag:yaml.org,2002:timestamp": _checked(SafeConstructor.construct_yaml_timestamp,
                                                "a real date"),
        "tag:yaml.org,2002:int": _checked(SafeConstructor.construct_yaml_int, "a usable number"),
        "tag:yaml.org,2002:str": _checked(SafeConstructor.construct_yaml_str, "text"),
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}
        self._texts: set[str] = set()  # strings already found storable
        self._scalars = {tag: self.yaml_constructors[tag] for tag in _SCALARS}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def construct_document(self, node: Node) -> Any:
        try:
            return self._build(node, {}, set())
        except _General:
            return super().construct_document(node)

    def _build(self, node: Node, done: dict[int, Any], building: set[int]) -> Any:
        """Depth-first, in file order; aliases share one value, as with the general one."""
        kind, tag = type(node), node.tag
        if kind is ScalarNode:
            if tag == _STR:
                text = node.value
                if text not in self._texts:
                    self._scalars[_STR](self, node)  # raises on NUL or surrogates
                    self._texts.add(text)
                return text
            if tag not in _SCALARS:
                raise _General
            return self._scalars[tag](self, node)
        key = id(node)
        if key in done:
            return done[key]
        if key in building:
            raise _General  # a recursive alias
        building.add(key)
        out: Any
        if kind is MappingNode and tag == _MAP:
            out = {}
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode or key_node.tag not in _SCALARS:
                    raise _General  # merge keys, "=" keys, collections as keys
                out[self._build(key_node, done, building)] = self._build(value_node, done,
                                                                         building)
        elif kind is SequenceNode and tag == _SEQ:
            out = [self._build(child, done, building) for child in node.value]
        else:
            raise _General
        building.discard(key)
        done[key] = out
        return out
