"""Metrics from Python to the run that sqltrack-run records; the standard library only.

    import sqltrack_run

    for epoch in range(epochs):
        ...
        sqltrack_run.log(step=epoch, progress=(epoch + 1) / epochs,
                         train_loss=loss, val_acc=acc)

log() writes one line of the metric protocol to the FIFO that sqltrack-run exports as
$SQLTRACK_METRICS, with one write(). It takes ints, floats (nan and inf too), bools,
strings, datetimes, None (left out), and numpy or torch scalars (anything with .item()).
Keys are any names (val/loss, "Val Loss"); the wrapper maps them to column names.

Outside sqltrack-run ($SQLTRACK_METRICS not set) log() does nothing and says so once on
stderr. Trouble with the FIFO (the wrapper is gone) is said once too and never raised: the
training goes on. Wrong arguments (a negative step, a list as a value) raise ValueError or
TypeError at once.

A write of at most PIPE_BUF (4096) bytes to a FIFO is never mixed with another writer's. A
longer line is written as several lines of at most PIPE_BUF bytes, each with the same step
and progress, which the wrapper merges into one row; a single key=value longer than that is
written alone, and only it may mix with a line another process writes at the same moment.
Give step (and progress) when several processes or threads log, so that every piece lands
in its row. log() may be called from any thread, and from a process forked at any time.
"""

import datetime
import fcntl
import math
import numbers
import os
import select
import sys
import threading

__all__ = ["log", "format_lines", "run_id", "experiment"]

PIPE_BUF = getattr(select, "PIPE_BUF", 4096)
_MAX_KEY_BYTES = 63
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# What a key may hold without quotes: printable ASCII but blanks, '=' and '"'.
_BARE_KEY_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"=", '"'}
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

_lock = threading.Lock()
_fd = None  # the open FIFO, once log() has opened it
_off = False  # outside the wrapper, or after the FIFO failed: log() writes nothing


def run_id():
    """The run's id in the database ($SQLTRACK_RUN_ID), or None."""
    value = os.environ.get("SQLTRACK_RUN_ID", "")
    return int(value) if value.isdigit() else None


def experiment():
    """The run's experiment ($SQLTRACK_EXPERIMENT), or None."""
    return os.environ.get("SQLTRACK_EXPERIMENT") or None


def log(step=None, progress=None, **metrics):
    """Writes one metrics row of the run: its step (an int >= 0), its progress (a finite
    number) and any number of metrics. Without step, the row is the last step's."""
    data = [line.encode("utf-8", "replace") for line in format_lines(step, progress, **metrics)]
    if not data:
        return
    with _lock:
        fd = _open()
        if fd is None:
            return
        try:
            for chunk in data:
                _write_all(fd, chunk)
        except OSError as error:
            _stop("cannot write to $SQLTRACK_METRICS ({}): {}".format(
                os.environ.get("SQLTRACK_METRICS"), error.strerror or error))


def format_lines(step=None, progress=None, **metrics):
    """The lines log() writes, each ending in a newline: one, or more when it would be longer
    than PIPE_BUF bytes. Empty when there is nothing to write."""
    prefix = []
    if step is not None:
        prefix.append("step=" + _format_step(step))
    if progress is not None:
        prefix.append("progress=" + _format_progress(progress))
    pairs = []
    for key, value in metrics.items():
        value = _scalar(key, value)
        if value is not None:
            pairs.append(_format_key(key) + "=" + _format_value(key, value))
    if not pairs:
        return [" ".join(prefix) + "\n"] if prefix else []
    return _split(" ".join(prefix), pairs)


def _split(prefix, pairs):
    lines = []
    line = prefix
    has_pairs = False
    for pair in pairs:
        longer = line + " " + pair if line else pair
        if has_pairs and len(longer.encode("utf-8", "replace")) + 1 > PIPE_BUF:
            lines.append(line + "\n")
            longer = prefix + " " + pair if prefix else pair
        line = longer
        has_pairs = True
    lines.append(line + "\n")
    return lines


def _scalar(key, value):
    # numpy scalars and 0-d arrays, torch tensors of one element.
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError) as error:
            raise TypeError("metric {!r}: {}".format(key, error)) from None
    return value


def _format_step(step):
    step = _scalar("step", step)
    if isinstance(step, float) and step.is_integer():
        step = int(step)
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise ValueError("step must be a whole number, got {!r}".format(step))
    if not 0 <= step <= _INT64_MAX:
        raise ValueError("step must be from 0 to 2**63-1, got {}".format(step))
    return str(int(step))


def _format_progress(progress):
    progress = _scalar("progress", progress)
    if isinstance(progress, bool) or not isinstance(progress, numbers.Real):
        raise ValueError("progress must be a number, got {!r}".format(progress))
    if not math.isfinite(float(progress)):
        raise ValueError("progress must be finite, got {!r}".format(progress))
    return _format_float(float(progress))


def _format_key(key):
    if key == "run_id":
        raise ValueError("run_id is set by sqltrack-run, not by a metric")
    if not key or len(key.encode("utf-8", "replace")) > _MAX_KEY_BYTES:
        raise ValueError("metric name {!r} must have 1 to 63 bytes".format(key))
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):
        raise ValueError("metric name {!r} holds a control character".format(key))
    if all(c in _BARE_KEY_CHARS for c in key):
        return key
    return _quote(key)


def _format_value(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        value = int(value)
        # Beyond 64 bits the database has no integer for it: a float keeps its size.
        return str(value) if _INT64_MIN <= value <= _INT64_MAX else _format_float(float(value))
    if isinstance(value, numbers.Real):
        return _format_float(float(value))
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, str):
        return _quote(value)
    raise TypeError("metric {!r}: cannot write a {} (numbers, bools, strings, datetimes)".format(
        key, type(value).__name__))


def _format_float(value):
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)  # the shortest form that reads back as the same double: 0.1, 1e-05


def _quote(text):
    # The protocol has no escape for other control characters: they become U+FFFD.
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20:
            out.append("\ufffd")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _open():
    global _fd, _off
    if _off:
        return None
    if _fd is not None:
        return _fd
    path = os.environ.get("SQLTRACK_METRICS")
    if not path:
        _stop("$SQLTRACK_METRICS is not set (not running under sqltrack-run): "
              "metrics are not recorded")
        return None
    try:
        # Non-blocking: a FIFO that nobody reads (its wrapper was killed) fails here instead of
        # hanging the training. Writes block as usual, so that no line is dropped.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NONBLOCK)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except OSError as error:
        _stop("cannot open $SQLTRACK_METRICS ({}): {}; metrics are not recorded".format(
            path, error.strerror or error))
        return None
    _fd = fd
    return _fd


def _write_all(fd, data):
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _stop(message):
    """Says why once, and makes log() a no-op from then on."""
    global _fd, _off
    if _fd is not None:
        try:
            os.close(_fd)
        except OSError:
            pass
        _fd = None
    _off = True
    try:
        sys.stderr.write("sqltrack_run: warning: " + message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _after_fork_in_child():
    # A thread of the parent may have held the lock at the fork; it does not exist here.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
