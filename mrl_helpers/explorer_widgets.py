"""The explorer's widgets: thin ipywidgets and plotly wiring around `explore` (notebook 06).

Every number and every piece of HTML comes from `mrl_helpers.explorer`; this module only lays
out the controls, calls `explore` on each change and puts the result on screen. The plot is one
plotly FigureWidget updated in place (JupyterLab 4, ipywidgets 8), or, where that does not
render (Colab: ipywidgets 7, older plotly), a plain figure redrawn in an Output. The choice is
automatic, and the status line says which mode is active.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager
from copy import deepcopy

import ipywidgets as w
import plotly.graph_objects as go
from IPython.display import display

from .checks import check_choice
from .evaluation import PRECISIONS
from .explorer import (
    DEFAULT_OVERSAMPLE, Exploration, ExplorerState, changed_props, choose_display_mode, explore, metrics_html,
    nearest, results_html, scatter_layout, scatter_trace_count, scatter_traces,
)

BASE_LAYOUT = {"width": 640, "height": 600, "margin": {"l": 60, "r": 20, "t": 50, "b": 40}, "template": "plotly_white",
               "title": {"font": {"size": 13}},
               "legend": {"orientation": "h", "yanchor": "top", "y": -0.12, "font": {"size": 11}}}
LABEL_STYLE = {"description_width": "90px"}
BUTTON_STYLE = {**LABEL_STYLE, "button_width": "auto"}


def detect_display_mode() -> tuple[str, str]:
    """("figurewidget" or "output", why) for the running kernel: see `choose_display_mode`."""
    import ipywidgets
    import plotly

    try:
        import anywidget  # noqa: F401  (plotly 6+'s FigureWidget is built on it)

        has_anywidget = True
    except ImportError:
        has_anywidget = False
    return choose_display_mode(ipywidgets.__version__, plotly.__version__, "google.colab" in sys.modules, has_anywidget)


class ExplorerApp:
    """The explorer's controls, results, metrics and plot; `update()` redraws them for the current setting.

    Display `app.widget`. Each control calls `update` on change; `app.seconds` keeps how long
    every update took in Python, and `measure()` times a scripted series of changes.
    """

    def __init__(
        self,
        state: ExplorerState,
        *,
        mode: str = "auto",
        corpus: str = "mini",
        query: str | None = None,
        dim: int | None = None,
        precision: str = "float32",
        k: int = 5,
        oversample: int = DEFAULT_OVERSAMPLE,
        projection: str = "PCA",
    ):
        self.state = state
        if mode == "auto":
            self.mode, self.mode_reason = detect_display_mode()
        else:
            self.mode, self.mode_reason = check_choice(mode, ("figurewidget", "output"), "mode"), "chosen by hand"
        corpus = check_choice(corpus, list(state.corpora), "corpus")
        first = state.corpora[corpus]
        self.seconds: list[float] = []
        self.last: Exploration | None = None
        self._holding = False
        self._n_slots = max(len(set(c.groups)) for c in state.corpora.values())

        # 1. Controls
        self.corpus = w.ToggleButtons(options=[(c.label, name) for name, c in state.corpora.items()], value=corpus,
                                      description="corpus", style=BUTTON_STYLE)
        self.query = w.Text(value=query or first.examples[0], description="query", continuous_update=False,
                            placeholder="type a question and press Enter", style=LABEL_STYLE,
                            layout=w.Layout(width="60%"))
        self.examples = w.Dropdown(options=self._example_options(first), value="", layout=w.Layout(width="38%"))
        self.dim = w.SelectionSlider(options=list(state.dims), value=dim or state.model.full_dim,
                                     description="dimension", style=LABEL_STYLE, layout=w.Layout(width="60%"))
        self.ladder = [w.Button(description=str(d), tooltip=f"jump to {d} dimensions",
                                layout=w.Layout(width="52px")) for d in state.ladder]
        self.precision = w.ToggleButtons(options=list(PRECISIONS), value=precision, description="precision",
                                         style=BUTTON_STYLE)
        self.oversample = w.IntSlider(value=oversample, min=1, max=10, description="rescore ×", style=LABEL_STYLE)
        self.k = w.IntSlider(value=k, min=1, max=20, description="k", style=LABEL_STYLE)
        self.projection = w.ToggleButtons(options=list(state.projections), value=projection,
                                          description="2-D picture", style=BUTTON_STYLE)

        # 2. Views
        self.results = w.HTML()
        self.metrics = w.HTML()
        self.status = w.HTML()
        if self.mode == "figurewidget":
            n_traces = scatter_trace_count(self._n_slots)
            self.plot = go.FigureWidget(data=[go.Scatter(x=[], y=[]) for _ in range(n_traces)], layout=BASE_LAYOUT)
            self._sent: list[dict] = [{} for _ in range(n_traces)]
            self._sent_layout: dict = {}
        else:
            self.plot = w.Output()

        # 3. Wiring: every control redraws; the examples and the corpus first change the query
        for control in (self.query, self.dim, self.precision, self.oversample, self.k, self.projection):
            control.observe(self.update, names="value")
        self.examples.observe(self._pick_example, names="value")
        self.corpus.observe(self._switch_corpus, names="value")
        for button, d in zip(self.ladder, state.ladder):
            button.on_click(lambda _, d=d: setattr(self.dim, "value", d))

        classes = [(self.corpus, "mrl-corpus"), (self.query, "mrl-query"), (self.examples, "mrl-examples"),
                   (self.dim, "mrl-dim"), (self.precision, "mrl-precision"), (self.oversample, "mrl-oversample"),
                   (self.k, "mrl-k"), (self.projection, "mrl-projection"), (self.results, "mrl-results-box"),
                   (self.metrics, "mrl-metrics-box"), (self.status, "mrl-status-box")]
        for widget, name in classes:
            widget.add_class(name)
        plot_box = w.Box([self.plot], layout=w.Layout(width="650px"))
        plot_box.add_class("mrl-plot")
        self.metrics.layout = w.Layout(flex="1 1 280px", min_width="280px")
        self.widget = w.VBox([
            self.corpus,
            w.HBox([self.query, self.examples]),
            w.HBox([self.dim, w.Label("ladder:"), *self.ladder]),
            w.HBox([self.precision, self.oversample]),
            w.HBox([self.k, self.projection]),
            w.HBox([plot_box, self.metrics], layout=w.Layout(flex_flow="row wrap")),  # narrow: metrics below
            self.results,
            self.status,
        ])
        self.widget.add_class("mrl-explorer")

    def _example_options(self, corpus) -> list[tuple[str, str]]:
        short = [(e if len(e) <= 70 else e[:67] + "...", e) for e in corpus.examples]
        return [("examples: pick one", ""), *short]

    @contextmanager
    def hold(self):
        """Change several controls at once with a single update at the end."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        self.update()

    def _pick_example(self, change) -> None:
        if change["new"]:
            self.query.value = change["new"]  # redraws (unless it is already the query)
            self.examples.value = ""  # so that the same example can be picked again

    def _switch_corpus(self, change) -> None:
        corpus = self.state.corpora[change["new"]]
        with self.hold():
            self.examples.options = self._example_options(corpus)
            self.examples.value = ""
            self.query.value = corpus.examples[0]

    def update(self, change=None) -> Exploration | None:
        """Explore the current setting and redraw the results, metrics and plot."""
        if self._holding:
            return None
        start = time.perf_counter()
        self.oversample.disabled = self.precision.value != "binary+rescore"
        try:
            r = explore(self.state, self.query.value, self.dim.value, self.precision.value, self.k.value,
                        self.oversample.value, self.projection.value, self.corpus.value)
        except (ValueError, TypeError) as err:  # bad input from a control: say so, keep the last picture
            self.status.value = self._status_html(error=str(err))
            return None
        self.results.value = results_html(r)
        self.metrics.value = metrics_html(r)
        self._draw(r)
        self.seconds.append(time.perf_counter() - start)
        self.last = r
        self.status.value = self._status_html()
        return r

    def _draw(self, r: Exploration) -> None:
        traces = scatter_traces(r, self._n_slots)
        if self.mode == "figurewidget":  # send only what changed: plotly validates every value it is given
            with self.plot.batch_update():
                for trace, sent, props in zip(self.plot.data, self._sent, traces):
                    changed = changed_props(sent, {key: value for key, value in props.items() if key != "type"})
                    if changed:
                        trace.update(changed)
                        sent.update(changed)
                layout = changed_props(self._sent_layout, scatter_layout(r))
                if layout:
                    self.plot.layout.update(layout)
                    self._sent_layout.update(layout)
            # A view created later (JupyterLab draws cells only when they scroll into view; a page reload)
            # starts from these two traits, which plotly fills only when the figure itself is displayed, not
            # when it sits inside a VBox: keep them in step, or a late view shows an empty plot.
            if hasattr(self.plot, "_widget_data"):
                self.plot._widget_data = deepcopy(self.plot._data)
                self.plot._widget_layout = deepcopy(self.plot._layout_obj._props)
            return
        fig = go.Figure([go.Scatter({key: value for key, value in props.items() if key != "type"})
                         for props in traces], layout={**BASE_LAYOUT, **scatter_layout(r)})
        with self.plot:
            self.plot.clear_output(wait=True)
            display(fig)

    def _status_html(self, error: str | None = None) -> str:
        mode = ("one FigureWidget, updated in place" if self.mode == "figurewidget"
                else "a plain figure redrawn in an Output")
        parts = [f"Plot: {mode} ({html.escape(self.mode_reason)})."]
        if self.seconds:
            parts.append(f"Update {len(self.seconds)} took {self.seconds[-1] * 1e3:.0f} ms in Python.")
        parts += [html.escape(note) for note in self.state.notes]
        if error:
            parts.append(f'<span class="mrl-error" style="color:#cf222e">Not updated: {html.escape(error)}</span>')
        last_ms = f"{self.seconds[-1] * 1e3:.1f}" if self.seconds else ""
        return (f'<div class="mrl-status" data-updates="{len(self.seconds)}" data-mode="{self.mode}" '
                f'data-last-ms="{last_ms}" style="color:#6e7781">{" ".join(parts)}</div>')

    def default_changes(self) -> list[tuple[str, object]]:
        """A scripted tour of changes on the current corpus: every control, dimensions on and off the ladder."""
        ladder, dims = self.state.ladder, self.state.dims
        between = [nearest((a + b) // 2, dims) for a, b in zip(ladder, ladder[1:])]
        examples = self.state.corpora[self.corpus.value].examples
        changes: list[tuple[str, object]] = []
        for dim in ladder[1:]:
            changes.append(("dim", dim))
            changes += [("precision", p) for p in ("int8", "binary", "binary+rescore", "float32")]
        changes += [("dim", d) for d in between]
        changes += [("precision", "binary+rescore"), ("oversample", 2), ("oversample", 8), ("precision", "float32")]
        changes += [("k", 10), ("k", 3), ("projection", "first two")]
        if "UMAP" in self.state.projections:
            changes += [("projection", "UMAP"), ("dim", ladder[0]), ("dim", between[0])]
        changes += [("projection", "PCA"), ("query", examples[1]), ("query", examples[2]), ("query", examples[0])]
        return changes

    def measure(self, changes: Sequence[tuple[str, object]] | None = None) -> list[float]:
        """Seconds from setting a control to the end of the redraw, for each change; then restore the controls.

        A change that equals the control's current value (no event) is skipped.
        """
        changes = list(changes or self.default_changes())
        before = {name: getattr(self, name).value for name, _ in changes}
        times = []
        for name, value in changes:
            control = getattr(self, name)
            if control.value == value:
                continue
            n = len(self.seconds)
            start = time.perf_counter()
            control.value = value
            times.append(time.perf_counter() - start)
            if len(self.seconds) != n + 1:
                raise RuntimeError(f"setting {name}={value!r} ran {len(self.seconds) - n} updates instead of one")
        with self.hold():
            for name, value in before.items():
                getattr(self, name).value = value
        return times

