"""Make every page the suite publishes safe to open: sanitised HTML and a strict Content-Security-Policy.

Text reaches a report from many places: narrative Markdown, table cells, parameter values, file
and folder names, error messages, chart titles and alt text. Escaping each at its source is
necessary but not sufficient (one forgotten place publishes a live ``<script>``), so the
mechanism is layered:

1. :func:`markdown_to_html` renders narrative Markdown with raw HTML *escaped* (bold, lists,
   links and tables still work); ``report.md`` uses it.
2. :func:`clean_body` runs over the whole rendered notebook body at export: only an allowlist
   of tags and attributes survives, links may only be http(s), mailto or relative, images only
   embedded PNG/JPEG/GIF/SVG data, embedded downloads only inert types (CSV, plain text, JSON),
   inline styles only a few layout properties, and anything else (``<script>``, ``onerror=``,
   ``<iframe>``, ``javascript:`` URLs) is dropped. New output kinds that need another tag or
   attribute must be added to the allowlist here (with a test).
3. Every page carries a Content-Security-Policy (:func:`csp`) that forbids scripts, except, on the
   run index, its own sort script pinned by hash, so even markup that slipped through cannot run.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets

import nh3

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
_COMMON_ATTRIBUTES = {"class", "id", "title", "style", "lang", "dir", "role", "aria-label", "aria-hidden"}
_TAG_ATTRIBUTES = {
    "a": {"href", "download", "type"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "headers"}, "th": {"colspan", "rowspan", "scope", "headers"},
    "col": {"span"}, "colgroup": {"span"}, "ol": {"start", "type", "reversed"}, "li": {"value"},
    "div": {"data-mime-type"}, "details": {"open"},
}
_SAFE_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|svg\+xml);base64,[A-Za-z0-9+/=\s]+$")
_SAFE_LINK = re.compile(r"^(https?:|mailto:|#|[^:]*$)", re.IGNORECASE)  # no scheme = relative
# Embedded data downloads (a table as CSV): inert types only, never text/html or script.
_SAFE_DOWNLOAD = re.compile(r"^data:(text/csv|text/plain|application/json)(;charset=[\w-]+)?(;base64)?,",
                            re.IGNORECASE)
_CSS_PROPERTIES = {"text-align", "vertical-align", "width", "max-width", "min-width", "height", "white-space",
                   "font-weight", "font-style"}
_CSS_VALUE = re.compile(r"^[\w\s.%#,-]+$")  # no url(), no expression(), no quotes or escapes


def _safe_style(value: str) -> str | None:
    kept = []
    for declaration in value.split(";"):
        name, _, css = declaration.partition(":")
        name, css = name.strip().lower(), css.strip()
        if name in _CSS_PROPERTIES and css and _CSS_VALUE.match(css):
            kept.append(f"{name}: {css};")
    return " ".join(kept) or None


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "style":
        return _safe_style(value)
    if tag == "img" and name == "src":
        return value if _SAFE_IMAGE.match(value) else None
    if tag == "a" and name == "href":
        stripped = value.strip()
        return value if _SAFE_LINK.match(stripped) or _SAFE_DOWNLOAD.match(stripped) else None
    return value


@functools.lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    attributes = {"*": set(_COMMON_ATTRIBUTES), **{tag: set(attrs) for tag, attrs in _TAG_ATTRIBUTES.items()}}
    return nh3.Cleaner(tags=set(ALLOWED_TAGS), clean_content_tags={"script", "style"}, attributes=attributes,
                       attribute_filter=_filter_attribute, strip_comments=True, link_rel=None,
                       url_schemes={"http", "https", "mailto", "data"})


MISSING_ALT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
_EMBEDDED_IMAGE = re.compile(r'(?<=src=")data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/=]+)(?=")')


def clean_body(html: str) -> str:
    """The HTML fragment with only allowlisted tags, attributes and URLs (see the module docstring).

    Uses ammonia (through ``nh3``): a disallowed tag is removed and its text kept, except
    ``<script>`` and ``<style>``, whose content goes too; text is re-serialised escaped.
    Embedded raster images (base64, most of a report's bytes) are set aside while the HTML is
    sanitised and put back afterwards: their content cannot be markup, and scanning it is slow.
    An image without alt text gets :data:`MISSING_ALT`, so a screen reader says something.
    """
    nonce = secrets.token_hex(8)
    images: list[str] = []

    def set_aside(match: re.Match) -> str:
        images.append(match.group(2))
        return f"data:image/{match.group(1)};base64,img{nonce}n{len(images) - 1}"

    cleaned = _IMG_WITHOUT_ALT.sub(f'<img alt="{MISSING_ALT}"', _cleaner().clean(_EMBEDDED_IMAGE.sub(set_aside, html)))
    return re.sub(f"img{nonce}n(\\d+)", lambda m: images[int(m.group(1))], cleaned)


@functools.lru_cache(maxsize=1)
def _markdown():
    import mistune

    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


def markdown_to_html(text: str) -> str:
    """Markdown to HTML with any raw HTML in ``text`` escaped (shown as text, never as markup)."""
    return clean_body(_markdown()(text))


def script_hash(script: str) -> str:
    """The CSP source expression that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def csp(scripts: tuple[str, ...] = ()) -> str:
    """A Content-Security-Policy for a self-contained page: no network, no plugins, no frames,
    inline styles and embedded images only, and no script but the given inline ones (by hash)."""
    script_src = " ".join(script_hash(s) for s in scripts) if scripts else "'none'"
    return ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            f"script-src {script_src}; base-uri 'none'; form-action 'none'; object-src 'none'")
