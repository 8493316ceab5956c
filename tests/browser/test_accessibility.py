"""WCAG 2.1 AA on every page, for every role, in a phone-sized Chromium, light and dark.

The pages come from the app's URL map and ROLE_MATRIX (tests/test_access.py): every GET
endpoint a role may reach is opened with real ids, so that a page added later is audited
without touching this file (an endpoint taking an argument this file does not know fails
with a message saying where to add a value). Pages that only a state shows (forms with
their errors, a finished patrol, a contact waiting on the phone, a temporary password,
error pages...) are audited by scenarios.

Each page, at Pixel 5 size, in the light and the dark colour scheme (prefers-color-scheme):
- axe-core (bundled by axe-playwright-python: no network) finds no violation of impact
  serious or critical;
- the borders of fields and chips stand out from their background, 3:1 (WCAG 1.4.11);
- every control, focused from the keyboard, shows a focus indicator of 3:1 against the page.
Once, whatever the scheme:
- every error message of a field is tied to it (aria-describedby), the field marked invalid;
- at 320 CSS px wide, the page does not scroll sideways (data tables scroll inside their
  own box, as WCAG 1.4.10 allows) and every visible control is at least 44 x 44 CSS px,
  but links inside a sentence (the "inline" exception of WCAG 2.5.5 and 2.5.8).

Dark-scheme screenshots land in test-artifacts/accessibility/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, url_for
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect
from sqlalchemy import select

from config import Settings
from outreach.auth.access import PUBLIC_ENDPOINTS
from outreach.capture.services import PatrolReport, end_patrol, start_patrol
from outreach.clock import now_utc
from outreach.extensions import db
from outreach.funders.services import set_target
from outreach.models import Association, User, Zone
from tests.browser_support import (
    DEVICE,
    MIN_TAP_TARGET_PX,
    log_in_as,
    open_context,
    wait_until_sent,
)
from tests.conftest import ARTIFACTS, PASSWORD, World, enrol_totp, totp_code_for
from tests.reports_fixtures import add_contact
from tests.test_access import ROLE_MATRIX, ROLES

pytestmark = pytest.mark.browser

AXE_SCRIPT = Axe().axe_script
BLOCKING_IMPACTS = ("critical", "serious")
SCHEMES = ("light", "dark")
NARROW_PX = 320
MIN_NON_TEXT_CONTRAST = 3.0  # WCAG 1.4.11: field boundaries and focus indicators
PERSON_CODE = "Éli 1990"
SHOTS = ARTIFACTS / "accessibility"

# --------------------------------------------------------------------------- the checks

RUN_AXE_JS = """async () => {
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    }));
}"""

# Helpers shared by the checks below: a short CSS path with the element's text, for
# messages; colours and their contrast ratio (WCAG's relative luminance).
HELPERS_JS = """
const describe = (el) => {
    const parts = [];
    for (let node = el; node && node !== document.body && parts.length < 4;
         node = node.parentElement) {
        let part = node.tagName.toLowerCase();
        if (node.id) part += "#" + node.id;
        else if (node.classList.length) part += "." + [...node.classList].join(".");
        parts.unshift(part);
        if (node.id) break;
    }
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
    return parts.join(" > ") + (text ? ` "${text.slice(0, 40)}"` : "");
};
const rgba = (css) => {
    const [r, g, b, a = 1] = (css.match(/[\\d.]+/g) || [0, 0, 0, 0]).map(Number);
    return {r, g, b, a};
};
const luminance = ({r, g, b}) => {
    const channel = (c) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
};
const contrast = (one, two) => {
    const [high, low] = [luminance(one), luminance(two)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
};
const backdrop = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
        const colour = rgba(getComputedStyle(node).backgroundColor);
        if (colour.a > 0.5) return colour;
    }
    return {r: 255, g: 255, b: 255, a: 1}; // the canvas, where no element paints one
};
"""


def script(body: str) -> str:
    return f"(arg) => {{ {HELPERS_JS} {body} }}"


# The page is wider than `arg` px: its widest elements not inside a box that scrolls.
OVERFLOW_JS = script("""
    const width = document.documentElement.scrollWidth;
    if (width <= arg) return null;
    const scrolls = (el) => {
        for (let node = el.parentElement; node; node = node.parentElement) {
            if (["auto", "scroll"].includes(getComputedStyle(node).overflowX)) return true;
        }
        return false;
    };
    const wide = [...document.body.querySelectorAll("*")]
        .filter((el) => el.getBoundingClientRect().right > arg && !scrolls(el))
        .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > arg));
    return {width, culprits: wide.slice(0, 5).map(describe)};
""")

# Visible controls smaller than `arg` CSS px either way. An input wrapped in its label
# is measured as the label (the whole label takes the tap). Exempt: a link inside a
# sentence (inline, with other text in the same block), and visually hidden elements.
TAP_TARGETS_JS = script("""
    const CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary, label";
    const FIELDS = "input:not([type=hidden]), select, textarea";
    const block = (el) => {
        let node = el.parentElement;
        while (node && getComputedStyle(node).display.startsWith("inline")) {
            node = node.parentElement;
        }
        return node;
    };
    const inSentence = (el) => {
        if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
        const container = block(el);
        return container !== null && container.innerText.trim().length > el.innerText.trim().length;
    };
    const seen = new Set();
    const small = [];
    for (const el of document.querySelectorAll(CONTROLS)) {
        let target = el;
        if (el.tagName === "LABEL") {
            if (!el.querySelector(FIELDS)) continue;
        } else if (el.closest("label") && el.closest("label").querySelector(FIELDS)) {
            target = el.closest("label");
        }
        if (seen.has(target)) continue;
        seen.add(target);
        if (!target.checkVisibility({visibilityProperty: true})) continue;
        const box = target.getBoundingClientRect();
        if (box.width <= 1 && box.height <= 1) continue;
        if (box.width >= arg - 0.5 && box.height >= arg - 0.5) continue;
        if (inSentence(target)) continue;
        small.push(`${describe(target)}: ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
    return small;
""")

# Fields whose boundary (border, or own background) is under `arg`:1 against what is
# behind them. A radio or checkbox hidden under its chip is judged by the chip drawn next
# to it; native check boxes and disabled fields are left out.
FIELD_BOUNDARIES_JS = script("""
    const faint = [];
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
        if (el.disabled || !el.checkVisibility({visibilityProperty: true})) continue;
        const hidden = getComputedStyle(el).opacity === "0";
        if (!hidden && ["checkbox", "radio"].includes(el.type)) continue;
        const drawn = hidden ? el.nextElementSibling : el;
        if (!drawn) continue;
        const style = getComputedStyle(drawn);
        const behind = backdrop(drawn);
        const border = parseFloat(style.borderTopWidth) >= 1 && style.borderTopStyle !== "none"
            ? contrast(rgba(style.borderTopColor), behind) : 1;
        const fill = rgba(style.backgroundColor);
        const background = fill.a > 0.5 ? contrast(fill, behind) : 1;
        const ratio = Math.max(border, background);
        if (ratio < arg) faint.push(`${describe(drawn)}: ${ratio.toFixed(2)}:1`);
    }
    return faint;
""")

# Every visible control, focused in turn once a Tab press has put the page in keyboard
# mode (so that :focus-visible applies): those whose outline (or, for an input hidden
# under its chip, the chip's outline) is missing or under `arg`:1 against what is behind.
FOCUS_JS = script("""
    const CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
        + "[tabindex]:not([tabindex='-1'])";
    const ring = (node) => {
        if (!node) return 0;
        const style = getComputedStyle(node);
        if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) < 2) return 0;
        return contrast(rgba(style.outlineColor), backdrop(node));
    };
    const faint = [];
    for (const el of document.querySelectorAll(CONTROLS)) {
        if (el.disabled || !el.checkVisibility({visibilityProperty: true})) continue;
        el.focus({preventScroll: true});
        if (document.activeElement !== el) continue;
        const ratio = el.matches(":focus-visible")
            ? Math.max(ring(el), ring(el.nextElementSibling)) : 0;
        if (ratio < arg) faint.push(`${describe(el)}: ${ratio.toFixed(2)}:1`);
        el.blur();
    }
    return faint;
""")

# Error messages of fields (.field-error) that no field points to with aria-describedby,
# and fields pointing to one without aria-invalid. A form-wide message inside the
# role="alert" box at the top of a form is announced as it is, and needs no field.
ERRORS_JS = script("""
    const problems = [];
    const described = new Map();
    for (const el of document.querySelectorAll("[aria-describedby]")) {
        for (const id of el.getAttribute("aria-describedby").split(/\\s+/)) described.set(id, el);
    }
    for (const error of document.querySelectorAll(".field-error")) {
        if (!error.checkVisibility() || error.closest("[role=alert]")) continue;
        const owner = error.id && described.get(error.id);
        if (!owner) {
            problems.push(`error not tied to its field (aria-describedby): ${describe(error)}`);
        } else if (owner.matches("input, select, textarea")
                   && owner.getAttribute("aria-invalid") !== "true") {
            problems.push(`field with an error but no aria-invalid="true": ${describe(owner)}`);
        }
    }
    return problems;
""")


@dataclass
class Auditor:
    """Runs every check on the pages it is shown and keeps what failed, to report at once."""

    role: str
    viewport: dict[str, int]
    audited: list[str] = field(default_factory=list)
    # What is wrong -> the pages (and colour schemes) where it is: one entry per fault.
    problems: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for old in SHOTS.glob(f"{self.role}-*.png"):
            old.unlink()

    def flag(self, problem: str, where: str) -> None:
        self.problems.setdefault(problem, []).append(where)

    def visit(self, page: Page, url: str, label: str) -> None:
        page.goto(url)
        self.audit(page, label)

    def audit(self, page: Page, label: str) -> None:
        """Audit the page as it is now; `label` names it in messages and screenshots."""
        page.wait_for_load_state("load")
        where = f"[{self.role}] {label} (/{page.url.split('/', 3)[-1]})"
        self.audited.append(where)
        page.evaluate(AXE_SCRIPT)
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            for violation in page.evaluate(RUN_AXE_JS):
                if violation["impact"] in BLOCKING_IMPACTS:
                    self.flag(axe_message(violation), f"{where} {scheme}")
            for faint in page.evaluate(FIELD_BOUNDARIES_JS, MIN_NON_TEXT_CONTRAST):
                self.flag(f"field boundary under 3:1 (WCAG 1.4.11): {faint}", f"{where} {scheme}")
            self._check_focus(page, f"{where} {scheme}")
        page.screenshot(
            path=str(SHOTS / f"{self.role}-{slug(label)}-dark.png"), full_page=True, scale="css"
        )
        page.emulate_media(color_scheme="light")
        for problem in page.evaluate(ERRORS_JS):
            self.flag(problem, where)
        page.set_viewport_size({"width": NARROW_PX, "height": self.viewport["height"]})
        try:
            overflow = page.evaluate(OVERFLOW_JS, NARROW_PX)
            if overflow:
                self.flag(
                    f"horizontal scrolling at {NARROW_PX} px: the page is {overflow['width']} "
                    f"px wide; widest: {'; '.join(overflow['culprits'])}",
                    where,
                )
            for small in page.evaluate(TAP_TARGETS_JS, MIN_TAP_TARGET_PX):
                self.flag(
                    f"tap target under {MIN_TAP_TARGET_PX} px at {NARROW_PX} px: {small}", where
                )
        finally:
            page.set_viewport_size(self.viewport)

    def _check_focus(self, page: Page, where: str) -> None:
        page.evaluate("() => document.activeElement?.blur()")
        page.keyboard.press("Tab")
        for faint in page.evaluate(FOCUS_JS, MIN_NON_TEXT_CONTRAST):
            self.flag(f"focus indicator missing or under 3:1 (WCAG 2.4.7, 1.4.11): {faint}", where)
        page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")

    def assert_clean(self) -> None:
        print(f"\n[{self.role}] {len(self.audited)} pages x {len(SCHEMES)} colour schemes audited")
        if not self.problems:
            return
        listed = "\n".join(
            f"- {problem}\n    on: {', '.join(pages[:4])}"
            + (f" (+{len(pages) - 4} more)" if len(pages) > 4 else "")
            for problem, pages in self.problems.items()
        )
        pytest.fail(
            f"[{self.role}] {len(self.problems)} accessibility problem(s) on "
            f"{len(self.audited)} page(s) audited:\n{listed}",
            pytrace=False,
        )


def axe_message(violation: dict[str, Any]) -> str:
    nodes = violation["nodes"]
    targets = ", ".join(node["target"] for node in nodes[:6])
    more = f" (+{len(nodes) - 6} more)" if len(nodes) > 6 else ""
    first = " ".join((nodes[0]["summary"] or "").split()) if nodes else ""
    return (
        f"axe {violation['id']} ({violation['impact']}): {violation['help']}\n"
        f"    targets: {targets}{more}\n"
        f"    first: {first}\n"
        f"    {violation['helpUrl']}"
    )


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Scene:
    """Real values for the URL map's arguments: by argument name, or for one role
    ("supervisor/contact_id") or one endpoint ("reports.export/kind") first."""

    arguments: dict[str, int | str]
    closed_patrol: int

    def value(self, role: str, endpoint: str, name: str) -> int | str | None:
        for key in (f"{endpoint}/{name}", f"{role}/{name}", name):
            if key in self.arguments:
                return self.arguments[key]
        return None


@pytest.fixture
def scene(app: Flask, world: World, settings: Settings) -> Scene:
    """An open patrol of the worker and the supervisor, each with a contact of their own
    (a code, needs, material, a referral), a finished patrol with its report, four weeks
    of both associations' activity (small counts too, for the funders' protected cells)
    and a target."""
    now = now_utc()
    with app.app_context():
        session = db.session
        demo = session.get(Association, world.demo.id)
        other = session.get(Association, world.other.id)
        users = {key: session.get(User, world.id_of(key)) for key in world.users}
        zones = {zone.code: zone for zone in session.scalars(select(Zone))}
        worker, supervisor = users["worker"], users["supervisor"]
        assert demo and other and worker and supervisor

        finished = start_patrol(
            session, demo, zones["pantin"], worker, [], now - timedelta(days=1, hours=3)
        )
        end_patrol(
            session,
            finished,
            PatrolReport(4, "tense", 12, "Beaucoup de matériel usagé près de l'escalier."),
            now - timedelta(days=1),
        )
        patrol = start_patrol(
            session, demo, zones["stalingrad"], worker, [supervisor.id], now - timedelta(hours=1)
        )
        own_contacts = {}
        for author, referral in (
            (worker, ("csapa", False, "proposed")),
            (supervisor, ("shelter_115", True, "attended")),
        ):
            own_contacts[author.role] = add_contact(
                session,
                settings,
                demo,
                author,
                now - timedelta(minutes=30),
                code=PERSON_CODE,
                gender="female",
                needs=["shelter", "food"],
                materials={"kit_base": 2},
                referrals=[referral],
                patrol=patrol,
            ).id
        for day in range(28):
            for association, author_key, count in (
                (demo, "worker2", 3),
                (other, "other_worker", 1),
            ):
                author = users[author_key]
                assert author
                for index in range(count):
                    add_contact(
                        session,
                        settings,
                        association,
                        author,
                        now - timedelta(days=day + 2, minutes=index),
                        ("stalingrad", "jardins_eole", "pantin")[(day + index) % 3],
                        code=f"P{day % 7} 1990" if index else None,
                        gender=("male", "female", "unknown")[index % 3],
                        needs=["shelter"] if index else [],
                        materials={"kit_base": 1},
                    )
        admin = users["admin"]
        assert admin
        set_target(session, "contacts", "week", 120, admin)
        session.commit()
        return Scene(
            arguments={
                "patrol_id": patrol.id,
                "contact_id": own_contacts["worker"],
                "supervisor/contact_id": own_contacts["supervisor"],
                "slug": demo.slug,
                "kind": "needs",
                "reports.export/kind": "contacts",
                "code": "shelter",
                "user_id": world.id_of("worker2"),
                "association_id": demo.id,
                "zone_id": zones["stalingrad"].id,
            },
            closed_patrol=finished.id,
        )


# --------------------------------------------------------------------------- the pages


def endpoints_for(app: Flask, role: str | None) -> list[tuple[str, str]]:
    """(endpoint, rule) of every GET route the role may reach (None: the public ones);
    "/", which only redirects to a role's home, last."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            routes.append((rule.endpoint, rule.rule))
            continue
        # An endpoint not in the matrix yet (tests/test_access.py fails for it): the roles
        # its view declares, so that its page is audited all the same.
        declared = getattr(app.view_functions[rule.endpoint], "allowed_roles", frozenset())
        if role is not None and role in ROLE_MATRIX.get(rule.endpoint, declared):
            routes.append((rule.endpoint, rule.rule))
    return sorted(routes, key=lambda route: (route[1] == "/", route[1]))


def url_of(app: Flask, scene: Scene | None, role: str, endpoint: str, rule: str) -> str:
    names = re.findall(r"<(?:[a-z_]+:)?([a-z_]+)>", rule)
    values = {name: scene.value(role, endpoint, name) if scene else None for name in names}
    unknown = [name for name, value in values.items() if value is None]
    assert not unknown, (
        f"{endpoint} ({rule}) takes {unknown}: give it a real value in the `scene` fixture "
        "of tests/browser/test_accessibility.py"
    )
    with app.test_request_context():
        return url_for(endpoint, **values)


def follow_up_person(page: Page, base_url: str) -> None:
    """The history page needs a code typed first: the server keeps only its pseudonym."""
    page.goto(f"{base_url}/followup")
    page.get_by_label("Code de la personne").fill(PERSON_CODE)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="Historique de la personne")).to_be_visible()


# Endpoints that a plain GET does not show: how to reach them.
REACH: dict[str, Callable[[Page, str], None]] = {"followup.person": follow_up_person}


def audit_every_page(
    app: Flask,
    context: BrowserContext,
    page: Page,
    base_url: str,
    scene: Scene | None,
    auditor: Auditor,
) -> None:
    """Every HTML page the auditor's role may GET (`scene` None: anonymous, public pages)."""
    role = auditor.role if scene else None
    done: set[str] = set()
    for endpoint, rule in endpoints_for(app, role):
        url = base_url + url_of(app, scene, auditor.role, endpoint, rule)
        answer = context.request.get(url)
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue  # CSV, JSON, the service worker...
        assert answer.ok, f"[{role}] GET {url} answered {answer.status}: give it real ids"
        if endpoint in REACH:
            REACH[endpoint](page, base_url)
        else:
            page.goto(url)
        if page.url in done:
            continue  # a redirect to a page already audited
        done.add(page.url)
        auditor.audit(page, endpoint if page.url == url else f"{endpoint}, redirected")


@pytest.fixture
def phone(browser: Browser, playwright: Playwright) -> Iterator[Callable[[], Page]]:
    """New pages, each in its own phone context (Pixel 5; no service worker, so that
    every page comes from the server); all closed at the end."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    contexts: list[BrowserContext] = []

    def new_page() -> Page:
        context = open_context(browser, playwright, service_workers="block")
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def viewport(playwright: Playwright) -> dict[str, int]:
    return dict(playwright.devices[DEVICE]["viewport"])


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_every_page_of_every_role(
    app: Flask,
    world: World,
    scene: Scene,
    live_server: str,
    phone: Callable[[], Page],
    viewport: dict[str, int],
    role: str,
) -> None:
    page = phone()
    auditor = Auditor(role, viewport)
    if role == "anonymous":
        audit_every_page(app, page.context, page, live_server, None, auditor)
    else:
        log_in_as(page, live_server, app, world, role)
        audit_every_page(app, page.context, page, live_server, scene, auditor)
    auditor.visit(page, f"{live_server}/no-such-page", "error 404")
    if role == "worker":
        auditor.visit(page, f"{live_server}/patrols/{scene.closed_patrol}", "finished patrol")
        auditor.visit(page, f"{live_server}/summary", "error 403")
    auditor.assert_clean()


def submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state("load")


def test_forms_with_errors_and_other_states(
    app: Flask,
    world: World,
    scene: Scene,
    live_server: str,
    phone: Callable[[], Page],
    viewport: dict[str, int],
) -> None:
    auditor = Auditor("states", viewport)
    base = live_server

    # Anyone: the login refused, empty then wrong.
    page = phone()
    page.goto(f"{base}/login")
    submit(page, "Se connecter")
    auditor.audit(page, "login, empty fields")
    page.get_by_label("Adresse e-mail").fill(world.users["worker"].email)
    page.get_by_label("Mot de passe").fill("not the password")
    submit(page, "Se connecter")
    auditor.audit(page, "login, wrong password")

    # A supervisor: a wrong second-factor code, then their own forms with errors.
    supervisor = world.users["supervisor"]
    enrol_totp(app, supervisor.id)
    page = phone()
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(supervisor.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    submit(page, "Se connecter")
    code = page.get_by_label("Code de l'application ou code de secours")
    code.fill("000000")
    submit(page, "Valider")
    auditor.audit(page, "second factor, wrong code")
    code.fill(totp_code_for(app, supervisor.id))
    submit(page, "Valider")
    expect(page.get_by_role("link", name="Mon compte")).to_be_visible()

    page.goto(f"{base}/account/password")
    submit(page, "Changer le mot de passe")
    auditor.audit(page, "change password, empty fields")

    page.goto(f"{base}/account")
    page.get_by_label("Code de l'application ou code de secours").fill("000000")
    submit(page, "Renouveler les codes de secours")
    auditor.audit(page, "account, wrong code")
    page.get_by_label("Code de l'application ou code de secours").fill(
        totp_code_for(app, supervisor.id)
    )
    submit(page, "Renouveler les codes de secours")
    expect(page.get_by_role("heading", name="Codes de secours")).to_be_visible()
    auditor.audit(page, "recovery codes")

    page.goto(f"{base}/followup")
    page.get_by_label("Code de la personne").fill("ab")
    submit(page, "Rechercher")
    auditor.audit(page, "follow-up, code too short")

    contact = scene.value("supervisor", "capture.edit_contact", "contact_id")
    page.goto(f"{base}/contacts/{contact}/edit")
    page.locator("#occurred_at").evaluate("input => { input.value = ''; }")
    page.locator("#material-kit_base").fill("1000")
    submit(page, "Enregistrer le contact")
    auditor.audit(page, "contact form with errors")

    patrol = scene.arguments["patrol_id"]
    page.goto(f"{base}/patrols/{patrol}/end")
    page.get_by_label("Personnes vues mais non rencontrées").fill("-1")
    submit(page, "Terminer la tournée")
    auditor.audit(page, "end of patrol with errors")

    # Offline, a new contact waits on the phone: the outbox's banner and the saved note.
    page.goto(f"{base}/patrols/{patrol}/contacts/new")
    expect(page.get_by_role("button", name="Un de plus : Kit base")).to_be_visible()
    page.context.set_offline(True)
    page.get_by_role("button", name="Enregistrer le contact").click()
    expect(page.get_by_test_id("outbox-count")).to_be_visible()
    auditor.audit(page, "contact waiting on the phone")
    page.context.set_offline(False)  # back online, the outbox sends it
    wait_until_sent(page)

    # A worker without a patrol nor a second factor: the patrol's start and the enrolment.
    page = phone()
    log_in_as(page, base, app, world, "worker2")
    page.goto(f"{base}/patrols/new")
    submit(page, "Commencer")
    auditor.audit(page, "new patrol without a zone")
    page.goto(f"{base}/account/second-factor")
    page.get_by_label("Code affiché par l'application").fill("000000")
    submit(page, "Activer")
    auditor.audit(page, "second factor enrolment, wrong code")

    # An admin: a target refused, a temporary password given...
    page = phone()
    log_in_as(page, base, app, world, "admin")
    page.goto(f"{base}/summary/targets")
    page.get_by_label("Objectif").fill("-5")
    submit(page, "Enregistrer")
    auditor.audit(page, "targets with errors")
    other_worker = world.users["other_worker"]
    page.goto(f"{base}/accounts")
    page.get_by_role("listitem").filter(has_text=other_worker.email).get_by_role(
        "button", name="Mot de passe temporaire"
    ).click()
    expect(page.get_by_role("heading", name="Donner un mot de passe temporaire ?")).to_be_visible()
    auditor.audit(page, "temporary password, to confirm")
    submit(page, "Oui, donner un mot de passe temporaire")
    expect(page.get_by_role("heading", name="Mot de passe temporaire", exact=True)).to_be_visible()
    auditor.audit(page, "temporary password")
    temporary = page.locator(".temporary-password code").inner_text()

    # ...which its holder must change at once.
    page = phone()
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(other_worker.email)
    page.get_by_label("Mot de passe").fill(temporary)
    submit(page, "Se connecter")
    expect(page.get_by_role("heading", name="Changer de mot de passe")).to_be_visible()
    page.get_by_label("Nouveau mot de passe", exact=True).fill("short")
    submit(page, "Changer le mot de passe")
    auditor.audit(page, "password to change, too short")

    auditor.assert_clean()


FAULTY_PAGE = """<!doctype html>
<html lang="fr"><head><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Essai</title>
<style>
  body { margin: 0; font: 16px sans-serif; }
  .pale { color: #aaa; }
  .faint { border: 1px solid #ddd; background: #fff; }
  .ringless:focus { outline: none; }
  .wide { width: 400px; }
</style></head>
<body><main>
  <h1>Essai</h1>
  <p class="pale">Texte trop pâle</p>
  <input class="faint">
  <button class="ringless">OK</button>
  <p class="field-error" id="error-orphan">Erreur sans champ</p>
  <div class="wide">Trop large</div>
  <p>Une phrase avec <a href="#ailleurs">un lien</a> dedans.</p>
</main></body></html>"""


def test_the_checks_catch_what_they_should(
    phone: Callable[[], Page], viewport: dict[str, int]
) -> None:
    """The auditor itself, on a page with one fault of each kind (and an inline link)."""
    page = phone()
    page.set_content(FAULTY_PAGE)
    auditor = Auditor("self-check", viewport)
    auditor.audit(page, "faulty page")
    found = "\n".join(auditor.problems)
    for expected in (
        "axe color-contrast (serious)",
        "axe label (critical)",
        "field boundary under 3:1 (WCAG 1.4.11): main > input.faint: 1.36:1",
        'focus indicator missing or under 3:1 (WCAG 2.4.7, 1.4.11): main > button.ringless "OK"',
        'error not tied to its field (aria-describedby): p#error-orphan "Erreur sans champ"',
        "horizontal scrolling at 320 px: the page is 400 px wide; widest: main > div.wide",
        'tap target under 44 px at 320 px: main > button.ringless "OK"',
    ):
        assert expected in found, f"{expected!r} not among:\n{found}"
    small = [problem for problem in auditor.problems if problem.startswith("tap target")]
    assert not [problem for problem in small if "un lien" in problem], "inline links are exempt"
