"""The ``/okr`` subcommand registry. Other modules add subcommands without touching this file::

    from handlers.router import CommandRequest, Reply, Subcommands

    subcommand = Subcommands()

    @subcommand("next", help="My next check-in prompts, in my time zone")
    def next_prompts(req: CommandRequest) -> Reply:
        with req.session() as tx:
            plan = personal.next_prompts(session=tx, ...)
        return Reply("Your next check-in is ...", blocks=[...])

    def register(app: App, env: Env) -> None:
        subcommand.install()

A subcommand receives a :class:`CommandRequest` and returns a :class:`Reply` (shown to the
caller, ephemeral unless ``in_channel``), a plain string, or ``None`` when it answered by
itself (e.g. it opened a modal with ``req.open_modal(view)``). Raising an
``app.services.errors.OkrError`` shows its message to the caller and changes nothing
(the session context manager rolls back).

``slow=True`` runs the subcommand after the ack (its reply goes through ``response_url``);
keep it False for work that reliably takes well under a second, so the reply rides on the ack.
A module's subcommands join the registry when its ``register`` calls ``install()`` (the modules
are listed in ``handlers/__init__.py``); ``subcommand`` adds one at once (tests use it).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from app.config import Settings
from app.services.tx import Tx
from handlers.context import Actor, Env


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    in_channel: bool = False
    error: bool = False  # never shared with the channel


@dataclass(frozen=True)
class CommandRequest:
    """One ``/okr`` invocation, already authenticated and resolved to a workspace and person."""

    env: Env
    workspace_id: int
    person: Actor
    name: str
    args: list[str]
    text: str  # everything after the subcommand name, as typed
    client: WebClient
    now: datetime
    trigger_id: str
    channel_id: str
    team_id: str
    response_url: str | None
    respond: Callable[..., Any] | None = None

    @property
    def settings(self) -> Settings:
        return self.env.settings

    @property
    def is_admin(self) -> bool:
        return self.person.is_admin

    @contextmanager
    def session(self) -> Iterator[Tx]:
        with self.env.session() as s:
            yield s

    def open_modal(self, view: dict[str, Any]) -> dict[str, Any]:
        """views.open with this command's trigger; returns the opened view."""
        resp = self.client.views_open(trigger_id=self.trigger_id, view=view)
        opened: dict[str, Any] = resp["view"]
        return opened


Result = Reply | str | None
Func = Callable[[CommandRequest], Result]


@dataclass(frozen=True)
class Subcommand:
    name: str
    func: Func
    help: str
    usage: str = ""
    admin: bool = False
    slow: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)
    order: int = 100


REGISTRY: dict[str, Subcommand] = {}
ALIASES: dict[str, str] = {}


def add(sub: Subcommand) -> None:
    REGISTRY[sub.name] = sub
    for alias in sub.aliases:
        ALIASES[alias.lower()] = sub.name


class Subcommands:
    """One module's subcommands: declared with ``@group(name, help=...)``, added to the
    registry by :meth:`install` from the module's ``register``. ``usage`` is the argument hint
    shown in help."""

    def __init__(self, *, at_once: bool = False) -> None:
        self.entries: list[Subcommand] = []
        self.at_once = at_once

    def __call__(self, name: str, *, help: str, usage: str = "", admin: bool = False,
                 slow: bool = False, aliases: tuple[str, ...] = (),
                 order: int = 100) -> Callable[[Func], Func]:
        def deco(func: Func) -> Func:
            sub = Subcommand(name.lower(), func, help, usage, admin, slow, tuple(aliases), order)
            if self.at_once:
                add(sub)
            else:
                self.entries.append(sub)
            return func

        return deco

    def install(self) -> None:
        for sub in self.entries:
            add(sub)


# Registers ``/okr <name>`` at once, wherever it is used (tests add subcommands this way).
subcommand = Subcommands(at_once=True)


def lookup(name: str) -> Subcommand | None:
    key = name.lower()
    return REGISTRY.get(key) or REGISTRY.get(ALIASES.get(key, ""))


def resolve(name: str, args: list[str], rest: str) -> tuple[Subcommand | None, list[str], str]:
    """Like :func:`lookup`, but a two-word subcommand (``cycle review``) wins over its first
    word alone; its second word is then no longer an argument."""
    if args:
        pair = REGISTRY.get(f"{name} {args[0]}".lower())
        if pair is not None:
            return pair, args[1:], rest.partition(" ")[2].strip()
    return (lookup(name) if name else None), args, rest


def split_text(text: str) -> tuple[str, list[str], str]:
    """``"list @ada  at-risk"`` -> ``("list", ["<@U..>", "at-risk"], "@ada  at-risk")``.

    Quotes group words ("show \\"Ship v2\\""); unbalanced quotes fall back to whitespace.
    """
    text = (text or "").strip()
    if not text:
        return "", [], ""
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    try:
        args = shlex.split(rest)
    except ValueError:
        args = rest.split()
    return head.lower(), args, rest


_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


def user_mention(arg: str) -> str | None:
    """The user id in an escaped mention (``<@U123|ada>``), else None."""
    m = _MENTION.match(arg.strip())
    return m.group(1) if m else None


def channel_mention(arg: str) -> str | None:
    m = _CHANNEL.match(arg.strip())
    return m.group(1) if m else None


def visible_subcommands(*, is_admin: bool) -> list[Subcommand]:
    cmds = [c for c in REGISTRY.values() if is_admin or not c.admin]
    return sorted(cmds, key=lambda c: (c.order, c.name))
