"""services.sanitize: text from clients keeps no HTML tag or attribute (script and style
contents go too), stays safe to render as HTML (``<``, ``>`` and ``&`` escaped), and has its
whitespace, control characters and Unicode normalised."""

from __future__ import annotations

import pytest

from services.sanitize import sanitize_line, sanitize_text

SANITISERS = [sanitize_line, sanitize_text]

HOSTILE = [
    ('<script>alert(1)</script><b onclick="x">Hi</b>', "Hi"),
    ("<style>body { display: none }</style>ok", "ok"),
    ('<img src=x onerror="steal()">pic', "pic"),
    ('<a href="javascript:go()">link</a>', "link"),
    ("<iframe src='https://evil.example'></iframe>framed", "framed"),
    ("<!-- a comment -->visible", "visible"),
    ("<b>unclosed", "unclosed"),
    ("<svg><script>x()</script></svg>svg", "svg"),
]


@pytest.mark.parametrize("sanitise", SANITISERS)
@pytest.mark.parametrize(("raw", "clean"), HOSTILE)
def test_tags_attributes_and_script_contents_are_removed(sanitise, raw: str, clean: str) -> None:
    assert sanitise(raw) == clean


@pytest.mark.parametrize("sanitise", SANITISERS)
def test_text_is_left_safe_to_render_as_html(sanitise) -> None:
    assert sanitise("a < b & c > d") == "a &lt; b &amp; c &gt; d"


@pytest.mark.parametrize("sanitise", SANITISERS)
@pytest.mark.parametrize(
    "raw", ["Tom & Jerry <3", "&lt;b&gt; is bold", 'say "hi" <i>now</i>', "a\nb <p>c</p>"]
)
def test_sanitising_twice_changes_nothing(sanitise, raw: str) -> None:
    """A value read back from the API and sent again is stored unchanged."""
    once = sanitise(raw)
    assert sanitise(once) == once


@pytest.mark.parametrize("sanitise", SANITISERS)
def test_plain_text_and_quotes_survive(sanitise) -> None:
    assert sanitise('It\'s "fine", naïve café: 100% ✓') == 'It\'s "fine", naïve café: 100% ✓'


@pytest.mark.parametrize("sanitise", SANITISERS)
def test_unicode_is_normalised_to_nfc(sanitise) -> None:
    decomposed = "Cafe\u0301"
    assert sanitise(decomposed) == "Caf\u00e9"


@pytest.mark.parametrize("sanitise", SANITISERS)
def test_control_and_invisible_format_characters_are_dropped(sanitise) -> None:
    assert sanitise("x\x00y\x07z\u200bw\u202e!") == "xyzw!"


def test_a_line_collapses_whitespace_and_trims() -> None:
    assert sanitize_line("  two   words \t here  ") == "two words here"


def test_a_line_turns_line_breaks_into_spaces() -> None:
    assert sanitize_line("Hello\nworld\r\nagain\rand\u2028more") == "Hello world again and more"


def test_a_line_of_only_markup_or_whitespace_is_empty() -> None:
    assert sanitize_line("<b></b> \n\t ") == ""
    assert sanitize_line("<script>only()</script>") == ""


def test_text_keeps_line_breaks_and_normalises_them() -> None:
    assert sanitize_text("first\r\nsecond\rthird\nfourth") == "first\nsecond\nthird\nfourth"


def test_text_collapses_spaces_within_lines_and_trims_the_whole() -> None:
    raw = "\n\n  first   line \t\n\n  second\tline  \n\n"
    assert sanitize_text(raw) == "first line\n\nsecond line"


def test_text_drops_a_script_across_lines() -> None:
    assert sanitize_text("<div>\n<script>\nbad()\n</script>\n</div>text") == "text"


def test_text_of_only_markup_is_empty() -> None:
    assert sanitize_text("<p>  </p>\n<script>x</script>") == ""
