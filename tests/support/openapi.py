"""Validate every ringlet response under /restapi against RingCentral's OpenAPI description.

The vendored spec (reference/ringcentral-messaging.openapi.yaml, OpenAPI 3.0.3, 2022) is the
contract: DESIGN.md says responses must validate against it. Validation here is STRICT: every
object schema that declares `properties` is treated as `additionalProperties: false` unless it
says otherwise, because a misspelt or invented field is exactly the kind of incompatibility an
SDK user would hit and a lenient validator would miss.

The spec declares no error responses for most operations, so 4xx/5xx bodies are checked against
RingCentral's error envelope (messaging-api-facts.md 5.1, schema in tests/support/schemas.py);
under /restapi/oauth/ against the OAuth (RFC 6749 style) envelope.

A few answers are judged by rules of tests/support/schemas.py instead of (or besides) the spec,
each with its source: a 207 Multi-Status is checked part by part / item by item, each by its own
status (MULTI_STATUS_RESPONSE, also for deleteMessage, which the 2022 spec gives no 207), and
readMessageContent may answer a Range request with 206 or 416 (RESPONSE_OVERRIDES).

Bodies are checked with OAS30ReadValidator (OAS30Validator in the "response" direction): a
`writeOnly` field such as a subscription's `verificationToken` must not be echoed, and required
`writeOnly` fields are not expected.

Usage::

    SpecValidator.default().validate("GET", "/restapi/v1.0/account/~", 200,
                                     "application/json", body)

which raises AssertionError with the operationId, the status, the JSON path and the value.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml
from jsonschema.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    ValidationError,
    relevance,
)
from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.support.schemas import (
    ALLOWED_EXTRA_FIELDS,
    ENUM_ADDITIONS,
    ERROR_ENVELOPE,
    MULTIPART_STATUS_PART,
    OAUTH_ERROR_ENVELOPE,
    RESPONSE_OVERRIDES,
    SUPPLEMENTARY_OPERATIONS,
)

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
SPEC_PATH: Final = REPO_ROOT / "reference" / "ringcentral-messaging.openapi.yaml"

# The URI under which the whole spec is registered, so `#/components/...` refs resolve in it.
_SPEC_URI: Final = "urn:ringlet:openapi"

_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_MAX_REPORTED_ERRORS: Final = 5
_MAX_VALUE_CHARS: Final = 300
# Marks a response whose parts/items are judged by their own statuses (MULTI_STATUS_RESPONSE)
_MULTI_STATUS_MARK: Final = "x-ringlet-multi-status"


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, as found for a concrete request."""

    method: str
    template: str
    operation_id: str
    pointer: str  # JSON pointer of the operation object inside the (strict) spec
    responses: Mapping[str, Any]


def strictify(schema: Any, extras: frozenset[str] = frozenset()) -> None:
    """Make `schema` (in place, recursively) refuse properties it does not declare.

    `extras` are names allowed anyway at this level (ALLOWED_EXTRA_FIELDS). `$ref`s are left
    alone: the referenced component is strictified where it is defined. The spec has no
    allOf/anyOf/oneOf (where additionalProperties:false would break composition); we recurse into
    them anyway so a future schema fails loudly rather than silently staying lenient.
    """
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        for sub in props.values():
            strictify(sub)
        for name in extras:
            props.setdefault(name, {})
        schema.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties", "not"):
        strictify(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            strictify(sub)


@cache
def load_spec(path: Path = SPEC_PATH) -> Mapping[str, Any]:
    """The parsed spec, read once per process (5800 lines of YAML take ~0.1 s with libyaml)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        spec = yaml.load(fh, Loader=loader)  # a safe loader: CSafeLoader or SafeLoader
    if not isinstance(spec, dict):
        raise ValueError(f"{path} is not an OpenAPI document")
    return spec


def _strict_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    strict = copy.deepcopy(dict(spec))
    paths = strict.setdefault("paths", {})
    for template, methods in SUPPLEMENTARY_OPERATIONS.items():
        item = paths.setdefault(template, {})
        for method, op in methods.items():
            item.setdefault(method, copy.deepcopy(dict(op)))
    for template, methods in RESPONSE_OVERRIDES.items():
        for method, responses in methods.items():
            op = paths.get(template, {}).get(method)
            if op is None:  # the spec changed under the override: say so rather than skip it
                raise ValueError(f"RESPONSE_OVERRIDES: no operation {method.upper()} {template}")
            for status, response in responses.items():
                op.setdefault("responses", {})[status] = copy.deepcopy(dict(response))
    schemas = strict.get("components", {}).get("schemas", {})
    for (name, prop), values in ENUM_ADDITIONS.items():
        enum = schemas[name]["properties"][prop]["enum"]
        enum.extend(v for v in values if v not in enum)
    for name, schema in schemas.items():
        strictify(schema, ALLOWED_EXTRA_FIELDS.get(name, frozenset()))
    for item in paths.values():
        for method, op in item.items():
            if method not in _HTTP_METHODS:
                continue
            for response in op.get("responses", {}).values():
                for media in (response.get("content") or {}).values():
                    strictify(media.get("schema"))
    return strict


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _split(path: str) -> list[str]:
    return path.split("?", 1)[0].strip("/").split("/")


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def json_path(parts: Iterable[str | int]) -> str:
    """`$.records[0].direction` for a jsonschema error path."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def describe_errors(errors: Iterable[ValidationError]) -> list[str]:
    """One line per problem: where, what, and the value found there."""
    lines: list[str] = []
    for error in sorted(errors, key=relevance, reverse=True)[:_MAX_REPORTED_ERRORS]:
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            for extra in sorted(set(error.instance) - set(declared)):
                lines.append(
                    f"at {json_path([*path, extra])}: field not in the schema "
                    f"(value {_short(error.instance[extra])})"
                )
            continue
        if error.validator == "required":
            # the value would be the whole enclosing object: the message names the field
            lines.append(f"at {json_path(path)}: {error.message}")
            continue
        lines.append(f"at {json_path(path)}: {error.message} (value {_short(error.instance)})")
    return lines


class SpecValidator:
    """Finds the operation of a concrete request and validates the response body against it."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._spec = _strict_spec(spec)
        resource = Resource.from_contents(self._spec, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self._validators: dict[str, Any] = {}
        # (segment count) -> [(specificity key, template, segments)], most specific first
        self._templates: dict[int, list[tuple[tuple[int, ...], str, list[str]]]] = {}
        for template in self._spec["paths"]:
            segments = _split(template)
            key = tuple(0 if _is_param(s) else 1 for s in segments)
            self._templates.setdefault(len(segments), []).append((key, template, segments))
        for candidates in self._templates.values():
            candidates.sort(key=lambda c: c[0], reverse=True)

    @staticmethod
    def default() -> SpecValidator:
        """The validator for the vendored spec, built once per process."""
        return _default_validator()

    # -- operation lookup -------------------------------------------------------------------

    def match_template(self, path: str) -> str | None:
        """The spec path template that `path` (concrete, no host) belongs to, if any.

        A `{param}` segment matches one non-empty segment; among several matches the one with
        literal segments furthest left wins, so `/restapi/v1.0/subscription` is not taken for
        `/restapi/{apiVersion}`-like templates when a literal one exists.
        """
        segments = _split(path)
        for _key, template, pattern in self._templates.get(len(segments), []):
            if all(
                (seg != "" if _is_param(pat) else seg == pat)
                for seg, pat in zip(segments, pattern, strict=True)
            ):
                return template
        return None

    def find_operation(self, method: str, path: str) -> Operation | None:
        template = self.match_template(path)
        if template is None:
            return None
        op = self._spec["paths"][template].get(method.lower())
        if op is None:
            return None
        pointer = f"/paths/{_pointer_escape(template)}/{method.lower()}"
        return Operation(
            method.upper(), template, op.get("operationId", "?"), pointer, op.get("responses", {})
        )

    # -- validation -------------------------------------------------------------------------

    def validate_schema(self, name: str, instance: Any) -> None:
        """Raise AssertionError unless `instance` (parsed JSON) conforms to the spec's
        `components/schemas/<name>`, e.g. SubscriptionInfo for a body that arrived another way
        than as an answer to a request."""
        if name not in self._spec.get("components", {}).get("schemas", {}):
            raise KeyError(f"the spec has no schema {name!r}")
        validator = self._ref_validator(f"/components/schemas/{_pointer_escape(name)}")
        self._check_instance(name, validator, instance)

    def validate(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        """Raise AssertionError unless the response conforms to the spec (see module doc)."""
        path = path.split("?", 1)[0]
        if not (path == "/restapi" or path.startswith("/restapi/")):
            return  # ringlet's own /_ringlet/ API and pages are not RingCentral's
        media = _media_type(content_type)
        where = f"{method.upper()} {path} -> {status}"
        op = self.find_operation(method, path)
        if op is None:
            if status >= 400:
                # An unknown URI or method is answered with the error body (CMN-120, 405...):
                # that is still validated, never skipped.
                self._check_error(where, path, media, body)
                return
            raise AssertionError(f"{where}: no operation of the spec matches this request")
        label = f"{op.operation_id} ({where})"
        if method.upper() == "HEAD":
            return
        if status >= 400:
            declared = self._json_schema_pointer(op, str(status), media)
            if declared is None:
                self._check_error(label, path, media, body)
            else:
                self._check_json(label, self._ref_validator(declared), media, body)
            return
        response_key = self._response_key(op, status)
        if response_key is None:
            raise AssertionError(f"{label}: status {status} is not declared for this operation")
        if op.responses[response_key].get(_MULTI_STATUS_MARK):
            self._check_multi_status(label, op, path, response_key, content_type, body)
            return
        if status == 204 or status == 304:
            if body.strip():
                raise AssertionError(
                    f"{label}: a {status} answer must have no body, got "
                    f"{_short(body.decode('utf-8', 'replace'))}"
                )
            return
        content = op.responses[response_key].get("content") or {}
        has_json = any(_is_json(m) for m in content)
        if not _is_json(media):
            if has_json:
                raise AssertionError(
                    f"{label}: expected a JSON body, got Content-Type {content_type!r}"
                )
            return  # binary content (message attachments) or an empty declared answer
        pointer = self._json_schema_pointer(op, response_key, media)
        if pointer is None:
            if content or body.strip():
                raise AssertionError(
                    f"{label}: the spec declares no JSON body for "
                    f"{response_key}, got Content-Type {content_type!r}"
                )
            return
        self._check_json(label, self._ref_validator(pointer), media, body)

    def validate_error(
        self, path: str, body: bytes, content_type: str = "application/json", label: str = "error"
    ) -> None:
        """Check an error body alone (RingCentral's envelope, or OAuth's under /restapi/oauth/)."""
        self._check_error(label, path, _media_type(content_type), body)

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _response_key(op: Operation, status: int) -> str | None:
        """Exact code, else `2XX`-style range, else `default` (which this spec uses for several
        operations whose real answer is 200)."""
        for key in (str(status), f"{status // 100}XX"):
            if key in op.responses:
                return key
        return "default" if "default" in op.responses else None

    def _json_schema_pointer(self, op: Operation, key: str, media: str) -> str | None:
        response = op.responses.get(key)
        if response is None:
            return None
        content = response.get("content") or {}
        chosen = media if media in content and _is_json(media) else None
        if chosen is None:
            chosen = next((m for m in content if _is_json(m)), None)
        if chosen is None or "schema" not in content[chosen]:
            return None
        return (
            f"{op.pointer}/responses/{_pointer_escape(key)}/content/"
            f"{_pointer_escape(chosen)}/schema"
        )

    def _ref_validator(self, pointer: str) -> Any:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = OAS30ReadValidator(
                {"$ref": f"{_SPEC_URI}#{pointer}"},
                registry=self._registry,
                format_checker=OAS30ReadValidator.FORMAT_CHECKER,
            )
            self._validators[pointer] = validator
        return validator

    @staticmethod
    def _plain_validator(schema: dict[str, Any]) -> Any:
        strict = copy.deepcopy(schema)
        strictify(strict)
        return OAS30ReadValidator(strict, format_checker=OAS30ReadValidator.FORMAT_CHECKER)

    @staticmethod
    def _error_validator(path: str) -> tuple[Any, str]:
        if path.startswith("/restapi/oauth/"):
            return _OAUTH_ERROR_VALIDATOR, "the OAuth error envelope"
        return _ERROR_VALIDATOR, "RingCentral's error envelope"

    def _check_error(self, label: str, path: str, media: str, body: bytes) -> None:
        validator, name = self._error_validator(path)
        self._check_json(f"{label} [{name}]", validator, media, body)

    @staticmethod
    def _parse(label: str, media: str, body: bytes) -> Any:
        if not _is_json(media):
            raise AssertionError(
                f"{label}: expected a JSON body, got Content-Type {media!r} "
                f"and {_short(body.decode('utf-8', 'replace'))}"
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise AssertionError(
                f"{label}: body is not valid JSON ({exc}): "
                f"{_short(body.decode('utf-8', 'replace'))}"
            ) from None

    def _check_json(self, label: str, validator: Any, media: str, body: bytes) -> Any:
        """The parsed body, once it has passed `validator`."""
        instance = self._parse(label, media, body)
        self._check_instance(label, validator, instance)
        return instance

    @staticmethod
    def _check_instance(label: str, validator: Any, instance: Any) -> None:
        errors = list(validator.iter_errors(instance))
        if errors:
            lines = "\n  ".join(describe_errors(errors))
            raise AssertionError(f"{label}: response does not match the schema:\n  {lines}")

    # -- 207 Multi-Status (schemas.MULTI_STATUS_RESPONSE) -------------------------------------

    def _check_multi_status(
        self, label: str, op: Operation, path: str, key: str, content_type: str, body: bytes
    ) -> None:
        media = _media_type(content_type)
        content = op.responses[key].get("content") or {}
        if media not in content:
            raise AssertionError(
                f"{label}: a {key} answer is {' or '.join(content)}, "
                f"got Content-Type {content_type!r}"
            )
        if media == "multipart/mixed":
            self._check_multipart(label, op, path, content_type, body)
            return
        pointer = self._json_schema_pointer(op, key, media)
        if pointer is None:
            raise AssertionError(f"{label}: no schema for {media} in the {key} answer")
        items = self._check_json(label, self._ref_validator(pointer), media, body)
        for index, item in enumerate(items):
            self._check_item(
                f"{label} item {index} (status {item['status']})",
                op,
                path,
                item["status"],
                item.get("body"),
                present="body" in item,
            )

    def _check_item(
        self, label: str, op: Operation, path: str, status: int, body: Any, *, present: bool
    ) -> None:
        """One part/item of a 207, judged as the single-id answer of `status` would be."""
        if status == 204:
            if present:
                raise AssertionError(f"{label}: a 204 item must have no body, got {_short(body)}")
            return
        if not present:
            raise AssertionError(f"{label}: a {status} item must have a body")
        if status >= 300:
            validator, name = self._error_validator(path)
            self._check_instance(f"{label} [{name}]", validator, body)
            return
        pointer = self._json_schema_pointer(op, "200", "application/json")
        if pointer is None:
            raise AssertionError(
                f"{label}: {op.operation_id} has no 200 answer, so no item may have status "
                f"{status} (only 204 or an error)"
            )
        self._check_instance(label, self._ref_validator(pointer), body)

    def _check_multipart(
        self, label: str, op: Operation, path: str, content_type: str, body: bytes
    ) -> None:
        parts = list(_multipart_parts(label, content_type, body))
        if not parts:
            raise AssertionError(f"{label}: multipart body has no parts")
        head_media, head_body = parts[0]
        self._check_json(f"{label} part 0", _MULTIPART_STATUS_VALIDATOR, head_media, head_body)
        statuses = json.loads(head_body)["response"]
        if len(statuses) != len(parts) - 1:
            # The Python SDK refuses such an answer (ApiResponse.multipart).
            raise AssertionError(
                f"{label}: part 0 lists {len(statuses)} statuses but {len(parts) - 1} parts follow"
            )
        for index, ((media, part), entry) in enumerate(
            zip(parts[1:], statuses, strict=True), start=1
        ):
            status = entry["status"]
            part_label = f"{label} part {index} (status {status})"
            present = bool(part.strip())
            if status == 204 or not present:
                instance: Any = part.decode("utf-8", "replace")
            else:
                instance = self._parse(part_label, _media_type(media), part)
            self._check_item(part_label, op, path, status, instance, present=present)


def _multipart_parts(label: str, content_type: str, body: bytes) -> Iterator[tuple[str, bytes]]:
    if "boundary=" not in content_type:
        raise AssertionError(f"{label}: multipart Content-Type without boundary: {content_type!r}")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise AssertionError(f"{label}: body is not a multipart document")
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        yield part.get_content_type(), data


@cache
def _default_validator() -> SpecValidator:
    return SpecValidator(load_spec())


_ERROR_VALIDATOR: Final = SpecValidator._plain_validator(ERROR_ENVELOPE)
_OAUTH_ERROR_VALIDATOR: Final = SpecValidator._plain_validator(OAUTH_ERROR_ENVELOPE)
_MULTIPART_STATUS_VALIDATOR: Final = SpecValidator._plain_validator(MULTIPART_STATUS_PART)


def validate_response(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Shortcut for SpecValidator.default().validate(...)."""
    SpecValidator.default().validate(method, path, status, content_type, body)
