"""textrec plugin: serve a line model over HTTP (``create_app``), with a page to draw or upload lines."""

from textrec_web.app import create_app
from textrec_web.settings import Settings, SettingsError

__version__ = "0.1.0"

__all__ = ["Settings", "SettingsError", "create_app"]
