"""Wire format, shared by client and server (standard library and msgpack only).

A frame is a 4-byte big-endian length followed by that many bytes of msgpack. One request per
frame, one response frame per request, in order:

    request:  {"v": 1, "id": <int|str>, "method": "skills.match", "params": {...}}
    success:  {"v": 1, "id": <same>, "result": <any>}
    failure:  {"v": 1, "id": <same or None>, "error": {"code": "<code>", "message": "..."}}

`v` is the protocol version; a server answers a version it does not speak with
`unsupported_version` (listing the versions it does in `error.data`).
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack

VERSION = 1
SUPPORTED_VERSIONS = (1,)
HEADER = struct.Struct(">I")
# Requests carry at most a memory value (8 MiB) plus its envelope.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
MAX_RESPONSE_BYTES = 64 * 1024 * 1024

# Error codes. The client maps each to a typed exception.
BAD_FRAME = "bad_frame"  # not msgpack, not a map, no method: the connection stays usable
FRAME_TOO_LARGE = "frame_too_large"  # the server answers, then closes the connection
UNSUPPORTED_VERSION = "unsupported_version"
UNKNOWN_METHOD = "unknown_method"
INVALID_PARAMS = "invalid_params"  # a UsageError in the daemon
NOT_FOUND = "not_found"
NOT_AVAILABLE = "not_available"  # the feature is not built or not installed in this daemon
CONFIG = "config"
FAILED = "failed"  # another AgentflowError
IO = "io"
INTERNAL = "internal"  # a bug in the daemon


def pack(message: dict[str, Any]) -> bytes:
    body = msgpack.packb(message, use_bin_type=True)
    return HEADER.pack(len(body)) + body


def unpack(body: bytes) -> Any:
    return msgpack.unpackb(body, raw=False, strict_map_key=True)


def error_message(request_id: Any, code: str, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"v": VERSION, "id": request_id, "error": error}
