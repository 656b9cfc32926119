"""A progress line for long work: done, rate per second, elapsed; quiet when not on a terminal."""

import sys
import time


class Progress:
    """Redraws one line on a terminal; elsewhere prints a line every `every` seconds."""

    def __init__(self, label, unit="docs", stream=None, every=5.0):
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.every = every
        self.done = 0
        self.started = self.last = time.monotonic()
        self.tty = getattr(self.stream, "isatty", lambda: False)()

    @property
    def elapsed(self):
        return time.monotonic() - self.started

    @property
    def rate(self):
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def line(self, total=None):
        width = 24
        if total:
            filled = int(width * min(self.done, total) / total)
            bar = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{total}"
        else:
            bar = f"{self.done}"
        return f"{self.label} {bar} {self.unit}  {self.rate:,.0f} {self.unit}/s  {self.elapsed:,.1f} s"

    def advance(self, count=1, total=None):
        self.done += count
        now = time.monotonic()
        if self.tty and now - self.last >= 0.1:
            self.stream.write("\r" + self.line(total) + "\x1b[K")
            self.stream.flush()
            self.last = now
        elif not self.tty and now - self.last >= self.every:
            self.stream.write(self.line(total) + "\n")
            self.stream.flush()
            self.last = now

    def finish(self, total=None):
        self.stream.write(("\r" if self.tty else "") + self.line(total) + ("\x1b[K\n" if self.tty else "\n"))
        self.stream.flush()
