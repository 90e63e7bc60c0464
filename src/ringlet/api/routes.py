"""The API on one screen: every operation ringlet serves, with the throttling group and the
app permission that RingCentral's OpenAPI description gives it (`x-throttling-group`,
`x-app-permission`; a test checks them against the spec). Handlers are named after the
operationId, in snake_case."""

from __future__ import annotations

from dataclasses import dataclass

from ringlet.api.context import Handler
from ringlet.api.providers import account, inspect, message_store, messaging, meta, oauth, sync
from ringlet.domain.enums import AppPermission as P

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
    throttling_group: str
    app_permission: P | None = None
    public: bool = False  # served without an access token


OPERATIONS: tuple[Operation, ...] = (
    # API versions and OAuth
    Operation("readAPIVersions", "GET", "/restapi", meta.read_api_versions, "NoThrottling",
              public=True),
    Operation("readAPIVersion", "GET", "/restapi/{apiVersion}", meta.read_api_version,
              "NoThrottling", public=True),
    Operation("getToken", "POST", "/restapi/oauth/token", oauth.get_token, "Auth", public=True),
    Operation("revokeToken", "POST", "/restapi/oauth/revoke", oauth.revoke_token, "Auth",
              public=True),
    # Account, extensions, phone numbers, departments
    Operation("readAccountInfo", "GET", ACCOUNT, account.read_account_info, "Light",
              P.READ_ACCOUNTS),
    Operation("listExtensions", "GET", ACCOUNT + "/extension", account.list_extensions,
              "Medium", P.READ_ACCOUNTS),
    Operation("readExtension", "GET", EXTENSION, account.read_extension, "Light",
              P.READ_ACCOUNTS),
    Operation("updateExtension", "PUT", EXTENSION, account.update_extension, "Medium",
              P.EDIT_EXTENSIONS),
    Operation("listAccountPhoneNumbers", "GET", ACCOUNT + "/phone-number",
              account.list_account_phone_numbers, "Heavy", P.READ_ACCOUNTS),
    Operation("readAccountPhoneNumber", "GET", ACCOUNT + "/phone-number/{phoneNumberId}",
              account.read_account_phone_number, "Light", P.READ_ACCOUNTS),
    Operation("listExtensionPhoneNumbers", "GET", EXTENSION + "/phone-number",
              account.list_extension_phone_numbers, "Light", P.READ_ACCOUNTS),
    Operation("listDepartmentMembers", "GET", ACCOUNT + "/department/{departmentId}/members",
              account.list_department_members, "Light", P.READ_ACCOUNTS),
    Operation("assignMultipleDepartmentMembers", "POST", ACCOUNT + "/department/bulk-assign",
              account.assign_multiple_department_members, "Heavy", P.EDIT_ACCOUNTS),
    # Sending
    Operation("createSMSMessage", "POST", EXTENSION + "/sms", messaging.create_sms_message,
              "Medium", P.SMS),
    Operation("createInternalTextMessage", "POST", EXTENSION + "/company-pager",
              messaging.create_internal_text_message, "Medium", P.INTERNAL_MESSAGES),
    # Message store and sync
    Operation("listMessages", "GET", STORE, message_store.list_messages, "Light",
              P.READ_MESSAGES),
    Operation("deleteMessageByFilter", "DELETE", STORE, message_store.delete_message_by_filter,
              "Medium", P.EDIT_MESSAGES),
    Operation("readMessage", "GET", STORE + "/{messageId}", message_store.read_message, "Light",
              P.READ_MESSAGES),
    Operation("updateMessage", "PUT", STORE + "/{messageId}", message_store.update_message,
              "Medium", P.EDIT_MESSAGES),
    Operation("patchMessage", "PATCH", STORE + "/{messageId}", message_store.update_message,
              "Medium", P.EDIT_MESSAGES),
    Operation("deleteMessage", "DELETE", STORE + "/{messageId}", message_store.delete_message,
              "Medium", P.EDIT_MESSAGES),
    Operation("readMessageContent", "GET", STORE + "/{messageId}/content/{attachmentId}",
              message_store.read_message_content, "Medium", P.READ_MESSAGES),
    Operation("syncMessages", "GET", EXTENSION + "/message-sync", sync.sync_messages, "Light",
              P.READ_MESSAGES),
    # ringlet's own, outside /restapi
    Operation("ringletHealth", "GET", "/_ringlet/health", inspect.health, "NoThrottling",
              public=True),
    Operation("ringletLoadFixture", "POST", "/_ringlet/fixtures", inspect.load_fixture,
              "NoThrottling", public=True),
)
