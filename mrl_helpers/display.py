"""The lab's look for figures and tables: sized for a notebook (~900-1000 px wide), numbers a person can read.

`lab_figure` gives a plotly figure a size that suits its axes and a legend that does not eat the plot;
`table` shows a DataFrame without its index, with thousands separators, sensible rounding and ✓/– for booleans;
`formatted` is the same numbers as plain strings (for printing). Both change only what they are given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler

Shape = Literal["wide", "square"]
Legend = Literal["below", "top left", "top right", "bottom right", "right", "hidden"]
Format = str | Callable[[object], str]
_LONG_TEXT = 40  # characters: a column of longer text may wrap

# width None: the notebook's width. "square" suits log-log axes, where a flat aspect would squash a slope of 1.
SIZES: dict[str, tuple[int | None, int]] = {"wide": (None, 430), "square": (720, 600)}
_INSIDE = {"bgcolor": "rgba(255,255,255,0.8)", "orientation": "v"}
_LEGENDS: dict[str, dict] = {
    # at the figure's foot (yref "container"): plotly then shrinks the plot to fit it, however many rows it takes
    "below": {"orientation": "h", "x": 0, "xanchor": "left", "yref": "container", "y": 0, "yanchor": "bottom"},
    "top left": {**_INSIDE, "x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top"},
    "top right": {**_INSIDE, "x": 0.99, "xanchor": "right", "y": 0.99, "yanchor": "top"},
    "bottom right": {**_INSIDE, "x": 0.99, "xanchor": "right", "y": 0.01, "yanchor": "bottom"},
    "right": {},
}


def lab_figure(fig: go.Figure, shape: Shape = "wide", legend: Legend = "below") -> go.Figure:
    """Size `fig` for a notebook and place its legend; returns `fig` (notebook 03 introduces it).

    shape: "wide" (the notebook's width × 430 px) or "square" (720 × 600 px, for log-log axes).
    legend: "below" (horizontal, under the x-axis title), "top left", "top right" or "bottom right" (inside the
    plot, in a corner the data leave empty), "right" (plotly's default, for a short legend) or "hidden".
    """
    if shape not in SIZES:
        raise ValueError(f"shape={shape!r} is not one of {sorted(SIZES)}")
    if legend not in _LEGENDS and legend != "hidden":
        raise ValueError(f"legend={legend!r} is not one of {sorted([*_LEGENDS, 'hidden'])}")
    width, height = SIZES[shape]
    fig.update_layout(width=width, height=height + (60 if legend == "below" else 0), showlegend=legend != "hidden",
                      margin={"l": 70, "r": 30, "t": 60, "b": 60}, title_font_size=15)
    if legend in _LEGENDS:
        fig.update_layout(legend=_LEGENDS[legend])
    return fig


def _decimals(values: pd.Series) -> int | None:
    """Fixed decimals that give the column's smallest non-zero value three significant digits (at most 3);
    None (three significant digits per value) when the column spans more than a factor of 100."""
    magnitudes = values[np.isfinite(values) & (values != 0)].abs()
    if magnitudes.empty:
        return 0
    if magnitudes.max() / magnitudes.min() > 100:
        return None
    return int(min(3, max(0, 2 - math.floor(math.log10(magnitudes.min())))))


def _significant(value: float) -> str:
    """Three significant digits without scientific notation: 0.0523, 1.25, 912, 12,300."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    return f"{value:,.{max(0, 2 - math.floor(math.log10(abs(value))))}f}"


def _column_format(values: pd.Series) -> Callable[[object], str]:
    if pd.api.types.is_bool_dtype(values):
        return lambda v: "✓" if v else "–"
    if pd.api.types.is_integer_dtype(values):
        return lambda v: f"{v:,}"
    if pd.api.types.is_float_dtype(values):
        decimals = _decimals(values.astype(float))
        return _significant if decimals is None else (lambda v: f"{v:,.{decimals}f}")
    return str


def formatted(frame: pd.DataFrame, formats: Mapping[str, Format] | None = None) -> pd.DataFrame:
    """`frame` as strings: booleans ✓/–, integers with thousands separators, floats rounded to three significant
    digits (one number of decimals per column), missing values blank; `formats` maps a column to a format
    string ("{:.1f}×") or a function, for the columns the rules do not suit (notebook 03 introduces it)."""
    formats = dict(formats or {})
    unknown = sorted(set(formats) - set(frame.columns))
    if unknown:
        raise ValueError(f"formats names columns {unknown} that the frame does not have; it has {list(frame.columns)}")
    out = frame.copy()
    for column in out.columns:
        given = formats.get(column)
        show = given.format if isinstance(given, str) else given or _column_format(frame[column])
        out[column] = [show(v) if not (np.isscalar(v) and pd.isna(v)) else "" for v in frame[column]]
    return out


def table(frame: pd.DataFrame, formats: Mapping[str, Format] | None = None, index: bool = False) -> Styler:
    """`frame` to display: `formatted` numbers, no index (unless `index`), text aligned left; cells stay on one
    line ("46.1 MB", never "46.1⏎MB"), except in columns of long text (notebook 03 introduces it).

    Give the columns names a person reads, with units ("latency (ms)", "recall@10").
    """
    shown = formatted(frame, formats)
    styler = shown.style if index else shown.style.hide(axis="index")
    words = [c for c in shown.columns if not shown[c].str.match(r"^[-+−]?[\d.,]+\b|^[✓–]?$").all()]
    long = [c for c in words if shown[c].str.len().max() > _LONG_TEXT]
    return (styler.set_properties(subset=[c for c in shown.columns if c not in long], **{"white-space": "nowrap"})
            .set_properties(subset=words, **{"text-align": "left"}))
