"""RingCentral's per-user rate limits (facts 6), one limiter per throttling group.

- Every operation belongs to the throttling group its `x-throttling-group` names (routes.py).
  Each group allows `limit` requests per user and app in any 60-second window: Light 50,
  Medium 40, Heavy 10, Auth 5 by default (`Settings.rate_limits` overrides them). NoThrottling
  operations are not counted and carry no rate headers, as on RingCentral.
- The request over the limit is refused (429 CMN-301 with `Retry-After`) and starts a penalty
  of 60 s (`Settings.rate_limit_penalty`) during which every request of that group and key is
  refused too, each refusal restarting the penalty. Refused requests are not counted in the
  window; once the penalty is over the key starts afresh, with the whole limit.
- Keys: an authenticated operation counts per (extension id, app id), RingCentral's "user and
  app". The Auth group is public (token, revoke), so it counts per (client id, user named by
  the form): a password grant's username and extension (`<number>*<ext>` and the separate
  `extension` field name the same user; numbers compared in E.164), a JWT grant's assertion;
  refresh and revoke, which name no user, count per client id.
- Requests are counted once the key is known: a request refused as unauthenticated (401) is
  not counted, and its headers show the whole limit left. Every other answer of a throttled
  operation counts, errors included, and carries the headers.
- Off (`Settings.rate_limit` false, the default) nothing is refused, but every request is
  counted the same way, so `X-Rate-Limit-Remaining` shows what RingCentral would have left
  (0 where it would have refused): an app can be checked against the limits without failing.
- Counts live in this process's memory: several ringlet processes sharing one database count
  separately, so together they allow the limit once per process.

Cost on the hot path: one clock read, one dict lookup, a deque append (and the pop of requests
that left the window), and four precomputed header pairs: about 0.4 us alone, about 1 us more
per request through the endpoint wrapper (bench/rate_limit_overhead.py). Only the event
loop's thread calls it, so it takes no lock.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import Hashable, Mapping
from typing import Final, NoReturn
from urllib.parse import parse_qsl

from starlette.requests import Request

from ringlet.clock import Clock
from ringlet.domain.errors import InvalidParameter, RateLimited
from ringlet.domain.phone_numbers import parse_number
from ringlet.security import digest

UNTHROTTLED: Final = "NoThrottling"
DEFAULT_LIMITS: Final[Mapping[str, int]] = {"Light": 50, "Medium": 40, "Heavy": 10, "Auth": 5}
WINDOW_MS: Final = 60_000
PENALTY_MS: Final = 60_000
# How often buckets that have fallen idle are dropped. Auth keys come from request bodies, so
# without this anyone could grow the table by trying new usernames.
_SWEEP_EVERY_MS: Final = 60_000
_FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
_HEADER_TABLE_MAX: Final = 1000

Header = tuple[bytes, bytes]


class InvalidRateLimits(ValueError):
    """`Settings.rate_limits` (--rate-limits, RINGLET_RATE_LIMITS) cannot be read."""


def parse_limits(text: str | None) -> dict[str, int]:
    """The limits of every throttling group: `"Light=50,Medium=40,Heavy=10,Auth=5"`, any subset
    of the groups (the others keep their defaults), names in any case, blanks ignored.
    Raises InvalidRateLimits naming the problem."""
    limits = dict(DEFAULT_LIMITS)
    if text is None or not text.strip():
        return limits
    by_lower = {name.lower(): name for name in DEFAULT_LIMITS}
    example = ",".join(f"{name}={limit}" for name, limit in DEFAULT_LIMITS.items())
    seen: set[str] = set()
    for item in text.split(","):
        if not item.strip():
            continue
        raw_name, equals, raw_value = item.partition("=")
        name = by_lower.get(raw_name.strip().lower())
        if not equals:
            raise InvalidRateLimits(
                f"rate limits {text!r}: {item.strip()!r} is not GROUP=REQUESTS (e.g. {example})"
            )
        if name is None:
            raise InvalidRateLimits(
                f"rate limits {text!r}: unknown throttling group {raw_name.strip()!r} "
                f"(the groups are {', '.join(DEFAULT_LIMITS)})"
            )
        if name in seen:
            raise InvalidRateLimits(f"rate limits {text!r}: {name} is given twice")
        value = raw_value.strip()
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise InvalidRateLimits(
                f"rate limits {text!r}: the limit of {name} must be a whole number of requests "
                f"a minute, at least 1 (got {value!r})"
            )
        seen.add(name)
        limits[name] = int(value)
    return limits


class GroupLimiter:
    """The counts of one throttling group, one per key, and the headers its answers carry."""

    __slots__ = (
        "_blocked",
        "_clock",
        "_fixed_headers",
        "_headers",
        "_next_sweep",
        "_penalty_ms",
        "_times",
        "_window_ms",
        "enforce",
        "limit",
        "name",
    )

    def __init__(
        self,
        name: str,
        limit: int,
        clock: Clock,
        *,
        enforce: bool,
        window_ms: int = WINDOW_MS,
        penalty_ms: int = PENALTY_MS,
    ) -> None:
        self.name = name
        self.limit = limit
        self.enforce = enforce
        self._clock = clock
        self._window_ms = window_ms
        self._penalty_ms = penalty_ms
        # When each key's latest counted requests came (ms). No more than `limit` are ever
        # needed to tell how many fall within the window, so each deque is bounded, even when
        # not enforcing.
        self._times: dict[Hashable, deque[int]] = {}
        # The keys in their penalty, and when it ends (ms). Empty unless enforcing, and then
        # usually: the common request pays one truth test for it.
        self._blocked: dict[Hashable, int] = {}
        self._next_sweep = clock() + _SWEEP_EVERY_MS
        # RingCentral's example shows the group in lower case (`light`).
        self._fixed_headers: tuple[Header, ...] = (
            (b"x-rate-limit-group", name.lower().encode("ascii")),
            (b"x-rate-limit-limit", str(limit).encode("ascii")),
            (b"x-rate-limit-window", str(window_ms // 1000).encode("ascii")),
        )
        # The answers' headers, built once for each `remaining` up to a bound: RingCentral's
        # limits are tens a minute, and someone's million a minute should not cost a table.
        self._headers: tuple[tuple[Header, ...], ...] = tuple(
            self._build_headers(n) for n in range(min(limit, _HEADER_TABLE_MAX) + 1)
        )

    def take(self, key: Hashable) -> int:
        """Count one request of `key`; the requests it has left in the window. Enforcing, a
        request over the limit or within the penalty raises RateLimited (and is not counted)."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        if self._blocked and now < self._blocked.get(key, 0):
            self._refuse(key, now)
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque(maxlen=self.limit)
        cutoff = now - self._window_ms
        while times and times[0] <= cutoff:
            times.popleft()
        if len(times) >= self.limit:
            if self.enforce:
                self._refuse(key, now)
            times.append(now)  # the deque drops the oldest: it still holds `limit` recent ones
            return 0
        times.append(now)
        return self.limit - len(times)

    def _refuse(self, key: Hashable, now: int) -> NoReturn:
        self._blocked[key] = now + self._penalty_ms  # every refusal restarts the penalty
        # The key starts afresh once the penalty is over, also when the penalty is set shorter
        # than the window (Settings.rate_limit_penalty).
        self._times.pop(key, None)
        raise RateLimited(-(-self._penalty_ms // 1000))  # whole seconds, rounded up

    def headers(self, remaining: int) -> tuple[Header, ...]:
        """`X-Rate-Limit-Group`, `-Limit`, `-Window` and `-Remaining`, as raw header pairs."""
        if remaining < len(self._headers):
            return self._headers[remaining]
        return self._build_headers(remaining)

    def _build_headers(self, remaining: int) -> tuple[Header, ...]:
        remaining_header = (b"x-rate-limit-remaining", str(remaining).encode("ascii"))
        return (*self._fixed_headers, remaining_header)

    def _sweep(self, now: int) -> None:
        """Forget the keys whose requests have all left the window and penalties that ended."""
        self._next_sweep = now + _SWEEP_EVERY_MS
        cutoff = now - self._window_ms
        self._times = {k: t for k, t in self._times.items() if t and t[-1] > cutoff}
        self._blocked = {k: end for k, end in self._blocked.items() if end > now}

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._times.keys() | self._blocked.keys())


class RateLimiter:
    """Every throttling group's limiter, built from the settings."""

    def __init__(
        self,
        limits: Mapping[str, int],
        clock: Clock,
        *,
        enforce: bool,
        penalty_ms: int = PENALTY_MS,
    ) -> None:
        self.enforce = enforce
        self.groups: dict[str, GroupLimiter] = {
            name: GroupLimiter(name, limit, clock, enforce=enforce, penalty_ms=penalty_ms)
            for name, limit in limits.items()
        }

    @classmethod
    def from_settings(
        cls, enforce: bool, limits: str | None, clock: Clock, penalty_s: int = PENALTY_MS // 1000
    ) -> RateLimiter:
        """Raises InvalidRateLimits for a bad `limits` text. `penalty_s` other than
        RingCentral's 60 lets an app's retry logic be tested without waiting a minute."""
        return cls(parse_limits(limits), clock, enforce=enforce, penalty_ms=penalty_s * 1000)

    def group(self, name: str) -> GroupLimiter | None:
        """The limiter of an operation's throttling group; None for NoThrottling. An unknown
        name is a mistake in the route table and fails when the app is built."""
        if name == UNTHROTTLED:
            return None
        return self.groups[name]


# -- the Auth group's key ----------------------------------------------------------------------


async def auth_key(request: Request, max_body_bytes: int) -> tuple[str, str]:
    """(client id, user) of a request to the token or revoke endpoint, read leniently: whatever
    is malformed here is refused by the handler afterwards, with its own error.

    The body is read (and kept by Starlette for the handler) only when it is a form of
    declared length within the size limit; otherwise the client id of HTTP Basic alone is the
    key, and the handler refuses the body."""
    client_id = _basic_client_id(request.headers.get("authorization"))
    form = await _small_form(request, max_body_bytes)
    if not client_id:
        client_id = form.get("client_id", "")
    return client_id, _user_of(form)


def _basic_client_id(header: str | None) -> str:
    if header is None:
        return ""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


async def _small_form(request: Request, max_body_bytes: int) -> dict[str, str]:
    declared = request.headers.get("content-length")
    if declared is None or not (declared.isascii() and declared.isdigit()):
        return {}
    if not 0 < int(declared) <= max_body_bytes:
        return {}
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != _FORM_MEDIA_TYPE:
        return {}
    # `body()` keeps what it read on the request, where the handler's read finds it.
    raw = await request.body()
    text = raw.decode("utf-8", errors="replace")
    form: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        form.setdefault(name, value)
    return form


def _user_of(form: Mapping[str, str]) -> str:
    """The user a token request names, the same however an SDK spells it (facts 7.4)."""
    assertion = form.get("assertion")
    if assertion:
        # A JWT credential stands for one extension; its digest keeps the credential itself
        # out of a long-lived table.
        return "jwt:" + digest(assertion)
    username = form.get("username", "").strip()
    if not username:
        return ""
    extension = form.get("extension", "").strip()
    number, star, starred = username.rpartition("*")
    if star and starred.isdigit():
        username, extension = number.strip(), extension or starred
    try:
        # Keyed as read in the default country: the key only needs to be the same however
        # an SDK spells the number, not to name the account.
        username = parse_number(username, "username")
    except InvalidParameter:
        username = username.lower()  # an email
    return f"{username}*{extension}"
