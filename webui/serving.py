"""Serving the app with waitress on every core: several processes share one listening socket.

Python runs one thread at a time per process, so threads alone leave the
second core idle while a search is computed. pyvi's model (loaded by
`create_app`) and what the last commit of the index is read into (posting
arrays, facet columns, the vocabulary and suggestions: `webui.engine.warm`)
are loaded before the fork, so the processes
share those pages rather than each holding a copy. Whoosh's searchers, whose
open files must not be shared, are opened by each process's own threads.

A new connection goes to the process holding the fewest (`FewestConnections`):
left to the kernel, whichever process woke first took it, and one process
could serve six browsers' keep-alive connections while the other served two.
"""

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time

from waitress import serve, wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
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


class FewestConnections:
    """Which of the server's processes accepts new connections: those holding the fewest open ones.

    Each process writes how many it holds, and when it looked, in memory the processes share (made before
    the fork), and accepts while no other holds fewer. One that stops accepting wakes those that do (a
    byte in their pipe): they may sleep in `select` on counts read before. Waitress wakes every process
    each second anyway, so a count read in a race is wrong for a second at most. A process silent for
    ALIVE seconds is gone (killed): the others no longer leave it the connections.
    """

    ALIVE = 3.0

    def __init__(self, processes):
        self._open = multiprocessing.RawArray(ctypes.c_int, processes)
        self._seen = multiprocessing.RawArray(ctypes.c_double, [time.monotonic()] * processes)
        self._wakes = [os.pipe() for _ in range(processes)]
        for read, write in self._wakes:
            os.set_blocking(read, False)
            os.set_blocking(write, False)
        self._listening = True  # this process's own (after the fork, each has its copy)

    def waking(self, process, socket_map):
        """Put `process`'s pipe in its waitress loop's `socket_map`: a byte in it wakes the loop."""
        _Wake(self._wakes[process][0], socket_map)

    def listens(self, process, connections):
        """Whether `process`, now holding `connections`, should accept the next one."""
        now = time.monotonic()
        self._open[process], self._seen[process] = connections, now
        others = [n for n in range(len(self._open)) if n != process and now - self._seen[n] < self.ALIVE]
        fewest = min([connections] + [self._open[n] for n in others])
        listens = connections <= fewest
        if self._listening and not listens:
            for n in others:
                if self._open[n] == fewest:
                    _nudge(self._wakes[n][1])
        self._listening = listens
        return listens


def _nudge(pipe):
    try:
        os.write(pipe, b"!")
    except BlockingIOError:
        pass  # full: woken already


class _Wake(wasyncore.file_dispatcher):
    """The read end of a process's wake-up pipe, in its waitress loop."""

    def writable(self):
        return False

    def handle_read(self):
        self.recv(4096)


class _BalancedServer(TcpWSGIServer):
    """A waitress server on a listening socket shared with other processes, accepting only while
    `FewestConnections` says this process should."""

    def __init__(self, app, listener, balance, process, **adjustments):
        self.balance, self.process = balance, process
        super().__init__(app, _sock=listener, bind_socket=False, sockets=[listener],
                         sockinfo=(listener.family, listener.type, listener.proto, listener.getsockname()),
                         **adjustments)
        balance.waking(process, self._map)
        self._fixed = len(self._map)  # itself, its trigger, its wake-up pipe: no connections yet

    def readable(self):
        return super().readable() and self.balance.listens(self.process, len(self._map) - self._fixed)


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
    """Read the index ahead in a thread of its own: its searcher is never used after the fork. What it
    read is then left out of the garbage collector's passes (`gc.freeze`): a pass writes into every
    object it visits, and each process would copy the pages of the vocabulary it shares."""
    thread = threading.Thread(target=warm, args=(app,), name="warm")
    thread.start()
    thread.join()
    gc.freeze()


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
    balance = FewestConnections(processes)
    parent = os.getpid()
    children = []
    for process in range(1, processes):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _die_with(parent)
            try:
                _BalancedServer(app, listener, balance, process, threads=threads, ident="vnsearch").run()
            finally:
                os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, _stop)
    logging.basicConfig()  # as waitress's `serve` does: its warnings reach stderr
    try:
        _BalancedServer(app, listener, balance, 0, threads=threads, ident="vnsearch").run()
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
