"""``python -m analysis.workbench check | pair | param-cells | kernel`` (see :mod:`analysis.workbench`)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.workbench",
                                     description="Checks and chores around the notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="committed notebooks are thin, have no outputs, their parameters cells match the "
                                 "models and their jupytext pairs agree (exit 1 and list every problem if not)")
    sub.add_parser("pair", help="rewrite each committed notebook's paired .py script from the notebook")
    cells = sub.add_parser("param-cells", help="rewrite each report's parameters cell from its parameter model")
    cells.add_argument("--check", action="store_true", help="only say which cells differ (exit 1 if any)")
    kernel = sub.add_parser("kernel", help="register the 'uk-reform-analysis' Jupyter kernel")
    where = kernel.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user (the default)")
    where.add_argument("--sys-prefix", action="store_true", help="in this environment (e.g. a JupyterHub's)")
    where.add_argument("--prefix", help="under this prefix")
    args = parser.parse_args(argv)

    if args.command == "check":
        from analysis.workbench import notebooks, pairs, parameters_cell

        found = notebooks.problems() + parameters_cell.problems() + pairs.problems()
        for problem in found:
            print(problem, file=sys.stderr)
        count = len(notebooks.committed_notebooks())
        print(f"{count} notebooks checked: {len(found)} problem{'s' if len(found) != 1 else ''}",
              file=sys.stderr if found else sys.stdout)
        return 1 if found else 0
    if args.command == "pair":
        from analysis.workbench import pairs

        for script in pairs.write_pairs():
            print(f"wrote {script}")
        return 0
    if args.command == "param-cells":
        from analysis.workbench import parameters_cell

        if args.check:
            found = parameters_cell.problems()
            for problem in found:
                print(problem, file=sys.stderr)
            return 1 if found else 0
        for spec in parameters_cell.report_specs():
            if parameters_cell.write(spec):
                print(f"wrote the parameters cell of {spec.path}")
        return 0
    if args.command == "kernel":
        from analysis.workbench import kernel

        where = kernel.install(prefix=args.prefix, sys_prefix=args.sys_prefix)
        print(f"Installed kernel {kernel.DISPLAY_NAME!r} in {where}: choose it in JupyterLab's kernel picker")
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
