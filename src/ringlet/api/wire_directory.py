"""Directory objects -> RingCentral's JSON shapes: accounts, extensions, phone numbers,
department members. Each function names the schema it produces; ids are typed as that schema
says (some integers, some strings: the spec is not consistent, and SDKs follow the spec)."""

from __future__ import annotations

from typing import Any

from ringlet.api.uris import account_uri, extension_uri, phone_number_uri
from ringlet.domain.directory import NumberStatus, split_name
from ringlet.domain.enums import ExtensionType, PhoneNumberFeature, UsageType
from ringlet.domain.model import Extension, PhoneNumber
from ringlet.domain.phone_numbers import calling_code
from ringlet.services.directory import AccountInfo, CompanyNumber, ExtensionDetails, HeldNumber

# NANP toll-free area codes: RingCentral reports such numbers with paymentType TollFree.
_TOLL_FREE_PREFIXES = ("+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888")

# UserPhoneNumberExtensionInfo.type has a shorter enum than the extension record's; a type
# outside it is left out rather than sent invalid.
_NUMBER_OWNER_TYPES = frozenset(
    {
        ExtensionType.USER,
        ExtensionType.FAX_USER,
        ExtensionType.VIRTUAL_USER,
        ExtensionType.DIGITAL_USER,
        ExtensionType.DEPARTMENT,
        ExtensionType.ANNOUNCEMENT,
        ExtensionType.VOICEMAIL,
        ExtensionType.SHARED_LINES_GROUP,
        ExtensionType.PAGING_ONLY,
        ExtensionType.IVR_MENU,
        ExtensionType.APPLICATION_EXTENSION,
        ExtensionType.PARK_LOCATION,
    }
)


# -- list uris (the canonical `uri` of each list, before paging parameters) -----------------


def extensions_uri(base: str, account_id: int) -> str:
    return f"{account_uri(base, account_id)}/extension"


def account_numbers_uri(base: str, account_id: int) -> str:
    return f"{account_uri(base, account_id)}/phone-number"


def extension_numbers_uri(base: str, account_id: int, extension_id: int) -> str:
    return f"{extension_uri(base, account_id, extension_id)}/phone-number"


def department_members_uri(base: str, account_id: int, department_id: int) -> str:
    return f"{account_uri(base, account_id)}/department/{department_id}/members"


# -- account -------------------------------------------------------------------------------


def account_info(info: AccountInfo, base: str) -> dict[str, Any]:
    """GetAccountInfoResponse, the fields ringlet knows; `status` is always Confirmed."""
    account = info.account
    body: dict[str, Any] = {"id": account.id, "uri": account_uri(base, account.id)}
    if account.main_number is not None:
        body["mainNumber"] = account.main_number
    if info.operator is not None:
        body["operator"] = {
            "uri": extension_uri(base, account.id, info.operator.id),
            "id": info.operator.id,
            "extensionNumber": info.operator.extension_number,
        }
    body["status"] = "Confirmed"
    # The country national numbers are read in (domain/phone_numbers.py).
    body["regionalSettings"] = {
        "homeCountry": {"isoCode": account.country, "callingCode": calling_code(account.country)}
    }
    return body


# -- extensions ----------------------------------------------------------------------------


def _contact(extension: Extension) -> dict[str, Any]:
    first, last = split_name(extension.name)
    contact: dict[str, Any] = {"firstName": first}
    if last:
        contact["lastName"] = last
    if extension.email is not None:
        contact["email"] = extension.email
    return contact


def extension_summary(extension: Extension, base: str) -> dict[str, Any]:
    """GetExtensionListInfoResponse: a record of the extension list."""
    return {
        "id": extension.id,
        "uri": extension_uri(base, extension.account_id, extension.id),
        "extensionNumber": extension.extension_number,
        "name": extension.name,
        "type": extension.type.value,
        "status": extension.status.value,
        "contact": _contact(extension),
        "permissions": {"admin": {"enabled": extension.admin}},
    }


def extension_info(details: ExtensionDetails, base: str) -> dict[str, Any]:
    """GetExtensionInfoResponse: the summary plus the account, departments and (own extension
    only) the messaging service features."""
    extension = details.extension
    body = extension_summary(extension, base)
    body["account"] = {
        "id": str(extension.account_id),
        "uri": account_uri(base, extension.account_id),
    }
    if details.departments:
        body["departments"] = [
            {
                "id": str(d.id),
                "uri": extension_uri(base, d.account_id, d.id),
                "extensionNumber": d.extension_number,
            }
            for d in details.departments
        ]
    if details.service_features is not None:
        body["serviceFeatures"] = [
            {"featureName": name.value, "enabled": enabled}
            if enabled
            else {"featureName": name.value, "enabled": False, "reason": "ExtensionTypeLimitation"}
            for name, enabled in details.service_features
        ]
    return body


def member(extension: Extension, base: str) -> dict[str, Any]:
    """ExtensionInfo (department members, a company number's extension): `id` is a string."""
    return {
        "id": str(extension.id),
        "uri": extension_uri(base, extension.account_id, extension.id),
        "extensionNumber": extension.extension_number,
        "name": extension.name,
    }


# -- phone numbers -------------------------------------------------------------------------


def _number_fields(number: PhoneNumber, base: str) -> dict[str, Any]:
    """What CompanyPhoneNumberInfo and UserPhoneNumberInfo share."""
    toll_free = number.phone_number.startswith(_TOLL_FREE_PREFIXES)
    fax_only = number.usage_type is UsageType.COMPANY_FAX_NUMBER
    return {
        "uri": phone_number_uri(base, number.account_id, number.id),
        "id": number.id,
        "phoneNumber": number.phone_number,
        "usageType": number.usage_type.value,
        "status": NumberStatus.NORMAL.value,
        "type": "FaxOnly" if fax_only else "VoiceFax",
        "paymentType": "TollFree" if toll_free else "Local",
    }


def company_number(item: CompanyNumber, base: str) -> dict[str, Any]:
    """CompanyPhoneNumberInfo: no `features` (facts §11); `extension` for a held number."""
    body = _number_fields(item.number, base)
    if item.owner is not None:
        body["extension"] = member(item.owner, base)
    return body


def user_number(item: HeldNumber, base: str) -> dict[str, Any]:
    """UserPhoneNumberInfo, with the features the number has for the listed extension (R5)."""
    body = _number_fields(item.number, base)
    body["features"] = [f.value for f in PhoneNumberFeature if f in item.features]
    if item.owner is not None:
        owner = item.owner
        extension: dict[str, Any] = {
            "id": owner.id,
            "uri": extension_uri(base, owner.account_id, owner.id),
            "extensionNumber": owner.extension_number,
            "name": owner.name,
        }
        if owner.type in _NUMBER_OWNER_TYPES:
            extension["type"] = owner.type.value
        body["extension"] = extension
    return body
