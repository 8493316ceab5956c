"""Keyed pseudonyms of a person's code. The code itself is never kept.

"Éli 1990" and "eli-1990" are the same person: the code is case-folded,
stripped of accents, letters and digits of other scripts are transliterated
("ЖК" becomes "zhk"), and only ASCII letters and digits are kept (docs/codes.md).
Then it is HMAC-SHA-256'd with a key derived from PSEUDONYM_KEY: one key per association
(the association can find the person again) and one for the whole region
(counts distinct people across associations; never shown or exported).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

MIN_CODE_LENGTH = 3
MAX_CODE_LENGTH = 32


class CodeProblem(enum.Enum):
    """Why a normalised code cannot tell people apart."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    NO_LETTER = "no_letter"  # a birth year alone is shared by too many people


def _ascii_alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def normalise_code(raw: str) -> str:
    # Compatibility-decompose on both sides of case-folding: each can undo the other.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", raw).casefold())
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # ASCII letters and digits are kept as they are (so every code typed in the Latin
    # alphabet keeps its pseudonym); other letters and digits are transliterated.
    return "".join(
        ch if ch.isascii() else _ascii_alnum(anyascii(ch).casefold())
        for ch in without_accents
        if ch.isalnum()
    )


def code_problem(normalised: str) -> CodeProblem | None:
    if len(normalised) < MIN_CODE_LENGTH:
        return CodeProblem.TOO_SHORT
    if len(normalised) > MAX_CODE_LENGTH:
        return CodeProblem.TOO_LONG
    if normalised.isdigit():
        return CodeProblem.NO_LETTER
    return None


def _derive_key(master_key: str, purpose: str) -> bytes:
    return hmac.new(master_key.encode(), purpose.encode(), hashlib.sha256).digest()


def _pseudonym(key: bytes, normalised_code: str) -> str:
    return hmac.new(key, normalised_code.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Pseudonyms:
    association: str
    region: str


def pseudonymise(master_key: str, association_slug: str, normalised_code: str) -> Pseudonyms:
    if not normalised_code:
        raise ValueError("an empty code has no pseudonym")
    return Pseudonyms(
        association=_pseudonym(
            _derive_key(master_key, f"association:{association_slug}"), normalised_code
        ),
        region=_pseudonym(_derive_key(master_key, "region"), normalised_code),
    )
