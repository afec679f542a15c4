"""Running Alembic migrations from code (the CLI and the tests use this)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from kb.sealing import SecretBox

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(url: str, secret_box: SecretBox | None = None) -> Config:
    """`secret_box`: what seals stored secrets, for the migrations that seal or open them (else the
    environment's KB_SECRETS_KEY or key file, read by the migration)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    if secret_box is not None:
        config.attributes["secret_box"] = secret_box
    return config


def upgrade(url: str, revision: str = "heads", secret_box: SecretBox | None = None) -> None:
    command.upgrade(alembic_config(url, secret_box), revision)
