"""The monthly summary as one self-contained HTML page (inline CSS, charts as data: URIs).

Nothing is fetched when the page opens: no stylesheet, script, font or image from elsewhere, and
no links. The same markup (with `for_qt=True`, images named instead of inlined) is what the PDF
export lays out with Qt's rich text engine, which reads table attributes rather than CSS.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Collection, Mapping, Sequence

from tokenworth.services.summary_document import Chart, Facts, Heading, Paragraph, SummaryDocument, Table

ImageSource = Callable[[Chart], str]
"""What a chart's `<img src>` says: a data: URI for the page, a resource name for the PDF."""

BROWSER_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  color: #1f2328; background: #ffffff; max-width: 1040px; margin: 2rem auto; padding: 0 1rem;
  line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
p.subtitle { color: #57606a; margin-top: 0; }
p.note { color: #57606a; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1.2rem; font-size: .9rem; }
th, td { border: none; border-bottom: 1px solid #d8dee4; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; border-bottom: 1px solid #8c959f; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 1px solid #8c959f; }
table.facts td.label { width: 34%; color: #57606a; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em;
  background: #f6f8fa; padding: 0 .2em; border-radius: 3px; }
figure { margin: .8rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"""

QT_CSS = """
body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #1f2328; }
h1 { font-size: 17pt; margin-bottom: 2pt; }
h2 { font-size: 12.5pt; margin-top: 14pt; margin-bottom: 4pt; color: #1f2328; }
h3 { font-size: 10.5pt; margin-top: 8pt; margin-bottom: 3pt; }
p.subtitle { color: #57606a; margin-top: 0; }
p.note { color: #57606a; font-size: 7.5pt; }
table { border-collapse: collapse; margin-top: 2pt; margin-bottom: 9pt; }
td { border-bottom: 0.6pt solid #d8dee4; }
th { background-color: #eef1f4; font-weight: bold; border-bottom: 0.8pt solid #8c959f; }
tr.total td { font-weight: bold; border-top: 0.8pt solid #8c959f; }
td.label { color: #57606a; }
code { font-family: "DejaVu Sans Mono", monospace; }
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _text(text: str) -> str:
    """Escaped text; `code spans` become <code>."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return html.escape(text)
    return "".join(
        f"<code>{html.escape(part)}</code>" if index % 2 else html.escape(part) for index, part in enumerate(parts)
    )


def _table_open(css_class: str | None = None, *, page_break: bool = False) -> str:
    cls = f' class="{css_class}"' if css_class else ""
    style = ' style="page-break-before: always"' if page_break else ""
    return f'<table{cls}{style} width="100%" border="0" cellspacing="0" cellpadding="4">'


def _cell(tag: str, text: str, numeric: bool, extra_class: str | None = None) -> str:
    classes = [name for name in ("num" if numeric else None, extra_class) if name]
    cls = f' class="{" ".join(classes)}"' if classes else ""
    align = ' align="right"' if numeric else ' align="left"'
    return f"<{tag}{cls}{align}>{html.escape(text)}</{tag}>"


def _table(table: Table, breaks: Collection[int] = ()) -> list[str]:
    """The table; `breaks` are rows that start a new page (the PDF's), each under the header again."""
    if not table.rows:
        return [f"<p>{_text(table.empty_text)}</p>"]
    header = ["<thead><tr>"]
    header += [_cell("th", text, numeric) for text, numeric in zip(table.headers, table.numeric, strict=True)]
    header += ["</tr></thead>", "<tbody>"]
    lines = [_table_open(page_break=0 in breaks), *header]
    first_total = len(table.rows) - table.total_rows
    for index, row in enumerate(table.rows):
        if index in breaks and index > 0:
            lines += ["</tbody>", "</table>", _table_open(page_break=True), *header]
        total = index >= first_total
        cells = "".join(_cell("td", cell, numeric) for cell, numeric in zip(row, table.numeric, strict=True))
        lines.append(f'<tr class="total">{cells}</tr>' if total else f"<tr>{cells}</tr>")
    lines += ["</tbody>", "</table>"]
    return lines


def _facts(facts: Facts) -> list[str]:
    lines = [_table_open("facts"), "<tbody>"]
    for label, value in facts.rows:
        lines.append(f"<tr>{_cell('td', label, False, 'label')}{_cell('td', value, False)}</tr>")
    lines += ["</tbody>", "</table>"]
    return lines


def _chart(chart: Chart, image_source: ImageSource, for_qt: bool, image_width: int | None) -> list[str]:
    alt = html.escape(chart.title)
    width = f' width="{image_width}"' if image_width else ""
    src = html.escape(image_source(chart))
    if for_qt:
        return [f'<p align="center"><img src="{src}" alt="{alt}"{width}></p>']
    return [f'<figure><img src="{src}" alt="{alt}"{width}></figure>']


def render_html(
    document: SummaryDocument,
    image_source: ImageSource,
    *,
    for_qt: bool = False,
    image_width: int | None = None,
    table_breaks: Mapping[int, Collection[int]] | None = None,
) -> str:
    """The document as an HTML page; `image_source` gives each chart's `src`. `table_breaks`
    (block index -> row indices) starts those rows on a new page: the PDF's way to keep a
    row of several lines whole, which Qt would cut at the page's foot."""
    css = QT_CSS if for_qt else BROWSER_CSS
    body: list[str] = [
        f"<h1>{_text(document.title)}</h1>",
        f'<p class="subtitle">{_text(document.subtitle)}</p>',
    ]
    for index, block in enumerate(document.blocks):
        if isinstance(block, Heading):
            level = min(max(block.level, 2), 4)
            body.append(f"<h{level}>{_text(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            body.append(f'<p class="note">{_text(block.text)}</p>' if block.note else f"<p>{_text(block.text)}</p>")
        elif isinstance(block, Facts):
            body += _facts(block)
        elif isinstance(block, Table):
            body += _table(block, (table_breaks or {}).get(index, ()))
        elif isinstance(block, Chart):
            body += _chart(block, image_source, for_qt, image_width)
    head: Sequence[str] = (
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(document.title)}</title>",
        f"<style>{css}</style>",
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n'
        + "\n".join(head)
        + "\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def render_standalone_html(document: SummaryDocument) -> str:
    """The self-contained page: every chart inlined as a data: URI."""

    def inline(chart: Chart) -> str:
        png = chart.chart.png
        if png is None:
            raise ValueError(f"chart {chart.name} was not drawn")
        return data_uri(png)

    return render_html(document, inline)
