"""Serving the app with waitress on every core: several processes share one listening socket.

Python runs one thread at a time per process, so threads alone leave the
second core idle while a search is computed. Each process opens the index
itself after the fork (Whoosh's open files must not be shared); pyvi's model
is loaded before it, so its pages are shared. Each process reads the index
ahead as it starts (`webui.app.warm`).
"""

import os
import signal
import socket
import threading
import time

from waitress import serve

from webui.app import warm


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


def serve_app(app, host, port, threads, processes=1):
    """Serve `app` on host:port with `processes` processes of `threads` threads; returns when stopped."""
    if processes <= 1:
        _warm_in_background(app)
        serve(app, host=host, port=port, threads=threads, ident="vnsearch")
        return
    from index.segmenter import pyvi

    pyvi()  # loaded once, shared by the forked processes
    listener = socket.create_server((host, port), backlog=1024)
    parent = os.getpid()
    children = []
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _die_with(parent)
            _warm_in_background(app)
            try:
                serve(app, sockets=[listener], threads=threads, ident="vnsearch", _quiet=True)
            finally:
                os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, _stop)
    _warm_in_background(app)
    try:
        serve(app, sockets=[listener], threads=threads, ident="vnsearch")
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
