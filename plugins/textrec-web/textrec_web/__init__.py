"""textrec plugin: serve a line model over HTTP (``create_app``), with a page to draw or upload lines.

``create_app`` is imported on first use: its modules import prometheus_client, which chooses how
to keep metrics (one process's, or gunicorn's workers' together) when first imported, so
:mod:`textrec_web.wsgi` must be able to prepare the metrics folder before that.
"""

from typing import Any

from textrec_web.settings import Settings, SettingsError

__version__ = "0.1.0"

__all__ = ["Settings", "SettingsError", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from textrec_web.app import create_app

        return create_app
    raise AttributeError(f"module 'textrec_web' has no attribute {name!r}")
