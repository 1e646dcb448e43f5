"""The Home tab's settings buttons: My settings for everyone, Settings for admins and Team
settings for each team someone leads (or every team, for admins; at most a handful)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from blocks.common import button, clip
from blocks.ids import Action

MAX_TEAM_BUTTONS = 5


@dataclass(frozen=True)
class SettingsAccess:
    is_admin: bool = False
    teams: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (key, name)


def settings_blocks(access: SettingsAccess) -> list[dict[str, Any]]:
    elements = [button("My settings", str(Action.OPEN_MY_SETTINGS))]
    if access.is_admin:
        elements.append(button("Settings", str(Action.OPEN_ORG_SETTINGS)))
    for key, name in list(access.teams)[:MAX_TEAM_BUTTONS]:
        elements.append(button(clip(f"Team settings: {name}", 75),
                               f"{Action.OPEN_TEAM_SETTINGS}:{key}", key))
    return [{"type": "actions", "block_id": "home_settings", "elements": elements}]
