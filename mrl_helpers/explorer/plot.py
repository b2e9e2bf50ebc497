"""The explorer's plot on screen, two ways: one FigureWidget updated in place, or a plain figure redrawn in an Output.

`detect_display_mode` picks one for the running kernel (`views.choose_display_mode` says why). Both take the
trace and layout dicts of `views.scatter_traces` and `views.scatter_layout`.
"""

from __future__ import annotations

import json
import sys
from copy import deepcopy

import ipywidgets as w
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.base_renderers import ColabRenderer

from .views import changed_props, choose_display_mode

PLOT_SIZE = (535, 432)  # width, height in pixels: beside the metrics and results on a 1366 × 768 screen
BASE_LAYOUT = {"width": PLOT_SIZE[0], "height": PLOT_SIZE[1], "margin": {"l": 40, "r": 10, "t": 34, "b": 36},
               "template": "plotly_white", "title": {"font": {"size": 12}, "x": 0.01, "xanchor": "left"},
               "xaxis": {"title": {"standoff": 4}}, "yaxis": {"title": {"standoff": 4}},
               "legend": {"font": {"size": 10}, "itemclick": False, "itemdoubleclick": False, "tracegroupgap": 0}}
CONFIG = {"displayModeBar": False}  # plotly's toolbar would cover the title; drag still zooms, a double click resets


def in_colab() -> bool:
    return "google.colab" in sys.modules


def detect_display_mode() -> tuple[str, str]:
    """("figurewidget" or "output", why) for the running kernel: see `choose_display_mode`."""
    import ipywidgets
    import plotly

    try:
        import anywidget  # noqa: F401  (plotly 6+'s FigureWidget is built on it)

        has_anywidget = True
    except ImportError:
        has_anywidget = False
    return choose_display_mode(ipywidgets.__version__, plotly.__version__, in_colab(), has_anywidget)


class FigurePlot:
    """One plotly FigureWidget, updated in place: each change sends only the properties that changed.

    The first trace, the documents (up to a thousand points), is drawn with WebGL (`Scattergl`): plotly.js redraws
    every trace on any change of data, and with SVG it rebuilds one element per point. The other traces (a few
    labelled points, the legend) stay SVG.
    """

    mode = "figurewidget"

    def __init__(self, n_traces: int):
        traces = [go.Scattergl(x=[], y=[])] + [go.Scatter(x=[], y=[]) for _ in range(n_traces - 1)]
        self.widget = go.FigureWidget(data=traces, layout=BASE_LAYOUT)
        self.widget._config = CONFIG  # FigureWidget takes no config argument: its synced trait
        self._sent: list[dict] = [{} for _ in range(n_traces)]
        self._sent_layout: dict = {}

    def draw(self, traces: list[dict], layout: dict) -> None:
        fig = self.widget
        with fig.batch_update():  # plotly validates every value it is given: give it only what changed
            for trace, sent, props in zip(fig.data, self._sent, traces):
                changed = changed_props(sent, {key: value for key, value in props.items() if key != "type"})
                if changed:
                    trace.update(changed)
                    sent.update(changed)
            changed = changed_props(self._sent_layout, layout)
            if changed:
                fig.layout.update(changed)
                self._sent_layout.update(changed)
        # A view created later (JupyterLab draws cells only when they scroll into view; a page reload) starts
        # from these two traits, which plotly fills only when the figure itself is displayed, not when it sits
        # inside a VBox: keep them in step, or a late view shows an empty plot. They are made from what was sent,
        # not from `fig._data` alone: once a view has drawn the figure, plotly moves the properties that view
        # reports back (the rank labels, the query's name) out of `_data`, and a reloaded page would lose them.
        # Deep copies: the arrays go out as message buffers, which must be contiguous.
        if hasattr(fig, "_widget_data"):
            fig._widget_data = deepcopy([{**data, **sent} for data, sent in zip(fig._data, self._sent)])
            fig._widget_layout = _merged(deepcopy(fig._layout_obj._props), self._sent_layout)


class OutputPlot:
    """A plain figure redrawn in an ipywidgets Output on every change, for ipywidgets 7 (Colab).

    Each change replaces the Output's `outputs` with one display of the figure: one message to the front end,
    where capturing a display (`with output:`) costs a round trip per output, which nbclient (nbmake) answers
    on the very socket it waits on for the cell's reply, sometimes missing the reply until the cell's timeout.
    The figure goes out as a dict, unvalidated: plotly 5 validating 23 traces costs tens of milliseconds per
    change, and loading its validators most of a second. Nor does it pass through plotly's default renderers:
    touching them imports nbformat and jsonschema (seconds), and outside Colab their first figure carries all of
    plotly.js (3.5 MB). So: plotly's mimetype (JupyterLab, Notebook and VS Code render it), and on Colab, which
    renders no mimetype, the HTML of plotly's "colab" renderer (plotly.js from a CDN).
    """

    mode = "output"

    def __init__(self) -> None:
        self.widget = w.Output()
        self.colab = in_colab()

    def draw(self, traces: list[dict], layout: dict) -> None:
        figure = {"data": traces, "layout": _merged(BASE_LAYOUT, layout), "config": CONFIG}
        self.widget.outputs = ({"output_type": "display_data", "data": self.bundle(figure), "metadata": {}},)

    def bundle(self, figure: dict) -> dict:
        """The figure as a mime bundle: {mime type: content}."""
        if self.colab:
            return ColabRenderer(config=CONFIG).to_mimebundle(figure)
        return {"application/vnd.plotly.v1+json": json.loads(pio.to_json(figure, validate=False))}


def _merged(base: dict, extra: dict) -> dict:
    """`base` updated by `extra`, nested dicts merged key by key (as a FigureWidget's `layout.update` does)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
