"""drf-spectacular hooks: the headers and error statuses of API.md in every operation,
so the OpenAPI document is the accurate, full reference (and schemathesis can hold
responses to it)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from core.api.idempotency import IDEMPOTENCY_KEY_PATTERN
from core.api.idempotency import MAX_KEY_LENGTH as IDEMPOTENCY_KEY_MAX_LENGTH

ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": "Error: `detail`, or field → messages.",
}

ERRORS = {
    "400": "Invalid input: field → list of messages (DRF's usual body).",
    "401": "No valid credentials (`Authorization: Bearer <key>` or a session).",
    "403": "Not allowed for this key or user.",
    "404": "Not found (also another customer's object: never its data; on lists, a page past the end).",
    "415": "Unsupported media type: send JSON.",
    "409": "Conflict with the current state: a limit reached, a short balance, a stale version, a reused Idempotency-Key.",
    "412": "If-Match names a version the object no longer has.",
    "429": "Throttled: too many requests for this key.",
}


class PortalAutoSchema(AutoSchema):
    def _is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    def _creates(self) -> bool:
        """A POST under Idempotency-Key: `create`, or an action declared `creates=True`."""
        if self.method != "POST":
            return False
        creates = getattr(self.view, "creates", None)
        return self._is_create_operation() if creates is None else bool(creates)

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self._creates():
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                        "pattern": IDEMPOTENCY_KEY_PATTERN,
                    },
                    OpenApiParameter.HEADER,
                    required=False,
                    description="The same key with the same body returns the first response again and creates nothing; "
                    "with a different body it is 409. Kept at least 24 hours.",
                )
            )
        is_list = getattr(self.view, "is_list_action", None)
        if self.method == "GET" and is_list is not None and is_list():
            # API.md Revision 2, "Sync" (core.api.sync).
            params += [
                OpenApiParameter(
                    "updated_after",
                    OpenApiTypes.DATETIME,
                    description="Only rows whose updated_at is later (a future time: an empty list).",
                ),
            ]
            choices = self.view.ordering_choices()
            if choices is not None:
                params.append(
                    OpenApiParameter(
                        "ordering",
                        str,
                        enum=choices,
                        description="Field to order by, `-` for descending; `updated_at` or "
                        "`-updated_at` pages by the cursor in `next`. Unknown fields are 400.",
                    )
                )
        if self.method in ("PUT", "PATCH"):
            params.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="The `version` you read; 412 if the object changed meanwhile.",
                )
            )
        return params

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["401", "403", "429"]
        if self._is_write() or self.method == "GET":
            codes.append("400")
        codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if self._is_write():
            codes.append("409")
        if self.method in ("PUT", "PATCH"):
            codes.append("412")
        for code in codes:
            responses.setdefault(
                code,
                {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                },
            )
        return responses


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <key>` (accounts.authentication.ApiKeyAuthentication)."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key made by staff or `manage.py create_api_key`; a customer's key acts for that customer only.",
        }


def allow_empty_query_values(result, generator, request, public):
    """drf-spectacular postprocessing hook: an optional query parameter sent empty
    (`?updated_after=`) is no parameter at all, as django-filter treats every filter;
    the document says so (`allowEmptyValue`), so a client and schemathesis expect it."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
                schema = parameter.get("schema", {})
                if parameter.get("in") in ("query", "path") and schema.get("type") == "string":
                    if not ({"pattern", "enum", "format"} & set(schema)):
                        # A NUL byte in a query or path is refused (400), as in any text
                        # field (portal.middleware, issue #22): the document says so.
                        schema["pattern"] = NO_NUL
    return result


NO_NUL = "^[^\\x00]*$"
