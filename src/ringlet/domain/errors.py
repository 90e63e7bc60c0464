"""Every failure ringlet reports, as data: a RingCentral error code, a message, and the
parameter or permission it concerns. No HTTP here: `api/errors.py` maps each family (the
direct subclasses of `RingletError`) to a status, looked up along the class's MRO.

    RingletError
    ├── InvalidInput                      400
    │   ├── InvalidParameter              CMN-101  (bad or missing parameter, R3 over-long text)
    │   ├── UnparsableRequest             CMN-103 / CMN-104
    │   ├── BatchTooLarge                 CMN-106
    │   ├── RecipientIsExtensionNumber    MSG-246
    │   ├── RecipientIsShortNumber        MSG-247
    │   ├── PagerTargetNotFound           MSG-316
    │   ├── PagerToInactiveExtension      MSG-324  (R9)
    │   ├── PagerSenderNumberMismatch     MSG-331
    │   ├── PagerSenderIdMismatch         MSG-332
    │   ├── PagerRecipientMismatch        MSG-335
    │   └── SyncTokenInvalid              MSG-333
    ├── Unauthenticated                   401
    │   ├── AuthorizationMissing          AGW-401
    │   ├── AuthorizationMalformed        AGW-402
    │   ├── TokenNotFound                 OAU-213
    │   └── TokenExpired                  OAU-128
    ├── Forbidden                         403
    │   ├── AppPermissionMissing          CMN-401
    │   ├── UserPermissionMissing         CMN-408
    │   ├── OtherExtension                CMN-404  (R14)
    │   ├── NumberNotOwned                MSG-304  (R5, R6)
    │   ├── NumberNotSmsEnabled           MSG-242  (R5)
    │   ├── ExtensionCannotSend           MSG-314
    │   ├── DepartmentCannotSendPager     MSG-330  (R7)
    │   ├── NotInConversation             MSG-326  (R12)
    │   └── MmsNotAvailable               BIL-103  (a multipart send with files: no MMS)
    ├── NotFound                          404
    │   ├── ResourceNotFound              CMN-102
    │   └── InvalidUri                    CMN-120
    ├── MethodNotAllowed                  405  CMN-120
    ├── RequestTooLarge                   413  CMN-104
    ├── UnsupportedMediaType              415  CMN-104
    ├── RateLimited                       429  CMN-301
    ├── RangeNotSatisfiable               416  CMN-107  (message content Range)
    ├── ServiceUnavailable                503  CMN-211  (the database is gone, full or read-only;
    │                                                   too many connections)
    └── OAuthError                        400  (RFC 6749 body under /restapi/oauth/*)
        ├── InvalidRequest                invalid_request
        │   ├── OAuthParameterMissing     CMN-101  (a grant's required field is absent)
        │   └── ParameterDuplicated       OAU-111
        ├── InvalidClient                 invalid_client
        │   ├── ClientAuthenticationRequired  OAU-123
        │   ├── ClientAuthenticationMalformed OAU-123
        │   └── UnknownClient             OAU-153  (unknown client id or wrong secret)
        ├── InvalidGrant                  invalid_grant
        │   ├── InvalidResourceOwnerCredentials OAU-140
        │   ├── ExtensionStateNotAllowed  OAU-141  (Disabled / Frozen)
        │   └── RefreshTokenInvalid       OAU-213  (unknown, used, revoked or expired)
        ├── UnsupportedGrantType          unsupported_grant_type
        │   └── UnknownGrantType          CMN-101  (a grant_type RingCentral does not have)
        ├── UnauthorizedClient            unauthorized_client
        │   └── GrantTypeNotAllowed       OAU-251  (a RingCentral grant ringlet does not offer)
        ├── OAuthUnsupportedMediaType     415  (also an UnsupportedMediaType)
        └── OAuthRequestTooLarge          413  (also a RequestTooLarge)
"""

from __future__ import annotations


class RingletError(Exception):
    """Base of every error the API reports."""

    error_code: str = "CMN-500"

    def __init__(
        self,
        message: str,
        *,
        error_code: str | None = None,
        parameter_name: str | None = None,
        parameter_value: str | None = None,
        permission_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code
        self.parameter_name = parameter_name
        self.parameter_value = parameter_value
        self.permission_name = permission_name


# -- 400 -------------------------------------------------------------------------------------


class InvalidInput(RingletError):
    error_code = "CMN-101"


class InvalidParameter(InvalidInput):
    error_code = "CMN-101"

    def __init__(self, name: str, detail: str | None = None, *, value: str | None = None) -> None:
        text = f"Parameter [{name}] value is invalid."
        if detail:
            text = f"Parameter [{name}] value is invalid: {detail}"
        super().__init__(text, parameter_name=name, parameter_value=value)


class UnparsableRequest(InvalidInput):
    error_code = "CMN-104"


class BatchTooLarge(InvalidInput):
    error_code = "CMN-106"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Batch request is limited to {limit} entries")


class RecipientIsExtensionNumber(InvalidInput):
    error_code = "MSG-246"

    def __init__(self) -> None:
        super().__init__(
            "Sending SMS from/to extension numbers is not available", parameter_name="to"
        )


class RecipientIsShortNumber(InvalidInput):
    error_code = "MSG-247"

    def __init__(self) -> None:
        super().__init__("Sending SMS to short numbers is not available", parameter_name="to")


class PagerTargetNotFound(InvalidInput):
    error_code = "MSG-316"

    def __init__(self, value: str, reason: str = "Target extension not found") -> None:
        super().__init__(
            f"Parameter [to] value [{value}] is invalid [{reason}]",
            parameter_name="to",
            parameter_value=value,
        )


class PagerToInactiveExtension(InvalidInput):
    """R9: an explicit Pager recipient is Disabled or Frozen."""

    error_code = "MSG-324"

    def __init__(self, extension_number: str, status: str) -> None:
        super().__init__(
            f"Recipient extension [{extension_number}] is in inappropriate state [{status}]",
            parameter_name="to",
            parameter_value=extension_number,
        )


class PagerSenderNumberMismatch(InvalidInput):
    error_code = "MSG-331"

    def __init__(self, value: str) -> None:
        super().__init__(
            f"Parameter [from.extensionNumber] value [{value}] does not match the caller's "
            "extension",
            parameter_name="from.extensionNumber",
            parameter_value=value,
        )


class PagerSenderIdMismatch(InvalidInput):
    error_code = "MSG-332"

    def __init__(self, value: str) -> None:
        super().__init__(
            f"Parameter [from.extensionId] value [{value}] does not match the caller's extension",
            parameter_name="from.extensionId",
            parameter_value=value,
        )


class PagerRecipientMismatch(InvalidInput):
    error_code = "MSG-335"

    def __init__(self) -> None:
        super().__init__(
            "Recipient extension number does not correspond to ID", parameter_name="to"
        )


class SyncTokenInvalid(InvalidInput):
    error_code = "MSG-333"

    def __init__(self) -> None:
        super().__init__(
            "Invalid message synchronisation request: full synchronization is required",
            parameter_name="syncToken",
        )


# -- 401 -------------------------------------------------------------------------------------


class Unauthenticated(RingletError):
    error_code = "OAU-213"


class AuthorizationMissing(Unauthenticated):
    error_code = "AGW-401"

    def __init__(self) -> None:
        super().__init__("Authorization header is not specified")


class AuthorizationMalformed(Unauthenticated):
    error_code = "AGW-402"

    def __init__(self) -> None:
        super().__init__("Invalid Authorization header")


class TokenNotFound(Unauthenticated):
    error_code = "OAU-213"

    def __init__(self) -> None:
        super().__init__("Token not found")


class TokenExpired(Unauthenticated):
    error_code = "OAU-128"

    def __init__(self) -> None:
        super().__init__("Access token expired.")


# -- 403 -------------------------------------------------------------------------------------


class Forbidden(RingletError):
    error_code = "CMN-403"


class AppPermissionMissing(Forbidden):
    error_code = "CMN-401"

    def __init__(self, permission: str) -> None:
        super().__init__(
            f"In order to call this API endpoint, application needs to have [{permission}] "
            "permission",
            permission_name=permission,
        )


class UserPermissionMissing(Forbidden):
    error_code = "CMN-408"

    def __init__(self, permission: str) -> None:
        super().__init__(
            f"In order to call this API endpoint, user needs to have [{permission}] permission "
            "for requested resource.",
            permission_name=permission,
        )


class OtherExtension(Forbidden):
    """R14: a caller who is not an admin addressed another extension."""

    error_code = "CMN-404"

    def __init__(self) -> None:
        super().__init__("Attempt to access another extension")


class NumberNotOwned(Forbidden):
    """R5/R6: the SMS `from` number is not one the caller may use."""

    error_code = "MSG-304"

    def __init__(self, number: str) -> None:
        super().__init__(
            f"Phone number [{number}] doesn't belong to extension",
            parameter_name="from.phoneNumber",
            parameter_value=number,
        )


class NumberNotSmsEnabled(Forbidden):
    """R5: the caller owns the number but it lacks the SmsSender feature."""

    error_code = "MSG-242"

    def __init__(self, number: str) -> None:
        super().__init__(
            f"Sending SMS is not available from the number specified [{number}].",
            parameter_name="from.phoneNumber",
            parameter_value=number,
        )


class ExtensionCannotSend(Forbidden):
    error_code = "MSG-314"

    def __init__(self, extension_type: str) -> None:
        super().__init__(
            f"Extension is of inappropriate type [{extension_type}] for sending this message"
        )


class DepartmentCannotSendPager(Forbidden):
    """R7: a Department (call queue) may not send Pager messages."""

    error_code = "MSG-330"

    def __init__(self) -> None:
        super().__init__(
            "Sending from department message is not supported: a Department extension "
            "cannot send Pager messages."
        )


class NotInConversation(Forbidden):
    """R12: the replier is not (or no longer) a member of the Pager thread."""

    error_code = "MSG-326"

    def __init__(self) -> None:
        super().__init__(
            "Reply is denied for user, who is no longer a thread participant",
            parameter_name="replyOn",
        )


class MmsNotAvailable(Forbidden):
    """An SMS sent with attachments is an MMS; ringlet has none, so it answers as RingCentral
    does for an account without the MMS feature."""

    error_code = "BIL-103"

    def __init__(self) -> None:
        super().__init__("Feature [MMS] is not available for current account")


# -- 404 and others ------------------------------------------------------------------------


class NotFound(RingletError):
    error_code = "CMN-102"


class ResourceNotFound(NotFound):
    error_code = "CMN-102"

    def __init__(self, parameter: str, value: str | None = None) -> None:
        super().__init__(
            f"Resource for parameter [{parameter}] is not found",
            parameter_name=parameter,
            parameter_value=value,
        )


class InvalidUri(NotFound):
    error_code = "CMN-120"

    def __init__(self) -> None:
        super().__init__("Invalid URI")


class MethodNotAllowed(RingletError):
    error_code = "CMN-120"

    def __init__(self, method: str, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(f"Method [{method}] is not allowed for this resource")
        self.allowed = allowed  # the resource's methods, for the `Allow` header (RFC 9110)


class RequestTooLarge(RingletError):
    error_code = "CMN-104"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Cannot parse request: the body exceeds {limit} bytes")


class UnsupportedMediaType(RingletError):
    error_code = "CMN-104"

    def __init__(self, content_type: str, expected: str) -> None:
        super().__init__(
            f"Cannot parse request: unsupported Content-Type [{content_type}], "
            f"expected [{expected}]"
        )


class RateLimited(RingletError):
    error_code = "CMN-301"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Request rate exceeded")
        self.retry_after = retry_after


# -- OAuth -----------------------------------------------------------------------------------


class OAuthError(RingletError):
    """Errors of /restapi/oauth/*, rendered in RFC 6749's shape plus RingCentral's errors[]."""

    oauth_error: str = "invalid_request"
    error_code = "OAU-101"


class InvalidRequest(OAuthError):
    oauth_error = "invalid_request"
    error_code = "CMN-101"


class InvalidClient(OAuthError):
    oauth_error = "invalid_client"
    error_code = "OAU-153"


class InvalidGrant(OAuthError):
    oauth_error = "invalid_grant"
    error_code = "OAU-140"


class UnsupportedGrantType(OAuthError):
    oauth_error = "unsupported_grant_type"
    error_code = "OAU-251"


class UnauthorizedClient(OAuthError):
    oauth_error = "unauthorized_client"
    error_code = "OAU-251"


class OAuthParameterMissing(InvalidRequest):
    def __init__(self, name: str) -> None:
        super().__init__(f"Parameter [{name}] is required", parameter_name=name)


class ParameterDuplicated(InvalidRequest):
    error_code = "OAU-111"

    def __init__(self, name: str) -> None:
        super().__init__("Request parameter duplication detected", parameter_name=name)


class ClientAuthenticationRequired(InvalidClient):
    error_code = "OAU-123"

    def __init__(self) -> None:
        super().__init__("Client authentication is required")


class ClientAuthenticationMalformed(InvalidClient):
    error_code = "OAU-123"

    def __init__(self) -> None:
        super().__init__("Authentication header value is malformed")


class UnknownClient(InvalidClient):
    """The client id is unknown, or the secret does not match: deliberately one answer."""

    error_code = "OAU-153"

    def __init__(self, client_id: str) -> None:
        super().__init__(
            f"Invalid client: {client_id}", parameter_name="client_id", parameter_value=client_id
        )


class InvalidResourceOwnerCredentials(InvalidGrant):
    error_code = "OAU-140"

    def __init__(self) -> None:
        super().__init__("Invalid resource owner credentials")


class ExtensionStateNotAllowed(InvalidGrant):
    """Right credentials, but the extension is Disabled or Frozen."""

    error_code = "OAU-141"

    def __init__(self) -> None:
        super().__init__("Login for extension in current state is not allowed.")


class RefreshTokenInvalid(InvalidGrant):
    error_code = "OAU-213"

    def __init__(self, message: str = "Token not found") -> None:
        super().__init__(message, parameter_name="refresh_token")


class UnknownGrantType(UnsupportedGrantType):
    error_code = "CMN-101"

    def __init__(self, grant_type: str) -> None:
        super().__init__(
            f"Unsupported grant type [{grant_type}]",
            parameter_name="grant_type",
            parameter_value=grant_type,
        )


class GrantTypeNotAllowed(UnauthorizedClient):
    error_code = "OAU-251"

    def __init__(self, grant_type: str) -> None:
        super().__init__(
            "Unauthorized for this grant type",
            parameter_name="grant_type",
            parameter_value=grant_type,
        )


# Under /restapi/oauth/ even a refused media type or size gets OAuth's body: these inherit the
# status from the first base (415 / 413, found first along the MRO) and the body shape from
# OAuthError (api/errors.py checks isinstance).


class OAuthUnsupportedMediaType(UnsupportedMediaType, OAuthError):
    oauth_error = "invalid_request"


class OAuthRequestTooLarge(RequestTooLarge, OAuthError):
    oauth_error = "invalid_request"


# -- 416 ---------------------------------------------------------------------------------------


class RangeNotSatisfiable(RingletError):
    """A `Range` asked of a message's content lies outside it. `length` is the content's size,
    for the `Content-Range: bytes */<length>` header that RFC 9110 asks for."""

    error_code = "CMN-107"

    def __init__(self, length: int) -> None:
        super().__init__(
            f"Requested range is not satisfiable: the content has {length} bytes",
            parameter_name="Range",
        )
        self.length = length


# -- 503 (ops: the server's own resources) ------------------------------------------------------


class ServiceUnavailable(RingletError):
    """The server cannot serve the request now but will again without a restart: its database
    is unreachable, full or read-only, or it holds as many connections as it may. RingCentral
    answers such moments with 503 CMN-211 and `Retry-After`; so do SDK-built clients expect."""

    error_code = "CMN-211"

    def __init__(self, retry_after: int = 2) -> None:
        super().__init__("Service is temporarily unavailable, please retry later")
        self.retry_after = retry_after
