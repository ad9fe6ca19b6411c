"""Kernels for rendering reports: local, over private Unix-domain sockets.

Imported only when notebooks are executed (it imports jupyter_client).

On POSIX each kernel talks to its client over Unix-domain sockets in a fresh
temporary folder rather than TCP ports: no port races between parallel workers,
nothing listening on the network, and no ipykernel warning about unencrypted
TCP in scheduler logs. The folder is removed when the kernel shuts down.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager


class LocalKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` using IPC transport in a private folder (TCP elsewhere)."""

    def __init__(self, **kwargs):
        self._socket_folder = None
        if os.name == "posix" and "transport" not in kwargs:
            self._socket_folder = tempfile.mkdtemp(prefix="analysis-kernel-")
            kwargs = {**kwargs, "transport": "ipc", "ip": os.path.join(self._socket_folder, "k")}
        super().__init__(**kwargs)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.remove_socket_folder()

    cleanup_resources = _async_cleanup_resources

    def remove_socket_folder(self) -> None:
        """Remove the private socket folder (also safe when the kernel died or never started)."""
        if self._socket_folder:
            shutil.rmtree(self._socket_folder, ignore_errors=True)
            self._socket_folder = None
