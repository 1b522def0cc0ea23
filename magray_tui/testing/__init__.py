"""Test doubles that stand behind real interfaces where the hardware is absent."""
