"""OAuth's rules that need no storage (facts 7.1): the grants, token lifetimes and how clients
send them, the `number*extension` username form, and a token's scope."""

from __future__ import annotations

import math
import re
from typing import Final

from ringlet.domain.enums import AppPermission
from ringlet.domain.errors import InvalidResourceOwnerCredentials
from ringlet.domain.model import App

PASSWORD_GRANT: Final = "password"
REFRESH_GRANT: Final = "refresh_token"
JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"

# Grants RingCentral has (S22 enum, S25 additions) that ringlet does not offer: refused the way
# RingCentral refuses a grant an app is not enabled for, so SDK users see a familiar error.
OTHER_RINGCENTRAL_GRANTS: Final = frozenset(
    {
        "authorization_code",
        "client_credentials",
        "rc_login_hash",
        "urn:ietf:params:oauth:grant-type:device_code",
        "device_code",
        "partner_jwt",
        "ivr_pin",
        "otp",
        "guest",
    }
)

DEFAULT_ACCESS_TTL: Final = 3600
MIN_ACCESS_TTL: Final = 600
MAX_ACCESS_TTL: Final = 3600
DEFAULT_REFRESH_TTL: Final = 604800
MAX_REFRESH_TTL: Final = 604800

_STAR_EXTENSION = re.compile(r"(.+)\*(\d+)")


def seconds(raw: str | None) -> int | None:
    """A TTL field as clients send it, or None for anything that is not a positive number:
    the JS SDK sends `NaN` when it lost the previous value and `-1` after a 401, and those
    must fall back to the default instead of failing the refresh (facts 7.4)."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        value = int(number)
    return value if value > 0 else None


def token_lifetimes(
    access_raw: str | None, refresh_raw: str | None, min_access: int = MIN_ACCESS_TTL
) -> tuple[int, int]:
    """(access, refresh) lifetimes in seconds. Out-of-range values are clamped, not refused
    (facts 7.1); a refresh token never dies before its access token."""
    access = seconds(access_raw) or DEFAULT_ACCESS_TTL
    access = min(max(access, min_access), MAX_ACCESS_TTL)
    refresh = seconds(refresh_raw) or DEFAULT_REFRESH_TTL
    refresh = min(max(refresh, access), MAX_REFRESH_TTL)
    return access, refresh


def split_username(username: str, extension: str | None) -> tuple[str, str | None]:
    """`(username, extension)` from the form: the JS SDK glues the extension to the number as
    `<number>*<extension>`; Python sends it in `extension`. Both at once must agree."""
    user = username.strip()
    ext = extension.strip() if extension else None
    starred = _STAR_EXTENSION.fullmatch(user)
    if starred:
        user, star = starred.group(1).strip(), starred.group(2)
        if ext and ext != star:
            raise InvalidResourceOwnerCredentials()
        ext = star
    return user, ext or None


def scope_of(app: App) -> str:
    """The token's `scope`: all the app's permissions, space-separated, in a stable order."""
    return " ".join(p.value for p in AppPermission if p in app.permissions)
