"""The daemon: a language server for skill files plus the project state it shares with the socket.

Only `server` and `convert` import pygls/lsprotocol (about a second of import). `state`, `watch`
and `services` are plain Python so the socket-only daemon (`agentflowd serve --no-lsp`) runs
without paying for the protocol library.
"""
