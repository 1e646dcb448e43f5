"""Progress-API tokens: one workspace each, shown once, stored as a sha256 hash.

A token reads ``okr_<random>``. The first characters (``okr_`` plus 8) are kept in the clear as
a prefix so listings can tell tokens apart; the rest is only ever compared by hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken
from app.services import audit
from app.services.errors import InvalidValue, NotFound

TOKEN_PREFIX = "okr_"
PREFIX_LEN = len(TOKEN_PREFIX) + 8
MAX_TOKEN_LEN = 200
# last_used_at is a hint for people cleaning up tokens, not an access log: writing it on
# every request would make every API call a write.
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create(*, session: Session, workspace_id: int, name: str, now: datetime,
           actor_label: str = "cli") -> NewToken:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidValue("a token name is 1 to 200 characters", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(workspace_id=workspace_id, name=name, token_hash=hash_secret(secret),
                   prefix=secret[:PREFIX_LEN], created_at=now)
    session.add(row)
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="token.create", subject_type="api_token", subject_key=row.prefix,
                 now=now, after={"name": name})
    return NewToken(token=row, secret=secret)


def verify(*, session: Session, secret: str, now: datetime) -> ApiToken | None:
    """The live token for a presented secret, or None.

    The lookup is by hash, so timing reveals nothing about the secret; the final comparison
    is constant-time anyway.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LEN:
        return None
    digest = hash_secret(secret)
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, digest):
        return None
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
