"""What `ringlet serve --demo` prints: where the server is and how to log in and send, as
commands that can be pasted into a shell. Built from the demo fixture itself, so the text
cannot drift from what was provisioned."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from enum import StrEnum

from ringlet.domain.enums import ExtensionStatus, ExtensionType, PhoneNumberFeature
from ringlet.fixtures import AccountDef, ExtensionDef, Fixture

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# A server bound to every interface is reached on loopback from the same machine.
_ANY_HOST = re.compile(r"^(https?://)(0\.0\.0\.0|\[::\]|::)(?=[:/]|$)")


class DemoStatus(StrEnum):
    PROVISIONED = "provisioned now"
    PRESENT = "already in the database"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class DemoIntro:
    fixture: Fixture
    status: DemoStatus

    @property
    def account(self) -> AccountDef:
        return self.fixture.accounts[0]

    def _login_extension(self) -> ExtensionDef:
        """The operator if it has a password (it holds the main number too), else the first
        enabled extension that has one."""
        usable = [
            e
            for e in self.account.extensions
            if e.password is not None and e.status is ExtensionStatus.ENABLED
        ]
        operator = [e for e in usable if e.extension_number == self.account.operator]
        return (operator or usable)[0]

    def describe(self, base_url: str) -> str:
        if self.status is DemoStatus.SKIPPED:
            return (
                "Demo account not provisioned: the database already holds other accounts. "
                "Start with a new --database to get it."
            )
        base = _ANY_HOST.sub(r"\g<1>127.0.0.1", base_url.rstrip("/"))
        app = self.fixture.apps[0]
        acct = self.account
        user = self._login_extension()
        jwt_user = next((e for e in acct.extensions if e.jwt is not None), None)
        token_url = f"{base}/restapi/oauth/token"
        basic = shlex.quote(f"{app.client_id}:{app.client_secret or ''}")
        password_grant = (
            f"curl -s -u {basic} {shlex.quote(token_url)} -d grant_type=password "
            f"--data-urlencode {shlex.quote(f'username={acct.main_number}')} "
            f"-d extension={user.extension_number} "
            f"--data-urlencode {shlex.quote(f'password={user.password}')}"
        )
        lines = [
            f"ringlet demo account ({self.status.value}): {acct.name}, account id {acct.id}",
            f"  Server:          {base}",
            f"  App:             client id {app.client_id}, client secret {app.client_secret}",
            f"  Main number:     {acct.main_number} (operator: extension {acct.operator})",
            f"  Log in as:       username {acct.main_number}, extension "
            f"{user.extension_number} ({user.name}), password {user.password}",
        ]
        others = [e for e in acct.extensions if e.password is not None and e is not user]
        if others:
            lines.append(
                "  Other logins:    "
                + ", ".join(f"{e.extension_number} ({e.name}) {e.password}" for e in others)
            )
        if jwt_user is not None:
            lines.append(
                f"  JWT credential:  {jwt_user.jwt} (extension "
                f"{jwt_user.extension_number}; the assertion of the JWT grant)"
            )
        lines += ["", "Get an access token (password grant):", f"  {password_grant}"]
        if jwt_user is not None:
            lines += [
                "",
                "Or with the JWT credential:",
                f"  curl -s -u {basic} {shlex.quote(token_url)} "
                f"-d grant_type={shlex.quote(JWT_GRANT)} "
                f"-d assertion={shlex.quote(jwt_user.jwt or '')}",
            ]
        sms = self._sms_example(user)
        if sms is not None:
            sender, recipient = sms
            body = json.dumps(
                {
                    "from": {"phoneNumber": sender},
                    "to": [{"phoneNumber": recipient}],
                    "text": "Hello from ringlet",
                },
                separators=(",", ":"),
            )
            sms_url = f"{base}/restapi/v1.0/account/~/extension/~/sms"
            lines += [
                "",
                f"Send an SMS as extension {user.extension_number}, from {sender} to {recipient}:",
                f"  TOKEN=$({password_grant} | python3 -c "
                "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
                f'  curl -s {shlex.quote(sms_url)} -H "Authorization: Bearer $TOKEN" '
                f"-H 'Content-Type: application/json' -d {shlex.quote(body)}",
            ]
        return "\n".join(lines)

    def _sms_example(self, user: ExtensionDef) -> tuple[str, str] | None:
        """From the user's first SMS-capable number to another enabled User's number (one on
        this server, so the message shows up in both message stores)."""
        senders = [
            n.phone_number
            for n in user.phone_numbers
            if PhoneNumberFeature.SMS_SENDER in n.features
        ]
        if not senders:
            return None
        for ext in self.account.extensions:
            if (
                ext is not user
                and ext.type is ExtensionType.USER
                and ext.status is ExtensionStatus.ENABLED
                and ext.phone_numbers
            ):
                return senders[0], ext.phone_numbers[0].phone_number
        return None
