"""Lesson slides: Markdown source kept in the repository → one self-contained HTML deck.

A deck's source is Markdown (CommonMark with tables) whose slides are separated by
lines holding only ``---`` (outside fenced code). Math is LaTeX between ``$...$``
(inline) and ``$$...$$`` (display; ``\\tag{n}`` numbers it) and is converted here to
MathML, which Chromium renders natively, so the deck needs no network: CSS and the
navigation script are inline, local images become data URIs, and a remote image,
script or style sheet is an error. Code blocks are highlighted with Pygments.

``build_deck(source, out)`` writes the deck and returns its slide count;
``python -m rlgrade.slides SOURCE OUT`` does the same from a shell.

The LaTeX converter covers what the course's notes use (fractions, scripts, big
operators, accents, ``\\left…\\right``, ``aligned``/``cases``/matrices, fonts as
Unicode math letters, since MathML Core renders no ``mathvariant`` but ``normal``).
An unknown command raises :class:`MathError` naming it, rather than rendering
something wrong.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

__all__ = ["MathError", "build_deck", "extract_math", "latex_to_mathml", "render_deck", "split_slides"]


class MathError(ValueError):
    """A LaTeX formula the converter cannot render (unknown command, unbalanced braces...)."""


# ---------------------------------------------------------------------------------------
# LaTeX → MathML
# ---------------------------------------------------------------------------------------

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
"""Lower-case Greek is italic (a one-letter <mi>), upper-case upright, as in LaTeX."""

SYMBOLS = {
    # relations
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "propto": "∝", "sim": "∼", "simeq": "≃", "equiv": "≡", "in": "∈", "notin": "∉", "ni": "∋",
    "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "ll": "≪", "gg": "≫", "perp": "⊥",
    "coloneqq": "≔", "triangleq": "≜", "doteq": "≐", "mid": "∣", "parallel": "∥",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "leftrightarrow": "↔", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "Leftrightarrow": "⇔", "implies": "⟹", "iff": "⟺", "mapsto": "↦",
    "longrightarrow": "⟶", "longleftarrow": "⟵", "Longrightarrow": "⟹", "Longleftarrow": "⟸",
    "Longleftrightarrow": "⟺", "longleftrightarrow": "⟷", "uparrow": "↑", "downarrow": "↓", "gets": "←",
    "succ": "≻", "prec": "≺", "succeq": "⪰", "preceq": "⪯", "cong": "≅", "asymp": "≍",
    # binary operators
    "pm": "±", "mp": "∓", "times": "×", "cdot": "⋅", "div": "÷", "circ": "∘", "ast": "∗",
    "star": "⋆", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "cup": "∪", "cap": "∩",
    "setminus": "∖", "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨", "bullet": "∙",
    # fences and punctuation
    "langle": "⟨", "rangle": "⟩", "lbrace": "{", "rbrace": "}", "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖",
    "vert": "|", "Vert": "‖", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
    "ldots": "…", "cdots": "⋯", "dots": "…", "vdots": "⋮", "ddots": "⋱", "colon": ":",
    # ordinary symbols
    "infty": "∞", "nabla": "∇", "partial": "∂", "forall": "∀", "exists": "∃", "neg": "¬",
    "lnot": "¬", "emptyset": "∅", "varnothing": "∅", "top": "⊤", "bot": "⊥", "ell": "ℓ",
    "prime": "′", "dagger": "†", "checkmark": "✓", "square": "□", "triangle": "△",
    "hbar": "ℏ", "aleph": "ℵ", "Box": "□", "angle": "∠", "sharp": "♯", "flat": "♭",
}

FENCE_CHARS = set("()[]|‖⟨⟩⌊⌋⌈⌉{}")
IDENTIFIER_SYMBOLS = {"∞", "∇", "∂", "∅", "ℓ", "ℏ", "ℵ", "⊤", "□", "△", "†", "✓", "∠", "♯", "♭"}

FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "det", "dim", "ker",
             "deg", "Pr", "arg", "sgn", "gcd", "hom", "mod"}
LIMIT_FUNCTIONS = {"min", "max", "sup", "inf", "lim", "liminf", "limsup", "argmin", "argmax"}
"""Functions whose scripts go below them in display math (\\min_x, \\arg\\max_a...)."""

BIG_OPERATORS = {"sum": "∑", "prod": "∏", "coprod": "∐", "bigcup": "⋃", "bigcap": "⋂",
                 "bigoplus": "⨁", "bigotimes": "⨂", "bigvee": "⋁", "bigwedge": "⋀"}
INTEGRALS = {"int": "∫", "iint": "∬", "oint": "∮"}

ACCENTS = {"hat": "ˆ", "widehat": "ˆ", "bar": "¯", "overline": "¯", "tilde": "˜", "widetilde": "˜",
           "vec": "→", "dot": "˙", "ddot": "¨", "check": "ˇ", "breve": "˘", "acute": "´", "grave": "`",
           "overrightarrow": "→"}
STRETCHY_ACCENTS = {"widehat", "overline", "widetilde", "overrightarrow"}

SPACES = {",": "0.1667em", ":": "0.2222em", ">": "0.2222em", ";": "0.2778em", "!": "-0.1667em",
          " ": "0.25em", "quad": "1em", "qquad": "2em", "enspace": "0.5em", "thinspace": "0.1667em"}

IGNORED = {"displaystyle", "textstyle", "limits", "nolimits", "nonumber", "notag", "big", "Big",
           "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "relax"}
"""Commands with no visible effect here (sizes of delimiters are left to the renderer)."""

DELIMITER_COMMANDS = {"{": "{", "}": "}", "|": "‖", "langle": "⟨", "rangle": "⟩", "lvert": "|",
                      "rvert": "|", "lVert": "‖", "rVert": "‖", "vert": "|", "Vert": "‖",
                      "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "backslash": "\\"}

TEXT_COMMANDS = {"text", "textrm", "textnormal", "mbox", "textit", "textbf", "texttt", "textsf"}

MATRIX_FENCES = {"matrix": ("", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"), "Bmatrix": ("{", "}"),
                 "vmatrix": ("|", "|"), "Vmatrix": ("‖", "‖"), "smallmatrix": ("", "")}


def _alphabet(upper: int, lower: int | None, exceptions: dict[str, str] | None = None,
              digits: int | None = None):
    """A map from ASCII letters (and digits) to a Unicode mathematical alphabet."""
    table = {}
    for i in range(26):
        table[chr(65 + i)] = chr(upper + i)
        if lower is not None:
            table[chr(97 + i)] = chr(lower + i)
    if digits is not None:
        for i in range(10):
            table[str(i)] = chr(digits + i)
    table.update(exceptions or {})
    return table


# Unicode's mathematical alphanumerics (U+1D400...) with the letters that live elsewhere.
FONTS = {
    "mathbb": _alphabet(0x1D538, 0x1D552, {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ",
                                           "Z": "ℤ"}, digits=0x1D7D8),
    "mathcal": _alphabet(0x1D49C, None, {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ",
                                         "M": "ℳ", "R": "ℛ"}),
    "mathscr": _alphabet(0x1D49C, None, {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ",
                                         "M": "ℳ", "R": "ℛ"}),
    "mathfrak": _alphabet(0x1D504, 0x1D51E, {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"}),
    "mathbf": _alphabet(0x1D400, 0x1D41A, digits=0x1D7CE),
    "boldsymbol": {**_alphabet(0x1D468, 0x1D482, digits=0x1D7CE),
                   **{g: chr(0x1D736 + ord(g) - ord("α")) for g in "αβγδεζηθικλμνξοπρςστυφχψω"},
                   "ϵ": "𝝐", "ϕ": "𝝓", "ϑ": "𝝑"},
    "mathsf": _alphabet(0x1D5A0, 0x1D5BA, digits=0x1D7E2),
    "mathtt": _alphabet(0x1D670, 0x1D68A, digits=0x1D7F6),
    "mathit": _alphabet(0x1D434, 0x1D44E, {"h": "ℎ"}),
}
FONTS["bm"] = FONTS["boldsymbol"]
FONTS["mathbbm"] = FONTS["mathbb"]
FONTS["mathbb"]["1"] = FONTS["mathbbm"]["1"] = "𝟙"


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _mrow(nodes: list[str]) -> str:
    return nodes[0] if len(nodes) == 1 else "<mrow>" + "".join(nodes) + "</mrow>"


def _mo(op: str, **attrs: str) -> str:
    attributes = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<mo{attributes}>{_esc(op)}</mo>"


_SIGNS = {"<mo>−</mo>", "<mo>+</mo>", "<mo>±</mo>", "<mo>∓</mo>"}
_FUNCTION = '<mrow data-function="">'
"""Opens a function name with its application operator (\\log x), so that spacing can see it."""


@dataclass
class _Token:
    kind: str
    """'cmd' (value: its name), 'char', 'num', '{', '}', '^', '_', '&', 'newline', 'prime', 'raw'."""
    value: str = ""


_TOKEN = re.compile(r"\\([A-Za-z]+\*?)|\\(.)|(\d+(?:\.\d+)?)|(\s+)|(.)", re.S)
_RAW_ARGUMENT_COMMANDS = TEXT_COMMANDS | {"begin", "end", "operatorname", "operatorname*", "mathrm"}


def _tokenize(tex: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(tex):
        m = _TOKEN.match(tex, pos)
        assert m is not None
        pos = m.end()
        name, escaped, number, space, char = m.groups()
        if name is not None:
            tokens.append(_Token("cmd", name))
            if name in _RAW_ARGUMENT_COMMANDS:
                # keep the argument's text as it is: \text{ if } keeps its spaces
                while pos < len(tex) and tex[pos] == " ":
                    pos += 1
                if pos < len(tex) and tex[pos] == "{":
                    end = _matching_brace(tex, pos)
                    tokens.append(_Token("raw", tex[pos + 1:end]))
                    pos = end + 1
        elif escaped is not None:
            tokens.append(_Token("newline") if escaped == "\\" else _Token("cmd", escaped))
        elif number is not None:
            tokens.append(_Token("num", number))
        elif space is not None:
            continue
        elif char in "{}^_&":
            tokens.append(_Token(char))
        elif char == "'":
            tokens.append(_Token("prime"))
        elif char == "~":
            tokens.append(_Token("cmd", " "))
        else:
            tokens.append(_Token("char", char))
    return tokens


def _matching_brace(tex: str, start: int) -> int:
    """Index of the brace closing the one at `start` (escaped braces \\{ \\} do not count)."""
    depth, i = 0, start
    while i < len(tex):
        if tex[i] == "\\":
            i += 2
            continue
        if tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise MathError(f"unbalanced braces in {tex!r}")


class _Parser:
    def __init__(self, tokens: list[_Token], display: bool, source: str):
        self.tokens = tokens
        self.pos = 0
        self.display = display
        self.source = source
        self._limits = False
        """The atom just parsed takes its scripts below/above it (\\sum, \\max in display...)."""
        self._apply = False
        """The atom just parsed is a function name (\\log, \\max...): a thin space follows its scripts."""

    # -- helpers ------------------------------------------------------------------------
    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> _Token:
        token = self.peek()
        if token is None:
            raise MathError(f"unexpected end of formula in {self.source!r}")
        self.pos += 1
        return token

    def error(self, message: str) -> MathError:
        return MathError(f"{message} in {self.source!r}")

    def raw_argument(self, command: str) -> str:
        token = self.next()
        if token.kind != "raw":
            raise self.error(f"\\{command} needs a braced argument")
        return token.value

    # -- grammar ------------------------------------------------------------------------
    def parse_sequence(self, stops: tuple[str, ...] = ()) -> list[str]:
        """Nodes until a token whose kind (or command name) is in `stops`, or the end."""
        nodes: list[str] = []
        while (token := self.peek()) is not None:
            if token.kind in stops or (token.kind == "cmd" and token.value in stops):
                break
            if token.kind == "}":
                raise self.error("unbalanced '}'")
            node = self.parse_scripted()
            if not node:
                continue
            previous = nodes[-1] if nodes else None
            operand_before = previous is not None and not (
                previous.startswith("<mo") and not re.search(r"[)\]|}⟩‖⌋⌉]</mo>$", previous)) \
                and not previous.startswith("<mspace")
            if node in _SIGNS and not operand_before:
                # a sign after an operator, an opening bracket or at the start is unary: no binary spacing
                node = node.replace("<mo>", '<mo form="prefix">')
            elif node.startswith(_FUNCTION) and operand_before:
                # LaTeX's thin space between an ordinary symbol and an operator name: x \log y
                node = '<mspace width="0.1667em"></mspace>' + node
            nodes.append(node)
        return nodes

    def parse_group(self) -> str:
        """A required argument: a braced group or a single atom."""
        token = self.peek()
        if token is None:
            raise self.error("missing argument")
        if token.kind == "{":
            self.next()
            nodes = self.parse_sequence(("}",))
            if self.peek() is None:
                raise self.error("unbalanced '{'")
            self.next()
            return _mrow(nodes) if nodes else "<mrow></mrow>"
        if token.kind == "num" and len(token.value) > 1:
            # TeX reads one digit as an argument: \frac12 is 1/2
            self.tokens[self.pos] = _Token("num", token.value[1:])
            return f"<mn>{token.value[0]}</mn>"
        node = self.parse_atom()
        return node or "<mrow></mrow>"

    def parse_scripted(self) -> str:
        self._limits = self._apply = False
        node = self.parse_atom()
        if node is None:
            return ""
        limits, apply = self._limits, self._apply
        self._limits = self._apply = False
        primes = 0
        while (token := self.peek()) is not None and token.kind == "prime":
            self.next()
            primes += 1
        sub = sup = None
        while (token := self.peek()) is not None and token.kind in ("^", "_"):
            self.next()
            argument = self.parse_group()
            if token.kind == "_":
                if sub is not None:
                    raise self.error("double subscript")
                sub = argument
            else:
                if sup is not None:
                    raise self.error("double superscript")
                sup = argument
        prime = _mo("′" * primes, lspace="0", rspace="0") if primes else ""
        if prime and sup is not None:
            sup, prime = _mrow([prime, sup]), ""
        if sub is None and sup is None:
            scripted = node
        elif limits:
            if sub is not None and sup is not None:
                scripted = f"<munderover>{node}{sub}{sup}</munderover>"
            else:
                scripted = f"<munder>{node}{sub}</munder>" if sub is not None else f"<mover>{node}{sup}</mover>"
        elif sub is not None and sup is not None:
            scripted = f"<msubsup>{node}{sub}{sup}</msubsup>"
        else:
            scripted = f"<msub>{node}{sub}</msub>" if sub is not None else f"<msup>{node}{sup}</msup>"
        if prime:
            # U+2032 is a raised glyph already: beside the base, not in a superscript
            scripted = f"<mrow>{scripted}{prime}</mrow>"
        if apply:
            # function application: LaTeX puts a thin space after \log, \max... unless a bracket follows
            following = self.peek()
            bracket = following is not None and (
                (following.kind == "char" and following.value in "([") or
                (following.kind == "cmd" and following.value in ("left", "big", "Big", "bigl", "Bigl")))
            space = "0" if bracket else "0.1667em"
            return f'{_FUNCTION}{scripted}<mo lspace="0" rspace="{space}">\u2061</mo></mrow>'
        return scripted

    def parse_atom(self) -> str | None:
        token = self.next()
        kind, value = token.kind, token.value
        if kind == "char":
            if value.isalpha():
                return f"<mi>{_esc(value)}</mi>"
            if value in FENCE_CHARS:
                return _mo(value, stretchy="false")
            if value == "-":
                return _mo("−")
            if value == "*":
                return _mo("∗")
            if value == "/":
                return _mo("/", lspace="0", rspace="0")  # as in LaTeX: 1/N, not 1 / N
            return _mo(value)
        if kind == "num":
            return f"<mn>{value}</mn>"
        if kind == "{":
            nodes = self.parse_sequence(("}",))
            if self.peek() is None:
                raise self.error("unbalanced '{'")
            self.next()
            return _mrow(nodes) if nodes else "<mrow></mrow>"
        if kind in ("^", "_", "prime"):
            # a script with nothing before it (e.g. {}^{*}): attach to an empty base
            self.pos -= 1
            return "<mrow></mrow>"
        if kind == "&" or kind == "newline":
            raise self.error("'&' or '\\\\' outside an environment")
        if kind == "raw":
            raise self.error("stray braced text")
        return self.parse_command(value)

    def parse_command(self, name: str) -> str | None:
        if name in GREEK:
            letter = GREEK[name]
            if letter.isupper():
                return f'<mi mathvariant="normal">{letter}</mi>'
            return f"<mi>{letter}</mi>"
        if name in SYMBOLS:
            symbol = SYMBOLS[name]
            if symbol in IDENTIFIER_SYMBOLS:
                return f'<mi mathvariant="normal">{symbol}</mi>' if symbol != "∞" else "<mi>∞</mi>"
            if symbol in FENCE_CHARS:
                return _mo(symbol, stretchy="false")
            return _mo(symbol)
        if name in ("{", "}"):
            return _mo(name, stretchy="false")
        if name == "|":
            return _mo("‖", stretchy="false")
        if name in ("%", "$", "#", "&"):
            return _mo(name)
        if name == "_":
            return "<mi>_</mi>"
        if name in SPACES:
            return f'<mspace width="{SPACES[name]}"></mspace>'
        if name in IGNORED:
            return None
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            numerator, denominator = self.parse_group(), self.parse_group()
            fraction = f"<mfrac>{numerator}{denominator}</mfrac>"
            if name == "dfrac":
                return f'<mstyle displaystyle="true">{fraction}</mstyle>'
            if name == "tfrac":
                return f'<mstyle displaystyle="false">{fraction}</mstyle>'
            return fraction
        if name in ("binom", "dbinom", "tbinom"):
            n, k = self.parse_group(), self.parse_group()
            return (f'<mrow>{_mo("(")}<mfrac linethickness="0">{n}{k}</mfrac>{_mo(")")}</mrow>')
        if name == "sqrt":
            index = None
            token = self.peek()
            if token is not None and token.kind == "char" and token.value == "[":
                self.next()
                index = _mrow(self.parse_sequence(("]",)) or ["<mrow></mrow>"])
                if self.peek() is None:
                    raise self.error("unclosed '[' in \\sqrt")
                self.next()
            radicand = self.parse_group()
            return f"<mroot>{radicand}{index}</mroot>" if index else f"<msqrt>{radicand}</msqrt>"
        if name in FONTS:
            return self.parse_font(FONTS[name])
        if name in ("mathrm", "operatorname", "operatorname*"):
            text = self.raw_argument(name).strip().replace("\\,", "\u2009").replace("\\ ", " ").replace("\\_", "_")
            if not re.fullmatch(r"[A-Za-z0-9_ \u2009]+", text):
                if name != "mathrm":
                    raise self.error(f"\\{name}{{...}} takes letters only")
                return _mrow(_Parser(_tokenize(text), self.display, self.source).parse_sequence() or ["<mrow></mrow>"])
            node = f'<mi mathvariant="normal">{text}</mi>' if len(text) == 1 else f"<mi>{text}</mi>"
            if name == "operatorname":
                self._apply = True
            elif name == "operatorname*":
                self._apply, self._limits = True, self.display
            return node
        if name in TEXT_COMMANDS:
            text = self.raw_argument(name)
            text = re.sub(r"\\([%$&#_{}])", r"\1", text).replace("~", "\u00a0").replace("\\ ", " ")
            if "\\" in text or "$" in text:
                raise self.error(f"\\{name}{{...}} may hold plain text only")
            text = re.sub(r"^ +| +$", lambda m: "\u00a0" * len(m.group()), text)
            return f"<mtext>{_esc(text)}</mtext>"
        if name in FUNCTIONS:
            self._apply = True
            return f"<mi>{name}</mi>"
        if name in LIMIT_FUNCTIONS:
            self._apply, self._limits = True, self.display
            label = {"argmin": "arg\u2009min", "argmax": "arg\u2009max", "liminf": "lim\u2009inf",
                     "limsup": "lim\u2009sup"}.get(name, name)
            return f"<mi>{label}</mi>"
        if name in BIG_OPERATORS:
            self._limits = True
            return _mo(BIG_OPERATORS[name], largeop="true", movablelimits="true")
        if name in INTEGRALS:
            return _mo(INTEGRALS[name], largeop="true")
        if name in ACCENTS:
            base = self.parse_group()
            stretchy = "true" if name in STRETCHY_ACCENTS else "false"
            return f'<mover accent="true">{base}{_mo(ACCENTS[name], stretchy=stretchy)}</mover>'
        if name in ("underbrace", "overbrace"):
            base = self.parse_group()
            brace = "⏟" if name == "underbrace" else "⏞"
            node = f'<{"munder" if name == "underbrace" else "mover"}>{base}{_mo(brace, stretchy="true")}' \
                   f'</{"munder" if name == "underbrace" else "mover"}>'
            self._limits = True
            return node
        if name in ("overset", "stackrel", "underset"):
            over, base = self.parse_group(), self.parse_group()
            if name == "underset":
                return f"<munder>{base}{over}</munder>"
            return f"<mover>{base}{over}</mover>"
        if name in ("left", "right", "middle"):
            if name == "right":
                raise self.error("\\right without \\left")
            if name == "middle":
                return _mo(self.delimiter(), stretchy="true")
            opening = self.delimiter()
            inner = self.parse_sequence(("right",))
            if self.peek() is None:
                raise self.error("\\left without \\right")
            self.next()
            closing = self.delimiter()
            parts = ([_mo(opening, fence="true", stretchy="true")] if opening else []) + inner + \
                    ([_mo(closing, fence="true", stretchy="true")] if closing else [])
            return f"<mrow>{''.join(parts)}</mrow>"
        if name == "begin":
            return self.parse_environment(self.raw_argument("begin").strip())
        if name == "end":
            raise self.error("\\end without \\begin")
        if name == "boxed":
            return f'<mrow style="border:1px solid currentColor;padding:0.2em">{self.parse_group()}</mrow>'
        if name == "not":
            following = self.parse_atom() or ""
            return f"<mrow>{following}{_mo('̸')}</mrow>" if "≠" not in following else following
        raise self.error(f"unknown LaTeX command \\{name}")

    def parse_font(self, alphabet: dict[str, str]) -> str:
        token = self.peek()
        if token is not None and token.kind == "{":
            self.next()
            nodes = []
            while (token := self.peek()) is not None and token.kind != "}":
                if token.kind == "char" and token.value in alphabet:
                    self.next()
                    nodes.append(f"<mi>{alphabet[token.value]}</mi>")
                elif token.kind == "num" and all(c in alphabet for c in token.value):
                    self.next()
                    nodes.append(f"<mn>{''.join(alphabet[c] for c in token.value)}</mn>")
                elif token.kind == "cmd" and GREEK.get(token.value) in alphabet:
                    self.next()
                    nodes.append(f"<mi>{alphabet[GREEK[token.value]]}</mi>")
                else:
                    nodes.append(self.parse_scripted())
            if self.peek() is None:
                raise self.error("unbalanced '{'")
            self.next()
            return _mrow(nodes) if nodes else "<mrow></mrow>"
        token = self.next()
        if token.kind == "char" and token.value in alphabet:
            return f"<mi>{alphabet[token.value]}</mi>"
        if token.kind == "cmd" and GREEK.get(token.value) in alphabet:
            return f"<mi>{alphabet[GREEK[token.value]]}</mi>"
        if token.kind == "num" and len(token.value) == 1 and token.value in alphabet:
            return f"<mn>{alphabet[token.value]}</mn>"
        self.pos -= 1
        return self.parse_atom() or ""

    def delimiter(self) -> str:
        token = self.next()
        if token.kind == "char":
            return "" if token.value == "." else token.value
        if token.kind == "cmd" and token.value in DELIMITER_COMMANDS:
            return DELIMITER_COMMANDS[token.value]
        raise self.error(f"not a delimiter after \\left/\\right: {token.value or token.kind!r}")

    def parse_environment(self, env: str) -> str:
        if env.rstrip("*") in ("array",):
            self.raw_argument_or_group()
        rows: list[list[list[str]]] = [[]]
        while True:
            rows[-1].append(self.parse_sequence(("&", "newline", "end")))
            token = self.peek()
            if token is None:
                raise self.error(f"\\begin{{{env}}} without \\end")
            self.next()
            if token.kind == "&":
                continue
            if token.kind == "newline":
                rows.append([])
                continue
            closing = self.raw_argument("end").strip()
            if closing != env:
                raise self.error(f"\\begin{{{env}}} closed by \\end{{{closing}}}")
            break
        if len(rows) > 1 and rows[-1] == [[]]:
            rows.pop()  # a trailing \\
        base = env.rstrip("*")
        if base in ("aligned", "align", "alignat", "split", "gathered", "gather", "eqnarray"):
            align = "left" if base in ("gathered", "gather") else None
            body = self.table(rows, align=align)
        elif base == "cases":
            body = f'<mrow>{_mo("{", stretchy="true", fence="true")}{self.table(rows, align="left")}</mrow>'
        elif base in MATRIX_FENCES or base == "array":
            left, right = MATRIX_FENCES.get(base, ("", ""))
            table = self.table(rows, align="center")
            parts = ([_mo(left, fence="true", stretchy="true")] if left else []) + [table] + \
                    ([_mo(right, fence="true", stretchy="true")] if right else [])
            body = f"<mrow>{''.join(parts)}</mrow>"
        else:
            raise self.error(f"unknown environment {env!r}")
        return body

    def raw_argument_or_group(self) -> None:
        token = self.next()
        if token.kind == "{":
            depth = 1
            while depth:
                token = self.next()
                depth += {"{": 1, "}": -1}.get(token.kind, 0)

    @staticmethod
    def table(rows: list[list[list[str]]], align: str | None) -> str:
        """An mtable; `align=None` means align-style column pairs (right, left, right, left...)."""
        out = []
        for row in rows:
            cells = []
            for j, nodes in enumerate(row):
                if align is None:
                    # MathML Core ignores columnalign: the UA style sheet's text-align decides
                    side, pad = ("right", "padding-right:0") if j % 2 == 0 else ("left", "padding-left:0")
                    # an empty <mi> first, so that "&= b" spaces its "=" as a relation, not a prefix
                    content = "".join(nodes) if j % 2 == 0 else "<mi></mi>" + "".join(nodes)
                    cells.append(f'<mtd style="text-align:{side};{pad}"><mrow>{content}</mrow></mtd>')
                else:
                    cells.append(f'<mtd style="text-align:{align}"><mrow>{"".join(nodes)}</mrow></mtd>')
            out.append("<mtr>" + "".join(cells) + "</mtr>")
        return '<mtable displaystyle="true">' + "".join(out) + "</mtable>"


_TAG = re.compile(r"\\tag\*?\{([^{}]*)\}")
_LABEL = re.compile(r"\\label\{[^{}]*\}")


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
    parser = _Parser(_tokenize(body_tex), display, tex)
    nodes = parser.parse_sequence()
    if parser.peek() is not None:
        raise MathError(f"unbalanced '}}' in {tex!r}")
    body = _mrow(nodes) if nodes else "<mrow></mrow>"
    annotation = f'<annotation encoding="application/x-tex">{_esc(tex.strip())}</annotation>'
    if display:
        math = f'<math display="block"><semantics>{body}{annotation}</semantics></math>'
        if tags:
            return (f'<div class="equation">{math}<span class="eqno">({_esc(tags[0])})</span></div>')
        return f'<div class="equation">{math}</div>'
    return f"<math>{body}</math>"


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
