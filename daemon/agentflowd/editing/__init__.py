"""Editor features over the skills core, as pure functions returning plain data.

Nothing here imports pygls or lsprotocol: `agentflowd.lsp` converts these results to the protocol,
and the CLI or tests can call them directly. Positions are the core model's (0-based lines,
columns in Unicode code points); `positions` converts to and from a client's encoding.
"""
