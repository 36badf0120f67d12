"""Full-page screenshots of every portal page, in French and in English, with the demo data.

By default on a throwaway SQLite database in a temporary directory: migrate, ``seed_demo``,
``runserver --noreload`` on a free port, stopped at the end. With ``--base-url`` it uses that
server instead, and this process's Django settings (``DJANGO_SETTINGS_MODULE``,
``DATABASE_URL``) must point at the server's database: the demo user's second factor is
enrolled and read there. The page list is the one the French-portal test walks
(``tests/hub/test_portal_french.py``). Chromium is Debian's ``/usr/bin/chromium``.

    .venv/bin/python scripts/screenshots.py --out /tmp/shots [--base-url http://…] [--lang fr]

Writes ``<out>/<lang>/<NN>-<page-name>.png`` and ``<out>/index.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
LANGUAGES = ("fr", "en")
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
DEVICE_NAME = "Captures d'écran"


@dataclass(frozen=True)
class Route:
    name: str  # the URL's name, e.g. grdf-vega-estimated
    path: str


@dataclass(frozen=True)
class Shot:
    language: str
    number: int
    route: Route
    file: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def throwaway_environment(workdir: Path) -> dict[str, str]:
    """A local run of its own: SQLite and the file cache under ``workdir``, fresh keys."""
    import secrets

    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
        "DATABASE_URL": f"sqlite:///{workdir / 'hub.sqlite3'}",
        "HUB_VAR_DIR": str(workdir),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }


def prepare(*, migrate: bool, password: str | None) -> tuple[list[Route], object, str, str]:
    """Migrate (throwaway runs), seed the demo, give its user a TOTP device; the routes the
    French-portal test walks, the device, the demo user's e-mail and password."""
    import django

    sys.path.insert(0, str(BASE_DIR))
    django.setup()
    from django.core.management import call_command
    from django.urls import resolve

    from hub.demo import DEMO_EMAIL, DEMO_PASSWORD
    from hub.models import EncryptedTOTPDevice, User
    from tests.hub.test_portal_french import portal_paths

    # seed_demo's notifications go to the console e-mail backend on a local run: not shown.
    with contextlib.redirect_stdout(io.StringIO()):
        if migrate:
            call_command("migrate", verbosity=0)
        call_command("seed_demo", "--i-know-this-is-not-production", verbosity=0)
    password = password or DEMO_PASSWORD
    user = User.objects.get(email=DEMO_EMAIL)
    if not user.check_password(password):
        raise SystemExit(f"{DEMO_EMAIL}: the password given does not match (--password)")
    device, _ = EncryptedTOTPDevice.objects.get_or_create(
        user=user, name=DEVICE_NAME, defaults={"confirmed": True}
    )
    routes = [
        Route(re.sub(r"[^a-z0-9]+", "-", resolve(path).view_name.lower()).strip("-"), path)
        for path in portal_paths()
    ]
    return routes, device, DEMO_EMAIL, password


def totp_now(device: object) -> str:
    from tests.hub.test_portal_support import totp_code

    return totp_code(device)  # type: ignore[arg-type]


def wait_until_up(base_url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"runserver stopped (exit {process.returncode})")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(f"{base_url}/accounts/login/", timeout=5) as answer,  # noqa: S310 - our own server
        ):
            if answer.status == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{base_url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def runserver(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        # localhost, not 127.0.0.1: a secure context for the pages' WebAuthn scripts.
        base_url = f"http://localhost:{port}"
        try:
            try:
                wait_until_up(base_url, process)
            except SystemExit:
                output.flush()
                sys.stderr.write(log.read_text(errors="replace")[-3000:])
                raise
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def capture(
    *,
    base_url: str,
    routes: list[Route],
    device: object,
    email: str,
    password: str,
    out: Path,
    languages: tuple[str, ...],
) -> tuple[list[Shot], list[tuple[Route, str]]]:
    """Sign in once (password, then TOTP); keep the routes that answer a page (200, HTML, no
    redirect), then screenshot each in each language. The shots, and the routes left out with
    the reason (POST-only views, downloads, the metrics endpoint…)."""
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    cookie = settings.LANGUAGE_COOKIE_NAME
    # Computed before Playwright starts its event loop (no database call inside it).
    code = totp_now(device)
    shots: list[Shot] = []
    left_out: list[tuple[Route, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for language in languages:
            shots += _sign_in_pages(browser, base_url, language, email, password, out)
        context = browser.new_context(
            base_url=base_url, locale="fr-FR", viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("#login-submit")
        page.wait_for_url(re.compile(r"/accounts/second-factor/"))
        page.fill("input[name=code]", code)
        page.click("#code-submit")
        page.wait_for_url(lambda url: "/accounts/" not in url)
        # Asked without navigating (the session's cookies, no redirect followed): a browser
        # sent to an error status without a body, or a download, aborts the navigation.
        pages: list[Route] = []
        for route in routes:
            answer = context.request.get(route.path, max_redirects=0)
            kind = answer.headers.get("content-type", "")
            if answer.status == 200 and kind.startswith("text/html"):
                pages.append(route)
            else:
                where = answer.headers.get("location", "")
                left_out.append((route, f"HTTP {answer.status} {where or kind}".strip()))
            answer.dispose()
        for language in languages:
            # The portal's switch stores the choice in Django's language cookie; the header
            # says the same for any page that reads Accept-Language.
            context.add_cookies([{"name": cookie, "value": language, "url": base_url}])
            context.set_extra_http_headers({"Accept-Language": LOCALES[language]})
            (out / language).mkdir(parents=True, exist_ok=True)
            for number, route in enumerate(pages, start=1):
                page.goto(route.path, wait_until="load")
                with contextlib.suppress(Exception):  # a page that keeps polling never idles
                    page.wait_for_load_state("networkidle", timeout=5_000)
                name = f"{language}/{number:02d}-{route.name}.png"
                page.screenshot(path=str(out / name), full_page=True, animations="disabled")
                shots.append(Shot(language, number, route, name))
        context.close()
        browser.close()
    return shots, left_out


def _sign_in_pages(
    browser: Any, base_url: str, language: str, email: str, password: str, out: Path
) -> list[Shot]:
    """The two pages before the portal, in ``language``: the sign-in form, then the second
    factor's (the password step passed, the code left unsent)."""
    from django.conf import settings

    context = browser.new_context(
        base_url=base_url,
        locale=LOCALES[language],
        viewport={"width": 1280, "height": 800},
        extra_http_headers={"Accept-Language": LOCALES[language]},
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}]
    )
    page = context.new_page()
    (out / language).mkdir(parents=True, exist_ok=True)
    shots = []
    page.goto("/accounts/login/")
    name = f"{language}/00-sign-in.png"
    page.screenshot(path=str(out / name), full_page=True, animations="disabled")
    shots.append(Shot(language, 0, Route("sign-in", "/accounts/login/"), name))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/accounts/second-factor/"))
    name = f"{language}/00-second-factor.png"
    page.screenshot(path=str(out / name), full_page=True, animations="disabled")
    shots.append(Shot(language, 0, Route("second-factor", "/accounts/second-factor/"), name))
    context.close()
    return shots


def write_index(
    out: Path, shots: list[Shot], left_out: list[tuple[Route, str]], base_url: str
) -> None:
    lines = ["# Portal screenshots", "", f"Server: {base_url}", ""]
    for language in dict.fromkeys(s.language for s in shots):
        lines += [f"## {language}", "", "| # | page | URL | file |", "|---|---|---|---|"]
        lines += [
            f"| {s.number:02d} | {s.route.name} | `{s.route.path}` | [{s.file}]({s.file}) |"
            for s in shots
            if s.language == language
        ]
        lines.append("")
    if left_out:
        lines += ["## Not pages (left out)", "", "| route | URL | answer |", "|---|---|---|"]
        lines += [f"| {r.name} | `{r.path}` | {why} |" for r, why in left_out]
        lines.append("")
    (out / "index.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNGs")
    parser.add_argument("--base-url", help="a running hub (else a throwaway one is started)")
    parser.add_argument("--password", help="the demo user's password (default: the demo's)")
    parser.add_argument("--lang", action="append", choices=LANGUAGES, help="default: both")
    args = parser.parse_args()
    languages = tuple(args.lang or LANGUAGES)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.base_url:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
            routes, device, email, password = prepare(migrate=False, password=args.password)
            base_url = args.base_url.rstrip("/")
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hub-shots-")))
            env = throwaway_environment(workdir)
            os.environ.update(env)
            routes, device, email, password = prepare(migrate=True, password=args.password)
            from django.db import connections

            connections.close_all()  # the server writes to the SQLite file from now on
            base_url = stack.enter_context(
                runserver({**os.environ, **env}, workdir / "runserver.log")
            )
        shots, left_out = capture(
            base_url=base_url,
            routes=routes,
            device=device,
            email=email,
            password=password,
            out=args.out,
            languages=languages,
        )
    write_index(args.out, shots, left_out, base_url)
    pages = len({s.route for s in shots})
    print(
        f"{len(shots)} screenshots: {pages} pages x {len(languages)} languages "
        f"({len(left_out)} routes are not pages) in {time.monotonic() - started:.0f} s; "
        f"index: {args.out / 'index.md'}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    main()
