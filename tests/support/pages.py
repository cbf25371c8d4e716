"""Reading pages as people do, for browser tests: the words in view and the pieces of a table broken over lines."""
from __future__ import annotations

import re

from core.config import SCHEMA

# What staff and managers must never read. Admins may see a setting's or an action's own name only as
# the small print under its words (.raw-key, on the settings and audit pages).
ENGINEERING_WORDS = ("TwiML", "Webhook", "Hangup", "delivered", "queued", "API ステータス", "mei_normal", "cp932")
INTERNATIONAL_NUMBER = re.compile(r"\+81\d+")
VISIBLE_TEXT = """admin => {
    const smallPrint = admin ? [...document.querySelectorAll(".raw-key")] : [];
    smallPrint.forEach(element => { element.style.display = "none"; });
    const text = document.body.innerText;
    smallPrint.forEach(element => { element.style.display = ""; });
    return text;
}"""


def engineering_words(page, role: str) -> list[str]:
    text = page.evaluate(VISIBLE_TEXT, role == "admin")
    words = [word for word in ENGINEERING_WORDS if word.lower() in text.lower()]
    keys = [key for key in SCHEMA if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", text)]
    return words + keys + INTERNATIONAL_NUMBER.findall(text)


# Dates, times, phone numbers and figures (with their unit) in a table, and its badges and buttons: each must lie
# on one line. Free text (.wrap cells, a message body) may wrap as it likes.
BROKEN_PIECES = r"""() => {
    const piece = /\d{4}[-\/]\d{1,2}[-\/]\d{1,2}(?:[ T\u00a0]\d{1,2}:\d{2}(?::\d{2})?)?|\d{1,2}:\d{2}(?::\d{2})?|0\d{1,4}-\d{1,4}-\d{3,4}|\d[\d,.]*(?:[ \u00a0]?(?:%|件|秒|通|枚|分|日|回|桁|文字))?/g;
    const lines = rects => new Set([...rects].filter(r => r.width > 0 && r.height > 0).map(r => Math.round(r.top))).size;
    const broken = [];
    for (const table of document.querySelectorAll("main table")) {
        const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode;
            const cell = node.parentElement.closest("td, th");
            if (!cell || cell.classList.contains("wrap") || node.parentElement.closest(".wrap, pre, select, textarea")) {
                continue;
            }
            for (const match of node.data.matchAll(piece)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                if (lines(range.getClientRects()) > 1) { broken.push(match[0]); }
            }
        }
        for (const element of table.querySelectorAll(".badge, button, a.button")) {
            const range = document.createRange();
            range.selectNodeContents(element);
            if (lines(range.getClientRects()) > 1) { broken.push(element.innerText); }
        }
    }
    return broken;
}"""


def too_wide(page) -> tuple[int, ...] | None:
    """The page, or its main area, scrolls sideways (only a table or a panel may, inside its own box)."""
    sizes = page.evaluate("""() => [document.documentElement.scrollWidth, window.innerWidth,
                                    document.querySelector("main").scrollWidth, document.querySelector("main").clientWidth]""")
    page_width, screen, main_width, main_box = sizes
    return tuple(sizes) if page_width > screen or main_width > main_box else None
