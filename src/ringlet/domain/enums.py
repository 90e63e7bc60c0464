"""Enumerations valued exactly as on the wire, so they serialise without translation."""

from enum import StrEnum


class MessageType(StrEnum):
    SMS = "SMS"
    PAGER = "Pager"


class Direction(StrEnum):
    INBOUND = "Inbound"
    OUTBOUND = "Outbound"


class ReadStatus(StrEnum):
    READ = "Read"
    UNREAD = "Unread"


class Availability(StrEnum):
    ALIVE = "Alive"
    DELETED = "Deleted"
    PURGED = "Purged"


class MessageStatus(StrEnum):
    QUEUED = "Queued"
    SENT = "Sent"
    DELIVERED = "Delivered"
    DELIVERY_FAILED = "DeliveryFailed"
    SENDING_FAILED = "SendingFailed"
    RECEIVED = "Received"


class ExtensionType(StrEnum):
    USER = "User"
    FAX_USER = "FaxUser"
    FLEXIBLE_USER = "FlexibleUser"
    VIRTUAL_USER = "VirtualUser"
    DIGITAL_USER = "DigitalUser"
    DEPARTMENT = "Department"
    ANNOUNCEMENT = "Announcement"
    VOICEMAIL = "Voicemail"
    SHARED_LINES_GROUP = "SharedLinesGroup"
    PAGING_ONLY = "PagingOnly"
    IVR_MENU = "IvrMenu"
    APPLICATION_EXTENSION = "ApplicationExtension"
    PARK_LOCATION = "ParkLocation"
    LIMITED = "Limited"
    BOT = "Bot"
    PROXY_ADMIN = "ProxyAdmin"
    DELEGATED_LINES_GROUP = "DelegatedLinesGroup"


class ExtensionStatus(StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    FROZEN = "Frozen"
    NOT_ACTIVATED = "NotActivated"
    UNASSIGNED = "Unassigned"


class PhoneNumberFeature(StrEnum):
    CALLER_ID = "CallerId"
    SMS_SENDER = "SmsSender"
    A2P_SMS_SENDER = "A2PSmsSender"
    MMS_SENDER = "MmsSender"
    INTERNATIONAL_SMS_SENDER = "InternationalSmsSender"
    DELEGATED = "Delegated"


class UsageType(StrEnum):
    MAIN_COMPANY_NUMBER = "MainCompanyNumber"
    ADDITIONAL_COMPANY_NUMBER = "AdditionalCompanyNumber"
    COMPANY_NUMBER = "CompanyNumber"
    DIRECT_NUMBER = "DirectNumber"
    COMPANY_FAX_NUMBER = "CompanyFaxNumber"
    FORWARDED_NUMBER = "ForwardedNumber"
    FORWARDED_COMPANY_NUMBER = "ForwardedCompanyNumber"
    CONTACT_CENTER_NUMBER = "ContactCenterNumber"
    CONFERENCING_NUMBER = "ConferencingNumber"
    MEETINGS_NUMBER = "MeetingsNumber"
    BUSINESS_MOBILE_NUMBER = "BusinessMobileNumber"
    INTEGRATION_NUMBER = "IntegrationNumber"


class AppPermission(StrEnum):
    """Application permissions, as in each operation's `x-app-permission`."""

    SMS = "SMS"
    INTERNAL_MESSAGES = "InternalMessages"
    READ_MESSAGES = "ReadMessages"
    EDIT_MESSAGES = "EditMessages"
    READ_ACCOUNTS = "ReadAccounts"
    EDIT_ACCOUNTS = "EditAccounts"
    EDIT_EXTENSIONS = "EditExtensions"
    WEBSOCKETS_SUBSCRIPTION = "WebSocketsSubscription"


class SyncType(StrEnum):
    FULL = "FSync"
    INCREMENTAL = "ISync"
