"""Activity charts drawn on the server: one list of shapes, written as SVG or painted as PNG.

What a chart shows follows overlap's densityPlot and overlapPlot as camtrapR calls them:
hours 0 to 24 on x, density per hour on y, the kernel density curve on a grid of 128 points,
a rug of the observations; with two curves the first solid and black, the second dashed and
blue, the area under both shaded grey. The histogram is camtrapR's activityHistogram (one-
hour classes), scaled to density per hour so that it shares the curve's axis.
"""

from __future__ import annotations

import functools
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.formats import number_format
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 800, 480
LEFT, RIGHT, TOP, BOTTOM = 70, 24, 132, 58  # the plot's margins: titles and legend above
PNG_SCALE = 2  # pixels per SVG unit: sharp on high-density screens and in print
INK, MUTED = "#1b241f", "#5a6a61"
BAR, SHADE = "#dfe6e1", "#c9d3cc"
# overlapPlot's defaults: linecol c("black", "blue"), linetype c(1, 2).
CURVE_COLOURS = ("#1b241f", "#1d4f86")
DASH = (7, 5)
FONT_FAMILY = 'system-ui, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", Arial, sans-serif'


@dataclass(frozen=True)
class Curve:
    label: str
    density: list[float]  # per hour, at Chart.hours
    times: list[float]  # observations, in hours, for the rug


@dataclass(frozen=True)
class Chart:
    title: str
    subtitle: str
    x_label: str
    y_label: str
    hours: list[float]
    curves: list[Curve]
    bars: list[float] = field(default_factory=list)  # density per hour of each hour 0..23
    shade_overlap: bool = False


@dataclass(frozen=True)
class Shape:
    kind: str  # "rect", "area", "line", "segments" (pairs of points) or "text"
    points: tuple[tuple[float, float], ...]
    colour: str
    width: float = 1
    dashed: bool = False
    text: str = ""
    size: float = 13
    anchor: str = "start"  # "start", "middle" or "end", as SVG's text-anchor


@dataclass(frozen=True)
class Scale:
    """Hours and densities to SVG units (y grows downwards)."""

    top: float  # the density at the top of the plot

    def x(self, hour: float) -> float:
        return LEFT + hour / 24 * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - value / self.top * (HEIGHT - TOP - BOTTOM)


def shapes(chart: Chart) -> list[Shape]:
    """Everything the chart draws, back to front."""
    scale = Scale(max([*(max(c.density) for c in chart.curves), *chart.bars, 1e-9]) * 1.08)
    x, y = scale.x, scale.y
    drawn = [Shape("rect", ((0, 0), (WIDTH, HEIGHT)), "#ffffff")]
    for hour, value in enumerate(chart.bars):
        box = ((x(hour) + 1, y(value)), (x(hour + 1) - 1, y(0)))
        drawn.append(Shape("rect", box, BAR))
    if chart.shade_overlap and len(chart.curves) == 2:
        lower = [min(a, b) for a, b in zip(*(c.density for c in chart.curves), strict=True)]
        outline = [(x(h), y(v)) for h, v in zip(chart.hours, lower, strict=True)]
        area = ((x(24), y(0)), (x(0), y(0)), *outline)
        drawn.append(Shape("area", area, SHADE))
    drawn += _axes(chart, scale)
    for index, curve in enumerate(chart.curves):
        drawn += _curve(chart, curve, index, scale)
    return drawn + [
        Shape("text", ((20, 28),), INK, text=chart.title, size=17),
        Shape("text", ((20, 50),), MUTED, text=chart.subtitle),
    ]


def _axes(chart: Chart, scale: Scale) -> list[Shape]:
    x, y = scale.x, scale.y
    step = _tick_step(scale.top)
    decimals = _decimals(step)
    drawn = [Shape("line", ((x(0), y(scale.top)), (x(0), y(0)), (x(24), y(0))), INK)]
    ticks = []
    for hour in range(0, 25, 3):
        ticks += [(x(hour), y(0)), (x(hour), y(0) + 5)]
        drawn.append(Shape("text", ((x(hour), y(0) + 20),), MUTED, text=f"{hour}:00",
                           anchor="middle"))  # fmt: skip
    for n in range(int(scale.top / step) + 1):
        ticks += [(x(0) - 5, y(n * step)), (x(0), y(n * step))]
        label = number_format(round(n * step, decimals), decimal_pos=decimals)
        drawn.append(Shape("text", ((x(0) - 8, y(n * step) + 4),), MUTED, text=label,
                           anchor="end"))  # fmt: skip
    drawn.append(Shape("segments", tuple(ticks), INK))
    drawn.append(Shape("text", (((x(0) + x(24)) / 2, HEIGHT - 12),), INK, text=chart.x_label,
                       anchor="middle"))  # fmt: skip
    drawn.append(Shape("text", ((20, TOP - 14),), INK, text=chart.y_label))
    return drawn


def _tick_step(top: float) -> float:
    """A round step giving four to eight ticks up to top."""
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _decimals(step: float) -> int:
    """The decimals that show every multiple of step exactly (0.025: 3)."""
    decimals = max(0, -math.floor(math.log10(step)))
    return decimals + 1 if round(step, decimals) != round(step, decimals + 1) else decimals


def _curve(chart: Chart, curve: Curve, index: int, scale: Scale) -> list[Shape]:
    x, y = scale.x, scale.y
    colour, dashed = CURVE_COLOURS[index % 2], index % 2 == 1
    line = tuple((x(h), y(v)) for h, v in zip(chart.hours, curve.density, strict=True))
    drawn = [Shape("line", line, colour, width=2, dashed=dashed)]
    # overlapPlot's rug: the first sample's ticks above the axis, the second's below it.
    low, high = (y(0) - 8, y(0)) if index == 0 else (y(0), y(0) + 8)
    rug = [
        point for hour in sorted(set(curve.times)) for point in ((x(hour), low), (x(hour), high))
    ]
    drawn.append(Shape("segments", tuple(rug), colour, width=0.75))
    # The legend, under the titles: a piece of the line, then its label.
    row = 76 + 18 * index
    drawn.append(Shape("line", ((20, row - 4), (48, row - 4)), colour, width=2, dashed=dashed))
    drawn.append(Shape("text", ((56, row),), INK, text=curve.label))
    return drawn


def svg(chart: Chart, id_prefix: str = "activity") -> str:
    """The chart as a standalone SVG document (presentation attributes only: it is also
    downloaded, and must look the same without our stylesheet)."""
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="activity-chart" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="{html.escape(FONT_FAMILY)}">',
        f'<title id="{title_id}">{html.escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{html.escape(chart.subtitle)}</desc>',
    ]
    parts += [_svg_shape(shape) for shape in shapes(chart)]
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_shape(shape: Shape) -> str:
    if shape.kind == "rect":
        (x0, y0), (x1, y1) = shape.points
        return (
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
            f'fill="{shape.colour}"/>'
        )
    if shape.kind == "text":
        ((x, y),) = shape.points
        return (
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{shape.size}" fill="{shape.colour}" '
            f'text-anchor="{shape.anchor}">{html.escape(shape.text)}</text>'
        )
    if shape.kind == "segments":
        pairs = zip(shape.points[::2], shape.points[1::2], strict=True)
        path = " ".join(f"M{a:.1f} {b:.1f} L{c:.1f} {d:.1f}" for (a, b), (c, d) in pairs)
        return f'<path d="{path}" stroke="{shape.colour}" stroke-width="{shape.width}"/>'
    path = "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in shape.points)
    if shape.kind == "area":
        return f'<path d="{path} Z" fill="{shape.colour}"/>'
    dash = f' stroke-dasharray="{DASH[0]} {DASH[1]}"' if shape.dashed else ""
    return (
        f'<path d="{path}" fill="none" stroke="{shape.colour}" '
        f'stroke-width="{shape.width}"{dash} stroke-linejoin="round"/>'
    )


def png(chart: Chart) -> bytes:
    """The same shapes painted by Pillow, at PNG_SCALE pixels per SVG unit."""
    image = Image.new("RGB", (WIDTH * PNG_SCALE, HEIGHT * PNG_SCALE), "#ffffff")
    draw = ImageDraw.Draw(image)
    for shape in shapes(chart):
        _paint(draw, shape)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _paint(draw: ImageDraw.ImageDraw, shape: Shape) -> None:
    points = [(x * PNG_SCALE, y * PNG_SCALE) for x, y in shape.points]
    if shape.kind == "rect":
        draw.rectangle(points, fill=shape.colour)
    elif shape.kind == "area":
        draw.polygon(points, fill=shape.colour)
    elif shape.kind == "text":
        anchor = {"start": "ls", "middle": "ms", "end": "rs"}[shape.anchor]
        font = _font(round(shape.size * PNG_SCALE))
        draw.text(points[0], shape.text, fill=shape.colour, font=font, anchor=anchor)
    elif shape.kind == "segments":
        width = max(1, round(shape.width * PNG_SCALE))
        for start, end in zip(points[::2], points[1::2], strict=True):
            draw.line([start, end], fill=shape.colour, width=width)
    else:
        width = max(1, round(shape.width * PNG_SCALE))
        for piece in _dashes(points, PNG_SCALE) if shape.dashed else [points]:
            draw.line(piece, fill=shape.colour, width=width, joint="curve")


def _dashes(points: Sequence[tuple[float, float]], scale: float) -> list[list[tuple[float, float]]]:
    """A polyline cut into dashes of DASH's lengths, as stroke-dasharray draws it."""
    on, off = DASH[0] * scale, DASH[1] * scale
    pieces, current, travelled, drawing = [], [points[0]], 0.0, True
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        length, done = math.hypot(x1 - x0, y1 - y0), 0.0
        while length - done > 1e-9:
            left = (on if drawing else off) - travelled
            step = min(left, length - done)
            done += step
            travelled += step
            point = (x0 + (x1 - x0) * done / length, y0 + (y1 - y0) * done / length)
            if drawing:
                current.append(point)
            if travelled >= (on if drawing else off) - 1e-9:
                if drawing:
                    pieces.append(current)
                drawing, travelled, current = not drawing, 0.0, [point]
    if drawing and len(current) > 1:
        pieces.append(current)
    return pieces


# Fonts with Chinese and Cyrillic glyphs first: species names come in three languages. Pillow
# looks the names up in the system's font folders; without any, its own font draws Latin only.
FONTS = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "wqy-microhei.ttc",
         "DejaVuSans.ttf")  # fmt: skip


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in FONTS:
        try:
            return _simplified_chinese_face(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _simplified_chinese_face(name: str, size: int) -> ImageFont.FreeTypeFont:
    """The file's Simplified Chinese face where it holds several (Noto's .ttc: JP, KR, SC…);
    otherwise its first."""
    first = ImageFont.truetype(name, size)
    for index in range(1, 8 if name.endswith(".ttc") else 0):
        try:
            face = ImageFont.truetype(name, size, index=index)
        except OSError:
            break
        if face.getname()[0].endswith(" SC"):
            return face
    return first
