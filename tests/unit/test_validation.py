"""services.validation: the field rules of registration and profiles, checked directly.

Every checker adds its problems to a shared ``Problems`` so one VALIDATION_ERROR can name
every bad field at once; a password gets one message naming everything it lacks."""

from __future__ import annotations

import pytest

from services.errors import ErrorCode, FieldProblem, ValidationFailed
from services.validation import (
    EMAIL_MAX,
    NAME_MAX,
    NAME_MIN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    Problems,
    check_email,
    check_name,
    check_password,
    clean_text,
)

GOOD_PASSWORD = "Sup3r-secret!"


def messages(problems: Problems) -> list[str]:
    return [problem.message for problem in problems.items]


# clean_text


def test_clean_text_trims_and_collapses_whitespace():
    assert clean_text("  Ada \t\n  Lovelace  ") == "Ada Lovelace"


def test_clean_text_drops_control_characters():
    assert clean_text("Ada\x00\x1b Love\u200blace") == "Ada Lovelace"


def test_clean_text_normalises_unicode_to_nfc():
    decomposed = "Zoe\u0301"  # "e" + combining acute accent
    assert clean_text(decomposed) == "Zo\u00e9"


# check_name


def test_check_name_returns_the_cleaned_name_without_a_problem():
    problems = Problems()
    assert check_name(problems, "input.name", "  Ada   Lovelace ") == "Ada Lovelace"
    assert problems.items == []


@pytest.mark.parametrize(
    "name",
    ["", "A", "  A  ", "\t\n", "x" * (NAME_MAX + 1), " " + "x" * (NAME_MAX + 1) + " "],
    ids=["empty", "one-char", "one-char-after-trimming", "only-whitespace", "51", "51-trimmed"],
)
def test_check_name_refuses_a_length_outside_2_to_50_after_trimming(name: str):
    problems = Problems()
    check_name(problems, "input.name", name)
    assert problems.items == [
        FieldProblem("input.name", f"Name must be {NAME_MIN} to {NAME_MAX} characters long")
    ]


@pytest.mark.parametrize("name", ["Al", "x" * NAME_MAX, "  " + "x" * NAME_MAX + "  "])
def test_check_name_accepts_the_boundary_lengths(name: str):
    problems = Problems()
    check_name(problems, "input.name", name)
    assert problems.items == []


def test_check_name_counts_characters_after_whitespace_normalisation():
    problems = Problems()
    # 59 characters as typed; 26 + 1 + 23 = 50 once the run of spaces is one space.
    name = "a" * 26 + " " * 10 + "b" * 23
    assert check_name(problems, "input.name", name) == "a" * 26 + " " + "b" * 23
    assert problems.items == []


# check_email


def test_check_email_trims_and_lower_cases():
    problems = Problems()
    assert check_email(problems, "input.email", "  Ada@Example.COM ") == "ada@example.com"
    assert problems.items == []


@pytest.mark.parametrize(
    "email",
    [
        "a.b+tag@sub.example.co.uk",
        "o'hara@example.org",
        "x@a-b.io",
    ],
)
def test_check_email_accepts_ordinary_addresses(email: str):
    problems = Problems()
    check_email(problems, "input.email", email)
    assert problems.items == []


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada @example.com",
        "ada@exa mple.com",
        "ada@@example.com",
        "ada@-example.com",
        "ada@example..com",
        "ada@example.com\nBcc: eve@example.com",
    ],
)
def test_check_email_refuses_invalid_addresses(email: str):
    problems = Problems()
    check_email(problems, "input.email", email)
    assert problems.items == [FieldProblem("input.email", "Enter a valid email address")]


def test_check_email_refuses_an_address_longer_than_254_characters():
    local = "a" * 64
    domain = ".".join(["b" * 60] * 4) + ".com"  # a syntactically fine but too long domain
    email = f"{local}@{domain}"
    assert len(email) > EMAIL_MAX
    problems = Problems()
    check_email(problems, "input.email", email)
    assert messages(problems) == ["Enter a valid email address"]


# check_password


def test_check_password_accepts_a_password_with_every_class():
    problems = Problems()
    check_password(problems, "input.password", GOOD_PASSWORD)
    assert problems.items == []


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("sup3r-secret!", "an upper-case letter"),
        ("SUP3R-SECRET!", "a lower-case letter"),
        ("Super-secret!", "a digit"),
        ("Sup3rsecret9", "a special character"),
        ("Sup3r1!", f"at least {PASSWORD_MIN} characters"),
    ],
    ids=["upper", "lower", "digit", "special", "length"],
)
def test_check_password_names_the_one_missing_requirement(password: str, missing: str):
    problems = Problems()
    check_password(problems, "input.password", password)
    assert problems.items == [FieldProblem("input.password", f"Password must contain {missing}")]


def test_check_password_lacking_several_classes_yields_one_message_naming_all():
    problems = Problems()
    check_password(problems, "input.password", "abc")
    assert messages(problems) == [
        "Password must contain at least 8 characters, an upper-case letter, a digit, "
        "a special character"
    ]


def test_check_password_whitespace_is_not_a_special_character():
    problems = Problems()
    check_password(problems, "input.password", "Sup3r secret")
    assert messages(problems) == ["Password must contain a special character"]


def test_check_password_accepts_exactly_8_and_exactly_128_characters():
    problems = Problems()
    check_password(problems, "p", "Aa1!aaaa")
    check_password(problems, "p", "Aa1!" + "a" * (PASSWORD_MAX - 4))
    assert problems.items == []


def test_check_password_refuses_more_than_128_characters():
    problems = Problems()
    check_password(problems, "input.password", "Aa1!" + "a" * (PASSWORD_MAX - 3))
    assert problems.items == [
        FieldProblem("input.password", f"Password must be at most {PASSWORD_MAX} characters long")
    ]


# Problems


def test_problems_without_items_does_not_raise():
    Problems().raise_if_any()


def test_problems_raise_every_collected_field_together_in_order():
    problems = Problems()
    check_name(problems, "input.name", "A")
    check_email(problems, "input.email", "nope")
    check_password(problems, "input.password", "short")
    with pytest.raises(ValidationFailed) as raised:
        problems.raise_if_any()
    error = raised.value
    assert error.code is ErrorCode.VALIDATION_ERROR
    assert [detail["field"] for detail in error.extensions["details"]] == [
        "input.name",
        "input.email",
        "input.password",
    ]
