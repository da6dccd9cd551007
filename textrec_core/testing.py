"""pytest fixtures for plugin authors (installed as the ``textrec`` pytest plugin).

``http_file_server`` serves test bytes over real HTTP on loopback, well or badly, for testing
downloaders. ``bare_host`` gives a test a plugin host with no installed plugin loaded, and
``one_thread`` runs a test on one torch thread. ``textrec_plugin`` registers a plugin object
for one test without installing it::

    def test_tiny(textrec_plugin):
        textrec_plugin(my_plugin_module)
        assert "tiny" in components()["network"]

:func:`assert_declares_class_indexed` checks a network's declaration of the tensors indexed by
the label alphabet (:class:`~textrec_core.protocols.ClassIndexed`).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import torch

from textrec_core.mapping import CharacterMapping
from textrec_core.plugins import get_host, reset_host
from textrec_core.protocols import DataShapes


@pytest.fixture
def bare_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A plugin host with no installed plugin loaded (request it before ``textrec_plugin``)."""
    monkeypatch.setenv("TEXTREC_PLUGINS", "")
    reset_host()
    yield
    reset_host()


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Run on one torch thread, from the first test of a module that asks until the module ends
    (module-scoped fixtures may ask too): small training steps on a shared machine slow down
    several times over when threads contend for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def textrec_plugin() -> Iterator[Callable[..., str]]:
    """A function ``register(plugin, name=None) -> name`` whose registrations end with the test."""
    host = get_host()
    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        name = name or getattr(plugin, "__name__", None) or f"test-plugin-{id(plugin)}"
        host.register(plugin, name=name, provider=name)
        names.append(name)
        return name

    yield register
    for name in names:
        host.unregister(name)


def assert_declares_class_indexed(factory: Callable[..., torch.nn.Module], shapes: DataShapes,
                                  **network_args: Any) -> None:
    """Assert that the network ``factory`` builds for ``shapes`` (with ``network_args``) declares
    indexed by the label alphabet exactly the tensors that follow it, along the right dimension:
    built again for an alphabet of three more tokens, the declared tensors, and no others, are
    three larger along the declared dimension and alike along every other."""
    from textrec_core.finetune import class_indexed

    grown = CharacterMapping([*shapes.mapping.tokens, "\u2460", "\u2461", "\u2462"])
    small = factory(shapes, **network_args)
    large = factory(DataShapes(shapes.input_shape, shapes.output_shape, grown, shapes.ink_margin), **network_args)
    before, after = small.state_dict(), large.state_dict()
    assert before.keys() == after.keys()
    changed = {key: [(dim, after[key].shape[dim] - size) for dim, size in enumerate(before[key].shape)
                     if after[key].shape[dim] != size] for key in before}
    declared = class_indexed(small)
    assert declared.keys() <= before.keys(), f"declared but absent: {sorted(declared.keys() - before.keys())}"
    assert {key: dims for key, dims in changed.items() if dims} == {
        key: [(dim % before[key].dim(), 3)] for key, dim in declared.items()}


class _FileHandler(BaseHTTPRequestHandler):
    """Serves ``server.files``; ``server.modes`` picks how the body is (mis)delivered."""

    server: HttpFileServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        mode = self.server.modes[self.path]
        if mode == "unavailable_once" and self.path not in self.server.refused:
            self.server.refused.add(self.path)
            self.send_error(503)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode in ("ok", "unavailable_once"):
            self.wfile.write(body)
        elif mode == "truncated":  # announce the whole body, send half, close normally
            self.wfile.write(body[: len(body) // 2])
        elif mode == "reset":  # send half, then abort the connection (RST)
            self.wfile.write(body[: len(body) // 2])
            time.sleep(0.2)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        elif mode == "slow":  # trickle the body until the client goes away
            try:
                for start in range(0, len(body), 1024):
                    self.wfile.write(body[start : start + 1024])
                    time.sleep(0.02)
            except OSError:
                pass

    def log_message(self, format: str, *args: object) -> None:
        pass


class HttpFileServer(ThreadingHTTPServer):
    """A real HTTP server on 127.0.0.1 serving bytes set by the test, in a background thread.

    ``serve(name, body, mode)`` publishes ``body`` at ``/name``: mode ``ok``; ``truncated``
    (announces the full length, sends half, closes); ``reset`` (sends half, then aborts the
    connection); ``slow`` (trickles the body); ``unavailable_once`` (answers the first request with
    HTTP 503, later ones well). ``requests`` records the paths asked for.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FileHandler)
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.requests: list[str] = []
        self.refused: set[str] = set()
        self.running = True
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, name: str) -> str:
        """The URL of ``/name`` on this server."""
        return f"http://127.0.0.1:{self.server_port}/{name}"

    def serve(self, name: str, body: bytes, mode: str = "ok") -> str:
        """Serve ``body`` at ``/name`` and return its URL."""
        self.files[f"/{name}"] = body
        self.modes[f"/{name}"] = mode
        return self.url(name)

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.shutdown()
            self.server_close()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the "reset" mode closes the socket under the server's feet


@pytest.fixture
def http_file_server() -> Iterator[HttpFileServer]:
    """A loopback :class:`HttpFileServer` for testing downloaders, stopped after the test."""
    server = HttpFileServer()
    yield server
    server.stop()
