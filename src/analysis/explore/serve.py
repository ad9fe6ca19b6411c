"""Serve the explorer notebooks as dashboards with Voila: code hidden, bound to this machine by default.

``python -m analysis.explore serve`` (``make explore``) serves every notebook in
``notebooks/explore/`` on http://127.0.0.1:8866/; a colleague opens the address, picks an explorer
and moves the controls, without seeing or running any code (Voila refuses code sent from the page).
Each page gets its own kernel, which loads the data when the page opens.

It listens on 127.0.0.1 unless told otherwise (``--ip``): a dashboard runs library code on this
machine for whoever can reach it, so opening it to a network is a deliberate choice.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import subprocess
import sys
from pathlib import Path

from analysis import config

DEFAULT_PORT = 8866
DEFAULT_IP = "127.0.0.1"


def explore_dir() -> Path:
    return config.notebooks_dir() / "explore"


def explorer_notebooks() -> list[Path]:
    """The explorer notebooks, by name."""
    return sorted(explore_dir().glob("*.ipynb"))


def free_port(ip: str = DEFAULT_IP) -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return int(sock.getsockname()[1])


def target_path(notebook: str | None) -> Path:
    """The folder of explorers, or one explorer by name ('value_for_money' or 'value_for_money.ipynb')."""
    if not notebook:
        return explore_dir()
    name = Path(notebook).stem
    path = explore_dir() / f"{name}.ipynb"
    if not path.is_file():
        known = ", ".join(p.stem for p in explorer_notebooks())
        raise SystemExit(f"error: no explorer {notebook!r} in {explore_dir()}; explorers: {known}")
    return path


def voila_command(notebook: str | None = None, *, port: int = DEFAULT_PORT, ip: str = DEFAULT_IP) -> list[str]:
    """The Voila command line: sources stripped, no tracebacks sent to the page, no browser opened."""
    return [sys.executable, "-m", "voila", str(target_path(notebook)), f"--port={port}", f"--Voila.ip={ip}",
            "--Voila.port_retries=0", "--no-browser", "--strip_sources=True", "--show_tracebacks=False",
            "--theme=light", "--MappingKernelManager.cull_idle_timeout=3600",
            "--MappingKernelManager.cull_interval=300"]


def page_url(notebook: str | None, *, port: int, ip: str = DEFAULT_IP) -> str:
    """Where the dashboard is: the list of explorers, or (serving one notebook) the explorer itself."""
    host = f"[{ip}]" if ":" in ip else ip
    return f"http://{host}:{port}/"


def start(notebook: str | None = None, *, port: int | None = None, ip: str = DEFAULT_IP,
          stdout=None, stderr=None) -> tuple[subprocess.Popen, str]:
    """Start Voila in its own process group (so whoever started it can stop it and its kernels together)."""
    chosen = free_port(ip) if not port else port
    process = subprocess.Popen(voila_command(notebook, port=chosen, ip=ip), stdout=stdout, stderr=stderr,
                               start_new_session=True, cwd=str(config.project_root()))
    return process, page_url(notebook, port=chosen, ip=ip)


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.explore", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the explorers with Voila (code hidden)")
    serve.add_argument("notebook", nargs="?", help="one explorer by name (default: all of notebooks/explore/)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)")
    serve.add_argument("--ip", default=DEFAULT_IP,
                       help=f"address to listen on (default {DEFAULT_IP}, this machine only)")
    sub.add_parser("list", help="list the explorer notebooks")
    args = parser.parse_args(argv)
    if args.command == "list":
        for path in explorer_notebooks():
            print(path.stem)
        return 0
    if not _is_loopback(args.ip):
        print(f"warning: listening on {args.ip}: anyone who can reach this address can use the dashboards, which "
              "run library code on this machine", file=sys.stderr)
    port = args.port or free_port(args.ip)
    print(f"Serving the explorers at {page_url(args.notebook, port=port, ip=args.ip)} (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(voila_command(args.notebook, port=port, ip=args.ip), cwd=str(config.project_root()))
    except KeyboardInterrupt:
        return 130
