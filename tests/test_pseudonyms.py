from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.pseudonyms import CodeProblem, code_problem, normalise_code, pseudonymise

# Pinned: changing the function would silently split every person's history in two.
VECTOR_KEY = "test-vector-key"
VECTOR_ASSOCIATION = "b5a7e2161608ad07eda256c30cda5dc417481ad3db9d73889e64b250e3b28c19"
VECTOR_REGION = "ce5bb194862de8356a649c06f721df111566ba80dd7362415ccecbd5a04f2ef9"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Éli 1990", "eli1990"),
        ("eli-1990", "eli1990"),
        ("  ÉLI_1990 ", "eli1990"),
        ("Zoë.85", "zoe85"),
        ("ß 77", "ss77"),
        ("😀--", ""),
    ],
)
def test_normalise_code(raw: str, expected: str) -> None:
    assert normalise_code(raw) == expected


# Computed on the normalisation that kept only ASCII letters and digits after removing
# accents: transliterating other scripts must not move any of these people.
PRESENT_PSEUDONYMS = {
    "Éli 1990": "b5a7e2161608ad07eda256c30cda5dc417481ad3db9d73889e64b250e3b28c19",
    "eli-1990": "b5a7e2161608ad07eda256c30cda5dc417481ad3db9d73889e64b250e3b28c19",
    "AB 1985": "5e83a939cb1275d6534bd3dcde64ab07a2dbcce21ba7367430a9d35d32430a51",
    "ÇA-2001": "7117d84d0abfbc81fc7c743d084786909b2e43e1b2ff8fdfb845f7557efd255c",
    "Zoë.85": "c9e5dd6fd137af1c7cdde83254e0b461b6ca3cb80a8d1bb74a5ab52b348b03ed",
    "ß 77": "babcd71cbac6f4bfde93f9b9f01fc498bff74d3027ae886e7e6317beb46189d4",
    "Ñúñez 1970": "7dd55cc856c9db5d227db65e3fb58c4a1194946b1c9a2e619873b7e5d83cff8d",
    "ÅSA 1999": "85af1c208f0c97691099f5827580d5d0c8775e945db2014390fc18758a400540",
    "Ève_2003": "73cca86b24b06157e6a8136d4cd8d7235ccb6ef911a74785b256e0b97f44f076",
    "  jean-marc 1961 ": "31487a551bd806efcfb4dd6de084fecb084feb66e003d2e7b699776717bc64d0",
    "ﬁfi 1980": "0595bc077d9d4a0b1311cec18a4a078013fe74bca7815d4fcc53417229732b92",
    "\uff2b\uff12 1975": "a08aaf1954cb48737e1ed7fb1a39bf00deaccfcaf452073422ea995d7f2c1458",
}


@pytest.mark.parametrize(("raw", "pseudonym"), PRESENT_PSEUDONYMS.items())
def test_latin_codes_keep_their_present_pseudonyms(raw: str, pseudonym: str) -> None:
    assert pseudonymise(VECTOR_KEY, "demo", normalise_code(raw)).association == pseudonym


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ЖК 1985", "ДМ 1985"),
        ("\u0391\u0392 1985", "\u0393\u0394 1985"),
        ("王 1985", "李 1985"),
        ("ŒUF 1980", "UF 1980"),
        ("Bjørn 77", "Bjrn 77"),
    ],
)
def test_letters_of_other_scripts_are_transliterated_not_dropped(one: str, other: str) -> None:
    assert normalise_code(one) != normalise_code(other)
    assert not normalise_code(one).isdigit()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ЖК 1985", "zhk1985"), ("Ελένη 80", "eleni80"), ("١٩٨٥ ab", "1985ab")],
)
def test_transliteration(raw: str, expected: str) -> None:
    assert normalise_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("ab", CodeProblem.TOO_SHORT),
        ("😀--", CodeProblem.TOO_SHORT),
        ("x" * 33, CodeProblem.TOO_LONG),
        ("1985", CodeProblem.NO_LETTER),
        ("19-85 !", CodeProblem.NO_LETTER),
        ("AB 1985", None),
        ("ЖК 1985", None),
    ],
)
def test_code_rules(raw: str, problem: CodeProblem | None) -> None:
    assert code_problem(normalise_code(raw)) is problem


def test_fixed_vector() -> None:
    pseudonyms = pseudonymise(VECTOR_KEY, "demo", normalise_code("Éli 1990"))
    assert pseudonyms.association == VECTOR_ASSOCIATION
    assert pseudonyms.region == VECTOR_REGION


def test_vector_follows_the_documented_construction() -> None:
    """HMAC-SHA-256 of the normalised code, keyed by HMAC(PSEUDONYM_KEY, purpose)."""
    association_key = hmac.new(b"test-vector-key", b"association:demo", hashlib.sha256).digest()
    region_key = hmac.new(b"test-vector-key", b"region", hashlib.sha256).digest()
    assert hmac.new(association_key, b"eli1990", hashlib.sha256).hexdigest() == VECTOR_ASSOCIATION
    assert hmac.new(region_key, b"eli1990", hashlib.sha256).hexdigest() == VECTOR_REGION


def test_same_person_same_pseudonyms_whatever_the_spelling() -> None:
    a = pseudonymise("k", "demo", normalise_code("Éli 1990"))
    b = pseudonymise("k", "demo", normalise_code("eli-1990"))
    assert a == b


def test_association_pseudonyms_differ_but_region_is_shared() -> None:
    demo = pseudonymise("k", "demo", "eli1990")
    other = pseudonymise("k", "other", "eli1990")
    assert demo.association != other.association
    assert demo.region == other.region
    assert demo.association != demo.region


def test_the_key_matters() -> None:
    assert pseudonymise("k1", "demo", "eli1990") != pseudonymise("k2", "demo", "eli1990")


def test_empty_code_has_no_pseudonym() -> None:
    with pytest.raises(ValueError, match="empty"):
        pseudonymise("k", "demo", "")


@given(st.text(max_size=40))
def test_normalised_codes_are_ascii_alphanumeric_and_stable(raw: str) -> None:
    normalised = normalise_code(raw)
    assert all(ch.isascii() and ch.isalnum() and not ch.isupper() for ch in normalised)
    assert normalise_code(normalised) == normalised
