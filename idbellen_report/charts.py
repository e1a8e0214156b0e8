"""Inline SVG charts, drawn by hand so they need nothing at view time and stay accessible: each is an
`<svg role="img">` named by its `<title>` and described by its `<desc>` (the numbers in words), and
the report prints the same numbers in a table next to it. Hidden counts get no bar, only the words
"niet getoond". Colours meet WCAG 2.1 AA: text 4.5:1, bars 3:1 against white (1.4.3, 1.4.11)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

INK = "#1f2328"  # text, 15.8:1 on white
BAR = "#1d4f91"  # 8.6:1 on white
BAR_2 = "#a34700"  # 6.1:1 on white; the second series, drawn with a white gap to the first
GRID = "#6e7781"  # axis lines, 4.6:1
WIDTH = 680
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | None  # None: hidden
    second: int | None = None  # a second, stacked series (per-purpose chart)
    suffix: str = ""  # text after the value, e.g. "(62%)"


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> str:
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-t {chart_id}-d" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" {FONT}>'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def describe(bars: list[Bar], unit: str = "") -> str:
    words = []
    for bar in bars:
        if bar.value is None:
            words.append(f"{bar.label}: niet getoond")
        else:
            extra = f", waarvan {_number(bar.second)} niet" if bar.second is not None else ""
            words.append(f"{bar.label}: {_number(bar.value)}{unit}{extra} {bar.suffix}".rstrip())
    return "; ".join(words) + "."


def horizontal(chart_id: str, title: str, bars: list[Bar], legend: tuple[str, str] | None = None) -> str:
    """One bar per row, the label above it (long Dutch labels fit), the value after it. With
    `second`, the bar is split: `value` in the first colour, `second` in the second colour."""
    row = 46
    top = 30 if legend else 8
    height = top + row * len(bars) + 8
    widest = max([(b.value or 0) + (b.second or 0) for b in bars] + [1])
    span = WIDTH - 170
    body: list[str] = []
    if legend:
        body += [
            f'<rect x="0" y="6" width="14" height="14" fill="{BAR}"/>',
            f'<text x="20" y="18" font-size="13" fill="{INK}">{escape(legend[0])}</text>',
            f'<rect x="300" y="6" width="14" height="14" fill="{BAR_2}"/>',
            f'<text x="320" y="18" font-size="13" fill="{INK}">{escape(legend[1])}</text>',
        ]
    for i, bar in enumerate(bars):
        y = top + i * row
        body.append(f'<text x="0" y="{y + 14}" font-size="13" fill="{INK}">{escape(bar.label)}</text>')
        if bar.value is None:
            body.append(f'<text x="0" y="{y + 34}" font-size="13" font-style="italic" fill="{INK}">niet getoond</text>')
            continue
        first = round(span * bar.value / widest)
        second = round(span * (bar.second or 0) / widest)
        body.append(f'<rect x="0" y="{y + 20}" width="{max(first, 1 if bar.value else 0)}" height="18" fill="{BAR}"/>')
        if bar.second:  # a 2-unit white gap: each colour then only needs its contrast against white
            body.append(f'<rect x="{first + 2}" y="{y + 20}" width="{max(second - 2, 1)}" height="18" fill="{BAR_2}"/>')
        text = _number(bar.value) if bar.second is None else f"{_number(bar.value)} + {_number(bar.second)}"
        body.append(
            f'<text x="{first + second + 6}" y="{y + 34}" font-size="13" fill="{INK}">'
            f"{escape((text + ' ' + bar.suffix).strip())}</text>"
        )
    return _svg(chart_id, title, describe(bars), height, body)


def columns(chart_id: str, title: str, bars: list[Bar], axis_label: str) -> str:
    """Vertical bars (a histogram): bucket labels under the axis, counts above the bars."""
    plot_top, plot_height, label_room = 24, 170, 50
    height = plot_top + plot_height + label_room
    slot = WIDTH / max(len(bars), 1)
    widest = max([b.value or 0 for b in bars] + [1])
    body = [f'<line x1="0" y1="{plot_top + plot_height}" x2="{WIDTH}" y2="{plot_top + plot_height}" stroke="{GRID}"/>']
    for i, bar in enumerate(bars):
        x = i * slot
        centre = x + slot / 2
        body.append(
            f'<text x="{centre:.1f}" y="{plot_top + plot_height + 20}" font-size="13" text-anchor="middle" '
            f'fill="{INK}">{escape(bar.label)}</text>'
        )
        if bar.value is None:
            body.append(
                f'<text x="{centre:.1f}" y="{plot_top + plot_height - 8}" font-size="12" font-style="italic" '
                f'text-anchor="middle" fill="{INK}">niet getoond</text>'
            )
            continue
        h = round(plot_height * bar.value / widest)
        body.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{plot_top + plot_height - h}" width="{slot * 0.7:.1f}" '
            f'height="{h}" fill="{BAR}"/>'
        )
        body.append(
            f'<text x="{centre:.1f}" y="{plot_top + plot_height - h - 6}" font-size="13" text-anchor="middle" '
            f'fill="{INK}">{_number(bar.value)}</text>'
        )
    body.append(
        f'<text x="{WIDTH / 2:.1f}" y="{height - 6}" font-size="13" text-anchor="middle" fill="{INK}">'
        f"{escape(axis_label)}</text>"
    )
    return _svg(chart_id, title, describe(bars), height, body)
