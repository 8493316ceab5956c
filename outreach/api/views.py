"""JSON API used by the phone's outbox: the same validation and service as the HTML form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from flask import Blueprint, current_app, jsonify, request
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from config import get_settings

from ..auth.access import current_association, roles_required
from ..capture.code_seal import is_sealed, public_key, unseal
from ..capture.services import (
    Outcome,
    RecordResult,
    active_zones,
    load_capture_options,
    open_patrol_of,
    record_contacts,
)
from ..capture.validation import CaptureOptions, ContactDraft, Errors, validate_contact
from ..clock import now_utc
from ..db import writes_idempotently
from ..extensions import db
from ..models import Material, Need, ReferralDestination
from ..vocabulary import AGE_BANDS, CAPTURE_ROLES, GENDERS, HOUSING, REFERRAL_STATUSES
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_BATCH = 500
HTTP_STATUS = {Outcome.CREATED: 201, Outcome.UNCHANGED: 200, Outcome.CONFLICT: 409}


def _item_id(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return str(item["id"])[:64]
    return None


def _invalid(item: Any, errors: Errors) -> tuple[dict[str, Any], int]:
    messages = {field: [str(m) for m in found] for field, found in errors.items()}
    return {"id": _item_id(item), "status": "invalid", "errors": messages}, 422


def _outcome(result: RecordResult) -> tuple[dict[str, Any], int]:
    body: dict[str, Any] = {"id": str(result.client_id), "status": result.outcome.value}
    if result.outcome is Outcome.CONFLICT:
        body["message"] = _("Ce contact a déjà été enregistré avec d'autres informations.")
    return body, HTTP_STATUS[result.outcome]


def _opened(item: Any, pseudonym_key: str) -> tuple[Any, Errors]:
    """The item with its person code out of the envelope the phone sealed it in."""
    if not isinstance(item, dict) or not is_sealed(item.get("person_code")):
        return item, {}
    code = unseal(item["person_code"], pseudonym_key)
    if code is None:
        return item, {"person_code": [_("Code illisible : saisissez-le à nouveau.")]}
    return {**item, "person_code": code}, {}


def _save(items: list[Any], options: CaptureOptions) -> list[tuple[dict[str, Any], int]]:
    """Validate each item, then record the valid ones together; answers in input order."""
    answers: list[tuple[dict[str, Any], int] | None] = [None] * len(items)
    valid: list[tuple[int, ContactDraft]] = []
    now = now_utc()
    pseudonym_key = get_settings(current_app).pseudonym_key
    for index, item in enumerate(items):
        opened, unreadable = _opened(item, pseudonym_key)
        if unreadable:
            answers[index] = _invalid(item, unreadable)
            continue
        draft, errors = validate_contact(opened, options, now)
        if draft is None:
            answers[index] = _invalid(item, errors)
        else:
            valid.append((index, draft))
    results = record_contacts(
        db.session(),
        [draft for _, draft in valid],
        current_user,
        current_association(),
        pseudonym_key,
        now,
    )
    for (index, _draft), result in zip(valid, results, strict=True):
        answers[index] = _outcome(result)
    return [answer for answer in answers if answer is not None]


def _json(body: Any, status: int) -> tuple[Response, int]:
    return jsonify(body), status


@bp.post("/contacts")
@roles_required(*CAPTURE_ROLES)
@writes_idempotently
def post_contacts() -> tuple[Response, int]:
    """One contact (status of that contact) or a list (200 with one result per item)."""
    payload = request.get_json(silent=True)
    if payload is None:
        return _json(
            {
                "status": "invalid",
                "errors": {"": [_("Un contact ou une liste en JSON est attendu.")]},
            },
            422,
        )
    items = payload if isinstance(payload, list) else [payload]
    dicts = [item for item in items if isinstance(item, dict)]
    options = load_capture_options(
        db.session(),
        current_association().id,
        (item.get("patrol_id") for item in dicts),
        # A replay of a contact stored before a code was retired keeps that code.
        (item.get("id") for item in dicts),
    )
    if not isinstance(payload, list):
        return _json(*_save([payload], options)[0])
    if not payload or len(payload) > MAX_BATCH:
        message = _("Entre 1 et %(n)s contacts par envoi.", n=MAX_BATCH)
        return _json({"status": "invalid", "errors": {"": [message]}}, 422)
    results = [{**body, "code": status} for body, status in _save(payload, options)]
    return _json({"results": results}, 200)


@bp.get("/form-options")
@roles_required(*CAPTURE_ROLES)
def form_options() -> tuple[Response, int]:
    """What an offline form needs: taxonomies with labels, zones, the current patrol."""

    def entries(
        model: type[Need] | type[Material] | type[ReferralDestination],
    ) -> list[dict[str, str]]:
        rows = cast(
            Sequence[Need | Material | ReferralDestination],
            db.session.scalars(
                select(model).where(model.active.is_(True)).order_by(model.position)
            ).all(),
        )
        return [
            {"code": row.code, "label_fr": row.label_fr, "label_en": row.label_en}
            | ({"category": row.category} if isinstance(row, Material) else {})
            for row in rows
        ]

    patrol = open_patrol_of(db.session(), current_user)
    return _json(
        {
            "csrf_token": generate_csrf(),
            "person_code_key": public_key(get_settings(current_app).pseudonym_key),
            "zones": [{"code": z.code, "name": z.name} for z in active_zones(db.session())],
            "needs": entries(Need),
            "materials": entries(Material),
            "destinations": entries(ReferralDestination),
            "genders": {code: str(label) for code, label in GENDERS.items()},
            "age_bands": {code: str(label) for code, label in AGE_BANDS.items()},
            "housing": {code: str(label) for code, label in HOUSING.items()},
            "referral_statuses": {code: str(label) for code, label in REFERRAL_STATUSES.items()},
            "patrol": None
            if patrol is None
            else {
                "id": patrol.id,
                "zone": patrol.zone.code,
                "started_at": patrol.started_at.isoformat(),
            },
        },
        200,
    )


@bp.get("/openapi.json")
def openapi() -> tuple[Response, int]:
    """Public: it describes the interface and holds no data."""
    return _json(openapi_document(), 200)
