"""TensorBoard for a search: a ``tensorboard`` process on a free loopback port, and the browser.

The engine's trials write TensorBoard logs under ``PROJECT/tensorboard/<trial>/`` (Keras'
``TensorBoard`` callback, one subfolder per trial and execution, see
:mod:`automl_studio.engine.search.session`). :class:`TensorBoardLauncher` runs
``python -m tensorboard.main --logdir PROJECT/tensorboard --host 127.0.0.1 --port N`` as a
:class:`QProcess`, asks it for its front page until it answers (Qt's network access manager, no
thread), then opens that page in the user's browser. The process is stopped with :meth:`stop`
(the window calls it when it closes), and a new one replaces it for another project.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkProxy, QNetworkReply, QNetworkRequest

LOOPBACK = "127.0.0.1"  # never another interface: TensorBoard has no authentication
LOG_FOLDER = "tensorboard"
PROBE_INTERVAL_MS = 300
ANSWER_TIMEOUT_S = 180  # TensorBoard imports TensorFlow when it is installed: slow on a busy machine
STOP_GRACE_MS = 3000


def log_dir(project_dir: str | os.PathLike[str]) -> Path:
    """Where a search's TensorBoard logs are: ``PROJECT/tensorboard``."""
    return Path(project_dir) / LOG_FOLDER


def has_logs(project_dir: str | os.PathLike[str]) -> bool:
    """Whether any trial of the search has written a TensorBoard event file yet."""
    return next(log_dir(project_dir).rglob("events.out.tfevents*"), None) is not None


@functools.cache
def tensorboard_command() -> list[str] | None:
    """The command that starts TensorBoard here (``None``: it is not installed; looked up once).

    From a Python installation, the interpreter running the window with ``-m tensorboard.main``;
    in a frozen bundle (no interpreter to run ``-m`` with), a ``tensorboard`` program on ``PATH``.
    """
    if getattr(sys, "frozen", False):
        found = shutil.which("tensorboard")
        return [found] if found else None
    if importlib.util.find_spec("tensorboard") is None:
        return None
    return [sys.executable, "-m", "tensorboard.main"]


def unavailable_reason(project_dir: str | None) -> str:
    """Why TensorBoard cannot be opened for ``project_dir`` ("" when it can)."""
    if tensorboard_command() is None:
        return "TensorBoard is not installed (pip install tensorboard)"
    if not project_dir:
        return "No search yet: run or open a search first"
    if not has_logs(project_dir):
        return f"This search has no TensorBoard logs yet ({log_dir(project_dir)} is empty)"
    return ""


def free_loopback_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class TensorBoardLauncher(QObject):
    """One TensorBoard process for the search on screen, opened in the browser once it answers.

    Signals:
        answered(url): TensorBoard serves ``url`` (http://127.0.0.1:PORT/); the browser was asked
            to open it with :attr:`open_url`.
        failed(message): it could not start, ended, or did not answer in time (a sentence).

    ``open_url`` is :meth:`QDesktopServices.openUrl`; replace it to open pages elsewhere (tests).
    """

    answered = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self._process: QProcess | None = None
        self._logdir = ""
        self._url = ""
        self._ready = False
        self._output = b""
        self._network = QNetworkAccessManager(self)
        self._network.setProxy(QNetworkProxy(QNetworkProxy.ProxyType.NoProxy))  # 127.0.0.1 is here
        self._probe = QTimer(self)
        self._probe.setInterval(PROBE_INTERVAL_MS)
        self._probe.timeout.connect(self._ask)
        self._probes_left = 0
        self._asking = False

    @property
    def url(self) -> str:
        """The page TensorBoard serves ("" when none runs)."""
        return self._url if self.running else ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    @property
    def pid(self) -> int | None:
        """The TensorBoard process's id, while it runs."""
        return int(self._process.processId()) if self.running and self._process is not None else None

    def open(self, project_dir: str) -> None:
        """Shows ``project_dir``'s logs: reuses the running TensorBoard when it serves them,
        else starts one on a free loopback port (the browser opens once it answers)."""
        reason = unavailable_reason(project_dir)
        if reason:
            self.failed.emit(reason)
            return
        logdir = str(log_dir(project_dir).resolve())
        if self.running and logdir == self._logdir:
            if self._ready:
                self.open_url(QUrl(self._url))
                self.answered.emit(self._url)
            return  # still starting: it opens when it answers
        self.stop()
        command = tensorboard_command()
        assert command is not None  # unavailable_reason said it is installed
        port = free_loopback_port()
        self._logdir, self._url, self._ready, self._output = logdir, f"http://{LOOPBACK}:{port}/", False, b""
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("TF_CPP_MIN_LOG_LEVEL", "3")
        env.remove("QT_QPA_PLATFORM")
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        process.start(command[0], [*command[1:], "--logdir", logdir, "--host", LOOPBACK, "--port", str(port),
                                   "--load_fast", "false"])
        self._probes_left = int(ANSWER_TIMEOUT_S * 1000 / PROBE_INTERVAL_MS)
        self._probe.start()

    def stop(self) -> None:
        """Ends TensorBoard (terminate, then kill after a grace period) and waits for it."""
        self._probe.stop()
        process, self._process = self._process, None
        self._ready = False
        if process is None:
            return
        process.finished.disconnect(self._on_finished)
        process.errorOccurred.disconnect(self._on_error)
        if process.state() != QProcess.ProcessState.NotRunning:
            process.terminate()
            if not process.waitForFinished(STOP_GRACE_MS):
                process.kill()
                process.waitForFinished(STOP_GRACE_MS)
        process.deleteLater()

    @Slot()
    def _ask(self) -> None:
        if self._asking or self._process is None:
            return
        self._probes_left -= 1
        if self._probes_left < 0:
            self.stop()
            self.failed.emit(f"TensorBoard did not answer on {self._url} within {ANSWER_TIMEOUT_S} s")
            return
        self._asking = True
        reply = self._network.get(QNetworkRequest(QUrl(self._url)))
        reply.finished.connect(lambda reply=reply: self._on_reply(reply))

    def _on_reply(self, reply: QNetworkReply) -> None:
        self._asking = False
        ok = reply.error() == QNetworkReply.NetworkError.NoError
        reply.deleteLater()
        if not ok or self._process is None or self._ready or reply.url().toString() != self._url:
            return
        self._ready = True
        self._probe.stop()
        self.open_url(QUrl(self._url))
        self.answered.emit(self._url)

    @Slot()
    def _read_output(self) -> None:
        if self._process is not None:
            self._output = (self._output + bytes(self._process.readAllStandardOutput().data()))[-4000:]

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._probe.stop()
        self._ready = False
        last = [line for line in self._output.decode("utf-8", "replace").splitlines() if line.strip()][-1:]
        self.failed.emit(f"TensorBoard ended (exit status {code})" + (f": {last[0]}" if last else ""))

    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._probe.stop()
            self.failed.emit(f"TensorBoard could not start ({self._process.errorString() if self._process else error})")
