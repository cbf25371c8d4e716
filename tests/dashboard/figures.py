"""Reads the home page's tiles the way a person does: each tile's title, column headings and rows of figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Figure:
    text: str
    href: str | None


@dataclass
class Tile:
    title: str = ""
    columns: list[str] = field(default_factory=list)
    lines: dict[str, list[Figure]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def texts(self, line: str) -> list[str]:
        return [figure.text for figure in self.lines[line]]

    def hrefs(self, line: str) -> list[str | None]:
        return [figure.href for figure in self.lines[line]]


class DashboardParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tiles: dict[str, Tile] = {}
        self.tile: Tile | None = None
        self.line: str | None = None
        self.text: list[str] | None = None  # text being collected (a cell, a heading, a title, a note)
        self.target: str = ""
        self.href: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and (attrs.get("id") or "").startswith("tile-"):
            self.tile = self.tiles.setdefault(attrs["id"].removeprefix("tile-"), Tile())
            self.line = None
        elif self.tile is None:
            return
        elif tag == "thead":
            self.line = None
        elif tag == "tr" and "data-line" in attrs:
            self.line = attrs["data-line"]
            self.tile.lines[self.line] = []
        elif tag in ("h2", "td", "th", "p"):
            self.text, self.target, self.href = [], tag, None
            if tag == "th" and attrs.get("scope") == "row":
                self.target = "label"
        elif tag == "a" and self.text is not None:
            self.href = attrs.get("href")

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if self.tile is None:
            return
        if tag == "section":
            self.tile = None
            return
        if self.text is None or tag not in ("h2", "td", "th", "p"):
            return
        text = " ".join("".join(self.text).split())
        if self.target == "h2":
            self.tile.title = text
        elif self.target == "label" and self.line:
            self.tile.labels[self.line] = text
        elif self.target == "th":
            self.tile.columns.append(text)
        elif self.target == "td" and self.line:
            self.tile.lines[self.line].append(Figure(text, self.href))
        elif self.target == "p":
            self.tile.notes.append(text)
        self.text = None


def read_dashboard(html: str) -> dict[str, Tile]:
    parser = DashboardParser()
    parser.feed(html)
    return parser.tiles
