"""A named Jupyter kernel for this environment, for use from an existing JupyterLab or JupyterHub.

``make kernel`` registers "Python (uk-reform-analysis)" for the current user: the kernel runs this
environment's Python, so ``import analysis`` works whichever Jupyter server starts it, and it carries
``ANALYSIS_PROJECT_ROOT`` so the package finds the data catalogue and notebooks from any folder.
``--sys-prefix`` or ``--prefix DIR`` install it elsewhere (a shared JupyterHub environment).
"""

from __future__ import annotations

import sys
from pathlib import Path

from analysis import config

NAME = "uk-reform-analysis"
DISPLAY_NAME = "Python (uk-reform-analysis)"


def install(*, user: bool = True, prefix: str | None = None, sys_prefix: bool = False) -> Path:
    """Write the kernel spec; return the folder it was written to."""
    from ipykernel.kernelspec import install as install_kernelspec

    env = {"ANALYSIS_PROJECT_ROOT": str(config.project_root())}
    if sys_prefix:
        prefix, user = sys.prefix, False
    elif prefix is not None:
        user = False
    where = install_kernelspec(user=user, prefix=prefix, kernel_name=NAME, display_name=DISPLAY_NAME, env=env)
    return Path(where)
