"""A tiny SVG writer: shapes, text and tooltips, every piece of text escaped.

Charts are hand-built inline SVG (no chart library): a static picture that needs no script, no
font and no request, prints like the page, and is small enough to keep the report bounded.  Each
chart root carries ``data-chart`` (its name), and each mark ``data-series`` / ``class="mark"``, so
the browser tests can count series and marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trailforensics.report.escape import h

# Colour-blind-safe categorical palette (Okabe-Ito), then greys for "other".
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
OTHER_COLOUR = "#999999"
SEVERITY_COLOUR: dict[str, str] = {
    "critical": "#7b0000",
    "high": "#c0392b",
    "medium": "#e67e22",
    "low": "#2e86c1",
    "info": "#7f8c8d",
}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


@dataclass
class Svg:
    """An SVG document built element by element; ``str(svg)`` is the markup."""

    width: float
    height: float
    chart: str  # the chart's name (data-chart), for tests and anchors
    label: str  # what the chart shows, for screen readers (role="img" + <title>)
    parts: list[str] = field(default_factory=list)

    def _attrs(self, attrs: dict[str, object]) -> str:
        out = []
        for k, v in attrs.items():
            if v is None:
                continue
            name = "class" if k == "cls" else k.replace("_", "-")
            out.append(f' {name}="{h(_num(v) if isinstance(v, float) else v)}"')
        return "".join(out)

    def rect(self, x: float, y: float, w: float, hgt: float, *, tip: str | None = None, **attrs: object) -> None:
        a = self._attrs(
            {"x": float(x), "y": float(y), "width": float(max(w, 0)), "height": float(max(hgt, 0)), **attrs}
        )
        self._shape("rect", a, tip)

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: object) -> None:
        a = self._attrs({"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2), **attrs})
        self.parts.append(f"<line{a}/>")

    def polyline(self, points: list[tuple[float, float]], *, tip: str | None = None, **attrs: object) -> None:
        pts = " ".join(f"{_num(float(x))},{_num(float(y))}" for x, y in points)
        self._shape("polyline", self._attrs({"points": pts, "fill": "none", **attrs}), tip)

    def circle(self, cx: float, cy: float, r: float, *, tip: str | None = None, **attrs: object) -> None:
        self._shape("circle", self._attrs({"cx": float(cx), "cy": float(cy), "r": float(r), **attrs}), tip)

    def path(self, d: str, *, tip: str | None = None, **attrs: object) -> None:
        self._shape("path", self._attrs({"d": d, **attrs}), tip)

    def text(self, x: float, y: float, value: object, **attrs: object) -> None:
        a = self._attrs({"x": float(x), "y": float(y), **attrs})
        self.parts.append(f"<text{a}>{h(value)}</text>")

    def open_group(self, **attrs: object) -> None:
        self.parts.append(f"<g{self._attrs(attrs)}>")

    def close_group(self) -> None:
        self.parts.append("</g>")

    def _shape(self, tag: str, attrs: str, tip: str | None) -> None:
        if tip is None:
            self.parts.append(f"<{tag}{attrs}/>")
        else:  # a native tooltip: no script needed
            self.parts.append(f"<{tag}{attrs}><title>{h(tip)}</title></{tag}>")

    def markup(self, *, standalone: bool = False) -> str:
        ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
        head = (
            f'<svg{ns} class="chart" data-chart="{h(self.chart)}" role="img" viewBox="0 0 {_num(self.width)} '
            f'{_num(self.height)}" width="{_num(self.width)}" height="{_num(self.height)}"'
            ' font-family="sans-serif" font-size="11">'
        )
        return head + f"<title>{h(self.label)}</title>" + "".join(self.parts) + "</svg>"

    def __str__(self) -> str:
        return self.markup()
