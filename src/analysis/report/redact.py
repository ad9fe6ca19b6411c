"""Keep this machine's paths out of everything a run publishes.

Reports, the index, ``run.json``, executed notebooks and bundles are shared with people who do
not run the code, and a path such as ``/home/alice/private/panel.csv`` or
``/srv/app/.venv/lib/python3.11/...`` tells them about the machine, not the analysis. Every
published text passes through a :class:`Redactor` built for the run: an input file named by a
parameter becomes its file name, and the checkout, virtual environment, data cache, data mirror,
reports folder, temporary folder and home folder become placeholders (``[project]``, ``[venv]``...):
plain text, so they are safe in HTML, JSON and Markdown alike.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from analysis import config

_BASE64_RUN_MIN = 256
_BASE64_RUN = re.compile(f"[A-Za-z0-9+/=]{{{_BASE64_RUN_MIN},}}")
# A path ends where no name character follows; a full stop ends it too unless a name goes on after
# it (``/srv/data.`` ends a sentence, ``/srv/data.csv`` is another file).
_WHOLE_PATH_END = r"(?![\w-]|\.[\w-])"
_PATH_CONTINUES = re.compile(_WHOLE_PATH_END.replace("(?!", "(?:", 1))


def _variants(path: str) -> set[str]:
    """The path as given and resolved (symlinks), without a trailing slash, and as it appears once
    escaped for HTML text, HTML attributes and JSON strings; never the root itself."""
    out = set()
    for candidate in (path, os.path.realpath(path)):
        candidate = candidate.rstrip("/")
        if not candidate or candidate == "/":
            continue
        as_json = json.dumps(candidate)[1:-1]
        out |= {candidate, html.escape(candidate, quote=False), html.escape(candidate, quote=True), as_json,
                as_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("'", "\\u0027")}
    return out


class Redactor:
    """Replaces absolute paths (and anything under them) with placeholders, longest first.

    A path matches only as a whole path: not inside a longer name (``/tmpfoo``) and not inside
    base64 data (embedded images), where ``/tmp/`` can occur by chance.
    """

    def __init__(self, replacements: Iterable[tuple[str, str]]):
        pairs: dict[str, str] = {}
        for path, placeholder in replacements:
            for variant in _variants(str(path)):
                pairs.setdefault(variant, placeholder)
        self.pairs = sorted(pairs.items(), key=lambda kv: -len(kv[0]))
        alternatives = "|".join(f"({re.escape(p)})" for p, _ in self.pairs)
        self._pattern = re.compile(f"(?<![\\w+/.-])(?:{alternatives}){_WHOLE_PATH_END}") if self.pairs else None
        # Coloured tracebacks: an ANSI colour code (raw, or escaped in JSON) right before the path.
        self._after_colour = (re.compile(f"((?:\\x1b|\\\\u001b)\\[[0-9;]*m)(?:{alternatives}){_WHOLE_PATH_END}")
                              if self.pairs else None)

    def _placeholder(self, match: re.Match, first_group: int) -> str:
        index = next(i for i in range(first_group, len(self.pairs) + first_group) if match.group(i) is not None)
        return self.pairs[index - first_group][1]

    def text(self, text: str) -> str:
        if not self._pattern or not isinstance(text, str):
            return text
        text = self._sub(self._pattern, text, lambda m: self._placeholder(m, 1))
        return self._sub(self._after_colour, text, lambda m: m.group(1) + self._placeholder(m, 2))

    @staticmethod
    def _sub(pattern: re.Pattern, text: str, replace) -> str:
        """``pattern.sub(replace, text)``, but without scanning long base64 runs (embedded images):
        they cannot hold a path (a path cannot start inside one, see the class docstring), and
        trying every alternative at each of their characters is most of the cost on a report."""
        if len(text) < _BASE64_RUN_MIN:
            return pattern.sub(replace, text)
        out: list[str] = []
        position = 0
        for start, end in [*((m.start(), m.end()) for m in _BASE64_RUN.finditer(text)), (len(text), len(text))]:
            for match in pattern.finditer(text, position, start):
                if match.end() == start and start < len(text) and _PATH_CONTINUES.match(text, start):
                    continue  # the path runs on into the next characters: not a whole path
                out.append(text[position:match.start()])
                out.append(replace(match))
                position = match.end()
            out.append(text[position:end])
            position = end
        return "".join(out)

    def value(self, value: Any) -> Any:
        """``value`` with every string inside it (dict keys and values, list items) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def as_pairs(self) -> list[list[str]]:
        """JSON-safe form, to send to workers with each job."""
        return [[p, r] for p, r in self.pairs]

    @classmethod
    def from_pairs(cls, pairs: Iterable[Iterable[str]]) -> Redactor:
        return cls((p, r) for p, r in pairs)


def machine_paths(out_root: Path | None = None) -> list[tuple[str, str]]:
    """This machine's folders that may appear in tracebacks, logs and messages, with placeholders."""
    pairs: list[tuple[str, str]] = []
    try:
        pairs.append((str(config.project_root()), "[project]"))
    except Exception:  # not in a checkout: nothing to hide there
        pass
    pairs += [(sys.prefix, "[venv]"), (sys.base_prefix, "[python]"), (sys.exec_prefix, "[venv]"),
              (str(config.cache_dir()), "[cache]")]
    try:
        mirror = config.data_mirror()
    except Exception:
        mirror = None
    if mirror:
        pairs.append((str(mirror), "[mirror]"))
    if out_root is not None:
        pairs.append((str(out_root), "[reports]"))
    pairs.append((tempfile.gettempdir(), "[tmp]"))
    home = os.path.expanduser("~")
    if home not in ("/", "~"):
        pairs.append((home, "~"))
    return pairs


def input_file_paths(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each ``*_path`` parameter's file, shown by its name only."""
    from analysis.report.params import PATH_SUFFIX

    return [(value, Path(value).name) for name, value in parameters.items()
            if name.endswith(PATH_SUFFIX) and isinstance(value, str) and os.path.isabs(value)]


def for_run(parameter_sets: Iterable[Mapping[str, Any]], out_root: Path | None = None) -> Redactor:
    pairs: list[tuple[str, str]] = []
    for parameters in parameter_sets:
        pairs += input_file_paths(parameters)
    return Redactor(pairs + machine_paths(out_root))
