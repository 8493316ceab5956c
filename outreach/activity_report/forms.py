"""The period picker of the activity report (a GET form: nothing to protect with CSRF)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from .services import ReportPeriods, period_value

KIND_TITLES = {"year": _l("Années"), "quarter": _l("Trimestres"), "month": _l("Mois")}


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    period = SelectField(_l("Période"))

    @classmethod
    def offering(cls, periods: ReportPeriods) -> PeriodForm:
        """The form listing the periods on offer, by kind, with the chosen one selected."""
        form = cls(formdata=None, period=period_value(periods.chosen))
        form.period.choices = {
            str(title): [
                (
                    period_value(period),
                    f"{period.label()} ({_('en cours')})"
                    if periods.is_current(period)
                    else period.label(),
                )
                for period in periods.by_kind[kind]
            ]
            for kind, title in KIND_TITLES.items()
        }
        return form
