"""The interactive explorer (notebook 06): prepare once, then `explore` one setting; `app.ExplorerApp` wires widgets.

`prepare_explorer` does everything slow up front (encoding, UMAP at each ladder dimension); `explore`
answers one setting (query, dimension, precision, k, ...) from memoised pieces, fast enough for every
slider move; `views` turns the answer into HTML and plot dicts. None of these import a widget library:
`from mrl_helpers.explorer.app import ExplorerApp` loads ipywidgets and plotly.
"""

# From geometry.py
from .geometry import nearest, nearest_neighbours, neighbour_preservation, slider_dims, umap_2d
# From state.py
from .state import PROJECTIONS, Corpus, ExplorerState, Picture, Projection
# From prepare.py
from .prepare import CORPORA, prepare_explorer
# From explore.py
from .explore import Exploration, Hit, explore
# From views.py
from .views import choose_display_mode, metrics_html, results_html, scatter_layout, scatter_traces

__all__ = [
    "nearest", "nearest_neighbours", "neighbour_preservation", "slider_dims", "umap_2d",
    "PROJECTIONS", "Corpus", "ExplorerState", "Picture", "Projection",
    "CORPORA", "prepare_explorer",
    "Exploration", "Hit", "explore",
    "choose_display_mode", "metrics_html", "results_html", "scatter_layout", "scatter_traces",
]
