"""Passwords: argon2id hashing, the policy (length and common passwords), temporary ones.

The policy follows NIST SP 800-63B and OWASP: 12 to 128 characters, no composition
rules, and no password that appears in a list of common ones (`common_passwords.txt`,
see its header for where it comes from), including such a password padded with digits
or punctuation ("Password2026!"), a very short pattern repeated, a run along the
keyboard or the digits, or the account's own e-mail address.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher

from config import Settings

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SHORT_UNIT_REPEATED = re.compile(r"^(.{1,4})\1+$", re.DOTALL)
# Runs along the digits, the alphabet and the rows of QWERTY and AZERTY keyboards.
_RUNS = tuple(
    run * (MAX_PASSWORD_LENGTH // len(run) + 2)
    for base in (
        "0123456789",
        "abcdefghijklmnopqrstuvwxyz",
        "qwertyuiopasdfghjklzxcvbnm",
        "azertyuiopqsdfghjklmwxcvbn",
    )
    for run in (base, base[::-1])
)
# Words of this service that make a guessable password on their own.
SERVICE_WORDS = frozenset({"maraude", "maraudes", "outreach"})
# Lowercase letters and digits without the look-alikes (0/o, 1/l/i): easy to read out.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class PasswordProblem(enum.Enum):
    LENGTH = "length"
    COMMON = "common"


def password_hasher(settings: Settings) -> PasswordHasher:
    """argon2id (argon2-cffi's default type) with the configured cost."""
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )


@cache
def common_passwords() -> frozenset[str]:
    text = files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common(password: str, context: Iterable[str] = ()) -> bool:
    folded = password.casefold().strip()
    core = _PADDING.sub("", folded)
    guessable = common_passwords() | SERVICE_WORDS | {word.casefold() for word in context if word}
    return (
        folded in guessable
        or core in guessable
        or _SHORT_UNIT_REPEATED.match(folded) is not None
        or any(folded in run for run in _RUNS)
    )


def password_problem(password: str, context: Iterable[str] = ()) -> PasswordProblem | None:
    """Why a password is refused, or None. `context`: the account's e-mail address, say."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return PasswordProblem.LENGTH
    if is_common(password, context):
        return PasswordProblem.COMMON
    return None


def context_words(email: str) -> tuple[str, ...]:
    email = email.strip().casefold()
    return (email, email.split("@")[0])


def generate_temporary_password() -> str:
    """Four groups of four easy-to-read characters (about 79 bits): xxxx-xxxx-xxxx-xxxx."""
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)
