"""A dependency-free progress bar for the batches of an epoch (drawn only on a terminal)."""
import sys
import time


class Progress:
    def __init__(self, total, label="", stream=None, min_interval=0.2):
        self.total, self.label = total, label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self.last = time.monotonic()
        self.min_interval = min_interval

    def update(self, done, info=""):
        if not self.enabled:
            return
        now = time.monotonic()
        if done < self.total and now - self.last < self.min_interval:
            return
        self.last = now
        width = 30
        filled = int(width * done / max(self.total, 1))
        elapsed = now - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{self.total} {elapsed:5.0f}s eta {eta:4.0f}s {info}   ")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
