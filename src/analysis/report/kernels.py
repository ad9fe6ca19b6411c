"""Kernels for rendering reports: local, over private Unix sockets, memory-limited, accounted for.

Imported only when notebooks are executed (it imports jupyter_client).

* **Private sockets.** On POSIX each kernel talks to its client over Unix-domain sockets in a
  fresh temporary folder rather than TCP ports: no port races between parallel workers, nothing
  listening on the network, and no ipykernel warning about unencrypted TCP in scheduler logs. The
  folder is removed when the kernel shuts down.
* **Memory limit.** The kernel is started through :mod:`analysis.kernel_launcher`, which
  sets ``RLIMIT_AS`` to ``ANALYSIS_KERNEL_MEMORY_MB`` before becoming the kernel: a report that
  needs more gets a ``MemoryError`` (or its kernel dies) instead of exhausting the machine.
* **No history.** IPython's command history (an SQLite file in the home folder, shared by every
  kernel of the user) is off: reports do not need it, and parallel kernels would contend for it.
* **Accounting.** Every kernel this process starts is registered until it is shut down, so an
  interrupted run can kill whatever is left (:func:`kill_all`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading

from jupyter_client.manager import AsyncKernelManager

from analysis import limits

SOCKET_PREFIX = "analysis-kernel-"
OWNER_FILE = "owner.pid"  # the process that started the kernel, so a later run can tell a stale folder
_LIVE: dict[int, str | None] = {}  # pid of a kernel started here -> its socket folder
_LIVE_LOCK = threading.Lock()


def memory_limit_note() -> str:
    mb = limits.KERNEL_MEMORY_MB.value()
    if not mb:
        return "Kernels have no memory limit (ANALYSIS_KERNEL_MEMORY_MB=0)."
    return (f"Each kernel is limited to {mb} MB of memory (ANALYSIS_KERNEL_MEMORY_MB); if this report "
            f"really needs more, {limits.KERNEL_MEMORY_MB.how_to_raise()}, or give it a smaller input.")


class LocalKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` using IPC transport in a private folder (TCP elsewhere), started
    under the memory limit and registered until shut down."""

    def __init__(self, **kwargs):
        self._socket_folder = None
        if os.name == "posix" and "transport" not in kwargs:
            clean_stale_socket_folders()
            self._socket_folder = tempfile.mkdtemp(prefix=SOCKET_PREFIX)
            with open(os.path.join(self._socket_folder, OWNER_FILE), "w", encoding="ascii") as fh:
                fh.write(f"{os.getpid()}\n")
            kwargs = {**kwargs, "transport": "ipc", "ip": os.path.join(self._socket_folder, "k")}
        super().__init__(**kwargs)

    def format_kernel_cmd(self, extra_arguments=None):
        # No IPython history: a headless report has no use for it, and every kernel would otherwise
        # write to one SQLite file in the home folder (locked by parallel kernels, slow on NFS).
        extra_arguments = [*(extra_arguments or []), "--HistoryManager.enabled=False"]
        cmd = super().format_kernel_cmd(extra_arguments)
        if os.name != "posix":
            return cmd
        return [sys.executable, "-m", "analysis.kernel_launcher",
                str(limits.KERNEL_MEMORY_MB.value()), "--", *cmd]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        await super()._async_launch_kernel(kernel_cmd, **kw)
        pid = self.kernel_pid
        if pid:
            with _LIVE_LOCK:
                _LIVE[pid] = self._socket_folder

    _launch_kernel = _async_launch_kernel

    @property
    def kernel_pid(self) -> int | None:
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        return getattr(process, "pid", None)

    def exit_description(self) -> str:
        """How the kernel process ended ('killed by signal 9 (SIGKILL)', 'exit code 1') or ''."""
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        code = process.poll() if process is not None else None
        if code is None:
            return ""
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by signal {-code} ({signal.Signals(-code).name})"
        return f"exit code {code}"

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.remove_socket_folder()

    cleanup_resources = _async_cleanup_resources

    def remove_socket_folder(self) -> None:
        """Remove the private socket folder (also safe when the kernel died or never started)."""
        pid = self.kernel_pid
        if pid:
            with _LIVE_LOCK:
                _LIVE.pop(pid, None)
        if self._socket_folder:
            shutil.rmtree(self._socket_folder, ignore_errors=True)
            self._socket_folder = None


def live_kernel_pids() -> list[int]:
    with _LIVE_LOCK:
        return list(_LIVE)


def kill_all() -> None:
    """SIGKILL every kernel this process started and has not shut down; remove their socket folders.

    Safe to call from a signal handler's aftermath or a watchdog thread: it only sends signals
    and removes folders.
    """
    with _LIVE_LOCK:
        items = list(_LIVE.items())
        _LIVE.clear()
    for pid, folder in items:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def kill_pid(pid: int | None) -> None:
    """SIGKILL one kernel this process started (whose manager cannot be used any more, e.g. its
    thread ended) and remove its socket folder."""
    if not pid:
        return
    with _LIVE_LOCK:
        folder = _LIVE.pop(pid, None)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_CLEANED_STALE = False


def clean_stale_socket_folders(folder: str | None = None) -> list[str]:
    """Remove socket folders left by kernels whose starting process was killed (SIGKILL cannot clean
    up). A folder is stale when its owner process is gone; folders of live processes, of other users
    and without an owner file (another version's) are left alone. Runs once per process by default."""
    global _CLEANED_STALE
    if folder is None:
        if _CLEANED_STALE:
            return []
        _CLEANED_STALE = True
    removed = []
    base = folder or tempfile.gettempdir()
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith(SOCKET_PREFIX)]
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            with open(os.path.join(entry.path, OWNER_FILE), encoding="ascii") as fh:
                owner = int(fh.read().strip())
        except (OSError, ValueError):
            continue
        if not _pid_alive(owner):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed
