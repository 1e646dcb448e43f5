"""Progress-API tokens: one workspace each, shown once, stored as a sha256 hash.

A token reads ``okr_<random>``. The first characters (``okr_`` plus 8) are kept in the clear as
a prefix so listings can tell tokens apart; the rest is only ever compared by hash.

Each token has scopes: ``read`` (non-private objectives and KRs, their values and statuses),
``checkin`` (post check-ins), ``read:private`` (private objectives too, and the notes and
blockers people wrote; implies ``read``). Tokens made before scopes existed act as
``read checkin``. A token may expire (``expires_at``); an expired one is refused with
:class:`TokenExpired` so the API can say so.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken
from app.services import audit
from app.services.errors import InvalidValue, NotFound, OkrError

TOKEN_PREFIX = "okr_"
PREFIX_LEN = len(TOKEN_PREFIX) + 8
MAX_TOKEN_LEN = 200
# last_used_at is a hint for people cleaning up tokens, not an access log: writing it on
# every request would make every API call a write.
TOUCH_EVERY = timedelta(minutes=5)

READ, CHECKIN, READ_PRIVATE = "read", "checkin", "read:private"
SCOPES = (READ, CHECKIN, READ_PRIVATE)
# What a token made before scopes existed (scopes NULL) may do, and a new one by default.
LEGACY_SCOPES = frozenset({READ, CHECKIN})
MAX_EXPIRY_DAYS = 3650
_DAYS = re.compile(r"(\d{1,5})d")


class TokenExpired(OkrError):
    """A known, unrevoked token past its expiry."""

    def __init__(self, expires_at: datetime) -> None:
        super().__init__(f"the token expired at {expires_at:%Y-%m-%d %H:%M} UTC: create a new "
                         "one with `okr token create`")
        self.expires_at = expires_at


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(values: Iterable[str]) -> frozenset[str]:
    """Scopes as given (``--scope read --scope checkin``, or ``read,checkin``); none given is
    ``read`` and ``checkin``."""
    found = {part.strip().lower() for v in values for part in v.replace(",", " ").split()}
    unknown = sorted(found - set(SCOPES))
    if unknown:
        raise InvalidValue(f"unknown scope {unknown[0]!r}: scopes are {', '.join(SCOPES)}",
                           field="scope")
    if READ_PRIVATE in found:
        found.add(READ)
    return frozenset(found) or LEGACY_SCOPES


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """``90d`` (from now) or ``2027-03-01`` (the token stops working at 00:00 UTC that day)."""
    if text is None or not text.strip():
        return None
    raw = text.strip().lower()
    days = _DAYS.fullmatch(raw)
    if days:
        at = now + timedelta(days=int(days.group(1)))
    else:
        try:
            at = datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
        except ValueError:
            raise InvalidValue(f"{text!r} is not an expiry: write a number of days (90d) or "
                               "a date (2027-03-01)", field="expires") from None
    if at <= now:
        raise InvalidValue("the expiry is in the past", field="expires")
    if at > now + timedelta(days=MAX_EXPIRY_DAYS):
        raise InvalidValue(f"an expiry is at most {MAX_EXPIRY_DAYS} days away", field="expires")
    return at


def scopes_of(token: ApiToken) -> frozenset[str]:
    """What the token may do; ``read:private`` includes ``read``."""
    found = LEGACY_SCOPES if token.scopes is None else frozenset(token.scopes.split())
    return found | {READ} if READ_PRIVATE in found else found


def scope_text(scopes: Iterable[str]) -> str:
    """Scopes in a stable order, space-separated (how they are stored and listed)."""
    given = set(scopes)
    return " ".join(s for s in SCOPES if s in given)


def create(*, session: Session, workspace_id: int, name: str, now: datetime,
           actor_label: str = "cli", scopes: Iterable[str] = (),
           expires_at: datetime | None = None) -> NewToken:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidValue("a token name is 1 to 200 characters", field="name")
    granted = scope_text(parse_scopes(scopes))
    if expires_at is not None and expires_at <= now:
        raise InvalidValue("the expiry is in the past", field="expires")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(workspace_id=workspace_id, name=name, token_hash=hash_secret(secret),
                   prefix=secret[:PREFIX_LEN], created_at=now, scopes=granted,
                   expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="token.create", subject_type="api_token", subject_key=row.prefix,
                 now=now, after={"name": name, "scopes": granted,
                                 "expires_at": expires_at.isoformat() if expires_at else None})
    return NewToken(token=row, secret=secret)


def is_expired(token: ApiToken, now: datetime) -> bool:
    return token.expires_at is not None and now >= token.expires_at


def verify(*, session: Session, secret: str, now: datetime) -> ApiToken | None:
    """The live token for a presented secret, or None.

    The lookup is by hash, so timing reveals nothing about the secret; the final comparison
    is constant-time anyway. A matching token past its expiry raises :class:`TokenExpired`.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LEN:
        return None
    digest = hash_secret(secret)
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, digest):
        return None
    if is_expired(row, now):
        raise TokenExpired(row.expires_at or now)
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return row


def list_tokens(*, session: Session, workspace_id: int | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.workspace_id, ApiToken.id)
    if workspace_id is not None:
        query = query.where(ApiToken.workspace_id == workspace_id)
    return list(session.scalars(query).all())


def revoke(*, session: Session, workspace_id: int, ref: str, now: datetime,
           actor_label: str = "cli") -> ApiToken:
    """Revoke a live token named by id, prefix or (when unambiguous) name."""
    live = [t for t in list_tokens(session=session, workspace_id=workspace_id)
            if t.revoked_at is None]
    matches = [t for t in live if str(t.id) == ref or t.prefix == ref]
    if not matches:
        matches = [t for t in live if t.name == ref]
    if not matches:
        raise NotFound(f"no live token {ref!r} (see `okr token list`)")
    if len(matches) > 1:
        raise InvalidValue(f"{len(matches)} tokens are named {ref!r}: revoke one by id",
                           field="token")
    token = matches[0]
    token.revoked_at = now
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="token.revoke", subject_type="api_token", subject_key=token.prefix,
                 now=now, after={"name": token.name})
    session.flush()
    return token
