"""Unit tests of python/sqltrack_run.py: how values become protocol lines, and how log()
writes them to a FIFO (made here as sqltrack-run makes its own) from threads and forks.
Run with: python3 -m unittest discover -s python/tests (ctest runs it, label unit)."""

import datetime
import importlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import sqltrack_run  # noqa: E402


class Scalar:
    """Stands in for a numpy scalar or a torch tensor of one element: only .item()."""

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


class Vector:
    """Stands in for an array or tensor of several elements: .item() refuses, as numpy's and
    torch's do."""

    def item(self):
        raise ValueError("can only convert an array of size 1 to a Python scalar")


def one_line(**kwargs):
    lines = sqltrack_run.format_lines(**kwargs)
    assert len(lines) == 1, lines
    return lines[0]


class FormatTest(unittest.TestCase):
    def test_numbers_bools_and_none(self):
        self.assertEqual(one_line(step=3, progress=0.5, a=1, b=0.1, c=True, d=False, e=None),
                         "step=3 progress=0.5 a=1 b=0.1 c=true d=false\n")

    def test_floats_keep_their_kind_and_every_bit(self):
        self.assertEqual(one_line(a=1.0, b=1e-05, c=1e16, d=-0.0, e=0.1 + 0.2),
                         "a=1.0 b=1e-05 c=1e+16 d=-0.0 e=0.30000000000000004\n")

    def test_nan_and_infinities(self):
        self.assertEqual(one_line(a=float("nan"), b=float("inf"), c=float("-inf")),
                         "a=nan b=inf c=-inf\n")

    def test_integers_beyond_64_bits_become_floats(self):
        self.assertEqual(one_line(a=2**63 - 1, b=2**63, c=-(2**63)),
                         "a=9223372036854775807 b=9.223372036854776e+18 c=-9223372036854775808\n")

    def test_progress_is_a_float_and_step_a_whole_number(self):
        self.assertEqual(one_line(step=2.0, progress=1), "step=2 progress=1.0\n")
        self.assertEqual(sqltrack_run.format_lines(), [])

    def test_strings_are_quoted_with_escapes(self):
        self.assertEqual(one_line(s='say "hi"\\\n\r\tok', t="caf\u00e9", u="a\x01b"),
                         's="say \\"hi\\"\\\\\\n\\r\\tok" t="caf\u00e9" u="a\ufffdb"\n')

    def test_datetimes_are_iso_8601_in_utc_when_they_have_a_zone(self):
        plus_two = datetime.timezone(datetime.timedelta(hours=2))
        self.assertEqual(
            one_line(a=datetime.datetime(2026, 1, 2, 5, 4, 5, tzinfo=plus_two),
                     b=datetime.datetime(2026, 1, 2, 3, 4, 5, 123456)),
            "a=2026-01-02T03:04:05+00:00 b=2026-01-02T03:04:05.123456\n")

    def test_keys_are_written_as_given_and_quoted_when_needed(self):
        self.assertEqual(one_line(**{"val/loss": 1, "Val Loss": 2, "a=b": 3, "\u00e9t\u00e9": 4}),
                         'val/loss=1 "Val Loss"=2 "a=b"=3 "\u00e9t\u00e9"=4\n')

    def test_anything_with_item_like_a_numpy_scalar_or_a_torch_tensor(self):
        self.assertEqual(
            one_line(step=Scalar(4), progress=Scalar(0.5), a=Scalar(0.75), b=Scalar(7),
                     c=Scalar(True), d=Scalar(float("nan")), e=Scalar(None)),
            "step=4 progress=0.5 a=0.75 b=7 c=true d=nan\n")

    def test_wrong_arguments_raise_at_once(self):
        for kwargs, error in [({"step": -1}, ValueError), ({"step": 1.5}, ValueError),
                              ({"step": True}, ValueError), ({"progress": float("nan")}, ValueError),
                              ({"progress": "half"}, ValueError), ({"run_id": 3}, ValueError),
                              ({"k" * 64: 1}, ValueError), ({"a\nb": 1}, ValueError),
                              ({"a": [1, 2]}, TypeError), ({"a": b"x"}, TypeError),
                              ({"a": Vector()}, TypeError)]:
            with self.subTest(kwargs=kwargs), self.assertRaises(error):
                sqltrack_run.format_lines(**kwargs)

    def test_a_line_longer_than_pipe_buf_is_split_with_its_key_on_every_piece(self):
        metrics = {"metric_{:03d}".format(i): i + 0.5 for i in range(400)}
        lines = sqltrack_run.format_lines(step=9, progress=0.25, **metrics)
        self.assertGreater(len(lines), 1)
        seen = []
        for line in lines:
            self.assertLessEqual(len(line.encode()), sqltrack_run.PIPE_BUF)
            self.assertTrue(line.startswith("step=9 progress=0.25 "), line[:40])
            self.assertTrue(line.endswith("\n"))
            seen += line.split()[2:]
        self.assertEqual(seen, ["{}={}".format(k, v) for k, v in metrics.items()])

    def test_one_value_longer_than_pipe_buf_goes_alone(self):
        lines = sqltrack_run.format_lines(step=1, a=1, text="x" * 5000, b=2)
        self.assertEqual([line[:12] for line in lines], ["step=1 a=1\n", "step=1 text=", "step=1 b=2\n"])


class LogTest(unittest.TestCase):
    """log() against a FIFO opened as sqltrack-run opens it (O_RDWR, so writers never block
    on open and the reader never sees EOF)."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.fifo = os.path.join(self.dir.name, "metrics")
        os.mkfifo(self.fifo, 0o600)
        self.reader = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)
        self.saved_env = dict(os.environ)
        os.environ["SQLTRACK_METRICS"] = self.fifo
        importlib.reload(sqltrack_run)  # a fresh module: no FIFO open yet
        self.received = b""

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved_env)
        os.close(self.reader)
        self.dir.cleanup()
        importlib.reload(sqltrack_run)

    def read_until(self, lines, deadline_seconds=30):
        """Reads the FIFO until `lines` lines came; fails naming what came by the deadline."""
        deadline = time.monotonic() + deadline_seconds
        while self.received.count(b"\n") < lines and time.monotonic() < deadline:
            try:
                self.received += os.read(self.reader, 1 << 16)
            except BlockingIOError:
                time.sleep(0.01)
        got = self.received.decode().splitlines()
        self.assertEqual(len(got), lines, "expected {} lines, got {}".format(lines, got[:5]))
        return got

    def test_writes_one_line_per_call(self):
        sqltrack_run.log(step=1, progress=0.5, loss=0.25)
        sqltrack_run.log(acc=Scalar(0.75))
        self.assertEqual(self.read_until(2), ["step=1 progress=0.5 loss=0.25", "acc=0.75"])

    def test_threads_never_mix_their_lines(self):
        def writer(w):
            for i in range(300):
                sqltrack_run.log(step=w * 1000 + i, note="w{} line {} ".format(w, i) + "x" * 200)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
        reader = threading.Thread(target=self.read_until, args=(2400,))
        reader.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reader.join()
        lines = self.received.decode().splitlines()
        self.assertEqual(len(lines), 2400)
        for line in lines:
            step = int(line.split()[0][len("step="):])
            self.assertEqual(line, 'step={} note="w{} line {} {}"'.format(
                step, step // 1000, step % 1000, "x" * 200))

    def test_a_forked_child_logs_even_when_a_thread_held_the_lock(self):
        sqltrack_run.log(step=0)
        held = threading.Event()
        release = threading.Event()

        def hold_lock():
            with sqltrack_run._lock:
                held.set()
                release.wait()

        holder = threading.Thread(target=hold_lock)
        holder.start()
        held.wait()
        pid = os.fork()
        if pid == 0:
            sqltrack_run.log(step=1, child=True)
            os._exit(0)
        release.set()
        holder.join()
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.01)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            self.fail("the forked child's log() did not return within 30 s")
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(self.read_until(2), ["step=0", "step=1 child=true"])

    def test_a_fifo_nobody_reads_is_said_once_and_never_raised(self):
        os.close(self.reader)
        self.reader = os.open(os.devnull, os.O_RDONLY)  # for tearDown
        result = run_python("import sqltrack_run\n"
                            "for i in range(3): sqltrack_run.log(step=i, a=1)\n"
                            "print('went on')\n", {"SQLTRACK_METRICS": self.fifo})
        self.assertEqual(result.stdout, "went on\n")
        self.assertEqual(result.stderr.count("sqltrack_run: warning: cannot open"), 1,
                         result.stderr)


def run_python(code, env):
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("SQLTRACK_METRICS", "SQLTRACK_RUN_ID", "SQLTRACK_EXPERIMENT")}
    full_env.update(env)
    full_env["PYTHONPATH"] = os.path.dirname(HERE)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=120, check=False)


class OutsideTheWrapperTest(unittest.TestCase):
    def test_log_does_nothing_and_warns_once(self):
        result = run_python("import sqltrack_run\n"
                            "for i in range(3): sqltrack_run.log(step=i, loss=0.5)\n"
                            "print(sqltrack_run.run_id(), sqltrack_run.experiment())\n", {})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "None None\n")
        self.assertEqual(result.stderr,
                         "sqltrack_run: warning: $SQLTRACK_METRICS is not set (not running under "
                         "sqltrack-run): metrics are not recorded\n")

    def test_run_id_and_experiment_come_from_the_wrapper(self):
        result = run_python("import sqltrack_run\n"
                            "print(sqltrack_run.run_id(), sqltrack_run.experiment())\n",
                            {"SQLTRACK_RUN_ID": "42", "SQLTRACK_EXPERIMENT": "resnet"})
        self.assertEqual(result.stdout, "42 resnet\n")


if __name__ == "__main__":
    unittest.main()
