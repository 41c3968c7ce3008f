"""The HTML twin of an evaluation report's Markdown, for staff who open reports in a browser."""

from __future__ import annotations

import html

STYLE = (
    "body{font-family:'Noto Sans KR',sans-serif;max-width:1100px;margin:2em auto;line-height:1.5}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
)


def markdown_to_html(markdown: str) -> str:
    """Just enough Markdown for our reports: headings, tables, images, list items, paragraphs."""
    out: list[str] = []
    in_table = False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line[level:].strip())}</h{level}>")
        elif line.startswith("!["):
            alt = line[2 : line.index("]")]
            src = line[line.index("(") + 1 : line.index(")")]
            out.append(f"<img src='{html.escape(src)}' alt='{html.escape(alt)}' style='max-width:100%'>")
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out)


def html_page(title: str, markdown: str) -> str:
    return (
        f"<!doctype html><html lang='ko'><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style><body>{markdown_to_html(markdown)}</body></html>"
    )
