"""The monthly summary as Markdown: GitHub-flavoured tables, charts as PNG files beside it.

Markdown viewers (GitHub among them) refuse `data:` images, so the charts are written as PNG
files in a folder next to the `.md` file (`tokenworth-2026-01.md` + `tokenworth-2026-01-charts/`)
and linked relatively: move the two together.
"""

from __future__ import annotations

from collections.abc import Callable

from tokenworth.services.summary_document import Chart, Facts, Heading, Paragraph, SummaryDocument, Table

ImageLink = Callable[[Chart], str]
"""The relative path a chart's image is linked by."""


def _escape(text: str, chars: str) -> str:
    for char in "\\" + chars:
        text = text.replace(char, "\\" + char)
    return text


def escape_text(text: str) -> str:
    """Body text: Markdown punctuation that would change meaning is escaped (code spans kept)."""
    special = "*_[]<>#&"  # & too: `&amp;` would show as "&"
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick is literal text
        return _escape(text, special + "`")
    return "`".join(_escape(part, special) if index % 2 == 0 else part for index, part in enumerate(parts))


def escape_cell(text: str) -> str:
    """A table cell: escaped like text, pipes too, on one line (a break would end the row)."""
    return escape_text(" ".join(text.split())).replace("|", "\\|")


def _table(table: Table) -> list[str]:
    if not table.rows:
        return [escape_text(table.empty_text)]
    lines = [
        "| " + " | ".join(escape_cell(h) for h in table.headers) + " |",
        "|" + "|".join("---:" if numeric else "---" for numeric in table.numeric) + "|",
    ]
    first_total = len(table.rows) - table.total_rows
    for index, row in enumerate(table.rows):
        cells = [escape_cell(cell) for cell in row]
        if index >= first_total and cells and cells[0]:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_markdown(document: SummaryDocument, image_link: ImageLink) -> str:
    """The document as Markdown text; `image_link` names each chart's PNG (relative path)."""
    lines = [f"# {escape_text(document.title)}", "", escape_text(document.subtitle), ""]
    for block in document.blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + escape_text(block.text), ""]
        elif isinstance(block, Paragraph):
            text = escape_text(block.text)
            lines += [f"_{text}_" if block.note else text, ""]
        elif isinstance(block, Facts):
            lines += ["| | |", "|---|---|"]
            lines += [f"| {escape_cell(label)} | {escape_cell(value)} |" for label, value in block.rows]
            lines.append("")
        elif isinstance(block, Table):
            lines += [*_table(block), ""]
        elif isinstance(block, Chart):
            lines += [f"![{escape_cell(block.title)}]({image_link(block)})", ""]
    return "\n".join(lines).rstrip() + "\n"
