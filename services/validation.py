"""Input validation that reports every problem at once (VALIDATION_ERROR with details)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from services.errors import FieldProblem, ValidationFailed

# Pragmatic address syntax: one @, no spaces, a dot in the domain, sane lengths.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
NAME_MIN, NAME_MAX = 2, 50
PASSWORD_MIN, PASSWORD_MAX = 8, 128
EMAIL_MAX = 254


@dataclass
class Problems:
    """Collects field problems; ``raise_if_any`` raises them together."""

    items: list[FieldProblem] = field(default_factory=list)

    def add(self, field_path: str, message: str) -> None:
        self.items.append(FieldProblem(field_path, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)


def clean_text(value: str) -> str:
    """Normalise Unicode and whitespace; drop control characters."""
    normalised = unicodedata.normalize("NFC", value)
    printable = "".join(ch for ch in normalised if unicodedata.category(ch)[0] != "C")
    return " ".join(printable.split())


def check_name(problems: Problems, field_path: str, name: str) -> str:
    cleaned = clean_text(name)
    if not NAME_MIN <= len(cleaned) <= NAME_MAX:
        problems.add(field_path, f"Name must be {NAME_MIN} to {NAME_MAX} characters long")
    return cleaned


def check_email(problems: Problems, field_path: str, email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > EMAIL_MAX or not _EMAIL.match(cleaned):
        problems.add(field_path, "Enter a valid email address")
    return cleaned


def check_password(problems: Problems, field_path: str, password: str) -> None:
    """One message naming everything the password lacks."""
    missing = []
    if not any(ch.isupper() for ch in password):
        missing.append("an upper-case letter")
    if not any(ch.islower() for ch in password):
        missing.append("a lower-case letter")
    if not any(ch.isdigit() for ch in password):
        missing.append("a digit")
    if not any(not ch.isalnum() and not ch.isspace() for ch in password):
        missing.append("a special character")
    if len(password) < PASSWORD_MIN:
        missing.insert(0, f"at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        problems.add(field_path, f"Password must be at most {PASSWORD_MAX} characters long")
    elif missing:
        problems.add(field_path, "Password must contain " + ", ".join(missing))
