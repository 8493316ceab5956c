"""`flask --app wsgi outreach ...` commands through Click's runner."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from sqlalchemy import func, select

from config import get_settings
from outreach.extensions import db
from outreach.models import (
    Association,
    Contact,
    Patrol,
    Referral,
    ReferralStatusChange,
    User,
    Zone,
)

from .conftest import AuthActions


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_seed_demo_creates_realistic_data_and_is_safe_to_run_twice(
    app: Flask, auth: AuthActions
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["outreach", "seed-demo", "--contacts", "400"])
    assert result.exit_code == 0, result.output
    assert "demo: 280 contacts" in result.output
    assert "other: 120 contacts" in result.output
    with app.app_context():
        assert count(Contact) == 400
        assert count(Association) == 2 and count(Zone) == 9
        emails = set(db.session.scalars(select(User.email)))
        assert {
            "worker@demo.test",
            "supervisor@demo.test",
            "funder@demo.test",
            "admin@demo.test",
            "worker@other.test",
            "supervisor@other.test",
        } <= emails
        weeks = set(db.session.scalars(select(Contact.iso_week)))
        assert len(weeks) >= 10, "spread over the last 12 weeks"
        nights = db.session.scalar(select(func.count()).where(Contact.night.is_(True))) or 0
        assert 0.2 < nights / 400 < 0.8, "day and night"
        repeat = db.session.execute(
            select(Contact.pseudonym_association, func.count())
            .where(Contact.pseudonym_association.is_not(None))
            .group_by(Contact.pseudonym_association)
            .having(func.count() > 1)
        ).all()
        assert repeat, "repeat visitors"
        assert count(Referral) > 0
        assert count(ReferralStatusChange) > count(Referral), "referrals that progress"
        ended = db.session.scalar(
            select(func.count()).where(Patrol.ended_at.is_not(None), Patrol.atmosphere.is_not(None))
        )
        assert ended == count(Patrol) > 0

    again = runner.invoke(args=["outreach", "seed-demo", "--contacts", "400"])
    assert again.exit_code == 0
    assert "already has 280 contacts, none added" in again.output
    with app.app_context():
        assert count(Contact) == 400
        assert count(User) == 9

    assert auth.login("worker@demo.test", "maraude-demo-2026").status_code == 302


def test_seed_demo_password_option(app: Flask, auth: AuthActions) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["outreach", "seed-demo", "--contacts", "0", "--password", "another long secret"]
    )
    assert result.exit_code == 0, result.output
    assert auth.login("admin@demo.test", "another long secret").status_code == 302
    short = runner.invoke(args=["outreach", "seed-demo", "--password", "short"])
    assert short.exit_code != 0 and "12 to 128" in short.output


def test_seed_demo_is_refused_in_production(app: Flask) -> None:
    app.extensions["outreach_settings"] = replace(get_settings(app), env="production")
    result = app.test_cli_runner().invoke(args=["outreach", "seed-demo", "--contacts", "10"])
    assert result.exit_code != 0
    assert "production" in result.output and "OUTREACH_ENV" in result.output
    with app.app_context():
        assert count(User) == 0 and count(Contact) == 0 and count(Association) == 0


def test_create_user(app: Flask, auth: AuthActions) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["outreach", "seed-demo", "--contacts", "0"])
    result = runner.invoke(
        args=[
            "outreach",
            "create-user",
            "New@Demo.test",
            "--role",
            "worker",
            "--org",
            "demo",
            "--password-stdin",
        ],
        input="a brand new password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created worker new@demo.test" in result.output
    assert auth.login("new@demo.test", "a brand new password").status_code == 302


def test_create_user_refuses_bad_requests(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["outreach", "seed-demo", "--contacts", "0"])
    cases = [
        (["x@demo.test", "--role", "worker", "--password-stdin"], "needs an association"),
        (["x@demo.test", "--role", "funder", "--org", "demo", "--password-stdin"], "belongs to no"),
        (
            ["x@demo.test", "--role", "worker", "--org", "nope", "--password-stdin"],
            "no association",
        ),
        (["worker@demo.test", "--role", "admin", "--password-stdin"], "already uses"),
        (["not-an-email", "--role", "admin", "--password-stdin"], "not an e-mail"),
        (["x@demo.test", "--role", "god", "--password-stdin"], "Invalid value"),
    ]
    for args, message in cases:
        result = runner.invoke(
            args=["outreach", "create-user", *args], input="long enough password\n"
        )
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    short = runner.invoke(
        args=["outreach", "create-user", "y@demo.test", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0 and "12 to 128" in short.output
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).where(User.email.in_(["x@demo.test", "y@demo.test"]))
            )
            == 0
        )
