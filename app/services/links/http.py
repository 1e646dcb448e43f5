"""A small HTTP client for the GitLab and GitHub REST APIs and Linear's GraphQL API that
respects their rate limits.

All say how much is left after every response: GitLab with ``RateLimit-Remaining`` /
``RateLimit-Reset``, GitHub with ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (reset as
Unix seconds), Linear with ``X-RateLimit-Requests-Remaining`` / ``X-RateLimit-Requests-Reset``
(Unix milliseconds). When the budget reaches 0 we wait for the reset before the next request instead
of spending a request on a refusal. A refusal (429, or GitHub's 403 with nothing left or a
``Retry-After``) is retried after ``Retry-After`` (or the reset, or a minute). The total time
spent waiting is capped: past ``max_wait`` the client gives up with :class:`RateLimited`, and
whatever was not checked is checked on the next run.

Every request is checked first (:func:`app.services.links.hosts.check_address`: no loopback,
link-local or private address unless allowed). Redirects are followed by hand, only within
the same origin (scheme, host and port) and re-checked per hop: the token headers never reach
another origin. Answers are read up to ``max_bytes`` (decompressed); a larger one is refused.
:meth:`ForgeClient.post` (JSON, for GraphQL) takes the same checks, limits and waits, and
follows no redirect at all: a request with a body is not replayed somewhere else.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from app.services.links.hosts import BlockedAddress, check_address

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 20.0)  # connect, read
FALLBACK_WAIT = 60.0  # GitHub: "wait at least one minute" when a limit gives no hint
MAX_BYTES = 10 * 1024 * 1024  # a page of 100 items is well under 1 MB
MAX_REDIRECTS = 3
# provider -> (remaining header, reset header, reset units per second); GitLab's otherwise.
BUDGET_HEADERS = {
    "github": ("X-RateLimit-Remaining", "X-RateLimit-Reset", 1.0),
    "linear": ("X-RateLimit-Requests-Remaining", "X-RateLimit-Requests-Reset", 1000.0),
}


class ForgeError(Exception):
    """The tracker refused or failed in a way retrying now will not fix."""


class RateLimited(ForgeError):
    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited; the next window opens in {wait:.0f}s")
        self.wait = wait


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date."""
    seconds = _float(value)
    if seconds is not None:
        return max(0.0, seconds)
    if value:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None
    return None


class ForgeClient:
    """GETs against one API base URL, pacing itself by the tracker's rate-limit headers."""

    def __init__(
        self, *, provider: str, base_url: str, headers: Mapping[str, str],
        http: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time, max_wait: float = 900.0,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT, max_attempts: int = 5,
        allow_private: Collection[str] = (), max_bytes: int = MAX_BYTES,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.http = http or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.allow_private = tuple(allow_private)
        self.max_bytes = max_bytes
        self.waited = 0.0
        self.requests = 0
        self._not_before = 0.0
        self._remaining_header, self._reset_header, self._reset_scale = BUDGET_HEADERS.get(
            provider, ("RateLimit-Remaining", "RateLimit-Reset", 1.0))

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.waited + seconds > self.max_wait:
            raise RateLimited(seconds)
        log.info("forge.rate_limit_wait", extra={"provider": self.provider,
                                                  "seconds": round(seconds, 2)})
        self.waited += seconds
        self.sleep(seconds)

    def _note_budget(self, response: requests.Response) -> float | None:
        """Remember when we may call again if the budget is spent; the reset wait, if any."""
        remaining = _float(response.headers.get(self._remaining_header))
        reset = _float(response.headers.get(self._reset_header))
        if reset is not None:
            reset /= self._reset_scale
        if remaining is not None and remaining <= 0 and reset is not None:
            # A reset far in the past or future is a skewed clock or a delta; trust it within
            # an hour, and never wait less than a second.
            wait = min(max(reset - self.clock(), 1.0), 3600.0)
            self._not_before = self.clock() + wait
            return wait
        return None

    def _refused(self, response: requests.Response) -> bool:
        if response.status_code == 429:
            return True
        return response.status_code == 403 and (
            "Retry-After" in response.headers
            or _float(response.headers.get(self._remaining_header)) == 0
        )

    def get(self, path: str, params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
            ) -> requests.Response:
        """GET ``path`` (relative to the base URL); 2xx and 404/410 are returned, rate-limit
        refusals are waited out and retried, other failures raise :class:`ForgeError`."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        return self._send(path, lambda: self._fetch(url, params))

    def post(self, path: str, body: Any, *,
             refused: Callable[[requests.Response], bool] | None = None,
             answered: Collection[int] = (404, 410)) -> requests.Response:
        """POST ``body`` as JSON to ``path``, with :meth:`get`'s checks, limits and waits.

        ``refused`` recognises a rate-limit refusal its status does not show (a GraphQL API
        answers one as an error in the body); it is waited out and retried like a 429.
        ``answered``: the statuses besides 2xx handed back to the caller to read."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        return self._send(path, lambda: self._fetch_post(url, body), refused, answered)

    def _send(self, path: str, fetch: Callable[[], requests.Response],
              refused: Callable[[requests.Response], bool] | None = None,
              answered: Collection[int] = (404, 410)) -> requests.Response:
        last_error = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            self._wait(self._not_before - self.clock())
            try:
                self.requests += 1
                response = fetch()
            except requests.RequestException as exc:
                last_error = type(exc).__name__
                self._wait(min(2.0 ** attempt, 30.0))
                continue
            reset_wait = self._note_budget(response)
            if self._refused(response) or (refused is not None and refused(response)):
                wait = retry_after(response.headers.get("Retry-After"), self.clock())
                if wait is None:
                    wait = reset_wait if reset_wait is not None else FALLBACK_WAIT
                self._not_before = max(self._not_before, self.clock() + wait)
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                self._wait(min(2.0 ** attempt, 30.0))
                continue
            if response.ok or response.status_code in answered:
                return response
            raise ForgeError(f"{self.provider} answered HTTP {response.status_code} for {path}")
        raise ForgeError(f"{self.provider} kept failing for {path} ({last_error})")

    def _fetch(self, url: str, params: Any) -> requests.Response:
        """One GET, following same-origin redirects only, with the body read within limits."""
        origin = _origin(url)
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                check_address(url, self.allow_private)
            except BlockedAddress as exc:
                raise ForgeError(str(exc)) from exc
            response = self.http.get(url, params=params, headers=self.headers,
                                     timeout=self.timeout, allow_redirects=False, stream=True)
            if not response.is_redirect:
                _read_limited(response, self.max_bytes)
                return response
            response.close()
            url, params = urljoin(url, response.headers.get("Location", "")), None
            if _origin(url) != origin:
                raise ForgeError(f"{self.provider} redirected to another origin "
                                 f"({_origin(url)[1]}); not followed")
        raise ForgeError(f"{self.provider} redirected more than {MAX_REDIRECTS} times")


    def _fetch_post(self, url: str, body: Any) -> requests.Response:
        """One POST, its body read within limits; a redirect is an error, never followed."""
        try:
            check_address(url, self.allow_private)
        except BlockedAddress as exc:
            raise ForgeError(str(exc)) from exc
        response = self.http.post(url, json=body, headers=self.headers, timeout=self.timeout,
                                  allow_redirects=False, stream=True)
        if response.is_redirect:
            response.close()
            raise ForgeError(f"{self.provider} redirected a POST ({response.status_code}); "
                             "not followed")
        _read_limited(response, self.max_bytes)
        return response


def _origin(url: str) -> tuple[str, str, int | None]:
    split = urlsplit(url)
    return split.scheme, (split.hostname or ""), split.port


def _read_limited(response: requests.Response, limit: int) -> None:
    """Read the body (decompressed) into the response, refusing one larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise ForgeError(f"the answer is larger than {limit} bytes; not read")
            chunks.append(chunk)
    finally:
        response.close()
    response._content = b"".join(chunks)  # what .content, .text and .json() read
