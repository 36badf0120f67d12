"""Write the local ``.env`` on first embedded start: a secret key and a field-encryption key.

Existing values are kept, so a second start reuses the keys and stored secrets stay readable.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def main() -> None:
    lines = ENV_FILE.read_text(encoding="utf-8").splitlines() if ENV_FILE.exists() else []
    present = {line.split("=", 1)[0].strip() for line in lines if "=" in line}
    wanted = {
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
    }
    added = [f"{name}={value}" for name, value in wanted.items() if name not in present]
    if added:
        ENV_FILE.write_text("\n".join([*lines, *added]) + "\n", encoding="utf-8")
        ENV_FILE.chmod(0o600)
        print(f"{ENV_FILE.name}: added {', '.join(a.split('=', 1)[0] for a in added)}")


if __name__ == "__main__":
    main()
