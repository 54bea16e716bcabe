"""rlgrade.slides: Markdown decks → one self-contained HTML file (math as MathML), checked in Chromium."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from browser import load_page, needs_chromium
from rlgrade.slides import MathError, build_deck, latex_to_mathml, render_deck, split_slides

DECK = textwrap.dedent(r"""
    # Policy gradients

    Lesson 6 of *Mathematical Foundations of RL for LLM Alignment*

    ---

    ## The log-derivative trick

    For a density $p_\theta$ and any $f$ that does not depend on $\theta$:

    $$
    \nabla_\theta\, \mathbb{E}_{x\sim p_\theta}[f(x)]
      = \mathbb{E}_{x\sim p_\theta}\!\left[f(x)\,\nabla_\theta \log p_\theta(x)\right] \tag{6.1}
    $$

    - one sample per estimate; `f` may be a black box (`$` in code stays a dollar)
    - subtract a baseline $b$: the variance drops, the mean does not move

    ---

    ## GAE

    $$
    \begin{aligned}
    \delta_t &= r_t + \gamma (1 - d_t) V_{t+1} - V_t \\
    \hat A_t &= \delta_t + \gamma\lambda (1-d_t)\hat A_{t+1}
    \end{aligned} \tag{6.7}
    $$

    | $\lambda$ | bias | variance |
    |---|---|---|
    | 0 | high | low |
    | 1 | none | high |

    ```python
    def gae(rewards, values, dones, last_value, gamma, lam):
        ---
        return advantages, returns
    ```

    ---

    ## Cases and big operators

    $$\pi'(a\mid s) = \begin{cases} 1 & a = \operatorname*{arg\,max}_{a'} Q(s,a') \\ 0 & \text{otherwise}\end{cases}
    \qquad \sum_{t=0}^{\infty}\gamma^t = \frac{1}{1-\gamma}$$

    It costs \$5; inline $\max_a Q(s,a)$, $\sqrt{x^2+1}$, $\mathbb{1}[x>0]$, $\boldsymbol{\theta}$.
    """)


def test_split_slides_on_separator_lines_but_not_inside_code():
    slides = split_slides(DECK)
    assert len(slides) == 4
    assert slides[2].count("```") == 2 and "    ---" in slides[2]  # the --- inside the fence stays
    assert split_slides("---\n# a\n---\n\n---\nb\n---\n") == ["# a", "b"]


def test_split_slides_rejects_an_unclosed_fence():
    with pytest.raises(ValueError, match="unclosed code fence"):
        split_slides("# a\n```python\nx = 1\n")


def test_fraction_scripts_and_fonts():
    assert latex_to_mathml(r"\frac{a}{b}") == "<math><mfrac><mi>a</mi><mi>b</mi></mfrac></math>"
    assert "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>" in latex_to_mathml("x_i^2")
    # MathML Core renders no mathvariant but "normal": fonts become Unicode math letters
    assert "<mi>𝔼</mi>" in latex_to_mathml(r"\mathbb{E}")
    assert "<mi>𝒟</mi>" in latex_to_mathml(r"\mathcal{D}")
    assert "<mi>ℒ</mi>" in latex_to_mathml(r"\mathcal{L}")
    assert "<mi>𝜽</mi>" in latex_to_mathml(r"\boldsymbol{\theta}")
    assert "<mn>𝟙</mn>" in latex_to_mathml(r"\mathbb{1}[x > 0]") and "<mn>𝟏</mn>" in latex_to_mathml(r"\mathbf{1}")
    assert "mathvariant" not in latex_to_mathml(r"\mathbb{R}^{d} \mathcal{N} \mathbf{x}")
    assert '<mi mathvariant="normal">K</mi><mi mathvariant="normal">L</mi>' in latex_to_mathml(r"\mathrm{KL}")
    assert '<mi mathvariant="normal">Δ</mi>' in latex_to_mathml(r"\Delta")  # upright, as in LaTeX
    assert '<mtext style="font-family:monospace">token_mean</mtext>' in latex_to_mathml(r"\texttt{token\_mean}")
    assert "<mtext>fan_in</mtext>" in latex_to_mathml(r"1/\text{fan\_in}")


def test_symbols_latex2mathml_gets_wrong_are_corrected():
    assert "<mo>∼</mo>" in latex_to_mathml(r"x \sim p")  # not an ASCII tilde
    assert "<mo>±</mo>" in latex_to_mathml(r"a \pm b") and "<mo>⟹</mo>" in latex_to_mathml(r"a \Longrightarrow b")
    assert "<mi>∞</mi>" in latex_to_mathml(r"-\infty") and '<mo form="prefix">−</mo>' in latex_to_mathml(r"-\infty")
    assert "<mo>−</mo>" in latex_to_mathml("a - b")  # binary
    assert '<mi>m</mi><mo lspace="0" rspace="0">′</mo>' in latex_to_mathml("m'")  # beside, not a superscript
    assert "<mo>&lt;</mo>" in latex_to_mathml("a < b")  # escaped for HTML, text too (spaces kept as no-break)
    assert "<mtext>a\u00a0&lt;\u00a0b\u00a0&amp;\u00a0c</mtext>" in latex_to_mathml(r"\text{a < b \& c}")
    assert '<mo minsize="1.2em" maxsize="1.2em">|</mo>' in latex_to_mathml(r"\big\lvert x \big\rvert")  # not \lvert


def test_big_operators_take_limits_and_functions_a_thin_space():
    assert "<munderover><mo>∑</mo>" in latex_to_mathml(r"\sum_{t=0}^{T} \gamma^t", display=True)
    # movablelimits: below in display, beside in inline math (Chromium decides by the math style)
    for display in (True, False):
        assert '<munder><mo movablelimits="true" lspace="0" rspace="0.1667em">max</mo><mi>a</mi></munder>' \
            in latex_to_mathml(r"\max_a Q", display=display)
    assert '<mo lspace="0" rspace="0.1667em">log</mo><mi>x</mi>' in latex_to_mathml(r"\log x")
    assert '<mi>a</mi><mo lspace="0.1667em" rspace="0.1667em">log</mo>' in latex_to_mathml(r"a \log x")
    assert '<mo lspace="0" rspace="0">log_softmax</mo><mo stretchy="false">(</mo>' in \
        latex_to_mathml(r"\operatorname{log\_softmax}(x)")
    assert '<munder><mo movablelimits="true" lspace="0" rspace="0.1667em">arg\u2009max</mo>' in \
        latex_to_mathml(r"\operatorname*{arg\,max}_{a} Q", display=True)


def test_left_right_stretch_and_plain_parentheses_do_not():
    tex = latex_to_mathml(r"\left( \frac{1}{2} \right) (x)")
    assert '<mo stretchy="true" fence="true" form="prefix">(</mo>' in tex
    assert '<mo stretchy="false">(</mo><mi>x</mi>' in tex


def test_display_math_carries_its_tag_and_aligned_rows():
    tex = latex_to_mathml(r"\begin{aligned} a &= b \\ &= c \end{aligned} \tag{5.2}", display=True)
    assert tex.startswith('<div class="equation"><math display="block">')
    assert '<span class="eqno">(5.2)</span>' in tex
    assert tex.count("<mtr>") == 2 and tex.count("<mtd") == 4
    # MathML Core ignores columnalign: the cells align by CSS, the pairs touch at the '&'
    assert tex.count('<mtd style="text-align:right;padding-right:0em">') == 2
    # the relation after & is spaced as a relation (not a prefix): an empty <mi> precedes it
    assert '<mtd style="text-align:left;padding-left:0em"><mi></mi><mo>=</mo><mi>b</mi></mtd>' in tex
    assert 'encoding="application/x-tex"' in tex
    cases = latex_to_mathml(r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}", display=True)
    assert '<mo stretchy="true" fence="true" form="prefix">{</mo><mtable>' in cases and cases.count("<mtr>") == 2


@pytest.mark.parametrize("bad, message", [
    (r"\frob{x}", r"unknown LaTeX command \\frob"),
    (r"\frac{a}{b", "unbalanced"),
    (r"a}", "unbalanced"),
    (r"\left( x", r"extra left or missing right"),
    (r"\begin{aligned} a \end{cases}", "closed by"),
    (r"\begin{tabular} a \end{tabular}", "unknown environment"),
    (r"x_1_2", "double subscript"),
    (r"a & b", "outside an environment"),
    (r"\text{\frob}", "plain text only"),
    (r"\operatorname{f^2}", "plain text only"),
])
def test_bad_latex_is_an_error_that_names_the_problem(bad, message):
    with pytest.raises(MathError, match=message) as error:
        latex_to_mathml(bad)
    assert repr(bad) in str(error.value)  # the formula is named


def test_a_tag_belongs_to_display_math_only():
    with pytest.raises(MathError, match="inline"):
        latex_to_mathml(r"x \tag{1}")


def test_render_deck_counts_slides_converts_math_and_keeps_code_and_dollars():
    page, count = render_deck(DECK)
    assert count == 4
    assert page.count('<section class="slide') == 4 and 'data-slide-count="4"' in page
    assert '<section class="slide title-slide" id="slide-1"' in page
    assert "<title>Policy gradients</title>" in page
    outside_code = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", page, flags=re.S)
    assert "It costs $5;" in outside_code and outside_code.count("$") == 1  # every other $ was math
    assert "(`$` in code" not in page and "<code>$</code>" in page
    assert '<span class="eqno">(6.1)</span>' in page and '<span class="eqno">(6.7)</span>' in page
    assert "<table>" in page and "<th>" in page
    assert 'class="k">def</span>' in page  # Pygments highlighting
    assert "MATHPLACEHOLDER" not in page


def test_the_deck_is_self_contained():
    page, _ = render_deck(DECK)
    assert not re.search(r"""<(script|link|img)\b[^>]*\b(src|href)=["']?(https?:)?//""", page)
    assert "<style>" in page and "<script>" in page
    with pytest.raises(ValueError, match="remote resource"):
        render_deck("## x\n\n![logo](https://example.org/logo.png)\n")


def test_local_images_are_inlined(tmp_path: Path):
    (tmp_path / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    (tmp_path / "deck.md").write_text("## Picture\n\n![a dot](dot.svg)\n")
    build_deck(tmp_path / "deck.md", tmp_path / "deck.html")
    assert 'src="data:image/svg+xml;base64,' in (tmp_path / "deck.html").read_text()
    (tmp_path / "missing.md").write_text("## Picture\n\n![gone](gone.png)\n")
    with pytest.raises(FileNotFoundError, match="gone.png"):
        build_deck(tmp_path / "missing.md", tmp_path / "missing.html")


def test_bad_math_names_the_slide():
    with pytest.raises(MathError, match=r"slide 2: unknown LaTeX command \\oops"):
        render_deck("# a\n---\n## b\n\n$\\oops$\n")


def test_build_deck_writes_the_file_and_returns_the_count_deterministically(tmp_path: Path):
    source = tmp_path / "slides.md"
    source.write_text(DECK, encoding="utf-8")
    assert build_deck(source, tmp_path / "out" / "slides.html") == 4
    first = (tmp_path / "out" / "slides.html").read_bytes()
    build_deck(source, tmp_path / "out" / "slides.html")
    assert (tmp_path / "out" / "slides.html").read_bytes() == first


@needs_chromium
def test_deck_renders_in_chromium_without_console_messages(tmp_path: Path):
    source = tmp_path / "slides.md"
    source.write_text(DECK, encoding="utf-8")
    count = build_deck(source, tmp_path / "slides.html")
    page = load_page(tmp_path / "slides.html", tmp_path, width=1280, height=720)
    assert page.console == []
    deck = re.search(r"<main[^>]*>", page.dom).group(0)
    assert 'data-ready="true"' in deck and f'data-slide-count="{count}"' in deck  # the script ran
    sections = re.findall(r"<section[^>]*>", page.dom)
    assert len(sections) == count == 4
    assert sum("current" in s for s in sections) == 1
    assert not [s for s in sections if "data-overflow" in s], "a slide's content is taller than the slide"
    assert page.dom.count("<math") >= 10  # MathML survives the parser
    assert page.screenshot.stat().st_size > 5_000


@needs_chromium
def test_overflowing_slide_is_flagged(tmp_path: Path):
    source = tmp_path / "long.md"
    source.write_text("## Too long\n\n" + "\n".join(f"- item {i}" for i in range(60)) + "\n", encoding="utf-8")
    build_deck(source, tmp_path / "long.html")
    page = load_page(tmp_path / "long.html", tmp_path, width=1280, height=720)
    assert re.search(r'<section[^>]*data-overflow="true"', page.dom)
