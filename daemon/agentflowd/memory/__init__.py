"""Persistent project memory: one SQLite database per project (apsw + sqlite-vec), Annoy as an accelerator.

This package is the only code in agentflowd that opens SQLite or an Annoy index.
"""
