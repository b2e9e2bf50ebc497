"""The lab's figures and tables: sizes and legends set on the figure only, numbers formatted as Python formats them."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from mrl_helpers import lab_figure, table
from mrl_helpers.display import SIZES, formatted


def test_lab_figure_sizes_the_figure_and_changes_no_default():
    template = pio.templates.default
    fig = lab_figure(go.Figure(go.Scatter(x=[1, 10], y=[1, 10])), "square", legend="below")
    width, height = SIZES["square"]
    assert fig.layout.width == width and fig.layout.height > height  # room for the legend below
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.yref == "container"  # at the figure's foot
    wide = lab_figure(go.Figure(), legend="top right")
    assert wide.layout.width is None and wide.layout.height == SIZES["wide"][1]  # the notebook's width
    assert wide.layout.legend.x > 0.9 and wide.layout.legend.y > 0.9
    assert lab_figure(go.Figure(), legend="hidden").layout.showlegend is False
    assert pio.templates.default == template and go.Figure().layout.height is None


def test_lab_figure_names_a_bad_shape_or_legend():
    with pytest.raises(ValueError, match=r"shape='tall' is not one of \['square', 'wide'\]"):
        lab_figure(go.Figure(), "tall")
    with pytest.raises(ValueError, match=r"legend='left' is not one of"):
        lab_figure(go.Figure(), legend="left")


def test_formatted_rounds_like_python_formats():
    frame = pd.DataFrame({"recall": [1.0, 0.9934, 0.5], "ms": [0.05234, 912.3, 12_345.6], "n": [100_000_000, 10, 3],
                          "met": [True, False, True], "config": ["a", "b", "c"], "gap": [1.0, np.nan, 2.5]})
    out = formatted(frame, {"config": "<{}>"})
    assert out["recall"].tolist() == [f"{v:.3f}" for v in frame["recall"]]  # 3 significant digits at 0.5
    assert out["ms"].tolist() == ["0.0523", "912", "12,346"]  # spans > 100×: 3 significant digits each
    assert out["n"].tolist() == [f"{v:,}" for v in frame["n"]]
    assert out["met"].tolist() == ["✓", "–", "✓"] and out["config"].tolist() == ["<a>", "<b>", "<c>"]
    assert out["gap"].tolist() == ["1.00", "", "2.50"]  # missing: blank
    assert frame["n"].dtype.kind == "i", "the frame given is not changed"
    with pytest.raises(ValueError, match=r"formats names columns \['latency'\] that the frame does not have"):
        formatted(frame, {"latency": "{:.1f}"})


def test_table_hides_the_index_and_keeps_numbers_on_one_line():
    frame = pd.DataFrame({"config": ["float32 384", "binary 384"], "memory": ["46.1 MB", "1.4 MB"],
                          "goal": ["a goal described in more words than fit on one line", "short"]},
                         index=["float32-384", "binary-384"])
    styler = table(frame)
    html = styler.to_html()
    assert "float32-384" not in html and "46.1 MB" in html
    styles = {(row, column): dict(props) for (row, column), props in styler._compute().ctx.items()}
    assert styles[0, 1] == {"white-space": "nowrap"}, "a number with its unit never wraps"
    assert styles[0, 0] == {"white-space": "nowrap", "text-align": "left"}, "a short label: left, on one line"
    assert styles[0, 2] == {"text-align": "left"}, "long text may wrap"
    assert "float32-384" in table(frame, index=True).to_html()
