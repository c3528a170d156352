"""The one answer type every feature returns, and its plain-text rendering.

Text inside a Reply uses a small, Slack-compatible markup: `*bold*`, `_italic_`, `` `code` `` and
bullet lines starting with "• ". Features never escape for Slack and never build blocks; the Block
Kit renderer (bot/slack/blocks.py) escapes `&`, `<` and `>`, so text people wrote can never turn
into a mention or a link.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field


class Fact(BaseModel):
    """A label and its value, shown side by side (Block Kit section fields)."""

    label: str
    value: str


class Section(BaseModel):
    heading: str | None = None
    text: str = ""
    facts: list[Fact] = Field(default_factory=list)


class Notice(BaseModel):
    level: Literal["info", "warning", "error"] = "info"
    text: str


class Button(BaseModel):
    label: str
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None


class Attachment(BaseModel):
    """A file that goes with the answer (uploaded in Slack, written locally)."""

    filename: str
    content: str
    title: str | None = None


class Source(BaseModel):
    """A note an answer shows or counts (`note` None: notes only counted, one record per place
    and author). The faces check every source against who will read the message before they send
    it (bot/slack/answer.py), whatever built the answer."""

    note: int | None = None
    team: str  # the tenant
    channel: str
    channel_kind: str
    author: str


class Reply(BaseModel):
    title: str | None = None
    intro: str | None = None
    sections: list[Section] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    footnotes: list[str] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    files: list[Attachment] = Field(default_factory=list)
    # Every computed figure by key name (rates as fractions), for `smx ask --json` and tests.
    data: dict[str, Any] = Field(default_factory=dict)
    # Replies to a person's own query are private unless they asked to share.
    share: bool = False
    # True when this answers bad input: faces show it as an error, `smx ask` exits 2.
    is_error: bool = False
    # Every note the answer shows or counts, filled where notes are read; never rendered.
    sources: list[Source] = Field(default_factory=list)

    @classmethod
    def error(cls, message: str, suggestions: list[str] | None = None) -> Reply:
        reply = cls(intro=message, is_error=True)
        if suggestions:
            reply.data["suggestions"] = list(suggestions)
        return reply


_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")

_NOTICE_MARK = {"info": "i", "warning": "!", "error": "x"}


def plain(text: str) -> str:
    """Drop the bold/italic markers for a terminal; keep everything else as written."""
    if "*" in text:
        text = _BOLD.sub(r"\1", text)
    return _ITALIC.sub(r"\1", text) if "_" in text else text


def render_text(reply: Reply, *, cut: int | None = None) -> str:
    """The plain-text rendering used by `smx ask`, the console and message fallbacks.

    `cut`: render as if every text and every list in the reply were cut to its first `cut`
    characters or items, so a fallback that shows only the first few thousand characters pays
    for no more than those, however long the reply's texts."""
    n = cut

    def s(text: str) -> str:
        return plain(text if n is None else text[:n])

    def most(items: list) -> list:
        return items if n is None else items[:n]

    out: list[str] = []
    if reply.title:
        title = s(reply.title)
        out += [title, "=" * min(len(title), 72)]
    if reply.intro:
        out.append(s(reply.intro))
    if reply.facts:
        out.append(_facts_text(most(reply.facts), n))
    for section in most(reply.sections):
        if out:
            out.append("")
        if section.heading:
            heading = s(section.heading)
            out.append(heading)
            out.append("-" * min(len(heading), 72))
        if section.text:
            out.append(s(section.text))
        if section.facts:
            out.append(_facts_text(most(section.facts), n))
    if reply.notices:
        out.append("")
        out += [f"[{_NOTICE_MARK[x.level]}] {s(x.text)}" for x in most(reply.notices)]
    if reply.footnotes:
        out.append("")
        out += [s(f) for f in most(reply.footnotes)]
    if reply.files:
        out.append("")
        out += [f"(file: {f.filename if n is None else f.filename[:n]})" for f in most(reply.files)]
    return "\n".join(out).strip("\n")


def _facts_text(facts: list[Fact], cut: int | None = None) -> str:
    labels = [plain(f.label if cut is None else f.label[:cut]) for f in facts]
    width = max(len(label) for label in labels)
    pad = "\n" + " " * (width + 4)  # continuation lines of a value stay under the value
    return "\n".join(
        f"  {label.ljust(width)}  {pad.join(plain(f.value if cut is None else f.value[:cut]).splitlines())}"
        for label, f in zip(labels, facts, strict=True)
    )
