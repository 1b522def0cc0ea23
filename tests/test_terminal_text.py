from magray_tui.terminal_text import for_terminal, one_line

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


def test_escapes_are_made_visible_not_passed_raw():
    out = for_terminal(f"a{TITLE}b{CLEAR}c")
    assert "\x1b" not in out and "\x07" not in out
    assert out == "a␛]0;pwned␇b␛[2Jc"


def test_newlines_and_tabs_kept_when_multiline_only():
    assert for_terminal("a\nb\tc") == "a\nb\tc"
    assert for_terminal("a\nb\tc", multiline=False) == "a␊b␉c"
    assert for_terminal("over\rwrite") == "over␍write"


def test_c1_del_and_bidi_controls():
    out = for_terminal("x\x9b31my\x7fz\u202eevil")
    assert out == "x\\x9b31my␡z\\u202eevil"


def test_plain_text_and_unicode_unchanged():
    text = "Déploiement le jeudi — ✓ 東京"
    assert for_terminal(text) == text


def test_one_line_folds_whitespace_and_cuts():
    assert one_line("a\n\n  b\tc") == "a b c"
    assert one_line(f"x{CLEAR}y") == "x␛[2Jy"
    assert one_line("abcdefghij", width=5) == "abcd…"
