"""Planning-timeline reminders: rules relative to a cycle's dates, presets, and when they fire.

Pure: a rule plus a cycle's dates give one local date; the scheduler turns that into an
instant in the audience's time zone and posts each rule once per cycle and recipient.
Texts are jinja2 templates. Custom rule texts come from admins, so they render in jinja2's
sandbox with ``StrictUndefined`` and within the limits of :mod:`app.calendar.reminder_text`
(grammar, loop counts, output size, time): a misspelt variable or an unbounded loop is an error
when the rule is saved, not a blank in a channel or a busy thread. The variables are those of
``context``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta

from app.calendar import reminder_text
from app.calendar.reminder_text import ReminderTextError as ReminderTextError
from app.domain import CycleWindow

ANCHORS = ("start", "middle", "end")
AUDIENCES = ("channel", "usergroup", "kr_owners", "owners_without_krs", "team_leads")
PRESETS_NAMES = ("gitlab-product", "okr-cycle", "none")
DEFAULT_AT = time(10, 0)
_OFFSET = re.compile(r"^([+-]?)(\d{1,3})\s*([dw]?)$")


class RuleError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Rule:
    """Post ``text`` to ``audience`` ``offset_days`` from the cycle's ``anchor`` at ``at``.

    ``at`` is local: the org's time zone for channel posts, each person's for DMs.
    ``channel`` (for channel / usergroup audiences) overrides the default channels;
    ``usergroup`` is the Slack user group id to mention (S...).
    """

    key: str
    anchor: str
    offset_days: int
    audience: str
    text: str
    at: time = DEFAULT_AT
    channel: str | None = None
    usergroup: str | None = None

    def when(self) -> str:
        """Plain words, e.g. "2 weeks before the start"."""
        n = abs(self.offset_days)
        if self.anchor == "middle" and n == 0:
            return "halfway through"
        where = {"start": "the start", "middle": "halfway", "end": "the end"}[self.anchor]
        if n == 0:
            return f"on {where}" if self.anchor != "end" else "on the last day"
        span = f"{n // 7} week{'s' if n // 7 != 1 else ''}" if n % 7 == 0 else \
            f"{n} day{'s' if n != 1 else ''}"
        return f"{span} {'before' if self.offset_days < 0 else 'after'} {where}"


def parse_offset(text: str) -> int:
    """``-2w``, ``3d``, ``+1w`` or ``-14`` (days) -> days."""
    match = _OFFSET.match(text.strip().lower())
    if not match:
        raise RuleError("use a number of days or weeks like -2w, 3d or +1w", field="offset")
    sign, number, unit = match.groups()
    days = int(number) * (7 if unit == "w" else 1)
    return -days if sign == "-" else days


def check(rule: Rule) -> Rule:
    """Validate a custom rule's fields (the text is checked by ``blocks.reminder``)."""
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,62}$", rule.key):
        raise RuleError("a short name of lowercase letters, digits, - and _", field="key")
    if rule.anchor not in ANCHORS:
        raise RuleError(f"one of {', '.join(ANCHORS)}", field="anchor")
    if rule.audience not in AUDIENCES:
        raise RuleError(f"one of {', '.join(AUDIENCES)}", field="audience")
    if abs(rule.offset_days) > 366:
        raise RuleError("at most a year from the anchor", field="offset")
    if rule.audience == "usergroup" and not (rule.usergroup or "").startswith("S"):
        raise RuleError("a user group id like S0123ABCD", field="usergroup")
    if rule.channel is not None and not re.match(r"^[CG][A-Z0-9]{2,31}$", rule.channel):
        raise RuleError("a channel id like C0123ABCD", field="channel")
    if not rule.text.strip() or len(rule.text) > 2000:
        raise RuleError("between 1 and 2000 characters", field="text")
    return rule


def fire_date(rule: Rule, cycle: CycleWindow) -> date:
    if rule.anchor == "start":
        base = cycle.start
    elif rule.anchor == "end":
        base = cycle.end
    else:
        base = cycle.start + timedelta(days=(cycle.end - cycle.start).days // 2)
    return base + timedelta(days=rule.offset_days)


def firing(rules: Iterable[Rule], cycles: Iterable[CycleWindow], first: date,
           last: date) -> list[tuple[Rule, CycleWindow, date]]:
    """(rule, cycle, local date) for every rule firing on a date in ``[first, last]``."""
    cycles = list(cycles)
    out = []
    for rule in rules:
        for cycle in cycles:
            day = fire_date(rule, cycle)
            if first <= day <= last:
                out.append((rule, cycle, day))
    return sorted(out, key=lambda item: (item[2], item[0].key, item[1].start))


def context(cycle: CycleWindow, day: date) -> dict[str, object]:
    """The variables a reminder text may use."""
    to_start = (cycle.start - day).days
    since_end = (day - cycle.end).days
    return {
        "cycle": cycle.name,
        "start": f"{cycle.start:%a} {cycle.start.day} {cycle.start:%b}",
        "end": f"{cycle.end:%a} {cycle.end.day} {cycle.end:%b}",
        "days_to_start": to_start,
        "weeks_to_start": to_start // 7,
        "days_since_end": since_end,
        "weeks_since_end": since_end // 7,
        "days_left": max((cycle.end - day).days, 0),
    }


SAMPLE_CONTEXT: dict[str, object] = {
    "cycle": "FY27-Q1", "start": "Sun 1 Feb", "end": "Thu 30 Apr", "days_to_start": 14,
    "weeks_to_start": 2, "days_since_end": -75, "weeks_since_end": -11, "days_left": 89,
}


def render_text(template: str, variables: Mapping[str, object]) -> str:
    """A rule's text rendered with ``variables``, within the bounds of
    :mod:`app.calendar.reminder_text`; :class:`ReminderTextError` when it cannot be."""
    return reminder_text.render(template, variables)


def check_text(template: str) -> str | None:
    """None when the text renders with the known variables, else the problem in words."""
    try:
        render_text(template, SAMPLE_CONTEXT)
    except ReminderTextError as exc:
        return str(exc)
    return None


def _gl(key: str, weeks: int, audience: str, text: str, anchor: str = "start") -> Rule:
    return Rule(key=f"gitlab-{key}", anchor=anchor, offset_days=weeks * 7, audience=audience,
                text=text)


# The fiscal-quarter timeline of GitLab's product OKR process, one step per rule.
GITLAB_PRODUCT: tuple[Rule, ...] = (
    _gl("8w", -8, "team_leads",
        "8 weeks to go until {{ cycle }} starts on {{ start }}: leadership drafts the first "
        "OKRs from the annual themes. Bring your ideas for the quarter."),
    _gl("6w", -6, "team_leads",
        "6 weeks to go: leaders align on the shared objectives to recommend for the "
        "{{ cycle }} company OKRs."),
    _gl("5w", -5, "channel",
        "5 weeks to go: the company objectives for {{ cycle }} are shared, each with one to "
        "three key results. Have a look and think about how your team contributes."),
    _gl("4w", -4, "channel",
        "4 weeks to go: {{ cycle }} planning has begun. Review the proposed OKRs and start "
        "ideas for your team's key results."),
    _gl("3w", -3, "team_leads",
        "3 weeks to go: the {{ cycle }} company OKRs are approved. Team leads, tag in your "
        "teams and settle who owns each key result."),
    _gl("2w", -2, "channel",
        "2 weeks to go: KR owners, enter your KRs and align them to their parent OKRs."),
    _gl("1w", -1, "team_leads",
        "1 week to go: review the OKRs your team entered and make the final changes before "
        "{{ cycle }} starts on {{ start }}."),
    _gl("end+1w", 1, "kr_owners",
        "{{ cycle }} ended a week ago: finalise your scores, close your key results, and run "
        "a retrospective with your team.", anchor="end"),
    _gl("end+3w", 3, "team_leads",
        "3 weeks since {{ cycle }} ended: review your retrospective and share its "
        "conclusions with the team.", anchor="end"),
)

# The phases of a cycle (launch, drafting, tracking, retrospective) plus the mid-cycle review
# and the end-of-cycle scoring.
OKR_CYCLE: tuple[Rule, ...] = (
    Rule(key="cycle-launch", anchor="start", offset_days=-21, audience="channel",
         text="{{ cycle }} starts in 3 weeks, on {{ start }}. Launch: confirm the cycle dates "
              "and the process, and make sure everyone knows how OKRs work here."),
    Rule(key="cycle-drafting", anchor="start", offset_days=-14, audience="channel",
         text="Drafting {{ cycle }}: leads set team objectives aligned to the company's; "
              "everyone drafts their own with 3 to 5 measurable key results."),
    Rule(key="cycle-drafting-owners", anchor="start", offset_days=-7,
         audience="owners_without_krs",
         text="{{ cycle }} starts on {{ start }} and you have no key results in it yet. "
              "Add yours with `/okr new`."),
    Rule(key="cycle-tracking", anchor="start", offset_days=0, audience="channel",
         text="{{ cycle }} starts today. Tracking: update progress at each check-in, and "
              "raise blockers early."),
    Rule(key="cycle-midpoint", anchor="middle", offset_days=0, audience="team_leads",
         text="Halfway through {{ cycle }}: time for the mid-cycle review. Assess progress "
              "with your team, and adjust or add OKRs if the business changed."),
    Rule(key="cycle-scoring", anchor="end", offset_days=0, audience="kr_owners",
         text="{{ cycle }} ends today: score each of your key results with evidence, then "
              "note what worked and what did not."),
    Rule(key="cycle-retrospective", anchor="end", offset_days=3, audience="channel",
         text="Retrospective for {{ cycle }}: look at the achievement rate, the problems "
              "found and how to improve, and the direction for the next cycle."),
)

PRESETS: dict[str, tuple[Rule, ...]] = {
    "gitlab-product": GITLAB_PRODUCT,
    "okr-cycle": OKR_CYCLE,
    "none": (),
}


def preset(name: str | None) -> tuple[Rule, ...]:
    return PRESETS.get(name or "none", ())
