"""A WSGI app wrapped so that each worker counts the CPU its requests spend inside it.

    gunicorn -c gunicorn.conf.py --pythonpath bench "timed_wsgi:timed('wsgi:app')"

Per request: the thread's CPU time (`time.thread_time()`) from the call until the answer
is iterated and closed, so everything the app does and nothing gunicorn does. At exit,
each worker writes its totals, by method and first path segment, as JSON lines into
`$TIMED_WSGI_DIR/<pid>.json` (`cpu_split.py` reads them). With several threads per worker
the figure still holds: `thread_time` counts the calling thread only.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def timed(spec: str) -> WsgiApp:
    """The app named `module:attribute`, counting its CPU per request."""
    module, _, attribute = spec.partition(":")
    inner: WsgiApp = getattr(importlib.import_module(module), attribute)
    totals: dict[str, list[float]] = {}  # "POST api" -> [requests, CPU seconds]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.thread_time()
        answer = inner(environ, start_response)
        try:
            chunks = list(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        key = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO'].split('/')[1]}"
        entry = totals.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += time.thread_time() - started
        return chunks

    def write() -> None:
        if not totals:  # a worker that served nothing
            return
        folder = Path(os.environ["TIMED_WSGI_DIR"])
        lines = (
            json.dumps({"spec": spec, "key": k, "n": n, "cpu": s}) for k, (n, s) in totals.items()
        )
        (folder / f"{os.getpid()}.json").write_text("\n".join(lines) + "\n")

    atexit.register(write)
    return app
