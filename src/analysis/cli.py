"""Command line: ``python -m analysis run | params | data | councils | bundle | review``.

Exit codes (``analysis.errors.ExitCode``; docs/scheduling.md says what each means and what to do):
0 every report rendered; 1 some reports failed, or ``review`` found problems; 2 bad input or
corrupt data, nothing rendered; 3 every report failed (``latest`` unchanged); 4 the reports folder
or cache cannot be written; 70 internal error (a bug); 129/130/143 hung up, interrupted, terminated (nothing published).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from analysis.errors import AnalysisError, ExitCode, OutputError, RunInterrupted

log = logging.getLogger("analysis")


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.report import params as P
    from analysis.report import runner

    overrides = P.parse_cli_pairs(args.param or [])
    batch = runner.read_batch_manifest(Path(args.batch)) if args.batch else None
    names = [args.notebook] if args.notebook else None
    warnings: list[str] = []
    planned = runner.plan(names, overrides, Path(args.params_file) if args.params_file else None, batch,
                          warnings=warnings)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    executor = args.executor or ("processes" if batch and len(planned) > 1 else "serial")
    summary = runner.run(planned, out_root=Path(args.out) if args.out else None, executor=executor,
                         workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress,
                         run_config={"notebook": args.notebook, "overrides": overrides,
                                     "params_file": args.params_file, "batch": args.batch,
                                     "warnings": warnings},
                         keep_notebook_images=args.keep_notebook_images)
    counts = summary["counts"]
    print(f"Run {summary['run_id']}: {counts['ok']} ok, {counts['failed']} failed -> {summary['path']}/index.html")
    for report in summary["reports"]:
        if report["status"] != "ok":
            err = report["error"] or {}
            print(f"  FAILED {report['slug']}: cell {err.get('cell_index')}: {err.get('ename')}: {err.get('evalue')}",
                  file=sys.stderr)
    if counts["failed"] == 0:
        return ExitCode.OK
    if counts["ok"] == 0:
        print("error: every report failed; `latest` was not changed", file=sys.stderr)
        return ExitCode.ALL_REPORTS_FAILED
    return ExitCode.REPORTS_FAILED


def _cmd_params(args: argparse.Namespace) -> int:
    from analysis.report.params import get_spec, notebooks

    specs = [get_spec(args.notebook)] if args.notebook else list(notebooks().values())
    for spec in specs:
        print(f"{spec.name}: {spec.title}")
        for name, text in spec.parameters.allowed().items():
            print(f"  {name}: {text}")
        print()
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from analysis import data
    from analysis.data import register

    catalogue = data.load_catalogue()
    if args.action == "list":
        for ds in catalogue:
            print(f"{ds.name:36} {ds.source.repository}@{ds.source.commit[:8]}  {ds.title}")
        print("\nTidy tables (python: analysis.data.load(name)):")
        for name, table in data.TABLES.items():
            print(f"  {name:28} {table.description}  [from {', '.join(table.inputs)}]")
        return 0
    if args.action == "fetch":
        names = args.names or catalogue.names()
        for name in names:
            path = data.fetch(name)
            print(f"ok  {name:36} {path}")
        if not args.names:
            for table in data.TABLES:
                data.load(table)
            print(f"Prepared {len(data.TABLES)} tidy tables (parquet cache).")
        return 0
    if args.action == "verify":
        from analysis.data.tables import verify_tables

        rows = data.verify_all()
        bad = [r for r in rows if r["status"] == "MISMATCH"]
        for r in rows:
            print(f"{r['status']:10} {r['name']:36} {r['sha256'] or ''}")
        tables = verify_tables()
        bad_tables = [t for t in tables if t["status"] in {"MISMATCH", "no recorded hash"}]
        print("\nCached tidy tables (parquet, checked against the hash recorded when written):")
        for t in tables:
            print(f"{t['status']:10} {t['name']}")
        if bad_tables:
            print("Tables that do not match are rebuilt from the verified raw files by "
                  "`python -m analysis data fetch` (or on their next load).", file=sys.stderr)
        return ExitCode.BAD_INPUT if bad or bad_tables else ExitCode.OK
    if args.action == "register":
        out = register.write_register(Path(args.out) if args.out else None)
        print(f"Wrote {out}")
        return 0
    raise AnalysisError(f"Unknown data action {args.action}")


def _cmd_councils(args: argparse.Namespace) -> int:
    from analysis import atomic, data
    from analysis.budgets.councils import current_councils

    manifest = current_councils(data.load("council_lookup"))
    text = manifest.to_csv(index=False)
    if args.out:
        atomic.write_text(Path(args.out), text)
        print(f"Wrote {len(manifest)} councils to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_bundle(args: argparse.Namespace) -> int:
    from analysis.report import bundle

    path = bundle.bundle_run(args.run, Path(args.out) if args.out else None)
    print(f"Wrote {path}")
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    from analysis.report import review
    from analysis.report.bundle import resolve_run

    folder = resolve_run(args.run)
    unknown = sorted((set(args.check or []) | set(args.skip or [])) - set(review.CHECKS))
    if unknown:
        raise AnalysisError(f"Unknown check(s) {unknown}; choose from {', '.join(review.CHECKS)}")
    checks = args.check or [c for c in review.CHECKS if c not in (args.skip or [])]
    try:
        problems = review.review_run(folder, checks=checks)
    except ValueError as exc:
        raise AnalysisError(str(exc)) from None
    print(f"Reviewed {folder.name} ({', '.join(checks)})")
    print(review.format_problems(problems))
    return ExitCode.REPORTS_FAILED if problems else ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="render notebooks into HTML reports")
    run.add_argument("notebook", nargs="?", help="notebook name (default: every notebook with defaults)")
    run.add_argument("-p", "--param", action="append", metavar="NAME=VALUE", help="set a parameter (repeatable)")
    run.add_argument("-f", "--params-file", metavar="YAML", help="parameters from a YAML file")
    run.add_argument("--batch", metavar="CSV", help="one report per row of this manifest (columns = parameters)")
    run.add_argument("--out", metavar="DIR", help="reports folder (default: reports/ or ANALYSIS_REPORTS_DIR)")
    run.add_argument("--executor", choices=["serial", "processes", "dask"],
                     help="serial (default for single runs), processes (default for batches) or dask")
    run.add_argument("--workers", type=int, help="worker processes (default: number of cores)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address (default: a LocalCluster)")
    run.add_argument("--keep-notebook-images", action="store_true",
                     help="keep the charts in each executed .ipynb too (by default only the HTML embeds them)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.set_defaults(func=_cmd_run)

    params = sub.add_parser("params", help="show each notebook's parameters, types, ranges and defaults")
    params.add_argument("notebook", nargs="?")
    params.set_defaults(func=_cmd_params)

    data_p = sub.add_parser("data", help="the data catalogue")
    data_p.add_argument("action", choices=["list", "fetch", "verify", "register"])
    data_p.add_argument("names", nargs="*", help="datasets to fetch (default: all)")
    data_p.add_argument("--out", help="where to write the data register (default docs/data_register.md)")
    data_p.set_defaults(func=_cmd_data)

    councils = sub.add_parser("councils", help="write a batch manifest with every current council's code, for "
                                               "`run council_profile --batch`")
    councils.add_argument("--out", metavar="CSV", help="file to write (default: print to stdout)")
    councils.set_defaults(func=_cmd_councils)

    bundle = sub.add_parser("bundle", help="zip a run (index, reports, run.json) for email")
    bundle.add_argument("run", help="run id, 'latest', or a path to a run folder")
    bundle.add_argument("--out", help="zip file to write")
    bundle.set_defaults(func=_cmd_bundle)

    review = sub.add_parser("review", help="the reviewer's test: check every report of a run (exit 1 on problems)",
                            description="Checks: status, key-findings, headlines, chart-titles, forest-sides, "
                                        "table-rounding, precision, data-links, claims (see analysis.report.review).")
    review.add_argument("run", help="run id, 'latest', or a path to a run folder")
    review.add_argument("--check", action="append", metavar="NAME", help="run only this check (repeatable)")
    review.add_argument("--skip", action="append", metavar="NAME", help="leave out this check (repeatable)")
    review.set_defaults(func=_cmd_review)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.OUTPUT_ERROR
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except RunInterrupted as exc:
        print(f"interrupted by {exc}: workers and kernels were stopped and nothing was published "
              "(the staging folder was removed)", file=sys.stderr)
        return 128 + exc.signal_number
    except KeyboardInterrupt:
        print("interrupted: nothing was published", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # stdout closed early (`| head`): not an error of the suite
        return ExitCode.OK
    except OSError as exc:  # a file or folder the user named cannot be written or read
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write or read{where}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.OUTPUT_ERROR
    except Exception:
        import traceback

        traceback.print_exc()
        print("error: an unexpected internal error (a bug; please report the traceback above). "
              "Nothing was published.", file=sys.stderr)
        return ExitCode.INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
