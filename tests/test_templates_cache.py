"""Compiled templates survive a restart (Jinja's bytecode cache): first pages stay fast."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from flask import Flask, render_template

from config import Settings
from outreach import create_app


def test_a_restarted_app_reuses_the_compiled_templates(
    app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context("/login"):
        assert "<h1>Page absente</h1>" in render_template(
            "errors/error.html", status=404, message="Page absente"
        )
    restarted = create_app(settings)  # a new environment, as in a new process

    def compile_again(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(restarted.jinja_env, "compile", compile_again)
    with restarted.test_request_context("/login"):
        page = render_template("errors/error.html", status=404, message="Page absente")
    assert "<h1>Page absente</h1>" in page
