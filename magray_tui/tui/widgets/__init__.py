"""Widgets shared by the app and the panes."""
