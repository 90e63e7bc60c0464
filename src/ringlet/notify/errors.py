"""The subscription API's own failures (facts 5.4), in the families of domain/errors.py, which
api/errors.py renders by family."""

from __future__ import annotations

from ringlet.domain.errors import Forbidden, InvalidInput, InvalidParameter, NotFound


class InvalidEventFilters(InvalidInput):
    error_code = "SUB-508"

    def __init__(self, filters: list[str]) -> None:
        super().__init__(
            f"Invalid event filters: [{', '.join(filters)}]", parameter_name="eventFilters"
        )


class OnlyReminderFilter(InvalidInput):
    error_code = "SUB-515"

    def __init__(self) -> None:
        super().__init__(
            "Subscription containing only reminder filter is not allowed",
            parameter_name="eventFilters",
        )


class WebHookBadStatus(InvalidInput):
    error_code = "SUB-522"

    def __init__(self, status: int) -> None:
        super().__init__(
            f"WebHook responds with incorrect HTTP status. HTTP status is {status}",
            parameter_name="deliveryMode.address",
        )


class WebHookInvalidResponse(InvalidInput):
    error_code = "SUB-525"

    def __init__(self) -> None:
        super().__init__(
            "WebHook server response is invalid", parameter_name="deliveryMode.address"
        )


def unreachable_address() -> InvalidParameter:
    return InvalidParameter("deliveryMode.address")


class SubscriptionLimit(Forbidden):
    error_code = "SUB-505"

    def __init__(self) -> None:
        super().__init__("Subscriptions limit exceeded")


class WebSocketPermissionMissing(Forbidden):
    error_code = "SUB-528"

    def __init__(self) -> None:
        super().__init__(
            "In order to use WebSocket transport, application needs to have "
            "[WebSocketsSubscription] permission",
            permission_name="WebSocketsSubscription",
        )


class SubscriptionExpired(NotFound):
    error_code = "SUB-507"

    def __init__(self) -> None:
        super().__init__("Subscription is expired", parameter_name="subscriptionId")
