"""What the explorer shows, as plain data: the results and metrics as HTML, the plot as trace and layout dicts.

Built from an `Exploration` with no widget involved, so that everything but the wiring is tested without a
browser; `plot` puts the dicts on screen.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Literal

import numpy as np

from ..speed import format_bytes
from .explore import LATENCY_REPEATS, Exploration
from .state import TRUST_NEIGHBOURS

PALETTE = (  # plotly's D3 (Tableau 10), written out so that old plotly versions show the same colours
    "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF",
)
SYMBOLS = ("circle", "square", "diamond", "triangle-up")  # after ten colours, the next ten reuse them with a new symbol
FULL_RANK_TIP = "rank of the same document at full dimension in float32, the reference"
MOVED_TIP = "places gained (▲) or lost (▼) against full dimension in float32"
ONE_LINE = "white-space:nowrap;overflow:hidden;text-overflow:ellipsis"


def _human_seconds(s: float) -> str:
    return f"{s * 1e6:,.0f} µs" if s < 1e-3 else f"{s * 1e3:,.1f} ms"


def _move_html(moved: int) -> str:
    if moved > 0:
        return f'<span class="mrl-up" style="color:#1a7f37">▲ {moved}</span>'
    if moved < 0:
        return f'<span class="mrl-down" style="color:#cf222e">▼ {-moved}</span>'
    return '<span class="mrl-same" style="color:#6e7781">=</span>'


def _score_text(score: float, precision: str) -> str:
    return f"{score:.3f}" if precision in ("float32", "binary+rescore") else f"{score:,.0f}"


def results_html(r: Exploration) -> str:
    """The ranked results as an HTML table (class "mrl-results"), one row per hit (class "mrl-hit").

    Fixed column widths and one line each for a title and its snippet, cut with an ellipsis (the whole text in
    the tooltip), so that the table keeps its shape whatever the setting.
    """
    columns = [("rank", "rank at this setting", "32px"), ("document", "title, then the start of the text", "auto"),
               (r.score_label, "the score at this setting: higher is better", "72px"),
               ("full-dim rank", FULL_RANK_TIP, "54px"), ("moved", MOVED_TIP, "44px")]
    cols = "".join(f'<col style="width:{width}">' for _, _, width in columns)
    head = "".join(f'<th title="{html.escape(tip)}" style="height:30px;overflow:hidden;text-align:left;'
                   f'vertical-align:bottom;font-size:11px;line-height:14px;font-weight:600">{html.escape(name)}</th>'
                   for name, tip, _ in columns)
    rows = "".join(
        f'<tr class="mrl-hit" data-doc-id="{html.escape(h.doc_id)}" style="height:36px;vertical-align:top">'
        f"<td>{h.rank}</td>"
        f'<td title="{html.escape(h.title)}: {html.escape(h.snippet)}">'
        f'<div style="{ONE_LINE};font-weight:600">{html.escape(h.title)}</div>'
        f'<div style="{ONE_LINE};color:#57606a">{html.escape(h.snippet)}</div></td>'
        f"<td>{_score_text(h.score, r.precision)}</td><td>{h.full_rank}</td><td>{_move_html(h.moved)}</td></tr>"
        for h in r.hits
    )
    return (f'<table class="mrl-results" data-dim="{r.dim}" data-precision="{html.escape(r.precision)}" '
            f'style="border-collapse:collapse;width:100%;table-layout:fixed;font-size:12px;line-height:17px">'
            f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


def metrics_html(r: Exploration) -> str:
    """The numbers for one setting as HTML (class "mrl-metrics"), one line per metric (class "mrl-metric").

    Each line is cut with an ellipsis where the box is too narrow; its tooltip holds the whole line.
    """
    rung = "on the ladder" if r.on_ladder else "between rungs"
    rescore = f", shortlist {r.oversample}× k" if r.precision == "binary+rescore" else ""
    encoded = ("memoised" if r.encode_s is None else _human_seconds(r.encode_s))
    smaller = ("full size" if r.index_bytes == r.full_index_bytes
               else f"{r.full_index_bytes / r.index_bytes:.1f}× smaller")
    lines = {
        "setting": f"<b>{r.dim} dimensions</b> ({rung}), {html.escape(r.precision)}{rescore}, k = {r.k}",
        "overlap": f"overlap@{r.k} with full float32: <b>{r.overlap:.0%}</b> "
                   f"({round(r.overlap * len(r.hits))} of {len(r.hits)})",
        "ndcg": f"nDCG@10 ({r.n_queries} queries): <b>{r.ndcg10:.3f}</b>, "
                f"{r.ndcg10 / r.ndcg10_full:.0%} of full float32's {r.ndcg10_full:.3f}",
        "bytes": f"{r.bytes_per_vector:,} bytes per vector; index <b>{format_bytes(r.index_bytes)}</b>, {smaller}",
        "latency": f"search: <b>{_human_seconds(r.latency_s)}</b> (median of {LATENCY_REPEATS}); "
                   f"encoding the query: {encoded}",
        "trust": f"{html.escape(r.projection)} keeps <b>{r.trust:.0%}</b> of {TRUST_NEIGHBOURS} nearest neighbours "
                 f"(random: {r.trust_random:.0%})",
        "note": html.escape(" ".join(r.notes)),  # always there, empty or not: the box keeps its height
    }
    body = "".join(f'<div class="mrl-metric" data-metric="{name}" title="{_untagged(text)}" '
                   f'style="{ONE_LINE}{";color:#6e7781" if name == "note" else ""}">{text or "&nbsp;"}</div>'
                   for name, text in lines.items())
    return (f'<div class="mrl-metrics" data-query="{html.escape(r.query)}" data-corpus="{html.escape(r.corpus)}" '
            f'style="font-size:12px;line-height:18px">{body}</div>')


def _untagged(text: str) -> str:
    """`text` without its <b> tags, for a title attribute (already escaped)."""
    return text.replace("<b>", "").replace("</b>", "")


def group_styles(groups: list[str]) -> dict[str, tuple[str, str]]:
    """(colour, symbol) of each group, the largest first: ten colours, then the same ten with the next symbol."""
    names = [name for name, _ in Counter(groups).most_common()]  # ties keep their first appearance
    n = len(PALETTE)
    return {name: (PALETTE[i % n], SYMBOLS[i // n % len(SYMBOLS)]) for i, name in enumerate(names)}


def scatter_traces(r: Exploration, n_group_slots: int) -> list[dict]:
    """Property dicts for the plot's traces, in a fixed order: the documents, top-k, query, then the legend.

    All documents are one trace (coloured point by point), so a change of dimension moves one
    trace, not one per topic; `n_group_slots` legend-only traces name the colours, the unused
    ones hidden. The count never changes, so a FigureWidget can update its traces in place.
    """
    style = group_styles(r.groups)
    if len(style) > n_group_slots:
        raise ValueError(f"n_group_slots={n_group_slots} is fewer than the {len(style)} {r.group_kind}s to colour")
    names = list(style)
    top = r.xy[r.ids]
    traces = [
        {"type": "scatter", "mode": "markers", "name": "documents", "showlegend": False,
         "x": r.xy[:, 0], "y": r.xy[:, 1], "text": [f"{t} ({g})" for t, g in zip(r.titles, r.groups)],
         "marker": {"size": 7, "opacity": 0.8, "color": [style[g][0] for g in r.groups],
                    "symbol": [style[g][1] for g in r.groups]},
         "hovertemplate": "%{text}<extra></extra>"},
        {"type": "scatter", "mode": "markers+text", "name": f"top {len(r.hits)} results", "showlegend": True,
         "x": top[:, 0], "y": top[:, 1], "text": [str(h.rank) for h in r.hits], "textposition": "top center",
         "marker": {"size": 15, "symbol": "circle-open", "color": "black", "line": {"width": 2}},
         "hovertemplate": "rank %{text}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "showlegend": True,
         "name": "query" if r.query_placement == "exact" else "query (mean of its top k)",
         "x": [float(r.query_xy[0])], "y": [float(r.query_xy[1])], "text": [r.query],
         "marker": {"size": 18, "symbol": "star", "color": "gold", "line": {"width": 1.5, "color": "black"}},
         "hovertemplate": "query: %{text}<extra></extra>"},
    ]
    for slot in range(n_group_slots):
        name = names[slot] if slot < len(names) else ""
        colour, symbol = style.get(name, (PALETTE[0], SYMBOLS[0]))
        traces.append({"type": "scatter", "mode": "markers", "name": name, "x": [None], "y": [None],
                       "marker": {"size": 7, "color": colour, "symbol": symbol},
                       "visible": slot < len(names), "showlegend": slot < len(names), "hoverinfo": "skip"})
    return traces


def scatter_trace_count(n_group_slots: int) -> int:
    """How many traces `scatter_traces` returns: documents, top-k and query, plus the legend slots."""
    return 3 + n_group_slots


def changed_props(sent: dict, props: dict) -> dict:
    """The entries of `props` that differ from what was `sent` before (arrays compared by value)."""

    def same(a, b) -> bool:
        if isinstance(a, dict) or isinstance(b, dict):
            return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(
                same(a[key], b[key]) for key in a)
        if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
            return (a is not None and b is not None and len(a) == len(b)
                    and np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
        return a == b

    return {key: value for key, value in props.items() if key not in sent or not same(sent[key], value)}


def scatter_layout(r: Exploration) -> dict:
    """The plot's title and axes for one setting."""
    shown = f"{r.projected_dim} dims" + ("" if r.projected_dim == r.dim else f", nearest to {r.dim}")
    axes = {"first two": ("dimension 1", "dimension 2"), "PCA": ("PC 1", "PC 2"), "UMAP": ("UMAP 1", "UMAP 2")}
    x_title, y_title = axes[r.projection]
    return {
        "title": {"text": f"{r.projection} at {shown} ({r.precision} search, k = {r.k}): "
                          f"keeps {r.trust:.0%} of neighbours"},
        "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}},
        "legend": {"title": {"text": r.group_kind}},
    }


def choose_display_mode(
    ipywidgets_version: str, plotly_version: str, in_colab: bool, has_anywidget: bool
) -> tuple[Literal["figurewidget", "output"], str]:
    """Which way the explorer draws its plot, and why.

    "figurewidget": one plotly FigureWidget updated in place (JupyterLab 4 with ipywidgets 8 and
    plotly 6+, which needs anywidget). "output": a plain figure redrawn in an ipywidgets Output on
    every change, for Colab (ipywidgets 7, older plotly, FigureWidget not always rendering).
    """
    widgets_major = int(ipywidgets_version.split(".")[0])
    plotly_major = int(plotly_version.split(".")[0])
    versions = f"ipywidgets {ipywidgets_version}, plotly {plotly_version}"
    if in_colab:
        return "output", f"on Colab FigureWidget does not always render ({versions})"
    if widgets_major < 8:
        return "output", f"FigureWidget needs ipywidgets 8 ({versions})"
    if plotly_major < 6:
        return "output", f"plotly before 6 has no FigureWidget for JupyterLab 4 ({versions})"
    if not has_anywidget:
        return "output", f"plotly's FigureWidget needs anywidget, which is not installed ({versions})"
    return "figurewidget", f"{versions} with anywidget"
