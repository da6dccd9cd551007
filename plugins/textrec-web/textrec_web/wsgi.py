"""WSGI entry for production servers: ``gunicorn -w 2 -b 0.0.0.0:8000 textrec_web.wsgi:app``.

Importing this module prepares the metrics folder the workers share
(:func:`textrec_web.multiprocess.prepare_folder`: ``PROMETHEUS_MULTIPROC_DIR``, or one of this
server's own), then loads the bundle named by ``TEXTREC_WEB_MODEL`` with the ``TEXTREC_WEB_*``
settings and sends the ``textrec.web`` log lines to stderr. Gunicorn imports it in each worker
as the worker starts (without ``--preload``), so every worker loads the model once, before it
takes a request. A missing variable or bundle fails the import with textrec's error message.
"""

from __future__ import annotations

import os

from textrec_web.monitoring import configure_logging
from textrec_web.multiprocess import prepare_folder
from textrec_web.settings import Settings, SettingsError, env_name

MODEL_VARIABLE = env_name("model")


def model_path() -> str:
    """The bundle path from ``TEXTREC_WEB_MODEL``; raises :class:`SettingsError` when unset."""
    path = os.environ.get(MODEL_VARIABLE, "").strip()
    if not path:
        raise SettingsError(f"{MODEL_VARIABLE} is not set: point it at the model bundle to serve "
                            f"(a textrec-run --save output folder holding bundle.json)")
    return path


configure_logging()
settings = Settings.from_env()
bundle = model_path()
prepare_folder()
# Only now: prometheus_client, imported with the app, reads PROMETHEUS_MULTIPROC_DIR when first imported.
from textrec_web.app import create_app  # noqa: E402

app = create_app(bundle, settings)
