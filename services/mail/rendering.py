"""Mail templates: Jinja2 files in ``services/mail/templates``, one ``.txt.j2`` (subject block
and text body) and one ``.html.j2`` per email."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.mail.message import EmailMessage

TEMPLATE_DIR = Path(__file__).parent / "templates"
APP_NAME = "Agora"

# The emails there are and the context each one needs; `valid_for` ("1 hour") is optional
# everywhere it is shown, `link` is optional in password_changed.
TEMPLATES: dict[str, frozenset[str]] = {
    "verify_email": frozenset({"name", "link"}),
    "reset_password": frozenset({"name", "link"}),
    "password_changed": frozenset({"name"}),
    "weekly_report": frozenset(
        {
            "name",
            "period_start",
            "period_end",
            "new_users",
            "orders_placed",
            "orders_completed",
            "orders_cancelled",
            "revenue",
            "top_customers",
        }
    ),
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        # Autoescape by file name: on for *.html.j2 (a user's name "<script>" arrives as
        # text), off for *.txt.j2, whose output is never parsed as HTML.
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=StrictUndefined,  # a missing variable fails the render, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_email(template: str, to: str, **context: Any) -> EmailMessage:
    """``render_email("verify_email", "a@b.test", name="Ada", link=build_link(...))``.

    Raises ValueError for an unknown template or missing context."""
    required = TEMPLATES.get(template)
    if required is None:
        raise ValueError(f"unknown mail template {template!r}; known: {sorted(TEMPLATES)}")
    if missing := sorted(required - context.keys()):
        raise ValueError(f"mail template {template!r} needs {', '.join(missing)}")
    env = environment()
    values = {"app_name": APP_NAME, **context}
    text_template = env.get_template(f"{template}.txt.j2")
    # The subject is a block of the text template, rendered on its own (the text layout does
    # not print it); whitespace collapses so it can never break the header line.
    subject_block = text_template.blocks["subject"]
    subject = " ".join("".join(subject_block(text_template.new_context(values))).split())
    text = text_template.render(values).strip() + "\n"
    html = env.get_template(f"{template}.html.j2").render(values)
    return EmailMessage(to=to, subject=subject, text=text, html=html)


def format_duration(seconds: int) -> str:
    """``3600`` → ``"1 hour"``, ``86400`` → ``"24 hours"``, ``900`` → ``"15 minutes"``:
    the ``valid_for`` text for a token lifetime."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
