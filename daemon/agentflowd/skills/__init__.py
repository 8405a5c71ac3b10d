"""Skill files: parsing, the JSON-Schema-driven validator, and the catalog Claude Code would see."""
