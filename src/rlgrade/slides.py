"""Lesson slides: Markdown source kept in the repository → one self-contained HTML deck.

A deck's source is Markdown (CommonMark with tables) whose slides are separated by
lines holding only ``---`` (outside fenced code). Math is LaTeX between ``$...$``
(inline) and ``$$...$$`` (display; ``\\tag{n}`` numbers it) and is converted here to
MathML, which Chromium renders natively, so the deck needs no network: CSS and the
navigation script are inline, local images become data URIs, and a remote image,
script or style sheet is an error. Code blocks are highlighted with Pygments.

``build_deck(source, out)`` writes the deck and returns its slide count;
``python -m rlgrade.slides SOURCE OUT`` does the same from a shell.

LaTeX is converted by the ``latex2mathml`` library, given a few definitions it lacks
(``aligned``, ``\\arg``, function names as operators), and its MathML is adapted to MathML
Core, which Chromium renders: fonts become Unicode math letters (𝔼, ℒ, 𝜽), table
alignment becomes CSS. A formula it cannot convert, or would render wrongly without a
word (an unknown command or environment, unbalanced braces), raises :class:`MathError`
naming the formula.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
import unicodedata
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

from latex2mathml import commands as _commands
from latex2mathml.converter import Converter as _Converter
from latex2mathml.symbols_parser import convert_symbol as _convert_symbol
from markdown_it import MarkdownIt

__all__ = ["MathError", "build_deck", "extract_math", "latex_to_mathml", "render_deck", "split_slides"]


class MathError(ValueError):
    """A LaTeX formula that cannot be rendered (unknown command or environment, unbalanced braces...)."""


# ---------------------------------------------------------------------------------------
# LaTeX → MathML: latex2mathml, then adapted to MathML Core (what Chromium renders)
# ---------------------------------------------------------------------------------------

_PRELUDE = "".join([
    r"\def\sim{\thicksim}",  # latex2mathml's table maps \sim to an ASCII tilde
    r"\DeclareMathOperator{\arg}{arg}",
    # a function name as an operator (spaced from its argument), not a bare <mi>log</mi><mi>x</mi>
    *(rf"\DeclareMathOperator{{{name}}}{{{name[1:]}}}" for name in _commands.FUNCTIONS),
    r"\newenvironment{aligned}{\begin{align*}}{\end{align*}}",
])


def _prelude_macros() -> dict:
    """The definitions of _PRELUDE, parsed once by latex2mathml itself and given to every conversion."""
    converter = _Converter()
    converter.convert(_PRELUDE)
    return converter.macros


_MACROS = _prelude_macros()

_ENVIRONMENTS = {name[1:] for name in _commands.MATRICES} | {"aligned"}
_TAG = re.compile(r"\\tag\*?\{([^{}]*)\}")
_LABEL = re.compile(r"\\label\{[^{}]*\}")
_BRACE_OR_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}|\\.|[{}]", re.S)
_OPERATOR_NAME = re.compile(r"\\operatorname(withlimits|\*)?\s*\{([^{}]*)\}")
_NAME_PLACEHOLDER = re.compile(r"rlgradeop([a-j]+)")
_CHAR_REFERENCE = re.compile(r"&#x([0-9A-Fa-f]+);")
_LIMIT_OPERATORS = {"∑", "∏", "∐", "⋃", "⋂", "⨁", "⨂", "⋀", "⋁", "max", "min", "sup", "inf", "lim"}
"""Operators whose scripts go below/above them in display math (latex2mathml does so for ∑ and ∏ only)."""
_UNDER_OVER = {"msub": "munder", "msup": "mover", "msubsup": "munderover"}
_SCRIPTED = {*_UNDER_OVER, *_UNDER_OVER.values()}
_CLOSING = set(")]}|‖⟩⌋⌉")
_ORDINARY = set("∞∅∂∇⊤")
"""Symbols that latex2mathml makes operators (all of U+2200-22FF) but LaTeX spaces as ordinary ones."""
_ROWS = {"mrow", "mtd", "msqrt", "mstyle", "mpadded", "menclose", "mphantom"}
"""Elements whose children are a row (not a base and scripts, a numerator and denominator...)."""

# MathML Core renders no mathvariant but "normal" on a one-letter <mi>: a letter in another font is a
# Unicode mathematical letter (𝔼, ℒ, 𝜽), and text in another font gets the matching CSS
_LETTER_FONTS = {"bold": "BOLD", "italic": "ITALIC", "bold-italic": "BOLD ITALIC", "double-struck": "DOUBLE-STRUCK",
                 "script": "SCRIPT", "bold-script": "BOLD SCRIPT", "fraktur": "FRAKTUR", "sans-serif": "SANS-SERIF",
                 "sans-serif-italic": "SANS-SERIF ITALIC", "monospace": "MONOSPACE"}
_TEXT_FONTS = {"bold": "font-weight:bold", "italic": "font-style:italic",
               "bold-italic": "font-weight:bold;font-style:italic", "monospace": "font-family:monospace",
               "sans-serif": "font-family:sans-serif"}


def _math_letter(char: str, font: str) -> str | None:
    """`char` in a Unicode mathematical alphabet ('E', 'double-struck' → '𝔼'), or None if it has none."""
    name = re.sub(r"^(?:LATIN |GREEK )?(?:(CAPITAL|SMALL) LETTER )?", lambda m: (m.group(1) or "") + " ",
                  unicodedata.name(char, "")).strip()
    # ℝ, ℒ... are outside the block of mathematical letters, with names of their own
    for candidate in (f"MATHEMATICAL {_LETTER_FONTS[font]} {name}", f"{_LETTER_FONTS[font]} {name}"):
        try:
            return unicodedata.lookup(candidate)
        except KeyError:
            continue
    return None


def _prepare(tex: str, formula: str) -> tuple[str, list[str]]:
    """Check what latex2mathml would render wrongly without a word (unbalanced braces, an unknown
    environment) and put a placeholder of letters for each \\operatorname's name, since latex2mathml reads
    letters only there (log\\_softmax, expm1): the source to convert and the names, restored by _to_core."""
    depth, environments = 0, []
    for token in _BRACE_OR_ENVIRONMENT.findall(tex):
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                raise MathError(f"unbalanced '}}' in {formula!r}")
        elif token.startswith(("\\begin", "\\end")):
            name = token[token.index("{") + 1:-1].strip()
            if token.startswith("\\begin"):
                if name not in _ENVIRONMENTS:
                    raise MathError(f"unknown environment {name!r} in {formula!r}")
                environments.append(name)
            elif not environments:
                raise MathError(f"\\end{{{name}}} without \\begin in {formula!r}")
            elif environments[-1] != name:
                raise MathError(f"\\begin{{{environments[-1]}}} closed by \\end{{{name}}} in {formula!r}")
            else:
                environments.pop()
    if depth:
        raise MathError(f"unbalanced '{{' in {formula!r}")
    if environments:
        raise MathError(f"\\begin{{{environments[-1]}}} without \\end in {formula!r}")
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        name = match.group(2).replace("\\_", "_").replace("\\,", "\u2009").replace("\\ ", " ").strip()
        if not name or re.search(r"[\\{}$^&]", name):
            raise MathError(f"\\operatorname{{{match.group(2)}}} takes plain text only in {formula!r}")
        names.append(name)
        letters = "".join(chr(ord("a") + int(digit)) for digit in str(len(names) - 1))
        return rf"\operatorname{match.group(1) or ''}{{rlgradeop{letters}}}"

    return _OPERATOR_NAME.sub(placeholder, tex), names


def _half(length: str) -> str:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]*)", length).groups()
    return f"{float(number) / 2:g}{unit or 'em'}"


def _to_core(element: Element, names: list[str], formula: str) -> None:
    """latex2mathml's MathML 3 as MathML Core: characters instead of references, fonts as Unicode letters
    or CSS, symbols it leaves as identifiers (±, ⟹, :) as operators, scripts of max/min/lim below them in
    display, column alignment and spacing of tables as CSS, single-child <mrow>s unwrapped. Raises
    MathError for what latex2mathml passed through unconverted (an unknown command, a stray '&')."""
    for node in element.iter():
        if node.text:
            node.text = _CHAR_REFERENCE.sub(lambda m: chr(int(m.group(1), 16)), node.text)
    for node in element.iter():
        text = node.text
        if node.tag in ("mi", "mo") and text and text.startswith("\\"):  # \big\lvert keeps its command as text
            code = _convert_symbol(text)
            if code is None:
                raise MathError(f"unknown LaTeX command {text} in {formula!r}")
            text = node.text = chr(int(code, 16))
        if node.tag == "mi" and text == "&":
            raise MathError(f"'&' outside an environment in {formula!r}")
        if node.tag == "mtext" and text and "\\" in text:  # latex2mathml keeps \text{fan\_in} as it is
            text = node.text = re.sub(r"\\([_%$&#{}])", r"\1", text).replace("\\ ", "\u00a0")
            if "\\" in text:
                raise MathError(f"\\text{{...}} holds plain text only, not {text!r}, in {formula!r}")
        category = unicodedata.category(text) if text and len(text) == 1 else ""
        if node.tag == "mi" and (category in ("Sm", "Ps", "Pe") or text in (":", ";")):
            node.tag = "mo"
            if category in ("Ps", "Pe"):
                node.set("stretchy", "false")
        elif node.tag == "mo" and text in _ORDINARY and not node.attrib:
            node.tag = "mi"
        elif node.tag == "mi" and category == "Lu" and "GREEK" in unicodedata.name(text) and not node.attrib:
            node.set("mathvariant", "normal")  # upright, as in LaTeX (MathML Core italicises a one-letter <mi>)
        if node.tag == "msup" and node[1].tag == "mi" and node[1].text and set(node[1].text) <= set("′″‴⁗"):
            node.tag, node[1].tag = "mrow", "mo"  # a prime is a raised glyph already: beside its base
            node[1].attrib.update(lspace="0", rspace="0")
        if node.tag == "mo" and text and (placeholder := _NAME_PLACEHOLDER.fullmatch(text)):
            node.text = names[int("".join(str(ord(c) - ord("a")) for c in placeholder.group(1)))]
        if node.tag in _UNDER_OVER and node[0].tag == "mo" and (
                node[0].text in _LIMIT_OPERATORS or node[0].get("movablelimits") == "true"):
            node.tag = _UNDER_OVER[node.tag]
            node[0].set("movablelimits", "true")
        font = node.attrib.get("mathvariant")
        if node.tag in ("mi", "mn") and font in _LETTER_FONTS and text:
            letters = [_math_letter(char, font) for char in text]
            if all(letters):
                node.text = "".join(letters)
                del node.attrib["mathvariant"]
        elif node.tag == "mtext" and font in _TEXT_FONTS:
            node.set("style", _TEXT_FONTS[font])
            del node.attrib["mathvariant"]
        if node.tag == "mtable":
            spacing = node.attrib.pop("columnspacing", "").split()
            node.attrib.pop("rowspacing", None)
            for row in node.iter("mtr"):
                for j, cell in enumerate(row):
                    style = [f"text-align:{cell.attrib.pop('columnalign')}"] if "columnalign" in cell.attrib else []
                    if spacing:  # half of each gap between columns on either side of it
                        if j > 0:
                            style.append(f"padding-left:{_half(spacing[(j - 1) % len(spacing)])}")
                        if j < len(row) - 1:
                            style.append(f"padding-right:{_half(spacing[j % len(spacing)])}")
                    if style:
                        cell.set("style", ";".join(style))
    for parent in element.iter():
        for i, child in enumerate(parent):
            while child.tag == "mrow" and not child.attrib and len(child) == 1 and not child.text:
                child = child[0]
            parent[i] = child
        if parent.tag in _ROWS:
            _space_as_latex(list(parent))


def _space_as_latex(row: list[Element]) -> None:
    """Spacing as LaTeX's where MathML Core's operator dictionary differs: a sign after an operator (or
    first) is unary, a slash has no space, an operator name (log, max, clip) is a thin space from its
    neighbours but touches an opening bracket that follows it."""
    for i, node in enumerate(row):
        before = row[i - 1] if i else None
        operator_before = before is None or before.tag == "mspace" or (
            before.tag == "mo" and before.text not in _CLOSING and not _is_name(before))
        if node.tag == "mo" and node.text in ("−", "+", "±", "∓") and operator_before:
            node.set("form", "prefix")
        elif node.tag == "mo" and node.text == "/":
            node.set("lspace", "0")
            node.set("rspace", "0")
        core = node
        while core.tag in _SCRIPTED and len(core):
            core = core[0]
        if core.tag == "mo" and _is_name(core):
            after = row[i + 1] if i + 1 < len(row) else None
            core.set("lspace", "0" if operator_before else "0.1667em")
            core.set("rspace", "0" if after is None or (after.tag == "mo" and after.text in "([") else "0.1667em")


def _is_name(node: Element) -> bool:
    return bool(node.text) and len(node.text) > 1 and node.text[0].isalpha()


def latex_to_mathml(tex: str, *, display: bool = False) -> str:
    """One formula as a <math> element; a display formula's ``\\tag{n}`` becomes "(n)" beside it.

    >>> latex_to_mathml(r"\\frac{a}{b}")
    '<math><mfrac><mi>a</mi><mi>b</mi></mfrac></math>'
    """
    tags = _TAG.findall(tex)
    if len(tags) > 1:
        raise MathError(f"more than one \\tag in {tex!r}")
    if tags and not display:
        raise MathError(f"\\tag in inline math {tex!r}")
    body_tex = _LABEL.sub("", _TAG.sub("", tex))
    body_tex, names = _prepare(body_tex, tex)
    converter = _Converter(display="block" if display else "inline")
    converter.macros = dict(_MACROS)
    try:
        row = converter.convert_to_element(body_tex)[0]
    except Exception as error:  # latex2mathml's own errors name the problem in their class name
        problem = str(error) or re.sub(r"(?<!^)(?=[A-Z])", " ", type(error).__name__.removesuffix("Error")).lower()
        raise MathError(f"{problem} in {tex!r}") from None
    _to_core(row, names, tex)
    body = "".join(tostring(child, encoding="unicode", method="html") for child in row) or "<mrow></mrow>"
    if display:
        annotation = f'<annotation encoding="application/x-tex">{_esc(tex.strip())}</annotation>'
        body = body if len(row) == 1 else f"<mrow>{body}</mrow>"
        math = f'<math display="block"><semantics>{body}{annotation}</semantics></math>'
        if tags:
            return f'<div class="equation">{math}<span class="eqno">({_esc(tags[0])})</span></div>'
        return f'<div class="equation">{math}</div>'
    return f"<math>{body}</math>"


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


# ---------------------------------------------------------------------------------------
# Markdown → slides
# ---------------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SEPARATOR = re.compile(r"^---\s*$")


def _closes(fence: str, line: str) -> bool:
    """Whether `line` closes a code block opened by `fence` (the same character, at least as many)."""
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def split_slides(text: str) -> list[str]:
    """The slides of a deck source: chunks between lines holding only ``---`` (not inside fenced
    code). Empty chunks are dropped, so a leading or trailing separator adds no slide."""
    slides, current, fence = [], [], None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * len(match.group(1))
        elif fence is not None and _closes(fence, line):
            fence = None
        elif fence is None and _SEPARATOR.match(line):
            slides.append("\n".join(current))
            current = []
            continue
        current.append(line)
    if fence is not None:
        raise ValueError("unclosed code fence in the slide source")
    slides.append("\n".join(current))
    return [s.strip("\n") for s in slides if s.strip()]


_PLACEHOLDER = "MATHPLACEHOLDER{}X"
_PLACEHOLDER_RE = re.compile(r"MATHPLACEHOLDER(\d+)X")


def extract_math(text: str) -> tuple[str, list[tuple[str, bool]]]:
    """Replace each $...$ / $$...$$ outside code by a placeholder (so Markdown never sees LaTeX's
    underscores and backslashes); returns the text and the formulas (LaTeX, is-display) in order.

    The placeholder of formula i is ``MATHPLACEHOLDER<i>X``; a display formula's placeholder stands in
    a paragraph of its own. A ``\\$`` outside math is a literal dollar (written as ``&#36;``)."""
    formulas: list[tuple[str, bool]] = []
    out: list[str] = []
    lines = text.split("\n")
    fence = None
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            out.append(_extract_inline("\n".join(buffer), formulas))
            buffer.clear()

    for line in lines:
        match = _FENCE.match(line)
        if fence is None and match:
            flush()
            fence = match.group(1)[0] * len(match.group(1))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if _closes(fence, line):
                fence = None
        else:
            buffer.append(line)
    flush()
    return "\n".join(out), formulas


def _extract_inline(text: str, formulas: list[tuple[str, bool]]) -> str:
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "$":
            out.append("&#36;")
            i += 2
        elif c == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            close = text.find("`" * run, i + run)
            while close != -1 and close + run < n and text[close + run] == "`":
                close = text.find("`" * run, close + run + 1)
            if close == -1:
                out.append(text[i:i + run])
                i += run
            else:
                out.append(text[i:close + run])
                i = close + run
        elif c == "$":
            display = text.startswith("$$", i)
            delim = "$$" if display else "$"
            end = i + len(delim)
            while True:
                end = text.find(delim, end)
                if end == -1:
                    raise MathError(f"unclosed {delim} in the slide source near {text[i:i + 40]!r}")
                if text[end - 1] != "\\":
                    break
                end += 1
            formula = text[i + len(delim):end]
            formulas.append((formula, display))
            marker = _PLACEHOLDER.format(len(formulas) - 1)
            out.append(f"\n\n{marker}\n\n" if display else marker)
            i = end + len(delim)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(["table", "strikethrough"])
    md.options["highlight"] = _highlight
    return md


def _highlight(code: str, lang: str, _attrs: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang or "text")
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


_REMOTE = re.compile(r"""<(?:img|script|link|iframe|video|audio|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
_LOCAL_IMG = re.compile(r"""(<img\b[^>]*?\bsrc=")([^"]+)(")""", re.I)


def _inline_images(body: str, base: Path | None) -> str:
    def replace(m: re.Match) -> str:
        src = html.unescape(m.group(2))
        if src.startswith("data:"):
            return m.group(0)
        if base is None:
            raise ValueError(f"image {src!r}: a deck rendered from text has no folder for relative images")
        path = (base / src).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"image {src!r} not found (looked for {path})")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"{m.group(1)}data:{mime};base64,{data}{m.group(3)}"

    return _LOCAL_IMG.sub(replace, body)


def _render_slide(md: MarkdownIt, source: str, base: Path | None) -> tuple[str, str]:
    """(HTML of one slide, its class) — a slide that opens with a level-1 heading is a title slide."""
    text, formulas = extract_math(source)
    body = md.render(text)

    def math(m: re.Match) -> str:
        formula, display = formulas[int(m.group(1))]
        return latex_to_mathml(formula, display=display)

    body = re.sub(r"<p>\s*(MATHPLACEHOLDER\d+X)\s*</p>", lambda m: _PLACEHOLDER_RE.sub(math, m.group(1)), body)
    body = _PLACEHOLDER_RE.sub(math, body)
    if _REMOTE.search(body):
        raise ValueError(f"a slide loads a remote resource (the deck must work offline): {_REMOTE.search(body).group(0)}")
    body = _inline_images(body, base)
    kind = "slide title-slide" if source.lstrip().startswith("# ") else "slide"
    return body, kind


def _deck_title(slides: list[str], fallback: str) -> str:
    for slide in slides:
        for line in slide.splitlines():
            if line.startswith("# "):
                title, _ = extract_math(line[2:].strip())
                return re.sub(r"[*_`]", "", title)
    return fallback


def render_deck(text: str, *, title: str | None = None, base: Path | None = None) -> tuple[str, int]:
    """The deck's HTML and its slide count. `base` is the folder relative image paths start from."""
    slides = split_slides(text)
    if not slides:
        raise ValueError("the slide source has no slides")
    md = _markdown()
    sections = []
    for number, source in enumerate(slides, 1):
        try:
            body, kind = _render_slide(md, source, base)
        except MathError as error:
            raise MathError(f"slide {number}: {error}") from None
        sections.append(f'<section class="{kind}" id="slide-{number}" data-index="{number}">\n'
                        f'<div class="content">\n{body}</div>\n'
                        f'<footer class="slide-number">{number} / {len(slides)}</footer>\n</section>')
    from pygments.formatters import HtmlFormatter

    code_css = HtmlFormatter(style="friendly").get_style_defs(".slide pre")
    deck_title = title or _deck_title(slides, "Slides")
    page = (_PAGE.replace("{{title}}", _esc(deck_title))
            .replace("{{count}}", str(len(slides)))
            .replace("{{css}}", _CSS + code_css)
            .replace("{{js}}", _JS)
            .replace("{{slides}}", "\n".join(sections)))
    return page, len(slides)


def build_deck(source: Path, out: Path) -> int:
    """Render the Markdown deck `source` to the self-contained HTML file `out`; returns the slide count."""
    source, out = Path(source), Path(out)
    page, count = render_deck(source.read_text(encoding="utf-8"), base=source.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return count


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rlgrade.slides">
<title>{{title}}</title>
<style>
{{css}}
</style>
</head>
<body>
<main id="deck" data-slide-count="{{count}}">
{{slides}}
</main>
<script>
{{js}}
</script>
</body>
</html>
"""

_CSS = """
:root { --w: 1280px; --h: 720px; --fg: #1d2330; --muted: #5b6478; --accent: #2b5fab; --bg: #ffffff; }
* { box-sizing: border-box; }
html, body { margin: 0; background: #e9ecf1; color: var(--fg);
  font-family: "Source Sans 3", "Source Sans Pro", "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; }
math { font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", "DejaVu Math TeX Gyre", math; }
#deck { display: flex; flex-direction: column; align-items: center; gap: 24px; padding: 24px 0; }
.slide { position: relative; width: var(--w); height: var(--h); background: var(--bg); overflow: hidden;
  padding: 44px 64px 52px; box-shadow: 0 2px 10px rgba(0,0,0,.15); font-size: 27px; line-height: 1.38; }
.slide .content { height: 100%; overflow: hidden; }
.slide h1 { font-size: 54px; line-height: 1.15; margin: 0 0 24px; color: var(--accent); }
.slide h2 { font-size: 40px; line-height: 1.2; margin: 0 0 20px; color: var(--accent);
  border-bottom: 3px solid #d8e1f0; padding-bottom: 8px; }
.slide h3 { font-size: 30px; margin: 16px 0 8px; }
.slide p { margin: 0 0 14px; }
.slide ul, .slide ol { margin: 0 0 14px; padding-left: 1.3em; }
.slide li { margin: 0 0 6px; }
.slide li > p { margin: 0; }
.slide a { color: var(--accent); }
.slide code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.85em;
  background: #f1f3f7; padding: 0 4px; border-radius: 4px; }
.slide pre { background: #f6f8fb; border: 1px solid #dde3ec; border-radius: 8px; padding: 12px 16px;
  font-size: 20px; line-height: 1.35; margin: 0 0 14px; overflow: hidden; }
.slide pre code { background: none; padding: 0; font-size: inherit; }
.slide table { border-collapse: collapse; margin: 0 0 14px; font-size: 0.85em; }
.slide th, .slide td { border-bottom: 1px solid #cfd6e2; padding: 5px 14px; text-align: left; vertical-align: top; }
.slide th { border-bottom: 2px solid #8f9bb3; }
.slide blockquote { margin: 0 0 14px; padding: 6px 18px; border-left: 5px solid var(--accent);
  background: #f3f6fb; color: #2a3142; }
.slide blockquote p:last-child { margin: 0; }
.slide .equation { display: flex; align-items: center; justify-content: center; margin: 8px 0 16px; }
.slide .equation math { flex: 1 1 auto; }
.slide .eqno { flex: 0 0 auto; margin-left: 24px; color: var(--muted); }
.slide math[display="block"] { font-size: 1.05em; }
.slide-number { position: absolute; right: 28px; bottom: 14px; font-size: 18px; color: var(--muted); }
.title-slide .content { display: flex; flex-direction: column; justify-content: center; }
.title-slide h1 { font-size: 60px; }
.title-slide p { color: var(--muted); }
/* presentation mode (the script turns it on): one slide at a time, scaled to the window */
html.present, html.present body { height: 100%; overflow: hidden; background: #1b1f27; }
html.present #deck { display: block; padding: 0; }
html.present .slide { position: absolute; left: 50%; top: 50%; box-shadow: none;
  transform: translate(-50%, -50%) scale(var(--scale, 1)); visibility: hidden; }
html.present .slide.current { visibility: visible; }
@media print {
  @page { size: 1280px 720px; margin: 0; }
  html, body, html.present, html.present body { background: #fff; overflow: visible; height: auto; }
  #deck, html.present #deck { display: block; padding: 0; gap: 0; }
  .slide, html.present .slide { position: relative; left: 0; top: 0; transform: none; visibility: visible;
    box-shadow: none; page-break-after: always; break-after: page; }
}
"""

_JS = r"""
(function () {
  "use strict";
  var deck = document.getElementById("deck");
  var slides = Array.prototype.slice.call(deck.querySelectorAll("section.slide"));
  // flag slides whose content is taller than the slide (checked by the course's tests)
  slides.forEach(function (s) {
    var c = s.querySelector(".content");
    if (c.scrollHeight > c.clientHeight + 2 || c.scrollWidth > c.clientWidth + 2) {
      s.setAttribute("data-overflow", "true");
    }
  });
  var current = 0;
  function fromHash() {
    var n = parseInt((location.hash || "").replace(/^#(slide-)?/, ""), 10);
    return isNaN(n) ? 0 : Math.min(Math.max(n - 1, 0), slides.length - 1);
  }
  function fit() {
    var scale = Math.min(window.innerWidth / 1280, window.innerHeight / 720);
    document.documentElement.style.setProperty("--scale", String(scale > 0 ? scale : 1));
  }
  function show(i, push) {
    current = Math.min(Math.max(i, 0), slides.length - 1);
    slides.forEach(function (s, k) { s.classList.toggle("current", k === current); });
    deck.setAttribute("data-current", String(current + 1));
    if (push && history.replaceState) { history.replaceState(null, "", "#" + (current + 1)); }
  }
  function present(on) {
    document.documentElement.classList.toggle("present", on);
    if (on) { fit(); show(current, false); slides[current].scrollIntoView(); }
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key;
    if (k === "ArrowRight" || k === "PageDown" || k === " " || k === "ArrowDown") { show(current + 1, true); }
    else if (k === "ArrowLeft" || k === "PageUp" || k === "ArrowUp" || k === "Backspace") { show(current - 1, true); }
    else if (k === "Home") { show(0, true); }
    else if (k === "End") { show(slides.length - 1, true); }
    else if (k === "o" || k === "Escape") { present(!document.documentElement.classList.contains("present")); }
    else { return; }
    e.preventDefault();
  });
  deck.addEventListener("click", function (e) {
    if (!document.documentElement.classList.contains("present") || e.target.closest("a")) { return; }
    show(current + (e.clientX < window.innerWidth / 3 ? -1 : 1), true);
  });
  window.addEventListener("resize", fit);
  window.addEventListener("hashchange", function () {
    if (location.hash === "#all") { present(false); } else { show(fromHash(), false); }
  });
  current = fromHash();
  present(location.hash !== "#all");  // #all: every slide, one under another
  deck.setAttribute("data-ready", "true");
}());
"""


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rlgrade.slides", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the Markdown slide source (slides separated by ---)")
    parser.add_argument("out", type=Path, help="the HTML deck to write")
    args = parser.parse_args(argv)
    count = build_deck(args.source, args.out)
    print(f"{args.out}: {count} slides")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
