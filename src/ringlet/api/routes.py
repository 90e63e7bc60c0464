"""The API on one screen: every operation ringlet serves, with the throttling group, the app
permission and the user permission that RingCentral's OpenAPI description gives it
(`x-throttling-group`, `x-app-permission`, `x-user-permission`; a test checks them against the
spec). Handlers are named after the operationId, in snake_case."""

from __future__ import annotations

from dataclasses import dataclass

from ringlet.api.context import Handler
from ringlet.api.providers import (
    account,
    carrier,
    handsets,
    inbox,
    inspect,
    message_store,
    messaging,
    meta,
    notification_journal,
    oauth,
    subscription,
    sync,
)
from ringlet.api.providers import websocket as ws_api
from ringlet.domain.enums import AppPermission as P
from ringlet.domain.permissions import UserPermission as U

V1 = "/restapi/v1.0"
ACCOUNT = V1 + "/account/{accountId}"
EXTENSION = ACCOUNT + "/extension/{extensionId}"
STORE = EXTENSION + "/message-store"


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str
    path: str
    handler: Handler
    throttling_group: str  # Light, Medium, Heavy, Auth or NoThrottling (api/rate_limit.py)
    app_permission: P | None = None
    # The caller must hold one of these (the spec's `A OR B`); empty: no user permission.
    user_permission: tuple[U, ...] = ()
    public: bool = False  # served without an access token


# Kept as a table, one operation per line or two, so that it reads like the spec's catalogue.
# fmt: off
OPERATIONS: tuple[Operation, ...] = (
    # API versions and OAuth
    Operation("readAPIVersions", "GET", "/restapi", meta.read_api_versions, "NoThrottling",
              public=True),
    Operation("readAPIVersion", "GET", "/restapi/{apiVersion}", meta.read_api_version,
              "NoThrottling", public=True),
    Operation("getToken", "POST", "/restapi/oauth/token", oauth.get_token, "Auth", public=True),
    Operation("revokeToken", "POST", "/restapi/oauth/revoke", oauth.revoke_token, "Auth",
              public=True),
    Operation("authWsToken", "POST", "/restapi/oauth/wstoken", ws_api.auth_ws_token, "Auth",
              P.WEBSOCKETS_SUBSCRIPTION),
    # Account, extensions, phone numbers, departments
    Operation("readAccountInfo", "GET", ACCOUNT, account.read_account_info, "Light",
              P.READ_ACCOUNTS, (U.READ_COMPANY_INFO,)),
    Operation("listExtensions", "GET", ACCOUNT + "/extension", account.list_extensions,
              "Medium", P.READ_ACCOUNTS, (U.READ_EXTENSIONS,)),
    Operation("readExtension", "GET", EXTENSION, account.read_extension, "Light",
              P.READ_ACCOUNTS, (U.READ_EXTENSIONS,)),
    Operation("updateExtension", "PUT", EXTENSION, account.update_extension, "Medium",
              P.EDIT_EXTENSIONS, (U.EDIT_USER_INFO, U.EDIT_USER_CREDENTIALS)),
    Operation("listAccountPhoneNumbers", "GET", ACCOUNT + "/phone-number",
              account.list_account_phone_numbers, "Heavy", P.READ_ACCOUNTS,
              (U.READ_COMPANY_PHONE_NUMBERS,)),
    Operation("readAccountPhoneNumber", "GET", ACCOUNT + "/phone-number/{phoneNumberId}",
              account.read_account_phone_number, "Light", P.READ_ACCOUNTS,
              (U.READ_COMPANY_PHONE_NUMBERS,)),
    Operation("listExtensionPhoneNumbers", "GET", EXTENSION + "/phone-number",
              account.list_extension_phone_numbers, "Light", P.READ_ACCOUNTS,
              (U.READ_USER_PHONE_NUMBERS,)),
    Operation("listDepartmentMembers", "GET", ACCOUNT + "/department/{departmentId}/members",
              account.list_department_members, "Light", P.READ_ACCOUNTS, (U.READ_EXTENSIONS,)),
    Operation("assignMultipleDepartmentMembers", "POST", ACCOUNT + "/department/bulk-assign",
              account.assign_multiple_department_members, "Heavy", P.EDIT_ACCOUNTS,
              (U.USER_GROUPS,)),
    # Sending
    Operation("createSMSMessage", "POST", EXTENSION + "/sms", messaging.create_sms_message,
              "Medium", P.SMS, (U.OUTBOUND_SMS,)),
    Operation("createInternalTextMessage", "POST", EXTENSION + "/company-pager",
              messaging.create_internal_text_message, "Medium", P.INTERNAL_MESSAGES,
              (U.INTERNAL_SMS,)),
    # Message store and sync
    Operation("listMessages", "GET", STORE, message_store.list_messages, "Light",
              P.READ_MESSAGES, (U.READ_MESSAGES,)),
    Operation("deleteMessageByFilter", "DELETE", STORE, message_store.delete_message_by_filter,
              "Medium", P.EDIT_MESSAGES, (U.EDIT_MESSAGES,)),
    Operation("readMessage", "GET", STORE + "/{messageId}", message_store.read_message, "Light",
              P.READ_MESSAGES, (U.READ_MESSAGES,)),
    Operation("updateMessage", "PUT", STORE + "/{messageId}", message_store.update_message,
              "Medium", P.EDIT_MESSAGES, (U.EDIT_MESSAGES,)),
    Operation("patchMessage", "PATCH", STORE + "/{messageId}", message_store.update_message,
              "Medium", P.EDIT_MESSAGES, (U.EDIT_MESSAGES,)),
    Operation("deleteMessage", "DELETE", STORE + "/{messageId}", message_store.delete_message,
              "Medium", P.EDIT_MESSAGES, (U.EDIT_MESSAGES,)),
    Operation("readMessageContent", "GET", STORE + "/{messageId}/content/{attachmentId}",
              message_store.read_message_content, "Medium", P.READ_MESSAGES,
              (U.READ_MESSAGE_CONTENT,)),
    Operation("syncMessages", "GET", EXTENSION + "/message-sync", sync.sync_messages, "Light",
              P.READ_MESSAGES, (U.READ_MESSAGES,)),
    # Subscriptions (no app permission of their own: each event filter needs its resource's)
    Operation("listSubscriptions", "GET", V1 + "/subscription", subscription.list_subscriptions,
              "Light"),
    Operation("createSubscription", "POST", V1 + "/subscription",
              subscription.create_subscription, "Medium"),
    Operation("readSubscription", "GET", V1 + "/subscription/{subscriptionId}",
              subscription.read_subscription, "Light"),
    Operation("updateSubscription", "PUT", V1 + "/subscription/{subscriptionId}",
              subscription.update_subscription, "Medium"),
    Operation("deleteSubscription", "DELETE", V1 + "/subscription/{subscriptionId}",
              subscription.delete_subscription, "Medium"),
    Operation("renewSubscription", "POST", V1 + "/subscription/{subscriptionId}/renew",
              subscription.renew_subscription, "Light"),
    # ringlet's own, outside /restapi
    Operation("ringletHealth", "GET", "/_ringlet/health", inspect.health, "NoThrottling",
              public=True),
    Operation("ringletLoadFixture", "POST", "/_ringlet/fixtures", inspect.load_fixture,
              "NoThrottling", public=True),
    # The carrier side and inspection (api/inspect_access.py decides who may use them)
    Operation("ringletListHandsets", "GET", "/_ringlet/handsets", handsets.list_handsets,
              "NoThrottling", public=True),
    Operation("ringletListHandsetMessages", "GET", "/_ringlet/handsets/{phoneNumber}/messages",
              handsets.list_handset_messages, "NoThrottling", public=True),
    Operation("ringletCreateHandsetMessage", "POST", "/_ringlet/handsets/{phoneNumber}/messages",
              handsets.create_handset_message, "NoThrottling", public=True),
    Operation("ringletCreateCarrierRule", "POST", "/_ringlet/carrier/rules", carrier.create_rule,
              "NoThrottling", public=True),
    Operation("ringletListCarrierRules", "GET", "/_ringlet/carrier/rules", carrier.list_rules,
              "NoThrottling", public=True),
    Operation("ringletDeleteCarrierRule", "DELETE", "/_ringlet/carrier/rules/{ruleId}",
              carrier.delete_rule, "NoThrottling", public=True),
    Operation("ringletCreateCarrierReport", "POST", "/_ringlet/carrier/reports",
              carrier.create_report, "NoThrottling", public=True),
    Operation("ringletCreateCarrierInbound", "POST", "/_ringlet/carrier/inbound",
              carrier.create_inbound, "NoThrottling", public=True),
    Operation("ringletReset", "POST", "/_ringlet/reset", carrier.reset, "NoThrottling",
              public=True),
    Operation("ringletInbox", "GET", "/_ringlet/", inbox.page, "NoThrottling", public=True),
    Operation("ringletInboxAsset", "GET", "/_ringlet/static/{name}", inbox.asset,
              "NoThrottling", public=True),
    Operation("ringletInboxData", "GET", "/_ringlet/inbox", inbox.data, "NoThrottling",
              public=True),
    Operation("ringletInboxChanges", "GET", "/_ringlet/inbox/changes", inbox.changes,
              "NoThrottling", public=True),
    Operation("ringletListWebSocketSessions", "GET", "/_ringlet/websocket/sessions",
              ws_api.list_websocket_sessions, "NoThrottling", public=True),
    Operation("ringletDropWebSocketSession", "POST",
              "/_ringlet/websocket/sessions/{sessionId}/drop", ws_api.drop_websocket_session,
              "NoThrottling", public=True),
    Operation("ringletDelayWebSocketSession", "POST",
              "/_ringlet/websocket/sessions/{sessionId}/delay",
              ws_api.delay_websocket_session, "NoThrottling", public=True),
    Operation("ringletListDeliveries", "GET", "/_ringlet/subscriptions/{subscriptionId}/deliveries",
              notification_journal.list_deliveries, "NoThrottling", public=True),
    Operation("ringletRedeliver", "POST",
              "/_ringlet/subscriptions/{subscriptionId}/deliveries/{attemptId}/redeliver",
              notification_journal.redeliver, "NoThrottling", public=True),
)
# fmt: on
