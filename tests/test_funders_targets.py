"""Targets: two admins setting the same target at once never get a 500."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, insert, select
from sqlalchemy.orm import ORMExecuteState

from config import Settings
from outreach.extensions import db
from outreach.funders.services import set_target
from outreach.models import IndicatorTarget, User

from .conftest import World


def test_a_target_another_admin_just_created_is_changed_not_refused(
    app: Flask, world: World, settings: Settings
) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this race needs PostgreSQL")
        admin = db.session.get(User, world.id_of("admin"))
        assert admin is not None
        other_admin = create_engine(settings.database_url)
        raced: list[bool] = []

        def create_it_meanwhile(state: ORMExecuteState) -> object:
            """Right after set_target finds no target, another admin commits one."""
            if raced or not state.is_select:
                return None
            raced.append(True)
            found = state.invoke_statement().freeze()
            with other_admin.begin() as connection:
                connection.execute(
                    insert(IndicatorTarget).values(indicator="contacts", period="week", value=10)
                )
            return found()

        session = db.session()
        event.listen(session, "do_orm_execute", create_it_meanwhile)
        try:
            target = set_target(db.session, "contacts", "week", 25, admin)
        finally:
            event.remove(session, "do_orm_execute", create_it_meanwhile)
            other_admin.dispose()
        db.session.commit()
        assert raced and target is not None
        stored = db.session.scalars(
            select(IndicatorTarget).where(IndicatorTarget.indicator == "contacts")
        ).all()
        assert [(t.period, t.value, t.updated_by_id) for t in stored] == [("week", 25, admin.id)]
