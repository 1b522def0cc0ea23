"""The Textual face of magray: the only package that imports textual.

`magray_tui.tui.app.run_app` is what `magray` (no arguments) calls. Nothing heavy is
imported before the first frame; services open in a thread worker after mount.
"""
