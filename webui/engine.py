"""The one way views reach the search engine: `get_engine()`, one `Engine` per app, opened on first use.

As the Flask tutorial's `get_db`: the app factory calls `init_app`, a view
calls `get_engine()`; a missing index raises `IndexUnavailable` and is tried
again on the next request.
"""

import sys
import threading

from flask import current_app

from index.analysis import segmenter
from index.store.directory import IndexUnavailable, default_index_dir  # the views catch IndexUnavailable from here


class EngineHolder:
    """One Engine per app, opened lazily; a missing index is retried on the next request."""

    def __init__(self, index_dir, cache_bytes=None):
        self.index_dir = index_dir
        self.cache_bytes = cache_bytes
        self._engine = None
        self._lock = threading.Lock()

    def get(self):
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from search.engine import Engine

                    self._engine = Engine(self.index_dir, cache_bytes=self.cache_bytes)
        return self._engine


def init_app(app):
    """The app's engine, on INDEX_DIR (default: $VNSEARCH_INDEX or the user's index), keeping CACHE_MB of
    posting lists decoded (default: as the archive's size asks); the CRF model that segments queries
    loads now (about a second), not on the first query. pyvi's own scikit-learn tokenizer (2.6 s,
    128 MB) is not loaded: no query uses it."""
    app.config["INDEX_DIR"] = app.config.get("INDEX_DIR") or str(default_index_dir())
    cache_mb = app.config.get("CACHE_MB")
    segmenter.load()
    app.extensions["vnsearch"] = EngineHolder(app.config["INDEX_DIR"],
                                              None if cache_mb is None else int(cache_mb * 2 ** 20))


def get_engine(app=None):
    """The app's Engine (the current app's in a request); raises IndexUnavailable."""
    return (app or current_app).extensions["vnsearch"].get()


def warm(app):
    """Open the index and read its commit ahead (and what it suggests), so that the first visitor does not wait."""
    from search.suggest import suggester

    try:
        engine = get_engine(app)
        engine.warm()
        suggester(engine)
    except IndexUnavailable:
        pass  # pages say so, and the next request tries again


_SAID = set()  # why the index was unavailable, each said once in the server's log


def log_unavailable():
    """Say in the server's log why the index is unavailable (which file is damaged): pages show no paths.
    Called while handling the IndexUnavailable."""
    message = str(sys.exc_info()[1])
    if message not in _SAID:
        _SAID.add(message)
        current_app.logger.error("%s", message)
