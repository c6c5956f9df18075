"""The explorer's web server: Bokeh's server in this process, on 127.0.0.1 only.

* Bound to the loopback address (``127.0.0.1``) on the given port or a free one; websocket connections are
  accepted only from pages of that same host and port (``allow_websocket_origin``).
* A page may ask for more files with ``?file=PATH`` (repeatable); a path outside the allowed folders (those
  of the files the server was started with, or ``--root``), symlinks resolved, is refused with HTTP 403
  before any session is made.  Files opened from the page's own input are checked the same way.
* Model previews and fits run on a :class:`concurrent.futures.ThreadPoolExecutor` (2 workers); their results
  return to the page on its next tick.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rixsim.interfaces.viewer.state import PathGuard, PathRefused

log = logging.getLogger(__name__)

__all__ = ["APP_PATH", "ViewerServer"]

#: URL path of the explorer page
APP_PATH = "/rixsim"
HOST = "127.0.0.1"


def _handler_class():
    from bokeh.application.handlers import FunctionHandler
    from tornado.web import HTTPError

    class GuardedHandler(FunctionHandler):
        """A FunctionHandler that refuses (HTTP 403) ``?file=`` paths outside the allowed folders."""

        def __init__(self, func, guard: PathGuard):
            super().__init__(func)
            self._guard = guard

        def process_request(self, request) -> dict:
            for raw in (request.arguments or {}).get("file", []):
                path = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                try:
                    self._guard.check(path)
                except PathRefused as exc:
                    log.warning("refused %s", exc)
                    raise HTTPError(403, reason="path outside the allowed folders") from None
            return {}
    return GuardedHandler


def _warm_up() -> None:
    """Import what every page needs (xraydb alone takes ~2 s) before the URL is printed, in this thread
    (imports on two threads at once can deadlock on circular imports)."""
    import importlib
    for name in ("scipy.interpolate", "rixsim.detection.channels", "rixsim.analysis.fitting"):
        importlib.import_module(name)


class ViewerServer:
    """The explorer on ``http://127.0.0.1:PORT/rixsim``.

    Parameters
    ----------
    files : sequence of path-like
        Files every page opens (unreadable ones show their reader's error in the page).
    roots : sequence of path-like, optional
        Allowed folders (default: the folders of ``files``).
    port : int
        0 for a free port.
    out_dir : path-like
        Export folder (default: the current directory).
    model_file : str
        Model file of the model panel ('' = an atomic model of ``ion``).
    ion, element, matrix : str
        See :class:`rixsim.interfaces.viewer.app.ViewerConfig`.
    """

    def __init__(self, files: Sequence, *, roots: Sequence | None = None, port: int = 0, out_dir=".",
                 model_file: str = "", ion: str = "Ni2+", element: str = "", matrix: str = ""):
        from bokeh.application import Application
        from bokeh.server.server import Server

        from rixsim.interfaces.viewer.app import ViewerConfig, build_document
        from rixsim.interfaces.viewer.state import parse_matrix_axes
        if matrix:
            parse_matrix_axes(matrix)          # a bad specification is an error before anything starts
        files = [str(Path(f).expanduser()) for f in files]
        if roots is None:
            roots = [Path(f).expanduser().resolve().parent if not Path(f).is_dir() else Path(f).resolve()
                     for f in files] or [Path.cwd()]
        self.guard = PathGuard(roots)
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rixsim-view")
        self.config = ViewerConfig(files=files, guard=self.guard, out_dir=str(out_dir), executor=self.executor,
                                   model_file=model_file, ion=ion, element=element, matrix=matrix)
        handler = _handler_class()(lambda doc: build_document(doc, self.config), self.guard)
        self._port_request = int(port)
        self._app = Application(handler)
        self._server_cls = Server
        self.server = None
        self._thread: threading.Thread | None = None
        #: called with the URL once the server listens (the CLI prints it)
        self.on_ready = None

    def _make(self, io_loop=None):
        # the allowed origin needs the port; with port 0 it is known only after binding, so bind first
        from bokeh.server.util import bind_sockets
        sockets, port = bind_sockets(HOST, self._port_request)
        for s in sockets:
            s.close()
        self.port = port
        origins = [f"{HOST}:{port}", f"localhost:{port}"]
        self.server = self._server_cls({APP_PATH: self._app}, io_loop=io_loop, address=HOST, port=port,
                                       allow_websocket_origin=origins, num_procs=1)
        return self.server

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{APP_PATH}"

    def bound_addresses(self) -> list:
        """(host, port) of every listening socket."""
        return [s.getsockname()[:2] for s in self.server._http._sockets.values()]

    def serve_forever(self, open_browser: bool = False) -> None:
        """Run in this thread until SIGTERM (returns) or Ctrl-C (``KeyboardInterrupt``, after stopping the
        server): the ``rixsim view`` command."""
        from tornado.ioloop import IOLoop
        _warm_up()
        self._make()
        self.server.start()
        import signal
        loop = self.server.io_loop
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (a job scheduler, `kill`) stops the server cleanly (exit 0); Ctrl-C is "interrupted"
            signal.signal(signal.SIGTERM, lambda *_: loop.add_callback_from_signal(loop.stop))
        if self.on_ready is not None:
            self.on_ready(self.url)
        if open_browser:
            import webbrowser
            IOLoop.current().add_callback(lambda: webbrowser.open(self.url))
        try:
            self.server.io_loop.start()
        finally:
            self.server.stop()
            self.executor.shutdown(wait=False, cancel_futures=True)

    def start_in_thread(self) -> ViewerServer:
        """Start on a background thread (tests, notebooks); returns when the port is listening."""
        ready = threading.Event()
        failure = []

        def run():
            import asyncio

            from tornado.ioloop import IOLoop
            asyncio.set_event_loop(asyncio.new_event_loop())
            loop = IOLoop.current()
            try:
                self._make(io_loop=loop)
                self.server.start()
            except BaseException as exc:  # noqa: BLE001 - reported to the caller
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.start()
        self._thread = threading.Thread(target=run, name="rixsim-view-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start_in_thread`."""
        if self.server is None:
            return
        loop = self.server.io_loop

        def halt():
            self.server.stop()
            loop.stop()
        loop.add_callback(halt)
        if self._thread is not None:
            self._thread.join(10)
        self.executor.shutdown(wait=False, cancel_futures=True)
