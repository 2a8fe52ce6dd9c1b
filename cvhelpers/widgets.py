"""Interactive filter explorers built from core ipywidgets and matplotlib only.

Each explorer draws its figure with matplotlib into PNG bytes and shows them in **one**
``ipywidgets.Image`` that is updated in place, so moving a slider never stacks new figures, and
the same code works in JupyterLab, classic Notebook and Google Colab (no ipympl, no third-party
widgets)::

    >>> from cvhelpers.widgets import kernel_explorer
    >>> w = kernel_explorer()          # doctest: +SKIP
    >>> w                              # doctest: +SKIP

(The last expression of a cell displays the widget.) Every explorer keeps the array it last showed in ``.output`` so that tests (and curious
students) can check it against :mod:`cvhelpers.filters`.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np

from . import filters as F
from .checks import positive_int

__all__ = ["kernel_explorer", "gaussian_explorer", "sobel_explorer", "to_gray",
           "KernelExplorer", "GaussianExplorer", "SobelExplorer"]

OWN = "your image"


def to_gray(image) -> np.ndarray:
    """A student's image (grey or RGB/RGBA, integers or floats) as a float32 grey array in [0, 1].

    >>> g = to_gray(np.full((5, 5, 3), 255, dtype=np.uint8))
    >>> g.shape, round(float(g.max()), 4)
    ((5, 5), 1.0)
    """
    a = np.asarray(image)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"image must be a numeric array, got dtype {a.dtype}")
    if a.ndim == 3 and a.shape[2] in (3, 4):
        a = a[:, :, :3]
    elif a.ndim != 2:
        raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {a.shape}")
    if min(a.shape[:2]) < 5:
        raise ValueError(f"image must be at least 5×5 pixels, got {a.shape[:2]}")
    if np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float32) / (255.0 if a.max() <= 255 else float(np.iinfo(a.dtype).max))
    else:
        a = a.astype(np.float32)
        lo, hi = float(a.min()), float(a.max())
        if lo < 0 or hi > 1:                                   # rescale anything else to 0..1
            a = (a - lo) / (hi - lo if hi > lo else 1.0)
    if a.ndim == 3:
        a = F.to_gray(a)                                     # the course's one set of luminance weights
    return a


def _png(fig) -> bytes:
    """Render a matplotlib Figure (no pyplot: nothing leaks into the notebook) to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight", pad_inches=0.1)
    return buf.getvalue()


def _figure(ncols: int, width: float = 11.0, height: float = 3.8):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=80, layout="constrained")
    return fig, fig.subplots(1, ncols)


def _show_kernel(ax, k: np.ndarray, title: str) -> None:
    lim = max(float(np.abs(k).max()), 1e-9)
    ax.imshow(k, cmap="RdBu_r", vmin=-lim, vmax=lim)
    if k.shape[0] <= 7:
        for (i, j), v in np.ndenumerate(k):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=9 if k.shape[0] <= 5 else 7,
                    color="white" if abs(v) > 0.6 * lim else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)


def _show_image(ax, img: np.ndarray, title: str, robust: bool = False, cmap: str = "gray") -> None:
    if robust:   # signed or out-of-range outputs: stretch the 0.5–99.5 % range to black..white
        lo, hi = np.percentile(img, [0.5, 99.5])
        ax.imshow(img, cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1e-9)
    else:
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title(title)


class _Explorer(widgets.VBox):
    """Shared parts: an image menu, one Image view updated in place, and a cache of images."""

    css = "cvh-explorer"

    def __init__(self, image=None, max_size: int = 256):
        self._max_size = positive_int(max_size, "max_size")
        self._images: dict[str, np.ndarray] = {}
        options = list(F.SAMPLE_IMAGES)
        if image is not None:
            self._images[OWN] = self._shrink(to_gray(image))
            options.insert(0, OWN)
        self.image_menu = widgets.Dropdown(options=options, value=options[0], description="image")
        self.view = widgets.Image(format="png")
        self.view.add_class("cvh-view")
        self.info = widgets.HTML()
        self.output: np.ndarray | None = None
        self.renders = 0
        self._busy = False
        super().__init__()
        self.add_class(self.css)

    def _shrink(self, img: np.ndarray) -> np.ndarray:
        scale = self._max_size / max(img.shape)
        if scale < 1:
            from skimage.transform import rescale
            img = rescale(img, scale, anti_aliasing=True).astype(np.float32)
        return img

    @property
    def image(self) -> np.ndarray:
        """The grey float image currently chosen in the menu."""
        name = self.image_menu.value
        if name not in self._images:
            self._images[name] = F.sample_image(name, gray=True, max_size=self._max_size)
        return self._images[name]

    def _set_view(self, fig) -> None:
        self.view.value = _png(fig)
        self.renders += 1

    def _on_change(self, _change=None) -> None:
        if not self._busy:
            self.render()

    def render(self) -> None:  # pragma: no cover - each explorer overrides it
        raise NotImplementedError


class KernelExplorer(_Explorer):
    """Input | kernel | output, live: see :func:`kernel_explorer`."""

    css = "cvh-kernel-explorer"

    def __init__(self, image=None, kernel: str = "Sobel x", max_size: int = 256):
        super().__init__(image, max_size)
        if kernel not in F.PRESETS:
            raise ValueError(f"unknown kernel {kernel!r}; choose one of: {', '.join(F.PRESETS)}")
        self.preset_menu = widgets.Dropdown(options=list(F.PRESETS) + ["custom"], value=kernel,
                                            description="kernel")
        self.preset_menu.add_class("cvh-preset")
        self.size = widgets.ToggleButtons(options=[("3×3", 3), ("5×5", 5)], value=3, description="grid",
                                          style={"button_width": "50px", "description_width": "60px"})
        self.padding = widgets.ToggleButtons(options=list(F.MODES), value="same", description="padding",
                                             style={"button_width": "60px", "description_width": "60px"})
        self.stride = widgets.IntSlider(value=1, min=1, max=4, description="stride")
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_template_columns="repeat(3, 64px)"))
        self.weights: list[widgets.FloatText] = []
        self._build_grid(F.preset(kernel))
        for w in (self.image_menu, self.padding, self.stride):
            w.observe(self._on_change, "value")
        self.preset_menu.observe(self._on_preset, "value")
        self.size.observe(self._on_size, "value")
        controls = widgets.VBox([self.image_menu, self.preset_menu, self.size, self.padding, self.stride])
        self.children = [widgets.HBox([controls, widgets.VBox([widgets.HTML("<b>weights</b>"), self.grid])]),
                         self.info, self.view]
        self.render()

    # -- the grid of weights -------------------------------------------------------------------
    def _build_grid(self, k: np.ndarray) -> None:
        n = k.shape[0]
        self._busy = True
        try:
            self.size.value = n
            self.weights = []
            for v in k.ravel():
                box = widgets.FloatText(value=round(float(v), 4), layout=widgets.Layout(width="60px"))
                box.add_class("cvh-weight")
                box.observe(self._on_weight, "value")
                self.weights.append(box)
            self.grid.layout.grid_template_columns = f"repeat({n}, 64px)"
            self.grid.children = self.weights
        finally:
            self._busy = False

    @property
    def kernel(self) -> np.ndarray:
        """The kernel as typed in the grid."""
        n = self.size.value
        return np.array([w.value for w in self.weights], dtype=float).reshape(n, n)

    def set_kernel(self, kernel) -> None:
        """Put a 3×3 or 5×5 array of your own in the grid (the menu then says 'custom')."""
        k = np.asarray(kernel, dtype=float)
        if k.shape not in ((3, 3), (5, 5)):
            raise ValueError(f"the grid holds a 3×3 or 5×5 kernel, got shape {k.shape}")
        self._busy = True
        try:
            self.preset_menu.value = "custom"
        finally:
            self._busy = False
        self._build_grid(k)
        self.render()

    def _on_preset(self, change) -> None:
        if self._busy or change["new"] == "custom":
            return
        self._build_grid(F.preset(change["new"]))
        self.render()

    def _on_weight(self, _change) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self.preset_menu.value = "custom"
        finally:
            self._busy = False
        self.render()

    def _on_size(self, change) -> None:
        if self._busy:
            return
        old = np.array([w.value for w in self.weights], dtype=float)
        old = old.reshape(int(round(len(old) ** 0.5)), -1)
        new = np.zeros((change["new"], change["new"]))
        if change["new"] > old.shape[0]:       # 3 → 5: the old kernel in the middle of zeros
            new[1:4, 1:4] = old
        else:                                  # 5 → 3: keep the middle
            new = old[1:4, 1:4]
        self._busy = True
        try:
            self.preset_menu.value = "custom"
        finally:
            self._busy = False
        self._build_grid(new)
        self.render()

    # -- drawing ---------------------------------------------------------------------------------
    def render(self) -> None:
        """Filter the chosen image with the grid's kernel and redraw the one figure."""
        img, k = self.image, self.kernel
        mode, s = self.padding.value, self.stride.value
        out = F.correlate2d(img, k, mode, s)
        self.output = out
        fig, (a0, a1, a2) = _figure(3)
        _show_image(a0, img, f"input {img.shape[0]}×{img.shape[1]}")
        _show_kernel(a1, k, f"kernel ({self.preset_menu.value}), sum {k.sum():.3g}")
        in_range = out.min() >= -1e-6 and out.max() <= 1 + 1e-6
        _show_image(a2, out, f"output {out.shape[0]}×{out.shape[1]} ('{mode}', stride {s})",
                    robust=not in_range)
        self._set_view(fig)
        self.info.value = (f"output range {out.min():.3g} … {out.max():.3g}"
                           + ("" if in_range else " (shown stretched: 0.5–99.5 % → black–white)"))


def kernel_explorer(image=None, kernel: str = "Sobel x", max_size: int = 256) -> KernelExplorer:
    """Pick an image and a preset kernel (or type the weights of a 3×3/5×5 grid), padding and
    stride, and see input | kernel | output side by side, redrawn in place on every change.

    ``image``: your own array (grey or RGB, any numeric dtype) — it becomes the first menu
    entry; otherwise the scikit-image/scikit-learn sample photos. Images are shrunk to
    ``max_size`` pixels on the longer side so that redrawing stays fast.

    >>> w = kernel_explorer(kernel="box blur 3×3")      # doctest: +SKIP
    >>> w.preset_menu.value = "Laplacian 4"; w.output.shape   # doctest: +SKIP
    (256, 256)
    """
    return KernelExplorer(image, kernel, max_size)


class GaussianExplorer(_Explorer):
    """A σ slider for Gaussian blur: see :func:`gaussian_explorer`."""

    css = "cvh-gaussian-explorer"

    def __init__(self, image=None, sigma: float = 2.0, max_size: int = 256):
        super().__init__(image, max_size)
        self.sigma = widgets.FloatSlider(value=sigma, min=0.3, max=8.0, step=0.1, description="σ",
                                         continuous_update=False)
        for w in (self.image_menu, self.sigma):
            w.observe(self._on_change, "value")
        self.children = [widgets.HBox([self.image_menu, self.sigma]), self.info, self.view]
        self.render()

    def render(self) -> None:
        """Blur with σ (separably: a 1-D Gaussian along rows, then along columns) and redraw."""
        img, sigma = self.image, float(self.sigma.value)
        k = F.gaussian(sigma)
        g = k.sum(axis=0)                        # the 1-D Gaussian the 2-D kernel is made of
        out = F.correlate2d(F.correlate2d(img, g[None, :], "same"), g[:, None], "same")
        self.output = out
        fig, (a0, a1, a2) = _figure(3)
        _show_image(a0, img, "input")
        a1.imshow(k, cmap="viridis")
        a1.set_title(f"Gaussian kernel {k.shape[0]}×{k.shape[1]} (σ = {sigma:.1f})")
        a1.set_xticks([])
        a1.set_yticks([])
        _show_image(a2, out, "blurred (zeros outside: dark rim)")
        self._set_view(fig)
        self.info.value = (f"kernel size 2·ceil(3σ)+1 = {k.shape[0]}; as two 1-D passes: "
                           f"{2 * k.shape[0]} instead of {k.size} multiplications per pixel")


def gaussian_explorer(image=None, sigma: float = 2.0, max_size: int = 256) -> GaussianExplorer:
    """A slider for the Gaussian σ: the kernel grows (size 2·ceil(3σ)+1) and the blur with it.

    >>> w = gaussian_explorer(sigma=1.0)        # doctest: +SKIP
    """
    return GaussianExplorer(image, sigma, max_size)


class SobelExplorer(_Explorer):
    """A direction slider for Sobel derivatives: see :func:`sobel_explorer`."""

    css = "cvh-sobel-explorer"

    def __init__(self, image=None, angle: float = 0.0, max_size: int = 256):
        super().__init__(image, max_size)
        self.angle = widgets.IntSlider(value=int(angle), min=0, max=345, step=15, description="angle °",
                                       continuous_update=False)
        for w in (self.image_menu, self.angle):
            w.observe(self._on_change, "value")
        self.children = [widgets.HBox([self.image_menu, self.angle]), self.info, self.view]
        self.render()

    def render(self) -> None:
        """Derivative along the chosen direction, next to the gradient magnitude and direction."""
        img = self.image
        k = F.directional_sobel(self.angle.value)
        out = F.correlate2d(img, k, "same")
        gx, gy = F.sobel_gradient(img)
        mag, ang = F.gradient_magnitude(gx, gy), F.gradient_direction(gx, gy)
        self.output = out
        from matplotlib.colors import hsv_to_rgb

        hsv = np.stack([(ang + np.pi) / (2 * np.pi), np.ones_like(mag),
                        np.clip(mag / (np.percentile(mag, 99) + 1e-9), 0, 1)], axis=-1)
        fig, axes = _figure(4, width=13)
        _show_kernel(axes[0], k, f"cos·Gx + sin·Gy at {self.angle.value}°")
        _show_image(axes[1], out, "derivative in that direction", robust=True)
        _show_image(axes[2], mag, "magnitude √(Gx² + Gy²)", robust=True)
        axes[3].imshow(hsv_to_rgb(hsv))
        axes[3].set_axis_off()
        axes[3].set_title("direction (hue) × magnitude")
        self._set_view(fig)
        self.info.value = ("bright = brightness grows in the slider's direction, dark = it falls; "
                           "0° points right, 90° down (image rows grow downwards)")


def sobel_explorer(image=None, angle: float = 0.0, max_size: int = 256) -> SobelExplorer:
    """A slider for the direction of a steered Sobel derivative, with the gradient magnitude
    and a colour-coded gradient direction of the same image.

    >>> w = sobel_explorer(angle=45)            # doctest: +SKIP
    """
    return SobelExplorer(image, angle, max_size)
