"""The API's JSON parser: DRF's, plus limits a hostile body would otherwise turn into
a 500 rather than a 400.

- Nesting deeper than MAX_DEPTH (a body nested 1,000 deep made a RecursionError).
- NUL or a lone surrogate in any string or key (PostgreSQL cannot store either).
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.text import has_nul_or_surrogate

MAX_DEPTH = 32


def check_json(data) -> None:
    """Raise ParseError for a value too deep or holding text PostgreSQL refuses."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                if has_nul_or_surrogate(key):
                    raise ParseError("Text may not contain NUL characters.")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and has_nul_or_surrogate(value):
            raise ParseError("Text may not contain NUL characters.")


class PortalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        check_json(data)
        return data
