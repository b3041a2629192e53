"""schemathesis hooks for tests/schemathesis.rs: the API's text bodies (a plan's TOML, events as
JSON Lines) sent as they are; a generated value that is not text is sent as its JSON."""

import json

import schemathesis


@schemathesis.serializer("application/toml", "application/x-ndjson")
def text(ctx, value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")
