"""Schema migrations with Alembic (`jinyu db upgrade`); the scripts live in the repository's migrations/."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from jinyu.config import Settings
from jinyu.core.filemodes import secure_data_dir

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(settings: Settings) -> Config:
    ini = ROOT / "alembic.ini"
    if not ini.exists():
        raise FileNotFoundError(f"alembic.ini not found next to the source tree ({ROOT})")
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    secure_data_dir(settings.data_dir, settings.resolved_database_url)
    command.upgrade(alembic_config(settings), revision)


def current(settings: Settings) -> None:
    command.current(alembic_config(settings), verbose=False)
