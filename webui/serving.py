"""Serving the app with waitress on every core: several processes share one listening socket.

Python runs one thread at a time per process, so threads alone leave the
second core idle while a search is computed. pyvi's model (loaded by
`create_app`) and what the last commit of the index is read into (posting
arrays, facet columns, the vocabulary and suggestions: `webui.engine.warm`)
are loaded before the fork, so the processes
share those pages rather than each holding a copy. Whoosh's searchers, whose
open files must not be shared, are opened by each process's own threads.
"""

import ctypes
import os
import signal
import socket
import threading
import time

from waitress import serve
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from webui.app import SECURITY_HEADERS
from webui.engine import warm


def _few_malloc_arenas():
    """glibc gives threads malloc arenas of their own (up to 8 per core) and keeps what is freed in each:
    under load the server grew by 130 MB over its two processes. Two arenas a process bound that at
    no cost in throughput (measured with benchmarks/bench_http.py). Elsewhere than glibc, nothing to do."""
    try:
        ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


class _SecureErrorTask(ErrorTask):
    """What waitress answers itself, without the app (a bad request line, headers too large, a bad
    chunk): with the security headers every page of the app has."""

    def execute(self):
        self.response_headers.extend(SECURITY_HEADERS.items())
        super().execute()


def default_processes():
    return (os.cpu_count() or 1) if hasattr(os, "fork") else 1


def _die_with(parent):
    """A child stops when its parent is gone (killed without a chance to stop it)."""
    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _stop(signum, frame):
    raise SystemExit(0)


def _warm_in_background(app):
    threading.Thread(target=warm, args=(app,), daemon=True, name="warm").start()


def _warm_before_fork(app):
    """Read the index ahead in a thread of its own: its searcher is never used after the fork."""
    thread = threading.Thread(target=warm, args=(app,), name="warm")
    thread.start()
    thread.join()


def serve_app(app, host, port, threads, processes=1):
    """Serve `app` on host:port with `processes` processes of `threads` threads; returns when stopped."""
    _few_malloc_arenas()
    HTTPChannel.error_task_class = _SecureErrorTask  # waitress has no other way to take it
    if processes <= 1:
        _warm_in_background(app)
        serve(app, host=host, port=port, threads=threads, ident="vnsearch")
        return
    _warm_before_fork(app)
    listener = socket.create_server((host, port), backlog=1024)
    parent = os.getpid()
    children = []
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _die_with(parent)
            try:
                serve(app, sockets=[listener], threads=threads, ident="vnsearch", _quiet=True)
            finally:
                os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, _stop)
    try:
        serve(app, sockets=[listener], threads=threads, ident="vnsearch")
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
