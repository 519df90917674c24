"""A :class:`~nnverify.report.compute.ReportData` as a :class:`~nnverify.report.blocks.Doc`.

Two shapes: **full** (small networks: the network drawn with every weight, the forward pass
unit by unit, the closed forms, the verification table, plots) and **summary** (big networks
such as the book's 784-50-100-10 MNIST network: architecture, verification per input, why
the bound is loose, weight statistics, plots). The summary is a list of section builders,
:data:`SUMMARY_SECTIONS`: another section (the MNIST digits, say) is one more entry.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnverify.datasets import MNIST_DIGITS
from nnverify.modes import Mode
from nnverify.report.abbreviated import KEEP_TERMS, abbreviated_unit, nonzero_inputs
from nnverify.report.blocks import Block, Code, Doc, EqPart, Equation, Figure, Heading, Inline, Para, Text
from nnverify.report.compute import ReportData
from nnverify.report.content_check import (
    plots_section,
    summary_table_section,
    tests_section,
    verification_section,
    weights_section,
)
from nnverify.report.content_digits import predictions_section
from nnverify.report.content_full import closed_form_section, forward_section, network_section, printer_words
from nnverify.report.diagram import summary_diagram
from nnverify.report.lang import Words, words_for
from nnverify.report.numbers import format_fixed
from nnverify.report.settings import Detail

__all__ = ["build_document", "SUMMARY_SECTIONS", "Section", "unit_sketch_section"]

#: A section builder: the report's data and words -> its blocks.
Section = Callable[[ReportData, Words], list[Block]]


def _mode_text(mode: Mode, words: Words) -> str:
    return words.word("mode_binary" if mode is Mode.BINARY else "mode_decimal")


def _digits_option(data: ReportData) -> str:
    """The options that select these digits again (``--inputs mnist-digits --first 100``)."""
    index, note = data.inputs.index, data.note
    option = f"--inputs {MNIST_DIGITS}"
    if note.select:
        return f"{option} {note.select}"
    if index is None:
        return option
    if (index == np.arange(len(index))).all():
        return f"{option} --first {len(index)}"
    if len(index) <= 12:
        return f"{option} --indices {','.join(str(int(i)) for i in index)}"
    return f"{option} --indices ..."


def _inputs_text(data: ReportData, words: Words) -> tuple[Inline, ...]:
    n = int(data.inputs.values.shape[0])
    note = data.note
    if data.inputs.source == MNIST_DIGITS:
        said = words.say("inputs_digits", n=n, cmd=Code(_digits_option(data)))
        return said + (words.say("inputs_default_digits") if note.kind == "default-digits" else ())
    if note.kind == "book":
        xs = ", ".join(format_fixed(q, 8).latex for q in data.cert.x_exact[0])
        return words.say("inputs_book", x=xs)
    if note.kind == "x":
        return words.say("inputs_x")
    if note.kind in ("samples", "default-samples"):
        said = words.say("inputs_samples", n=n, low=f"{note.low:g}", high=f"{note.high:g}", seed=note.seed)
        return said + (words.say("inputs_default") if note.kind == "default-samples" else ())
    return words.say("inputs_file", n=n, path=Code(note.source))


def intro(data: ReportData, words: Words) -> list[Block]:
    """What network, which exact models, which inputs."""
    net = data.network
    sizes = "-".join(str(s) for s in net.sizes)
    acts = ", ".join(words.word("layer_act", l=l, act=ly.activation.value)
                     for l, ly in enumerate(net.layers, start=1))
    parts: list[Inline] = list(words.say("intro_network", name=Code(net.name), sizes=sizes,
                                         params=net.n_params, dtype=str(net.dtype), acts=acts))
    dmode, cmode = data.derivation_mode, data.settings.check_mode()
    if data.detail is Detail.FULL and dmode is not cmode:
        parts += [Text(" "), *words.say("intro_modes", derive=_mode_text(dmode, words),
                                        check=_mode_text(cmode, words))]
    else:
        parts += [Text(" "), *words.say("intro_mode", mode=_mode_text(cmode, words))]
    parts += [Text(" "), *_inputs_text(data, words)]
    if data.detail is Detail.FULL and data.inputs.values.shape[0] > 1:
        parts += [Text(" "), *words.say("derive_which", k=data.derive_row + 1)]
    return [Para(tuple(parts))]


def architecture_section(data: ReportData, words: Words) -> list[Block]:
    """The layer equations in matrix form and a box per layer."""
    net = data.network
    L = len(net.layers)
    lines = []
    for l, layer in enumerate(net.layers, start=1):
        prev = "X" if l == 1 else f"Z^{{({l - 1})}}"
        out = "Y" if l == L else f"Z^{{({l})}}"
        fn = r"\sigma" if l == L else "h"
        lines.append(f"A^{{({l})}} &= {prev} W^{{({l})}} + B^{{({l})}}, \\quad {out} = {fn}(A^{{({l})}})"
                     f" \\qquad \\text{{{layer.activation.value}, }} W^{{({l})}}: "
                     f"{layer.n_in} \\times {layer.n_out}")
    row = summary_diagram(net, words)
    return [Heading(words.say("h_architecture")), Para(words.say("summary_why")),
            Equation((EqPart(tuple(lines), None),)),
            Figure(row.tikz, row.svg, words.word("alt_architecture", name=net.name))]


def unit_sketch_section(data: ReportData, words: Words) -> list[Block]:
    """Unit 1 of layer 1 derived in abbreviated form: the first and last terms of its sum.

    Args:
        data: the report's data (the derived input's certified pass and exact sums).
        words: the report's language.
    """
    net = data.network
    places = data.settings.step_digits
    a_row, z_row = abbreviated_unit(net, data.cert, data.a1_exact, mode=data.derivation_mode,
                                    places=places, softmax=data.softmax, words=printer_words(words))
    n = net.layers[0].n_in
    intro = words.say("sketch_intro", k=data.derive_row + 1, n=n, keep=min(KEEP_TERMS, n), d=places,
                      nz=nonzero_inputs(data.cert))
    return [Heading(words.say("h_unit_sketch")), Para(intro),
            Equation((EqPart(tuple(a_row.lines()), a_row.label), EqPart(tuple(z_row.lines()), z_row.label)))]


#: The summary report's sections, in order (each: data, words -> blocks).
SUMMARY_SECTIONS: list[Section] = [
    architecture_section,
    unit_sketch_section,
    predictions_section,
    summary_table_section,
    weights_section,
    plots_section,
]


def build_document(data: ReportData) -> Doc:
    """The report of ``data`` as blocks, in its language."""
    words = words_for(data.settings.lang)
    net = data.network
    title = data.settings.title if data.settings.title is not None else words.word(
        "title", name=net.name)
    blocks: list[Block] = intro(data, words)
    if data.detail is Detail.FULL:
        blocks += network_section(data, words)
        blocks += forward_section(data, words)
        closed_blocks, closed = closed_form_section(data, words)
        blocks += closed_blocks
        blocks += verification_section(data, words, closed=closed)
        blocks += predictions_section(data, words)
        blocks += plots_section(data, words)
    else:
        for section in SUMMARY_SECTIONS:
            blocks += section(data, words)
    if data.tests is not None:
        blocks += tests_section(data.tests, words)
    subject = words.word("subject", name=net.name, sizes="-".join(str(s) for s in net.sizes))
    return Doc(title=title, subject=subject, lang=words.lang.value,
               subtitle=words.word("subtitle"), blocks=tuple(blocks))
