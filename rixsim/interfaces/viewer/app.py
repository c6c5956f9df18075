"""The explorer's page: a Bokeh document built from :mod:`rixsim.interfaces.viewer.state`.

No number is computed here: every trace, cut, difference and model comes from ``state`` (and through it from
rixsim's own functions); this module lays out figures and widgets, moves values between them and the state
layer, and sends long work (model maps, fits) to a background executor whose results come back on the
document's next tick, so the page never waits.

Named models (for tests and scripts, ``Bokeh.documents[0].get_model_by_name(name)``): ``map_0``, ``map_1`` …
(image renderers), ``channel_<NAME>`` (channel traces: columns ``excitation``, ``value``, ``norm``),
``window_<NAME>`` (editable window boxes), ``win_<NAME>_lo`` / ``_hi`` (typed window edges), ``cut_emission``,
``cut_loss``, ``cut_excitation`` (cut traces: ``x``, ``y``), ``cut_point``, ``model_xas`` (columns
``energy``, ``raw``, ``y``, ``scale``), ``measured_xas``, ``slider_<param>``, ``model_status``, ``fit_status``,
``file_errors``, ``export_status``, ``difference`` (image renderer).
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from rixsim.errors import InputError, RixsimError
from rixsim.interfaces.viewer import state as S
from rixsim.results import RixsMap, Spectrum

log = logging.getLogger(__name__)

__all__ = ["ViewerConfig", "build_document", "scale_palette"]

_BASE_PALETTE = "Viridis256"
_COLOURS = {"TFY": "#444444", "PFY": "#1f77b4", "iPFY": "#2ca02c", "sPFY": "#d62728", "ccPFY": "#9467bd"}


@dataclass
class ViewerConfig:
    """What a server session starts from: the files, the path guard, the export folder, the executor for
    background work, and the model the panel starts with (a model file, or an ion).

    Attributes
    ----------
    files : list of str
        Files opened in every new page (more come from ``?file=`` arguments, checked by ``guard``).
    guard : PathGuard
        Allowed folders.
    out_dir : str
        Export folder.
    executor : concurrent.futures.Executor
        Background work (model previews, fits).
    model_file : str
        Model file the model panel starts with ('' = the ion of ``ion``).
    ion : str
        Ion when there is no model file.
    element : str
        Element whose tabulated lines place the first windows (optional).
    matrix : str
        Axes for files that are bare text matrices (:func:`rixsim.interfaces.viewer.state.parse_matrix_axes`).
    """

    files: list
    guard: S.PathGuard
    out_dir: str
    executor: Any
    model_file: str = ""
    ion: str = "Ni2+"
    element: str = ""
    matrix: str = ""
    sessions: list = field(default_factory=list)


def scale_palette(scale: str, n: int = 1024) -> list:
    """A palette for a linear colour mapper that shows ``scale`` (``"linear"`` or ``"sqrt"``): entry i (of n,
    for the intensity fraction t = i/(n−1)) takes the base palette's colour at √t for ``"sqrt"``."""
    from bokeh.palettes import Viridis256
    t = np.linspace(0.0, 1.0, n)
    f = np.sqrt(t) if scale == "sqrt" else t
    idx = np.clip(np.round(f * 255).astype(int), 0, 255)
    return [Viridis256[i] for i in idx]


def _finite_range(z) -> tuple[float, float]:
    z = np.asarray(z, float)
    ok = z[np.isfinite(z)]
    if ok.size == 0:
        return 0.0, 1.0
    lo, hi = float(ok.min()), float(ok.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _spectrum_data(s) -> dict:
    if isinstance(s, Spectrum):
        return {"x": s.energy.tolist(), "y": s.intensity.tolist()}
    return {"x": [], "y": []}


class Session:
    """One page: its files, its widgets and callbacks (see the module docstring for the named models)."""

    def __init__(self, doc, cfg: ViewerConfig, extra_files: Sequence[str] = ()):
        self.doc, self.cfg = doc, cfg
        self.items = [S.load_file(f, cfg.guard, cfg.matrix) for f in [*cfg.files, *extra_files]]
        self.maps = [it for it in self.items if it.kind == "map"]
        self.axis = "loss" if self.maps and self.maps[0].data.on_loss_axis else "emission"
        self.scale = "sqrt"                    # as the figures of `rixsim rixs`
        self.active = 0
        self.windows = S.initial_windows(self.maps[0].data, cfg.element) if self.maps else {}
        self.cuts: dict = {}
        self.traces: dict = {}
        self.model_job = S.Coalescer(cfg.executor)
        self.fit_job: S.FitJob | None = None
        self.fit_result = None
        self.engine: S.ModelEngine | None = None
        self.spec: S.ModelSpec | None = None
        self.generation = 0
        self._building = True
        self._build()
        self._building = False

    # ---------------------------------------------------------------------------------------- helpers
    @property
    def rmap(self) -> RixsMap | None:
        return self.maps[self.active].data if self.maps else None

    def _later(self, fn, *args):
        """Run ``fn(*args)`` on the document's next tick (from any thread)."""
        try:
            self.doc.add_next_tick_callback(partial(fn, *args))
        except Exception:  # noqa: BLE001 - the page was closed meanwhile
            log.debug("page closed; result dropped")

    # ---------------------------------------------------------------------------------------- layout
    def _build(self):
        from bokeh.layouts import column
        from bokeh.models import Div
        doc = self.doc
        doc.title = "rixsim map explorer"
        errors = [it for it in self.items if it.kind == "error"]
        self.file_errors = Div(name="file_errors", styles={"color": "#b00020"}, width=1100,
                               text="".join(f"<p><b>{_esc(it.name)}</b> could not be read: {_esc(it.error)}</p>"
                                            for it in errors))
        header = Div(text="<h2 style='margin:4px 0'>rixsim map explorer</h2>"
                          f"<p style='margin:0'>{len(self.items)} file(s): "
                          + ", ".join(_esc(it.name) for it in self.items) + "</p>", width=1100)
        parts = [header, self.file_errors, self._open_box()]
        if self.maps:
            parts.append(self._map_section())
        spectra = [it for it in self.items if it.kind in ("spectrum", "scan")]
        if spectra:
            parts.append(self._spectra_section(spectra))
        if self.maps or spectra:
            parts.append(self._model_section())
            parts.append(self._export_section())
        elif not errors:
            parts.append(Div(text="<p>No file given.</p>"))
        doc.add_root(column(*parts, name="root"))

    def _open_box(self):
        from bokeh.layouts import row
        from bokeh.models import Button, Div, TextInput
        self.open_input = TextInput(title="open another file (inside the allowed folders)", width=600,
                                    name="open_path")
        b = Button(label="open", width=80, name="open_button")
        self.open_status = Div(name="open_status", width=400)
        b.on_click(self._open_clicked)
        return row(self.open_input, b, self.open_status)

    def _open_clicked(self):
        path = self.open_input.value.strip()
        try:
            p = self.cfg.guard.check(path)
        except InputError as exc:
            self.open_status.text = f"<span style='color:#b00020'>refused: {_esc(str(exc))}</span>"
            return
        item = S.load_file(p, self.cfg.guard, self.cfg.matrix)
        if item.kind == "error":
            self.open_status.text = f"<span style='color:#b00020'>{_esc(item.error)}</span>"
            return
        # a page holds its files from the start; open the file in a new page with ?file=
        from urllib.parse import quote
        self.open_status.text = (f"<a href='?file={quote(str(p))}' target='_blank'>open {_esc(item.name)} "
                                 f"({item.kind}) in a new page</a>")

    # ---------------------------------------------------------------------------------------- maps
    def _map_section(self):
        from bokeh.layouts import column, row
        from bokeh.models import (
            BoxAnnotation,
            ColorBar,
            ColumnDataSource,
            CustomJSHover,
            Div,
            HoverTool,
            LinearColorMapper,
            NumericInput,
            RadioButtonGroup,
            Range1d,
            Select,
        )
        from bokeh.plotting import figure
        self.axis_toggle = RadioButtonGroup(labels=["excitation × emission", "excitation × loss"],
                                            active=0 if self.axis == "emission" else 1, name="axis_toggle")
        self.scale_toggle = RadioButtonGroup(labels=["linear", "√", "log"],
                                             active=("linear", "sqrt", "log").index(self.scale), name="scale_toggle")
        self.axis_toggle.on_change("active", lambda a, o, n: self._set_axis("emission" if n == 0 else "loss"))
        self.scale_toggle.on_change("active", lambda a, o, n: self._set_scale(("linear", "sqrt", "log")[n]))
        names = [f"{i}: {it.name}" for i, it in enumerate(self.maps)]
        self.active_select = Select(title="windows, channels and cuts on", options=names, value=names[0],
                                    name="active_select", width=300)
        self.active_select.on_change("value", lambda a, o, n: self._set_active(names.index(n)))

        img0 = S.map_image(self.maps[0].data, self.axis)
        self.x_range = Range1d(float(img0.x[0]), float(img0.x[-1]))
        self.y_range = Range1d(float(img0.y[0]), float(img0.y[-1]))
        self.map_figs, self.map_sources, self.map_glyphs, self.mappers, self.colorbars = [], [], [], [], []
        self.hovers = []
        hover_other = CustomJSHover(code="""
            const x = special_vars.x, y = special_vars.y;
            return (y - x).toFixed(3);""")
        for i, it in enumerate(self.maps):
            f = figure(width=520, height=440, x_range=self.x_range, y_range=self.y_range,
                       tools="pan,wheel_zoom,box_zoom,reset,save,tap", title=it.name, name=f"map_fig_{i}")
            src = ColumnDataSource(data={"image": [], "x": [], "y": [], "dw": [], "dh": []})
            mapper = LinearColorMapper(palette=scale_palette("linear"), nan_color=(0, 0, 0, 0))
            r = f.image(image="image", x="x", y="y", dw="dw", dh="dh", source=src, color_mapper=mapper,
                        name=f"map_{i}")
            units = it.data.units or "arb. units"
            cb = ColorBar(color_mapper=mapper, title=f"intensity ({units})", width=12)
            f.add_layout(cb, "right")
            f.yaxis.axis_label = "Excitation energy (eV)"
            hover = HoverTool(renderers=[r], tooltips=_tooltips(self.axis), formatters={"$data_x": hover_other, "@image": "printf"},
                              name=f"hover_{i}")
            f.add_tools(hover)
            self.hovers.append(hover)
            self.map_figs.append(f)
            self.map_sources.append(src)
            self.map_glyphs.append(r)
            self.mappers.append(mapper)
            self.colorbars.append(cb)
            f.on_event("tap", partial(self._tapped, i))
        # windows: editable boxes on the active map (emission view), and typed edges
        self.window_boxes, self.window_inputs = {}, {}
        win_rows = []
        for name in S.WINDOWED:
            lo, hi = self.windows[name]
            box = BoxAnnotation(left=lo, right=hi, fill_color=_COLOURS[name], fill_alpha=0.12,
                                line_color=_COLOURS[name], line_alpha=0.9, line_width=1.5, editable=True,
                                movable="x", resizable="x", name=f"window_{name}")
            box.on_change("left", partial(self._box_moved, name))
            box.on_change("right", partial(self._box_moved, name))
            self.window_boxes[name] = box
            a = NumericInput(title=f"{name} from (eV)", value=lo, mode="float", width=110, name=f"win_{name}_lo")
            b = NumericInput(title=f"{name} to (eV)", value=hi, mode="float", width=110, name=f"win_{name}_hi")
            a.on_change("value", partial(self._typed, name))
            b.on_change("value", partial(self._typed, name))
            self.window_inputs[name] = (a, b)
            win_rows.append(row(a, b))
        self.map_figs[self.active].renderers  # noqa: B018 - boxes go on the active map
        for box in self.window_boxes.values():
            self.map_figs[self.active].add_layout(box)
        self.channel_status = Div(name="channel_status", width=520, styles={"color": "#8a5300"})
        # channel traces beside the map, sharing its excitation axis
        self.channel_fig = figure(width=300, height=440, y_range=self.y_range, title="channels (each ÷ its max)",
                                  tools="pan,wheel_zoom,reset,save", name="channel_fig")
        self.channel_fig.xaxis.axis_label = "yield (normalised)"
        self.channel_sources = {}
        for name in S.CHANNELS:
            src = ColumnDataSource(data={"excitation": [], "value": [], "norm": []})
            self.channel_fig.line(x="norm", y="excitation", source=src, color=_COLOURS[name], legend_label=name,
                                  line_width=2, name=f"channel_{name}")
            self.channel_sources[name] = src
        self.channel_fig.legend.location = "top_left"
        self.channel_fig.legend.click_policy = "hide"
        # cuts
        self.cut_window = NumericInput(title="cut width (eV, 0 = a line)", value=0.0, mode="float", width=150,
                                       name="cut_width")
        self.cut_exc = NumericInput(title="cut at excitation (eV)", mode="float", width=150, name="cut_at_excitation")
        self.cut_sec = NumericInput(title="and emission/loss (eV)", mode="float", width=150, name="cut_at_second")
        from bokeh.models import Button
        cut_button = Button(label="cut here", width=90, name="cut_button")
        cut_button.on_click(lambda: self._cut(self.cut_exc.value, self.cut_sec.value))
        self.cut_point = ColumnDataSource(data={"x": [], "y": [], "excitation": [], "emission": [], "loss": []},
                                          name="cut_point")
        for f in self.map_figs:
            f.scatter(x="x", y="y", source=self.cut_point, marker="cross", size=14, color="white", line_width=2)
        self.cut_sources = {k: ColumnDataSource(data={"x": [], "y": []}, name=f"cut_{k}")
                            for k in ("emission", "loss", "excitation")}
        self.cut_fig_exc = figure(width=420, height=300, title="constant-emission and constant-loss cuts",
                                  tools="pan,wheel_zoom,box_zoom,reset,save", name="cut_fig_exc")
        self.cut_fig_exc.line("x", "y", source=self.cut_sources["emission"], color="#1f77b4",
                              legend_label="constant emission", line_width=2)
        self.cut_fig_exc.line("x", "y", source=self.cut_sources["loss"], color="#d62728",
                              legend_label="constant loss", line_width=2)
        self.cut_fig_exc.xaxis.axis_label = "Excitation energy (eV)"
        self.cut_fig_sec = figure(width=420, height=300, title="constant-excitation cut",
                                  tools="pan,wheel_zoom,box_zoom,reset,save", name="cut_fig_sec")
        self.cut_fig_sec.line("x", "y", source=self.cut_sources["excitation"], color="#2ca02c", line_width=2)
        self.cut_status = Div(name="cut_status", width=420)
        # difference
        self.diff_section = self._difference_section() if len(self.maps) >= 2 else Div(
            text="<p><i>Give two or more maps for a difference map.</i></p>")
        self._draw_maps()
        self._update_channels()
        controls = row(self.axis_toggle, self.scale_toggle, self.active_select)
        return column(Div(text="<h3>Maps</h3><p>Drag a window box (emission view) or type its edges; click the "
                               "map for cuts. Hover shows excitation, emission, loss and intensity.</p>"),
                      controls, row(*self.map_figs, self.channel_fig), self.channel_status,
                      row(column(*win_rows), column(row(self.cut_window, self.cut_exc, self.cut_sec, cut_button),
                                                    self.cut_status, row(self.cut_fig_exc, self.cut_fig_sec))),
                      self.diff_section)

    def _difference_section(self):
        from bokeh.layouts import column, row
        from bokeh.models import (
            ColorBar,
            ColumnDataSource,
            Div,
            LinearColorMapper,
            Select,
        )
        from bokeh.palettes import RdBu11
        from bokeh.plotting import figure
        names = [f"{i}: {it.name}" for i, it in enumerate(self.maps)]
        self.diff_a = Select(title="minus A", options=names, value=names[0], name="diff_a", width=250)
        self.diff_b = Select(title="difference of B", options=names, value=names[1], name="diff_b", width=250)
        self.diff_norm = Select(title="each map ÷", options=["max", "none"], value="max", name="diff_norm", width=120)
        for w in (self.diff_a, self.diff_b, self.diff_norm):
            w.on_change("value", lambda a, o, n: self._draw_difference())
        self.diff_source = ColumnDataSource(data={"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self.diff_mapper = LinearColorMapper(palette=list(reversed(RdBu11)), nan_color=(0, 0, 0, 0))
        f = figure(width=520, height=440, x_range=self.x_range, y_range=self.y_range, title="difference B − A",
                   tools="pan,wheel_zoom,box_zoom,reset,save,hover", name="diff_fig",
                   tooltips=[("excitation", "$y{0.000}"), ("second axis", "$x{0.000}"), ("B − A", "@image")])
        f.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.diff_source, color_mapper=self.diff_mapper,
                name="difference")
        f.add_layout(ColorBar(color_mapper=self.diff_mapper, title="B − A", width=12), "right")
        self.diff_fig = f
        self.diff_status = Div(name="diff_status", width=500)
        self._draw_difference()
        return column(Div(text="<h3>Difference</h3><p>Both maps are interpolated bilinearly onto the overlap of "
                               "their ranges, on the coarser of their steps.</p>"),
                      row(self.diff_b, self.diff_a, self.diff_norm), row(f, self.diff_status))

    # ---------------------------------------------------------------------------------------- map callbacks
    def _draw_maps(self):
        from bokeh.models import LinearColorMapper, LogColorMapper
        first = None
        for i, it in enumerate(self.maps):
            img = S.map_image(it.data, self.axis)
            first = first or img
            self.map_sources[i].data = {"image": [img.z], "x": [float(img.x[0]) - S._step(img.x) / 2],
                                        "y": [float(img.y[0]) - S._step(img.y) / 2], "dw": [img.dw],
                                        "dh": [img.dh]}
            lo, hi = _finite_range(img.z)
            if self.scale == "log":
                pos = img.z[np.isfinite(img.z) & (img.z > 0)]
                low = max(float(pos.min()) if pos.size else hi * 1e-4, hi * 1e-4)
                mapper = LogColorMapper(palette=_BASE_PALETTE, low=low, high=hi, nan_color=(0, 0, 0, 0))
            else:
                mapper = LinearColorMapper(palette=scale_palette(self.scale), low=max(lo, 0.0) if lo >= 0 else lo,
                                           high=hi, nan_color=(0, 0, 0, 0))
            self.map_glyphs[i].glyph.color_mapper = mapper
            self.colorbars[i].color_mapper = mapper
            self.mappers[i] = mapper
            blk = "" if img.block == (1, 1) else f" (shown as {img.block[0]}×{img.block[1]} block means)"
            self.map_figs[i].title.text = f"{it.name}{blk}"
            self.map_figs[i].xaxis.axis_label = ("Emission energy (eV)" if self.axis == "emission"
                                                 else "Energy loss (eV)")
            self.hovers[i].tooltips = _tooltips(self.axis)
        self.x_range.start, self.x_range.end = float(first.x[0]), float(first.x[-1])
        self.y_range.start, self.y_range.end = float(first.y[0]), float(first.y[-1])
        for box in self.window_boxes.values():
            box.visible = self.axis == "emission"

    def _set_axis(self, axis):
        self.axis = axis
        self._draw_maps()
        if len(self.maps) >= 2:
            self._draw_difference()
        if self.cuts:
            self._show_cut_point()

    def _set_scale(self, scale):
        self.scale = scale
        self._draw_maps()

    def _set_active(self, i):
        old = self.map_figs[self.active]
        for box in self.window_boxes.values():
            if box in old.center:
                old.center.remove(box)
            self.map_figs[i].add_layout(box)
        self.active = i
        self._update_channels()
        self._request_model()

    @contextlib.contextmanager
    def _quiet(self):
        """Set widgets from code without their callbacks answering (a box drag sets the inputs and back)."""
        self._building = True
        try:
            yield
        finally:
            self._building = False

    def _box_moved(self, name, attr, old, new):
        if self._building:
            return
        box = self.window_boxes[name]
        lo, hi = sorted((float(box.left), float(box.right)))
        a, b = self.window_inputs[name]
        with self._quiet():
            a.value, b.value = lo, hi
        self._set_window(name, lo, hi)

    def _typed(self, name, attr, old, new):
        if self._building:
            return
        a, b = self.window_inputs[name]
        if a.value is None or b.value is None:
            return
        lo, hi = float(a.value), float(b.value)
        box = self.window_boxes[name]
        with self._quiet():
            box.left, box.right = lo, hi
        self._set_window(name, lo, hi)

    def _set_window(self, name, lo, hi):
        self.windows[name] = (lo, hi)
        self._update_channels()
        if self.model_channel.value == name:
            self._request_model()

    def _update_channels(self):
        self.traces = S.channel_traces(self.rmap, self.windows)
        msgs = []
        for name, src in self.channel_sources.items():
            t = self.traces[name]
            if isinstance(t, Spectrum):
                m = np.nanmax(np.abs(t.intensity)) or 1.0
                src.data = {"excitation": t.energy.tolist(), "value": t.intensity.tolist(),
                            "norm": (t.intensity / m).tolist()}
            else:
                src.data = {"excitation": [], "value": [], "norm": []}
                msgs.append(_esc(t))
        self.channel_status.text = "<br>".join(msgs)

    def _tapped(self, i, event):
        if i != self.active:
            self.active_select.value = self.active_select.options[i]
        self.cut_exc.value, self.cut_sec.value = float(event.y), float(event.x)
        self._cut(event.y, event.x)

    def _cut(self, excitation, second):
        if excitation is None or second is None:
            self.cut_status.text = "type an excitation and an emission/loss energy"
            return
        w = float(self.cut_window.value or 0.0)
        self.cuts = S.cuts_at(self.rmap, float(excitation), float(second), self.axis, w)
        exc = float(excitation)
        emi = float(second) if self.axis == "emission" else exc - float(second)
        loss = exc - float(second) if self.axis == "emission" else float(second)
        self._cut_at = (exc, emi, loss)
        msgs = []
        for k, src in self.cut_sources.items():
            c = self.cuts[k]
            src.data = _spectrum_data(c)
            if not isinstance(c, Spectrum):
                msgs.append(_esc(c))
        self.cut_fig_sec.xaxis.axis_label = ("Energy loss (eV)" if self.rmap.on_loss_axis else "Emission energy (eV)")
        self.cut_fig_sec.title.text = f"constant excitation {exc:.3f} eV"
        self.cut_fig_exc.title.text = f"constant emission {emi:.3f} eV, constant loss {loss:.3f} eV"
        self.cut_status.text = "<br>".join(msgs)
        self._show_cut_point()

    def _show_cut_point(self):
        exc, emi, loss = self._cut_at
        x = emi if self.axis == "emission" else loss
        self.cut_point.data = {"x": [x], "y": [exc], "excitation": [exc], "emission": [emi], "loss": [loss]}

    def _diff_map(self, label):
        if label == MODEL_MAP:
            return getattr(self, "model_rmap", None)
        return self.maps[[f"{i}: {it.name}" for i, it in enumerate(self.maps)].index(label)].data

    def _draw_difference(self):
        a, b = self._diff_map(self.diff_a.value), self._diff_map(self.diff_b.value)
        if a is None or b is None:
            self.diff_status.text = "the model map is not computed (tick 'also simulate the map')"
            return
        try:
            d = S.difference_map(a, b, self.axis, self.diff_norm.value)
        except InputError as exc:
            self.diff_source.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
            self.diff_status.text = f"<span style='color:#b00020'>{_esc(str(exc))}</span>"
            return
        img = S.map_image(d, self.axis)
        self.diff_source.data = {"image": [img.z], "x": [float(img.x[0]) - S._step(img.x) / 2],
                                 "y": [float(img.y[0]) - S._step(img.y) / 2], "dw": [img.dw], "dh": [img.dh]}
        lo, hi = _finite_range(img.z)
        m = max(abs(lo), abs(hi))
        self.diff_mapper.low, self.diff_mapper.high = -m, m
        self.diff_status.text = (f"grid: {d.excitation.size} excitation × {img.x.size} {self.axis} points, "
                                 f"steps {np.median(np.diff(d.excitation)):.3g} and {S._step(img.x):.3g} eV")

    # ---------------------------------------------------------------------------------------- spectra
    def _spectra_section(self, spectra):
        from bokeh.layouts import column
        from bokeh.models import Div
        from bokeh.palettes import Category10_10
        from bokeh.plotting import figure
        f = figure(width=820, height=320, title="spectra and scans", tools="pan,wheel_zoom,box_zoom,reset,save,hover",
                   name="spectra_fig")
        k = 0
        for it in spectra:
            if it.kind == "spectrum":
                f.line(it.data.energy, it.data.intensity, legend_label=it.name, color=Category10_10[k % 10])
                k += 1
            else:
                for ch in _signal_channels(it.data):
                    y = np.asarray(it.data[ch], float)
                    if np.ptp(y) > 0:
                        m = np.max(np.abs(y))
                        f.line(it.data.energy, y / m, legend_label=f"{it.name} {ch} (÷ max)",
                               color=Category10_10[k % 10])
                        k += 1
        f.xaxis.axis_label = "Photon energy (eV)"
        f.legend.click_policy = "hide"
        f.add_layout(f.legend[0], "right")
        return column(Div(text="<h3>Spectra</h3><p>Scan channels that only count or repeat the energy "
                               "(monotonic columns) are left out of the plot.</p>"), f)

    # ---------------------------------------------------------------------------------------- model
    def _model_section(self):
        from bokeh.layouts import column, row
        from bokeh.models import (
            Button,
            Checkbox,
            ColumnDataSource,
            Div,
            MultiChoice,
            Select,
            TextInput,
        )

        from rixsim.cluster.tables import available_ions
        self.model_file_input = TextInput(title="model file (TOML, inside the allowed folders)",
                                          value=self.cfg.model_file, width=420, name="model_file")
        self.ion_select = Select(title="or an ion (atomic model, Oh)", options=list(available_ions()),
                                 value=self.cfg.ion if self.cfg.ion in available_ions() else "Ni2+",
                                 width=140, name="ion_select")
        load = Button(label="use this model", width=130, name="model_load")
        load.on_click(self._load_model)
        targets = []
        if self.maps:
            targets += list(S.CHANNELS)
        self.scans = [it for it in self.items if it.kind in ("spectrum", "scan")]
        for it in self.scans:
            if it.kind == "spectrum":
                targets.append(f"{it.name}")
            else:
                targets += [f"{it.name}:{c}" for c in it.data.names]
        monitors = ["none"] + sorted({c for it in self.scans if it.kind == "scan" for c in it.data.names})
        first = "PFY" if self.maps else targets[0]
        monitor = "none"
        if not self.maps:
            it = self.scans[0]
            if it.kind == "scan":
                sig = _signal_channels(it.data)
                mon = it.data.resolve("I0") if "I0" in it.data.aliases or "I0" in it.data.names else ""
                first = f"{it.name}:{next((c for c in sig if c != mon), sig[0] if sig else it.data.names[0])}"
                monitor = mon or "none"
        self.model_channel = Select(title="measured absorption", options=targets, value=first, width=220,
                                    name="model_channel")
        self.model_monitor = Select(title="÷ monitor (scans)", options=monitors, value=monitor, width=120,
                                    name="model_monitor")
        self.model_channel.on_change("value", lambda a, o, n: self._request_model())
        self.model_monitor.on_change("value", lambda a, o, n: self._request_model())
        self.map_too = Checkbox(label="also simulate the map (on the display grid)", active=False, name="map_too")
        self.map_too.on_change("active", lambda a, o, n: self._request_model())
        self.model_status = Div(name="model_status", width=600)
        self.sliders_box = column(name="sliders")
        from bokeh.plotting import figure
        self.xas_fig = figure(width=620, height=340, title="measured absorption and model (model × least-squares scale)",
                              tools="pan,wheel_zoom,box_zoom,reset,save,hover", name="xas_fig")
        self.measured_source = ColumnDataSource(data={"energy": [], "y": []}, name="measured_xas")
        self.model_source = ColumnDataSource(data={"energy": [], "raw": [], "y": [], "scale": []}, name="model_xas")
        self.xas_fig.scatter("energy", "y", source=self.measured_source, size=4, color="#444444", legend_label="measured")
        self.xas_fig.line("energy", "y", source=self.model_source, color="#d62728", line_width=2, legend_label="model")
        self.xas_fig.xaxis.axis_label = "Photon energy (eV)"
        # model map beside the measured one
        from bokeh.models import ColorBar, LinearColorMapper
        self.model_map_source = ColumnDataSource(data={"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self.model_mapper = LinearColorMapper(palette=scale_palette("linear"), nan_color=(0, 0, 0, 0))
        kw = {"x_range": self.x_range, "y_range": self.y_range} if self.maps else {}
        self.model_map_fig = figure(width=520, height=440, title="model map (× least-squares scale)",
                                    tools="pan,wheel_zoom,box_zoom,reset,save", name="model_map_fig", **kw)
        self.model_map_fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.model_map_source,
                                 color_mapper=self.model_mapper, name="model_map")
        self.model_map_fig.add_layout(ColorBar(color_mapper=self.model_mapper, width=12), "right")
        self.model_map_fig.visible = False
        # fit
        self.fit_vary = MultiChoice(title="fit these (scale is always fitted)", width=420, name="fit_vary",
                                    options=[], value=[])
        self.fit_button = Button(label="fit from current values", button_type="primary", width=180, name="fit_button")
        self.fit_button.on_click(self._start_fit)
        self.fit_apply = Button(label="move sliders to the fit", width=180, name="fit_apply", disabled=True)
        self.fit_apply.on_click(self._apply_fit)
        self.fit_status = Div(name="fit_status", width=620)
        self._load_model(initial=True)
        return column(Div(text="<h3>Model</h3><p>Sliders recompute the model in the background (results cached "
                               "on the parameter values); the page stays live meanwhile.</p>"),
                      row(self.model_file_input, self.ion_select, load),
                      row(self.model_channel, self.model_monitor, self.map_too),
                      row(self.sliders_box, column(self.xas_fig, self.model_status)),
                      self.model_map_fig,
                      row(self.fit_vary, self.fit_button, self.fit_apply), self.fit_status)

    def _measured(self) -> Spectrum:
        target = self.model_channel.value
        if target in S.CHANNELS:
            t = self.traces.get(target)
            if not isinstance(t, Spectrum):
                raise InputError(t or f"{target} is not available")
            return t
        name, _, ch = target.partition(":")
        it = next(i for i in self.scans if i.name == name)
        mon = "" if self.model_monitor.value == "none" else self.model_monitor.value
        return S.measured_xas(it, ch or "", monitor=mon) if it.kind == "scan" else it.data

    def _load_model(self, initial=False):
        from bokeh.models import Slider
        path = self.model_file_input.value.strip()
        try:
            if path:
                spec = S.ModelSpec.from_model_file(path if initial else self.cfg.guard.check(path))
            else:
                spec = S.ModelSpec(self.ion_select.value)
            try:
                energies = self._measured().energy
            except (InputError, StopIteration):
                energies = None
            ranges = S.slider_ranges(spec, energies)
            engine = S.ModelEngine(spec)
        except RixsimError as exc:
            self.model_status.text = f"<span style='color:#b00020'>model: {_esc(str(exc))}</span>"
            return
        self.spec, self.engine = spec, engine
        self.sliders = {}
        for name, (label, lo, hi, step, v) in ranges.items():
            s = Slider(title=label, start=lo, end=hi, step=step, value=v, width=300, name=f"slider_{name}",
                       format="0[.]000")
            s.on_change("value", lambda a, o, n: self._request_model())
            self.sliders[name] = s
        self.sliders_box.children = list(self.sliders.values())
        self.fit_vary.options = list(ranges)
        self.fit_vary.value = [k for k in ("tendq", "edge_offset") if k in ranges]
        self.model_status.text = f"model: {spec.ion} {spec.symmetry}" + (f" from {_esc(Path(spec.source).name)}"
                                                                         if spec.source else " (atomic)")
        self._request_model()

    def slider_values(self) -> dict:
        return {k: float(s.value) for k, s in self.sliders.items()}

    def _request_model(self):
        if self.engine is None or self._building and not hasattr(self, "sliders"):
            return
        try:
            data = self._measured()
        except (InputError, StopIteration) as exc:
            self.model_status.text = f"<span style='color:#b00020'>{_esc(str(exc))}</span>"
            return
        self.measured_source.data = {"energy": data.energy.tolist(), "y": data.intensity.tolist()}
        values, engine = self.slider_values(), self.engine
        want_map = bool(self.map_too.active) and self.rmap is not None
        img = S.map_image(self.rmap, self.axis) if want_map else None
        self.generation += 1
        gen = self.generation
        t0 = time.perf_counter()
        self.model_status.text = f"model: computing {engine.spec.ion} ({_fmt_values(values)}) …"

        def job():
            raw = engine.xas(data.energy, values)
            z = None
            if img is not None:
                on_loss = img.axis == "loss"
                z = engine.rixs_map(img.y, img.x, on_loss, values)
            return raw, z

        def done(result, error):
            self._later(self._model_done, gen, values, data, img, result, error, time.perf_counter() - t0)
        self.model_job.submit(job, done)

    def _model_done(self, gen, values, data, img, result, error, seconds):
        if error is not None:
            self.model_status.text = f"<span style='color:#b00020'>model: {_esc(str(error))}</span>"
            return
        if gen != self.generation:
            return                             # a newer request is on its way
        raw, z = result
        s = S.least_squares_scale(raw, data.intensity)
        self.model_source.data = {"energy": data.energy.tolist(), "raw": raw.tolist(), "y": (s * raw).tolist(),
                                  "scale": [s] * raw.size}
        if z is not None:
            zs = S.least_squares_scale(z.ravel(), S.sample_map(self.rmap, img.y, img.x, img.axis).ravel())
            self.model_map_source.data = {"image": [zs * z], "x": [float(img.x[0]) - S._step(img.x) / 2],
                                          "y": [float(img.y[0]) - S._step(img.y) / 2], "dw": [img.dw],
                                          "dh": [img.dh]}
            lo, hi = _finite_range(zs * z)
            self.model_mapper.low, self.model_mapper.high = max(lo, 0.0), hi
            self.model_map_fig.visible = True
            zz = zs * z
            self.model_rmap = (RixsMap(img.y, None, zz, loss=img.x, label="model") if img.axis == "loss"
                               else RixsMap(img.y, img.x, zz, label="model"))
            if hasattr(self, "diff_a"):
                for w in (self.diff_a, self.diff_b):
                    if MODEL_MAP not in w.options:
                        w.options = [*w.options, MODEL_MAP]
                if MODEL_MAP in (self.diff_a.value, self.diff_b.value):
                    self._draw_difference()
        else:
            self.model_map_fig.visible = False
        self.model_status.text = (f"model: done #{gen} ({_fmt_values(values)}) in {seconds:.2f} s; "
                                  f"{self.engine.n_computed} computed, cached on the parameters")

    # ---------------------------------------------------------------------------------------- fit
    def _start_fit(self):
        if self.fit_job is not None:
            self.fit_status.text = "a fit is running"
            return
        try:
            data = self._measured()
            job = S.FitJob(self.spec, data, self.slider_values(), list(self.fit_vary.value))
        except RixsimError as exc:
            self.fit_status.text = f"<span style='color:#b00020'>fit: {_esc(str(exc))}</span>"
            return
        self.fit_job = job
        self.fit_button.disabled = True
        t0 = time.perf_counter()
        self._fit_timer = self.doc.add_periodic_callback(
            lambda: setattr(self.fit_status, "text", f"fit running: {job.n_evaluations} model evaluations "
                                                     f"(at most {job.max_nfev}), {time.perf_counter() - t0:.0f} s"),
            300)

        def run():
            try:
                return job.run(), None
            except BaseException as exc:  # noqa: BLE001 - shown in the page
                return None, exc
        fut = self.cfg.executor.submit(run)
        fut.add_done_callback(lambda f: self._later(self._fit_done, job, *f.result(), time.perf_counter() - t0))

    def _fit_done(self, job, result, error, seconds):
        try:
            self.doc.remove_periodic_callback(self._fit_timer)
        except ValueError:
            pass
        self.fit_job = None
        self.fit_button.disabled = False
        if error is not None:
            self.fit_status.text = (f"<span style='color:#b00020'>fit failed after {job.n_evaluations} "
                                    f"evaluations: {_esc(str(error))}</span>")
            return
        self.fit_result = result
        h = result.health
        verdict = ("<b style='color:#1b7f3b'>trustworthy</b>" if h.trustworthy else
                   "<b style='color:#b00020'>not trustworthy</b>: " + _esc("; ".join(h.reasons)))
        vals = ", ".join(f"{k} = {result.values[k]:.6g} ± {result.sigmas.get(k, float('nan')):.2g}"
                         for k in result.varied)
        self.fit_status.text = (f"fit done in {seconds:.1f} s, {job.n_evaluations} model evaluations; "
                                f"health: {verdict}<br>{_esc(vals)}")
        self.fit_apply.disabled = False

    def _apply_fit(self):
        if self.fit_result is None:
            return
        for k, s in self.sliders.items():
            if k in self.fit_result.values:
                v = float(self.fit_result.values[k])
                s.start, s.end = min(s.start, v), max(s.end, v)
                s.value = v

    # ---------------------------------------------------------------------------------------- export
    def _export_section(self):
        from bokeh.layouts import column, row
        from bokeh.models import Button, Checkbox, Div, TextInput
        self.export_name = TextInput(title="export name", value="view", width=300, name="export_name")
        self.export_overwrite = Checkbox(label="overwrite existing files", active=False, name="export_overwrite")
        b = Button(label="export windows, cuts, model", width=220, name="export_button")
        b.on_click(self._export)
        self.export_status = Div(name="export_status", width=800)
        return column(Div(text="<h3>Export</h3><p>A model file of the sliders (&lt;name&gt;.toml), the windows "
                               "and cuts (&lt;name&gt;_view.toml), the channels (&lt;name&gt;_channels.csv) and "
                               "all of it in HDF5 (&lt;name&gt;_view.h5). Existing files are never replaced "
                               f"unless 'overwrite' is ticked. Export folder: <code>{_esc(self.cfg.out_dir)}"
                               "</code></p>"),
                      row(self.export_name, self.export_overwrite, b), self.export_status)

    def _export(self):
        try:
            written = S.export_view(self.cfg.out_dir, self.export_name.value, spec=self.spec,
                                    values=self.slider_values() if self.engine else {},
                                    windows=self.windows, cuts=self.cuts, channels=self.traces,
                                    source=self.maps[self.active].path if self.maps else "",
                                    rmap=self.rmap, overwrite=bool(self.export_overwrite.active))
        except (RixsimError, OSError) as exc:
            self.export_status.text = f"<span style='color:#b00020'>export refused: {_esc(str(exc))}</span>"
            return
        self.export_status.text = "written: " + ", ".join(_esc(str(p)) for p in written)


MODEL_MAP = "model map"


def _signal_channels(scan) -> list:
    """A scan's channels that are not monotonic (an index or an energy column repeats the scan axis)."""
    out = []
    for ch in scan.names:
        d = np.diff(np.asarray(scan[ch], float))
        if not (np.all(d > 0) or np.all(d < 0)):
            out.append(ch)
    return out


def _tooltips(axis: str) -> list:
    """Hover read-out of a map in the ``axis`` view: the other second-axis value is y − x (custom)."""
    if axis == "emission":
        return [("excitation (eV)", "$y{0.000}"), ("emission (eV)", "$x{0.000}"), ("loss (eV)", "$data_x{custom}"),
                ("intensity", "@image{%.6g}")]
    return [("excitation (eV)", "$y{0.000}"), ("emission (eV)", "$data_x{custom}"), ("loss (eV)", "$x{0.000}"),
            ("intensity", "@image{%.6g}")]


def _fmt_values(values) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in values.items())


def _esc(text) -> str:
    import html
    return html.escape(str(text))


def build_document(doc, cfg: ViewerConfig) -> Session:
    """Fill the Bokeh ``doc`` of one page: the files of ``cfg`` plus those of the request's ``?file=``
    arguments (already checked against the guard by the server)."""
    extra = []
    ctx = getattr(doc, "session_context", None)
    req = getattr(ctx, "request", None) if ctx is not None else None
    if req is not None:
        extra = [a.decode() if isinstance(a, bytes) else str(a) for a in req.arguments.get("file", [])]
    session = Session(doc, cfg, extra)
    cfg.sessions.append(session)
    return session
