"""Rendering admins' reminder texts within bounds.

A reminder text is a small jinja2 template rendered in jinja2's sandbox with
``StrictUndefined``. Admins write it, and it runs on the scheduler's threads, so it is also
bounded: only the grammar a reminder needs is accepted (the variables of
``timeline.context``, a short list of filters, ``if``, comparisons and arithmetic, and ``for``
loops over ``range``), every ``range`` counts at most ``MAX_RANGE`` items and all loops of one
render together at most ``MAX_LOOPS``, powers and repeated strings stay small, and the output
stops at ``MAX_OUTPUT`` characters or after ``TIME_LIMIT`` seconds. Anything beyond is a
:class:`ReminderTextError` naming the limit, when the rule is saved and when it is rendered.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

MAX_SOURCE = 4000  # characters of template (rules themselves hold at most 2000)
MAX_OUTPUT = 3000  # characters rendered: a Slack section's text
MAX_RANGE = 100  # items one range() may count
MAX_LOOPS = 1000  # loop iterations in one render, all loops together
MAX_POWER_BITS = 4096  # size of a power's result
TIME_LIMIT = 0.5  # seconds one render may take

FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d", "int",
                     "float", "abs", "round", "string", "length", "count", "truncate"})
_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const,
            nodes.Filter, nodes.Test, nodes.If, nodes.CondExpr, nodes.Compare, nodes.Operand,
            nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Add, nodes.Sub,
            nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.Concat,
            nodes.For, nodes.Call, nodes.Getattr, nodes.List, nodes.Tuple)


class ReminderTextError(ValueError):
    pass


def _refuse(what: str) -> ReminderTextError:
    return ReminderTextError(f"the reminder text does not render: {what}")


class _BoundedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            _check_power(left, right)
            return left ** right
        if operator_name == "%":
            if isinstance(left, str):
                raise _refuse("% formatting is not available; write the text out")
            return left % right
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(n, int) \
                    and len(seq) * n > MAX_OUTPUT:
                raise _refuse(f"a repeated text may be at most {MAX_OUTPUT} characters")
        return operator.mul(left, right)


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int | float) and isinstance(exponent, int | float):
        bits = max(abs(int(base)).bit_length(), 1) * abs(exponent)
        if bits <= MAX_POWER_BITS:
            return
    raise _refuse("that power is too large")


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = _BoundedEnvironment(undefined=StrictUndefined, autoescape=False,
                              keep_trailing_newline=False)
    env.globals = {}  # no lipsum, cycler, joiner, namespace or dict; range comes per render
    env.filters = {name: env.filters[name] for name in FILTERS}
    return env


def _check_node(node: nodes.Node, *, loop_iter: bool = False) -> None:
    if not isinstance(node, _ALLOWED):
        raise _refuse(f"{type(node).__name__.lower()} is not available in reminder texts; use "
                      "variables, filters, if and for loops over range")
    if isinstance(node, nodes.For):
        if node.recursive or not isinstance(node.target, nodes.Name):
            raise _refuse("loops go over range(...) into one name")
        if not (isinstance(node.iter, nodes.Call) and isinstance(node.iter.node, nodes.Name)
                and node.iter.node.name == "range"):
            raise _refuse("loops go over range(...) only")
    if isinstance(node, nodes.Call) and not (
            isinstance(node.node, nodes.Name) and node.node.name == "range"
            and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None):
        raise _refuse("the only function available is range(...)")
    if isinstance(node, nodes.Getattr) and not (isinstance(node.node, nodes.Name)
                                                and node.node.name == "loop"):
        raise _refuse("attributes are not available, except loop.index and the like")
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        raise _refuse(f"the filter {node.name!r} is not available; use one of "
                      f"{', '.join(sorted(FILTERS))}")
    for child in node.iter_child_nodes():
        _check_node(child)


class _Budget:
    """One render's allowance of loop iterations and time."""

    def __init__(self) -> None:
        self.loops = 0
        self.deadline = time.monotonic() + TIME_LIMIT

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _refuse(f"it takes longer than {TIME_LIMIT} s")

    def bounded_range(self, *args: Any) -> Iterator[int]:
        if not args or len(args) > 3 or not all(isinstance(a, int) for a in args):
            raise _refuse("range takes one to three whole numbers")
        counted = range(*args)
        if len(counted) > MAX_RANGE:
            raise _refuse(f"range may count at most {MAX_RANGE} items")
        return self._count(counted)

    def _count(self, counted: range) -> Iterator[int]:
        for i in counted:
            self.loops += 1
            if self.loops > MAX_LOOPS:
                raise _refuse(f"loops may run at most {MAX_LOOPS} times in all")
            self.tick()
            yield i


def render(template: str, variables: Mapping[str, object]) -> str:
    """The rendered text, or :class:`ReminderTextError` saying which rule or limit it broke."""
    if len(template) > MAX_SOURCE:
        raise _refuse(f"it is longer than {MAX_SOURCE} characters")
    env = environment()
    budget = _Budget()
    try:
        _check_node(env.parse(template))
        compiled = env.from_string(template)
        out: list[str] = []
        size = 0
        render_range: Callable[..., Iterator[int]] = budget.bounded_range
        for chunk in compiled.generate(**variables, range=render_range):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise _refuse(f"it is longer than {MAX_OUTPUT} characters once rendered")
            budget.tick()
            out.append(chunk)
    except TemplateError as exc:
        raise _refuse(exc.message or str(exc)) from None
    except (ArithmeticError, ValueError, TypeError) as exc:
        if isinstance(exc, ReminderTextError):
            raise
        raise _refuse(f"{type(exc).__name__}: {exc}") from None
    return "".join(out).strip()
