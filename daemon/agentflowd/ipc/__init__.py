"""The daemon's local socket: length-prefixed msgpack frames over a per-project Unix socket.

`client` is what the CLI and the hooks import: it uses only the standard library and msgpack, so
asking a running daemon costs about a millisecond of import. `server` runs inside the daemon.
"""
