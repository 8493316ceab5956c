"""Second factor: TOTP (RFC 6238, pyotp) and one-use recovery codes.

Supervisors, funders and admins must have it; workers may. The secret is encrypted at
rest with AES-GCM under a key derived from SECRET_KEY (HKDF), bound to the user's id,
and shown only while enrolling. Each code is accepted once: the time step of the last
accepted code is stored and only a later step passes, with a compare-and-set so that
two requests racing with the same code cannot both win. Recovery codes are random
(80 bits) and stored as SHA-256 digests.

Changing SECRET_KEY makes the stored secrets unreadable: every enrolled account must
then have its second factor reset by an administrator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from config import Settings

from ..audit import audit
from ..models import RecoveryCode, User

TOTP_REQUIRED_ROLES = frozenset({"supervisor", "funder", "admin"})
ISSUER = "Maraudes"
INTERVAL_SECONDS = 30
# One step either side of now: phones whose clock drifts by up to 30 s still work.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_TOTP_CODE = re.compile(r"^\d{6}$")
_NONCE_BYTES = 12


class SecondFactorError(ValueError):
    """The stored secret cannot be read (SECRET_KEY changed): reset the second factor."""


def requires_totp(user: User) -> bool:
    return user.role in TOTP_REQUIRED_ROLES


def has_totp(user: User) -> bool:
    return user.totp_confirmed_at is not None


def _aead(settings: Settings) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"outreach/totp-secret/v1"
    ).derive(settings.secret_key.encode())
    return AESGCM(key)


def _bound_to(user: User) -> bytes:
    return f"user:{user.id}".encode()


def encrypt_secret(settings: Settings, user: User, secret: str) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _aead(settings).encrypt(nonce, secret.encode(), _bound_to(user))
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(settings: Settings, user: User) -> str:
    if user.totp_secret_encrypted is None:
        raise SecondFactorError("no second factor secret")
    raw = base64.urlsafe_b64decode(user.totp_secret_encrypted.encode())
    try:
        plain = _aead(settings).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _bound_to(user))
    except InvalidTag as error:
        raise SecondFactorError("the second factor secret cannot be decrypted") from error
    return plain.decode()


def pending_secret(session: Session, settings: Settings, user: User) -> str:
    """The secret being enrolled: the same one until confirmed, so a reload keeps the QR code."""
    if has_totp(user):
        raise SecondFactorError("already enrolled")
    if user.totp_secret_encrypted is not None:
        try:
            return decrypt_secret(settings, user)
        except SecondFactorError:
            pass  # sealed under an older SECRET_KEY: start again
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = encrypt_secret(settings, user, secret)
    user.totp_last_step = None
    session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def qr_code_svg(uri: str) -> str:
    """An inline SVG (no script, no style attribute: fine under the CSP)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff"))


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // INTERVAL_SECONDS


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret, interval=INTERVAL_SECONDS)
    current = time_step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * INTERVAL_SECONDS), code):
            return step
    return None


def _consume_step(session: Session, user: User, step: int) -> bool:
    """Compare-and-set: only a step later than the last accepted one passes, once."""
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))


def _check_totp(session: Session, settings: Settings, user: User, code: str, now: datetime) -> bool:
    code = re.sub(r"\s", "", code)
    if not _TOTP_CODE.match(code):
        return False
    step = _matching_step(decrypt_secret(settings, user), code, now)
    return step is not None and _consume_step(session, user, step)


def confirm_enrolment(
    session: Session, settings: Settings, user: User, code: str, now: datetime
) -> list[str] | None:
    """Turn the pending secret on with a first code; returns the new recovery codes."""
    if has_totp(user) or user.totp_secret_encrypted is None:
        return None
    if not _check_totp(session, settings, user, code, now):
        return None
    user.totp_confirmed_at = now
    audit(session, "totp.enrolled", actor=user, association_id=user.association_id)
    return renew_recovery_codes(session, user)


def verify_second_factor(
    session: Session, settings: Settings, user: User, code: str, now: datetime
) -> str | None:
    """ "totp" or "recovery" when the code is accepted (and spent), None otherwise."""
    if not has_totp(user):
        return None
    try:
        if _check_totp(session, settings, user, code, now):
            return "totp"
    except SecondFactorError:
        pass  # secret sealed under another SECRET_KEY: only recovery codes still work
    if _use_recovery_code(session, user, code, now):
        return "recovery"
    return None


def _normalise_recovery(code: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", code.upper())


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def _use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    if len(_normalise_recovery(code)) != 16:
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def renew_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes; the plain codes are returned to be shown once."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(c)) for c in codes)
    session.flush()
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def remove_second_factor(session: Session, user: User) -> None:
    """Forget the secret and the recovery codes (a worker's choice, or an admin's reset)."""
    user.totp_secret_encrypted = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
