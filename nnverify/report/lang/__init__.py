"""Every text a report writes, one table per language: a third language is one more table.

A table maps keys to templates. In a template ``$...$`` is inline math and ``@name`` a value
filled in by :meth:`Words.say`: in text a value is plain text (escaped later by the renderer)
or an inline piece (:class:`~nnverify.report.blocks.Code`, ``Math``, ``Ref``); in math it must
be math nnverify built (numbers, names from integers), never user text.
"""

from __future__ import annotations

import enum
import re

from nnverify.errors import UsageError
from nnverify.report.blocks import Inline, Math, Text

__all__ = ["Lang", "Words", "words_for"]

_PLACEHOLDER = re.compile(r"@([a-z][a-z0-9_]*)")


class Lang(enum.Enum):
    """The languages a report can be written in."""

    EN = "en"
    ZH = "zh"

    @classmethod
    def parse(cls, value: Lang | str) -> Lang:
        if isinstance(value, Lang):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise UsageError(
                f"--lang {value!r}: unknown language; use one of {', '.join(m.value for m in cls)}"
            ) from None


Value = str | int | Inline


class Words:
    """The strings of one language, filled in with values.

    Args:
        lang: the language.
        table: key -> template (see the module text).
    """

    def __init__(self, lang: Lang, table: dict[str, str]) -> None:
        self.lang = lang
        self.table = table

    def template(self, key: str) -> str:
        try:
            return self.table[key]
        except KeyError:
            raise KeyError(f"no {self.lang.value} text for {key!r}") from None

    def say(self, key: str, **values: Value) -> tuple[Inline, ...]:
        """The template ``key`` as inline pieces, ``@name`` filled from ``values``."""
        out: list[Inline] = []
        for k, segment in enumerate(self.template(key).split("$")):
            if k % 2 == 1:
                out.append(Math(_PLACEHOLDER.sub(lambda m: _math(values, m.group(1)), segment)))
                continue
            pos = 0
            for m in _PLACEHOLDER.finditer(segment):
                if m.start() > pos:
                    out.append(Text(segment[pos:m.start()]))
                out.append(_inline(values, m.group(1)))
                pos = m.end()
            if pos < len(segment):
                out.append(Text(segment[pos:]))
        return tuple(p for p in out if not (isinstance(p, Text) and p.text == ""))

    def word(self, key: str, **values: str | int) -> str:
        """The template ``key`` as one plain string (no math; for alt texts and metadata)."""
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.template(key))


def _math(values: dict[str, Value], name: str) -> str:
    v = values[name]
    if isinstance(v, Math):
        return v.latex
    if isinstance(v, (str, int)):
        return str(v)
    raise TypeError(f"@{name} in math must be math, not {type(v).__name__}")


def _inline(values: dict[str, Value], name: str) -> Inline:
    v = values[name]
    return Text(str(v)) if isinstance(v, (str, int)) else v


def words_for(lang: Lang | str) -> Words:
    """The :class:`Words` of ``lang``."""
    from nnverify.report.lang import en, zh

    lang = Lang.parse(lang)
    return Words(lang, {Lang.EN: en.STRINGS, Lang.ZH: zh.STRINGS}[lang])
