"""cvhelpers.plots: figures have the right panels, titles and labels (pixels are not compared)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cvhelpers import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class FakeHistory:  # what keras.callbacks.History exposes
    def __init__(self, h):
        self.history = h


def test_plot_history_panels_and_lines():
    h = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "accuracy": [0.5, 0.7, 0.8],
         "val_accuracy": [0.4, 0.6, 0.7]}
    fig = plots.plot_history(FakeHistory(h), title="run 1")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert fig._suptitle.get_text() == "run 1"
    ax = fig.axes[1]
    assert len(ax.lines) == 2
    assert list(ax.lines[1].get_ydata()) == h["val_accuracy"]
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    assert ax.get_xlabel() == "epoch"


def test_plot_history_without_validation_and_errors():
    fig = plots.plot_history({"loss": [3, 2]}, metrics="loss")
    assert len(fig.axes[0].lines) == 1
    with pytest.raises(KeyError, match="accuracy"):
        plots.plot_history({"loss": [3, 2]})
    with pytest.raises(TypeError):
        plots.plot_history([1, 2])


def test_plot_history_other_runs_and_a_phase_boundary():
    h = {"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.8, 0.7, 0.6]}
    control = {"loss": [0.5, 0.45], "val_loss": [0.75, 0.72]}
    fig = plots.plot_history(h, metrics="loss", others={"control": (FakeHistory(control), 3)},
                             mark_epoch=2.5, mark_label="top block unfrozen")
    ax = fig.axes[0]
    assert list(ax.lines[2].get_xdata()) == [3, 4] and list(ax.lines[2].get_ydata()) == control["val_loss"]
    labels = ax.get_legend_handles_labels()[1]
    assert "validation loss, control" in labels and "top block unfrozen" in labels
    fig = plots.plot_history(h, metrics="loss", mark_epoch=3)
    assert "epoch kept (3)" in fig.axes[0].get_legend_handles_labels()[1]
    with pytest.raises(KeyError, match="control"):
        plots.plot_history(h, metrics="loss", others={"control": {"loss": [1.0]}})


def test_image_grid_layout_titles_and_colours():
    imgs = np.random.default_rng(0).random((5, 28, 28, 1))
    fig = plots.image_grid(imgs, labels=[0, 1, 2, 3, 4], preds=[0, 1, 2, 3, 9], ncols=3,
                           class_names=[f"c{i}" for i in range(10)])
    assert len(fig.axes) == 5  # 2 rows x 3 columns, the empty sixth panel removed
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:4] == ["c0", "c1", "c2", "c3"]
    assert titles[4] == "c4 (pred c9)"
    assert fig.axes[4].title.get_color() == "red"
    assert fig.axes[0].title.get_color() == "black"
    assert fig.axes[0].images[0].get_array().shape == (28, 28)


def test_image_grid_variable_sizes_and_rgb():
    imgs = [np.zeros((10, 7)), np.ones((31, 20)), np.zeros((5, 5, 3))]
    fig = plots.image_grid(imgs, titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    assert fig.axes[1].images[0].get_array().shape == (31, 20)
    assert fig.axes[2].images[0].get_array().shape == (5, 5, 3)


def test_image_grid_errors():
    with pytest.raises(ValueError, match="labels"):
        plots.image_grid(np.zeros((3, 4, 4)), labels=[1, 2])
    with pytest.raises(ValueError, match="at least one"):
        plots.image_grid([])
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(np.zeros((2, 4)))


def test_confusion_counts_matches_a_loop():
    rng = np.random.default_rng(1)
    yt, yp = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    ref = np.zeros((4, 4), int)
    for t, p in zip(yt, yp):
        ref[t, p] += 1
    assert np.array_equal(plots.confusion_counts(yt, yp), ref)
    assert plots.confusion_counts([0, 1], [1, 1], num_classes=5).shape == (5, 5)
    with pytest.raises(ValueError, match="length"):
        plots.confusion_counts([0, 1], [1])
    with pytest.raises(ValueError, match="num_classes"):
        plots.confusion_counts([0, 7], [1, 1], num_classes=3)


def test_confusion_matrix_figure():
    yt = [0, 0, 1, 1, 2, 2, 2]
    yp = [0, 1, 1, 1, 2, 0, 2]
    fig = plots.confusion_matrix(yt, yp, class_names=["zero", "one", "two"])
    ax = fig.axes[0]
    assert fig.counts.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["zero", "one", "two"]
    assert "71.43%" in ax.get_title()  # 5 of 7 right
    cell_texts = sorted(t.get_text() for t in ax.texts)
    assert cell_texts == sorted(str(v) for v in fig.counts.ravel())
    norm = plots.confusion_matrix(yt, yp, normalize=True, title="rows sum to 1")
    assert norm.axes[0].get_title() == "rows sum to 1"
    assert "0.67" in [t.get_text() for t in norm.axes[0].texts]


def test_most_confused():
    yt = [3, 3, 3, 5, 5, 0]
    yp = [5, 5, 3, 3, 5, 0]
    assert plots.most_confused(yt, yp, k=5) == [("3", "5", 2), ("5", "3", 1)]
    assert plots.most_confused(yt, yt) == []
    names = list("abcdef")
    assert plots.most_confused(yt, yp, k=1, class_names=names) == [("d", "f", 2)]


def test_feature_maps():
    a = np.random.default_rng(2).random((1, 12, 12, 32))
    fig = plots.feature_maps(a, n=6, ncols=3, title="conv1")
    assert len(fig.axes) == 6
    assert fig.axes[5].get_title() == "ch 5"
    assert fig._suptitle.get_text() == "conv1"
    assert np.allclose(fig.axes[2].images[0].get_array(), a[0, ..., 2])
    assert len(plots.feature_maps(a[0, ..., :4], n=16).axes) == 4  # n capped by the channels
    with pytest.raises(ValueError, match="ONE image"):
        plots.feature_maps(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match="shape"):
        plots.feature_maps(np.zeros((4, 4)))


def test_draw_boxes_rectangles_and_texts():
    fig, ax = plt.subplots()
    ax.imshow(np.zeros((20, 20)))
    rects = plots.draw_boxes(ax, np.array([[1, 2, 5, 9], [10, 10, 19, 12]]), "red",
                             labels=[3, "cat"], scores=[0.5, 0.25])
    assert [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in rects] == \
        [(0.5, 1.5, 4.0, 7.0), (9.5, 9.5, 9.0, 2.0)]
    assert [t.get_text() for t in ax.texts] == ["3 0.50", "cat 0.25"]
    assert len(ax.patches) == 2
    # one box given flat, no text; no boxes at all
    assert len(plots.draw_boxes(ax, [0, 0, 4, 4])) == 1 and len(ax.texts) == 2
    assert plots.draw_boxes(ax, np.zeros((0, 4))) == []


def test_draw_boxes_errors():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="one entry per box"):
        plots.draw_boxes(ax, [[0, 0, 4, 4]], labels=[1, 2])
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        plots.draw_boxes(ax, [[0, 0, 4]])
    with pytest.raises(ValueError, match="x2 >= x1"):
        plots.draw_boxes(ax, [[5, 5, 2, 8]])
