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

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
LANGUAGES = ("fr", "en")
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
DEVICE_NAME = "Captures d'écran"


@dataclass(frozen=True)
class Page:
    number: int
    name: str
    path: str


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


def prepare(*, migrate: bool, password: str | None) -> tuple[list[Page], object, str, str]:
    """Migrate (throwaway runs), seed the demo, give its user a TOTP device; the page list,
    the device, the demo user's e-mail and password."""
    import django

    sys.path.insert(0, str(BASE_DIR))
    django.setup()
    from django.core.management import call_command
    from django.urls import resolve

    from hub.demo import DEMO_EMAIL, DEMO_PASSWORD
    from hub.models import EncryptedTOTPDevice, User
    from tests.hub.test_portal_french import portal_paths

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
    pages = []
    for number, path in enumerate(portal_paths(), start=1):
        match = resolve(path)
        name = re.sub(r"[^a-z0-9]+", "-", f"{match.view_name}-{path}".lower()).strip("-")
        pages.append(Page(number, name[:80], path))
    return pages, device, DEMO_EMAIL, password


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
    pages: list[Page],
    device: object,
    email: str,
    password: str,
    out: Path,
    languages: tuple[str, ...],
) -> list[tuple[str, Page, str, str]]:
    """Sign in once (password, then TOTP), then every page in each language; the rows of the
    index: language, page, outcome, file."""
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    cookie = settings.LANGUAGE_COOKIE_NAME
    # Computed before Playwright starts its event loop (no database call inside it).
    code = totp_now(device)
    rows: list[tuple[str, Page, str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
        for language in languages:
            # The portal's switch stores the choice in Django's language cookie; the header
            # says the same for any page that reads Accept-Language.
            context.add_cookies([{"name": cookie, "value": language, "url": base_url}])
            context.set_extra_http_headers({"Accept-Language": LOCALES[language]})
            (out / language).mkdir(parents=True, exist_ok=True)
            for entry in pages:
                response = page.goto(entry.path, wait_until="load")
                status = response.status if response else 0
                kind = response.headers.get("content-type", "") if response else ""
                landed = page.url.removeprefix(base_url)
                if status != 200 or "html" not in kind:
                    rows.append((language, entry, f"skipped: HTTP {status} {kind}".strip(), ""))
                    continue
                if landed.split("?")[0] != entry.path:
                    rows.append((language, entry, f"skipped: redirected to {landed}", ""))
                    continue
                with contextlib.suppress(Exception):
                    page.wait_for_load_state("networkidle", timeout=5_000)
                name = f"{language}/{entry.number:02d}-{entry.name}.png"
                page.screenshot(path=str(out / name), full_page=True, animations="disabled")
                rows.append((language, entry, "ok", name))
        context.close()
        browser.close()
    return rows


def write_index(out: Path, rows: list[tuple[str, Page, str, str]], base_url: str) -> None:
    lines = ["# Portal screenshots", "", f"Server: {base_url}", ""]
    for language in dict.fromkeys(r[0] for r in rows):
        lines += [f"## {language}", "", "| # | page | URL | file |", "|---|---|---|---|"]
        for lang, entry, outcome, name in rows:
            if lang != language:
                continue
            shown = f"[{name}]({name})" if name else outcome
            lines.append(f"| {entry.number:02d} | {entry.name} | `{entry.path}` | {shown} |")
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
            pages, device, email, password = prepare(migrate=False, password=args.password)
            base_url = args.base_url.rstrip("/")
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hub-shots-")))
            env = throwaway_environment(workdir)
            os.environ.update(env)
            pages, device, email, password = prepare(migrate=True, password=args.password)
            from django.db import connections

            connections.close_all()  # the server writes to the SQLite file from now on
            base_url = stack.enter_context(
                runserver({**os.environ, **env}, workdir / "runserver.log")
            )
        rows = capture(
            base_url=base_url,
            pages=pages,
            device=device,
            email=email,
            password=password,
            out=args.out,
            languages=languages,
        )
    write_index(args.out, rows, base_url)
    taken = sum(1 for r in rows if r[3])
    print(
        f"{taken} screenshots of {len(pages)} pages x {len(languages)} languages "
        f"in {time.monotonic() - started:.0f} s; index: {args.out / 'index.md'}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    main()
