"""The researcher's workbench: the checks and chores around the notebooks, as commands.

- :mod:`analysis.workbench.notebooks`: which notebooks are committed (reports and explorers; never
  ``notebooks/scratch/``), and the checks every one passes: no outputs, thin (no definitions, no
  wrangling, imports of ``analysis`` only, ``typing`` in the parameters cell);
- :mod:`analysis.workbench.parameters_cell`: each report's parameters cell written from its typed
  parameter model, with annotations (so ``papermill --help-notebook`` shows the types);
- :mod:`analysis.workbench.pairs`: the jupytext pairs (a percent-format ``.py`` beside each ``.ipynb``);
- :mod:`analysis.workbench.kernel`: a named Jupyter kernel for an existing JupyterLab or JupyterHub.

``python -m analysis.workbench check`` runs every check (``make lint`` and the pre-commit hook run it);
``pair``, ``param-cells`` and ``kernel`` do the chores (``make pair``, ``make param-cells``, ``make kernel``).
"""
