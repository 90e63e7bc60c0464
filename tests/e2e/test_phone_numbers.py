"""Phone numbers are read as RingCentral reads them (issue 9): national forms in the account's
country, international forms, separators; stored and echoed in E.164; an extension or an
impossible number is refused naming the field, with nothing stored."""

from __future__ import annotations

import pytest

from tests.e2e.messaging import EXT, error_code, records, send_sms

pytestmark = pytest.mark.usefixtures("server")


def _national(e164: str) -> str:
    """`+16502000020` -> `(650) 200-0020`."""
    digits = e164[2:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


@pytest.mark.parametrize(
    "spell",
    [
        lambda n: n[2:],  # 6502009000: national, no separators
        _national,  # (650) 200-9000
        lambda n: n[1:],  # 16502009000: with the national prefix 1, no +
        lambda n: f"+1 {n[2:5]} {n[5:8]} {n[8:]}",  # +1 650 200 9000
        lambda n: f"{n[2:5]}.{n[5:8]}.{n[8:]}",  # 650.200.9000
    ],
    ids=["national-digits", "national-formatted", "national-prefix", "international", "dots"],
)
def test_a_us_account_reads_national_numbers_as_us_numbers(account, client_for, spell) -> None:
    bob = client_for(account, "102")
    handset = account.handset()
    response = send_sms(bob, spell(account.ext("102").number), spell(handset), "hello")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"]["phoneNumber"] == account.ext("102").number
    assert body["to"][0]["phoneNumber"] == handset
    (stored,) = records(bob)
    assert stored["to"][0]["phoneNumber"] == handset


def test_a_national_number_on_the_server_is_delivered(account, client_for) -> None:
    """The issue's case: `(415) 555-0100` was read as +4155550100; now it is the US number its
    holder has, so the message lands in the holder's store."""
    bob = client_for(account, "102")
    olivia_number = account.ext("101").number
    response = send_sms(bob, account.ext("102").number, _national(olivia_number), "to a desk")
    assert response.status_code == 200, response.text
    olivia = client_for(account, "101")
    (received,) = records(olivia)
    assert received["from"]["phoneNumber"] == account.ext("102").number
    assert received["to"][0]["phoneNumber"] == olivia_number


@pytest.mark.parametrize(
    ("to", "detail"),
    [
        ("+4155550100", None),  # no Swiss number has ten digits
        ("020 7183 8750", None),  # a British national number
        ("650 200 900", None),  # a digit short
        ("+1 650 200 9000 ext. 12", "extension"),
        ("650-200-9000 x12", "extension"),
    ],
    ids=["too-short-for-its-country", "foreign-national", "digit-short", "ext", "x"],
)
def test_an_impossible_recipient_is_refused(account, client_for, to, detail) -> None:
    bob = client_for(account, "102")
    response = send_sms(bob, account.ext("102").number, to, "hello")
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "to.phoneNumber"
    if detail:
        assert detail in response.json()["message"]
    assert records(bob) == []


def test_a_from_number_with_an_extension_is_refused(account, client_for) -> None:
    bob = client_for(account, "102")
    response = send_sms(bob, account.ext("102").number + " ext. 5", account.handset(), "hi")
    assert response.status_code == 400, response.text
    assert response.json()["parameterName"] == "from.phoneNumber"
    assert records(bob) == []


def test_the_phone_number_filter_reads_national_forms(account, client_for) -> None:
    bob = client_for(account, "102")
    handset = account.handset()
    assert send_sms(bob, account.ext("102").number, handset, "one").status_code == 200
    for spelled in (handset, handset[2:], _national(handset), " " + handset[1:]):
        found = records(bob, phoneNumber=spelled)
        assert len(found) == 1, spelled
    refused = bob.get(f"{EXT}/message-store", params={"phoneNumber": "+4155550100"})
    assert refused.status_code == 400
    assert refused.json()["parameterName"] == "phoneNumber"


@pytest.mark.parametrize(
    "spell", [lambda n: n[2:], _national, lambda n: n[1:]], ids=["digits", "formatted", "prefix"]
)
def test_login_with_a_national_username(api, account, spell) -> None:
    response = api.token_request(
        {
            "grant_type": "password",
            "username": spell(account.main_number),
            "extension": "102",
            "password": account.password("102"),
        },
        client_id=account.client_id,
        client_secret=account.client_secret,
    )
    assert response.status_code == 200, response.text
    assert response.json()["owner_id"] == str(account.ext("102").id)


def _gb(doc) -> None:
    """The reference account moved to the United Kingdom, its numbers written nationally."""
    acct = doc["accounts"][0]
    acct["country"] = "GB"
    base = acct["id"] % 10**6  # distinct numbers per seed: 020 7xxx xxxx
    acct["mainNumber"] = f"020 7{base:06d}0"[:13]
    for index, ext in enumerate(acct["extensions"]):
        for phone in ext.get("phoneNumbers", []):
            phone["phoneNumber"] = f"+44 20 8{base:06d}{index}"[:18]


def test_a_british_account_reads_national_numbers_as_british(new_account, client_for) -> None:
    account = new_account(edit=_gb)
    bob = client_for(account, "102")
    info = bob.get("/restapi/v1.0/account/~").json()
    assert info["regionalSettings"]["homeCountry"] == {"isoCode": "GB", "callingCode": "44"}
    assert info["mainNumber"].startswith("+44207")  # stored and echoed in E.164
    numbers = bob.get(f"{EXT}/phone-number").json()["records"]
    sender = numbers[0]["phoneNumber"]
    assert sender.startswith("+44208")
    national_sender = "0" + sender[3:]
    response = send_sms(bob, national_sender, "07700 900123", "cheerio")
    assert response.status_code == 200, response.text
    assert response.json()["to"][0]["phoneNumber"] == "+447700900123"
    assert response.json()["from"]["phoneNumber"] == sender
    # In the UK a number without `+` is British, whatever it looks like elsewhere.
    us_looking = send_sms(bob, sender, "(415) 555-0100", "British after all")
    assert us_looking.status_code == 200, us_looking.text
    assert us_looking.json()["to"][0]["phoneNumber"] == "+444155550100"
    assert send_sms(bob, sender, "+1 415 555 0100", "to the US").status_code == 200


def test_a_us_account_reports_its_country(account, client_for) -> None:
    info = client_for(account, "102").get("/restapi/v1.0/account/~").json()
    assert info["regionalSettings"]["homeCountry"] == {"isoCode": "US", "callingCode": "1"}
