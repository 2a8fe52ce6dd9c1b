"""Classroom assignments (assignments/NN_*.ipynb): built, self-checked and graded like a class would.

For EVERY source notebook: its solution scores full auto-graded marks, the blank student copy scores
0 and runs without raising, the copy with the source's ``wrong_answer`` mutation loses exactly that
question's points, and the student copy holds no solution code and no hidden test. Everything is
built once per session (into a temporary dist/) and the 3 copies of every assignment are graded by
the real grading path (a child process per notebook, otter without Docker), two at a time.
Plus: answers rounded as their prompt allows or computed another right way (float32, a Sequential
model...) pass the public and the hidden tests while wrong numbers still fail (issue 19), the Colab
path (a stub ``google.colab``), and ``cvhelpers grade`` on a folder of odd files.
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("otter", reason="the grading extra is not installed (pip install -e '.[grading]')")
nbformat = pytest.importorskip("nbformat")
yaml = pytest.importorskip("yaml")

from cvhelpers import assignments as A  # noqa: E402
from cvhelpers.nbtools import output_text as _outputs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SOURCES = A.sources(REPO / "assignments")
NAMES = [p.stem for p in SOURCES]
GRADE_TIMEOUT = 600
pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------------------------
# reading a source notebook
# --------------------------------------------------------------------------------------------

def _source(name):
    return nbformat.read(str(REPO / "assignments" / f"{name}.ipynb"), as_version=4)


def _blocks(nb):
    """Yield ``(cell, question, block)`` with block in {None, "solution", "tests"}."""
    question, block = None, None
    for cell in nb.cells:
        src = cell.source.strip()
        if cell.cell_type == "raw":
            if src.startswith("# BEGIN QUESTION"):
                question = yaml.safe_load(src.split("\n", 1)[1])["name"]
            elif src == "# END QUESTION":
                question = None
            elif src in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
                block = src.split()[-1].lower()
            elif src in ("# END SOLUTION", "# END TESTS"):
                block = None
            continue
        yield cell, question, block


def _solution_lines(nb) -> dict[str, set[str]]:
    """Per question, the code lines that only a solution has (marked lines, solution blocks)."""
    out: dict[str, set[str]] = {}
    for cell, q, block in _blocks(nb):
        if block != "solution":
            continue
        inside = False
        for line in cell.source.splitlines():
            s = line.strip()
            if cell.cell_type == "markdown":
                if len(s) > 20:
                    out.setdefault(q, set()).add(s)
            elif s.startswith("# BEGIN SOLUTION"):
                inside = True
            elif s.startswith("# END SOLUTION"):
                inside = False
            elif inside or s.endswith("# SOLUTION"):
                code = s.removesuffix("# SOLUTION").strip()
                if inside and len(code) > 12:
                    out.setdefault(q, set()).add(code)
                elif not inside and "=" in code:   # `x = f(42)  # SOLUTION`: the answer is after "="
                    answer = code.split("=", 1)[1].strip()
                    if len(answer) > 10:
                        out.setdefault(q, set()).add(answer)
    return out


def _hidden_tests(nb) -> list[str]:
    return [c.source for c, q, block in _blocks(nb) if block == "tests" and "hidden: true" in c.source]


def _code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type in ("code", "markdown"))


# --------------------------------------------------------------------------------------------
# session fixtures: build everything once, grade 3 copies of every assignment
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def built(tmp_path_factory):
    if not SOURCES:
        pytest.skip("no assignments/NN_*.ipynb")
    out = tmp_path_factory.mktemp("dist") / "assignments"
    t = time.monotonic()
    result = {b["name"]: b for b in A.build(src_dir=REPO / "assignments", out_dir=out, jobs=2, quiet=True)}
    print(f"\nbuilt {len(result)} assignments in {time.monotonic() - t:.0f} s")
    return result


def _mutated(name, solution_path: Path, dest: Path) -> Path:
    src = _source(name)
    wa = src.metadata["cvhelpers"]["wrong_answer"]
    nb = nbformat.read(str(solution_path), as_version=4)
    hits = [c for c in nb.cells if c.cell_type == "code" and wa["find"] in c.source]
    assert len(hits) == 1 and hits[0].source.count(wa["find"]) == 1, f"{name}: wrong_answer.find must occur once"
    hits[0].source = hits[0].source.replace(wa["find"], wa["replace"])
    nbformat.write(nb, str(dest))
    return dest


@pytest.fixture(scope="session")
def graded(built, tmp_path_factory):
    """``{(name, "solution"|"blank"|"wrong"): result of A.grade_one}`` for every assignment."""
    work = tmp_path_factory.mktemp("submissions")
    jobs = []
    for name, b in built.items():
        jobs.append((name, "solution", Path(b["solution"])))
        jobs.append((name, "blank", Path(b["student"])))
        jobs.append((name, "wrong", _mutated(name, Path(b["solution"]), work / f"{name}-wrong.ipynb")))
    t = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        futures = {key[:2]: pool.submit(A.grade_one, key[2], built[key[0]]["autograder"], GRADE_TIMEOUT) for key in jobs}
        results = {k: f.result() for k, f in futures.items()}
    print(f"\ngraded {len(results)} notebooks in {time.monotonic() - t:.0f} s (2 at a time); per notebook "
          "(wall s / CPU s of the grading process and its kernel):")
    for (n, v), r in sorted(results.items()):
        print(f"  {n:32} {v:9} {r['seconds']:6.1f} s  {r.get('cpu_seconds', float('nan')):6.1f} s CPU")
    return results


def _points(name):
    return {q["name"]: q["points"] for q in A.questions(_source(name)) if not q["manual"]}


# --------------------------------------------------------------------------------------------
# every source: format and conventions
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_source_follows_the_conventions(name):
    nb = _source(name)
    from cvhelpers.nbtools import problems
    assert problems(json.loads((REPO / "assignments" / f"{name}.ipynb").read_text())) == [], \
        "commit sources clean: python -m cvhelpers.nbtools strip assignments/*.ipynb"
    assert re.fullmatch(r"\d\d_[a-z0-9_]+", name) and (REPO / "notebooks" / f"{name}.ipynb").is_file(), \
        "an assignment has the same name as its lesson"
    config = yaml.safe_load(nb.cells[0].source.split("\n", 1)[1])
    assert nb.cells[0].source.startswith("# ASSIGNMENT CONFIG") and "name" not in config, \
        "no `name:` in the config: renamed submissions must still grade"
    setup = [c for c in nb.cells if c.cell_type == "code"][0]
    assert setup.source == A.SETUP_CELL.replace("{name}", name), "copy the setup cell of assignment 01 verbatim"
    qs = A.questions(nb)
    auto, manual = [q for q in qs if not q["manual"]], [q for q in qs if q["manual"]]
    assert len(auto) >= 4 and len(manual) >= 1, "at least 4 auto-graded and 1 manual question"
    assert [q["name"] for q in qs] == [f"q{i}" for i in range(1, len(qs) + 1)]
    text = _code(nb)
    for q in qs:
        n = q["points"]
        assert f"**{q['name']} ({n} point{'s' if n != 1 else ''}" in text, f"{q['name']}: state its points in the prompt"
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION") and "manual: true" not in cell.source:
            assert "all_or_nothing: true" in cell.source, cell.source
    wa = nb.metadata["cvhelpers"]["wrong_answer"]
    where = [(q, c.source.count(wa["find"])) for c, q, block in _blocks(nb) if block == "solution" and wa["find"] in c.source]
    assert where == [(wa["question"], 1)], f"wrong_answer.find must occur once, in {wa['question']}'s solution"
    assert _code(nb).count(wa["find"]) == 1


@pytest.mark.parametrize("name", NAMES)
def test_student_copy_has_no_solution_and_no_hidden_test(name, built):
    src = _source(name)
    path = Path(built[name]["student"])
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "no outputs"
    assert "cvhelpers" not in nb.metadata, "the wrong_answer mutation would give an answer away"
    assert [c.id for c in nb.cells] == [f"{name[:2]}-{i:03d}" for i in range(len(nb.cells))], "deterministic ids"
    student_text = _code(nb)
    outside = "\n".join(c.source for c, q, block in _blocks(src) if block is None)
    leaked = [(q, line) for q, lines in _solution_lines(src).items() for line in lines
              if line in student_text and line not in outside]
    assert not leaked, f"solution code in the student copy: {leaked[:3]}"
    assert "# BEGIN SOLUTION" not in student_text and "BEGIN TEST CONFIG" not in student_text
    blob = re.search(r'tests="([^"]+)"', student_text)
    assert blob, "the public tests are embedded in the setup cell"
    public = A.decode_tests(blob.group(1))
    assert sorted(public) == sorted(f"{q}.py" for q in _points(name))
    assert "'hidden': True" not in "".join(public.values())
    visible = "\n".join(c.source for c, q, block in _blocks(src) if "hidden: true" not in c.source)
    for hidden in _hidden_tests(src):
        own = [l.strip() for l in hidden.splitlines()[3:] if len(l.strip()) > 15 and l.strip() not in visible]
        assert own, f"{name}: a hidden test should check something the public ones do not: {hidden[:80]}"
        assert not any(l in student_text or l in "".join(public.values()) for l in own), \
            f"hidden test visible in the student copy: {own[:1]}"


@pytest.mark.parametrize("name", NAMES)
def test_solution_scores_full_marks(name, graded):
    r = graded[(name, "solution")]
    assert r["problem"] == "" and r["errors"] == [], r
    assert r["scores"] == {q: float(p) for q, p in _points(name).items()}, r


@pytest.mark.parametrize("name", NAMES)
def test_blank_student_copy_scores_zero_and_runs_without_raising(name, graded):
    r = graded[(name, "blank")]
    assert r["problem"] == "" and r["errors"] == [], r
    assert set(r["scores"]) == set(_points(name)) and sum(r["scores"].values()) == 0, r


@pytest.mark.parametrize("name", NAMES)
def test_one_wrong_answer_loses_exactly_that_questions_points(name, graded):
    q = _source(name).metadata["cvhelpers"]["wrong_answer"]["question"]
    r = graded[(name, "wrong")]
    want = {k: (0.0 if k == q else float(p)) for k, p in _points(name).items()}
    assert r["problem"] == "" and r["scores"] == want, r


# --------------------------------------------------------------------------------------------
# honest answers: a number rounded as its prompt allows, or a right answer computed another way
# (float32, a Sequential model, an ε in a division...), passes the public AND the hidden tests;
# wrong numbers still fail (issue 19)
# --------------------------------------------------------------------------------------------

def _question_tests(name, question, path=None):
    """``[(hidden, source)]``: the test cells of one question of a source notebook, in order."""
    nb = nbformat.read(str(path), as_version=4) if path else _source(name)
    return [("hidden: true" in c.source, c.source) for c, q, block in _blocks(nb) if q == question and block == "tests"]


def _failures(name, question, answers: dict, path=None) -> list[str]:
    """Run every test of ``question``, public and hidden, against the names a student's notebook
    defines (``answers``), as the grader does; one line per failing test."""
    out = []
    for hidden, src in _question_tests(name, question, path):
        env = {"__name__": "__main__", **answers}
        try:
            exec(compile(src, f"<{name} {question}>", "exec"), env)
        except Exception as exc:  # what the grader would report
            out.append(f"{'hidden' if hidden else 'public'}: {type(exc).__name__}: {str(exc)[:200]}")
    return out


def _encode_box_from_the_prompt(box, image_size=64, grid=8):
    """10 q4 written from its prompt, with other arithmetic than the solution's."""
    import numpy as np
    side = image_size / grid
    x1, y1, x2, y2 = box
    cx, cy = x1 + (x2 - x1) / 2, y1 + (y2 - y1) / 2
    col = int(np.clip(np.floor(cx / side), 0, grid - 1))   # a centre on the far border: the last cell
    row = int(np.clip(np.floor(cy / side), 0, grid - 1))
    return row, col, (cx - col * side) / side, (cy - row * side) / side, ((x2 - x1) / image_size) ** 0.5, ((y2 - y1) / image_size) ** 0.5


def _encode_box_t_below_1(box, image_size=64, grid=8):
    """10 q4 with 0 <= t < 1 forced on the far border (the centre moved back into the last cell)."""
    row, col, tx, ty, tw, th = _encode_box_from_the_prompt(box, image_size, grid)
    return row, col, min(tx, 0.99), min(ty, 0.99), tw, th


def _correlate2d_float32(image, kernel):
    """01 q1 in float32, with loops over the kernel (what Conv2D computes, in its precision)."""
    import numpy as np
    image, kernel = np.asarray(image, np.float32), np.asarray(kernel, np.float32)
    fh, fw = kernel.shape
    out = np.zeros((image.shape[0] - fh + 1, image.shape[1] - fw + 1), np.float32)
    for u in range(fh):
        for v in range(fw):
            out += kernel[u, v] * image[u:u + out.shape[0], v:v + out.shape[1]]
    return out


def _conv_layer_float32(x, w, b, stride=1):
    """02 q1 in float32 (what keras.layers.Conv2D computes)."""
    import numpy as np
    x, w, b = (np.asarray(a, np.float32) for a in (x, w, b))
    fh, fw, _, k = w.shape
    h2, w2 = (x.shape[0] - fh) // stride + 1, (x.shape[1] - fw) // stride + 1
    z = np.zeros((h2, w2, k), np.float32)
    for i in range(h2):
        for j in range(w2):
            patch = x[i * stride:i * stride + fh, j * stride:j * stride + fw]
            z[i, j] = np.tensordot(patch, w, axes=3) + b
    return z


def _lenet_with_relu_layers():
    """03 q2 with each ReLU and the softmax as layers of their own."""
    import keras
    L = keras.layers
    return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(8, 5, padding="same"), L.ReLU(), L.MaxPooling2D(2),
                             L.Conv2D(16, 5), L.Activation("relu"), L.MaxPooling2D(2), L.Flatten(),
                             L.Dense(120), L.ReLU(), L.Dense(84, activation="relu"), L.Dense(10), L.Softmax()])


def _gap_convnet_sequential(image_size):
    """05 q4 as a keras.Sequential (no InputLayer in model.layers)."""
    import keras
    L = keras.layers
    steps = [keras.Input((image_size, image_size, 3)), L.Rescaling(1 / 255)]
    for filters in (16, 32, 64):
        steps += [L.Conv2D(filters, 3, activation="relu", padding="same"), L.MaxPooling2D(2)]
    return keras.Sequential(steps + [L.GlobalAveragePooling2D(), L.Dense(1, activation="sigmoid")])


def _fine_tune_metric_acc(model, base, images, labels, learning_rate=1e-5, epochs=1):
    """08 q4 with metrics=["acc"]: the accuracy metric, which Keras logs as "acc"."""
    import keras
    from cvhelpers import transfer
    transfer.unfreeze_top(base, "mobilenet_0.25")
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate), loss="binary_crossentropy", metrics=["acc"])
    return model.fit(images, labels, epochs=epochs, batch_size=32, verbose=0)


def _photos(n=32, size=96, seed=0):
    """Stand-ins for 08's training photos (0-255) and labels: the tests of q4 only fine-tune on them."""
    import numpy as np
    rng = np.random.default_rng(seed)
    return {"images": rng.uniform(0, 255, (n, size, size, 3)).astype("float32"), "labels": rng.integers(0, 2, n).astype("float32")}


def _mean_iou_float32(y_true, y_pred, num_classes):
    """11 q3 from a float32 confusion matrix (as keras.metrics.MeanIoU keeps it)."""
    import numpy as np
    t, p = np.ravel(y_true).astype(int), np.ravel(y_pred).astype(int)
    cm = np.zeros((num_classes, num_classes), np.float32)
    np.add.at(cm, (t, p), 1)
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    return float(np.mean(tp[union > 0] / union[union > 0]))


def _grad_cam_eps(model, images, layer_name, class_index=None):
    """12 q3 the common way: divided by (max + 1e-8), one-hot scores, einsum."""
    import keras
    import numpy as np
    import tensorflow as tf
    probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        maps, probs = probe(tf.constant(np.asarray(images, "float32")), training=False)
        tape.watch(maps)
        cls = tf.argmax(probs, axis=1) if class_index is None else tf.fill([tf.shape(probs)[0]], tf.constant(class_index, tf.int64))
        scores = tf.reduce_sum(probs * tf.one_hot(cls, probs.shape[-1]), axis=1)
    weights = tf.reduce_mean(tape.gradient(scores, maps), axis=(1, 2))
    cam = tf.nn.relu(tf.einsum("nhwk,nk->nhw", maps, weights)).numpy()
    return cam / (cam.max(axis=(1, 2), keepdims=True) + 1e-8)


HONEST = {   # (assignment, question): the names an honest student's notebook defines
    ("10_object_detection", "q1"): lambda: {"iou_ab": 0.23},
    ("10_object_detection", "q3"): lambda: {"ap_3": 0.61, "ap_7": 0.67, "map_37": 0.64},   # 2 decimals, by hand
    ("10_object_detection", "q4"): lambda: {"encode_box": _encode_box_from_the_prompt},
    ("01_convolution_as_filtering", "q1"): lambda: {"correlate2d": _correlate2d_float32},
    ("02_convnet_building_blocks", "q1"): lambda: {"conv_layer": _conv_layer_float32},
    ("03_mnist_convnets", "q2"): lambda: {"lenet": _lenet_with_relu_layers},
    ("05_cats_vs_dogs_from_scratch", "q4"): lambda: {"make_gap_convnet": _gap_convnet_sequential},
    ("06_data_augmentation", "q2"): lambda: {"expected_zero_share": 0.25, "kept_value": 1.33, "inference_mean": 1.0},
    ("08_fine_tuning", "q2"): lambda: {"block45_tensors": 12, "block45_params": 12_979_200, "block45_share": 0.88},
    ("08_fine_tuning", "q4"): lambda: {"fine_tune": _fine_tune_metric_acc, **_photos()},
    ("11_semantic_segmentation", "q3"): lambda: {"mean_iou": _mean_iou_float32},
    ("12_inside_convnets", "q3"): lambda: {"grad_cam": _grad_cam_eps},
}

WRONG = {   # (assignment, question): answers of a wrong method, which the hidden tests must still reject
    ("10_object_detection", "q1"): [{"iou_ab": 0.24},                                      # +1 pixel per side
                                    {"iou_ab": 600 / 1600}],                               # overlap / area of A
    ("10_object_detection", "q3"): [{"ap_3": 0.60, "ap_7": 0.58, "map_37": 0.59},         # no interpolation
                                    {"ap_3": 0.63, "ap_7": 0.67, "map_37": 0.65}],        # VOC 2007's 11 points
    ("10_object_detection", "q4"): [{"encode_box": _encode_box_t_below_1}],               # t < 1 forced on the far border
    ("06_data_augmentation", "q2"): [{"expected_zero_share": 0.25, "kept_value": 1.0, "inference_mean": 1.0},
                                     {"expected_zero_share": 0.25, "kept_value": 0.75, "inference_mean": 0.75}],
    ("08_fine_tuning", "q2"): [{"block45_tensors": 12, "block45_params": 12_979_200, "block45_share": 0.87},
                            {"block45_tensors": 12, "block45_params": 12_979_200, "block45_share": 0.48}],   # block5 only
}


@pytest.mark.parametrize("name,question", sorted(HONEST), ids=[f"{n}-{q}" for n, q in sorted(HONEST)])
def test_honest_answers_pass_the_public_and_the_hidden_tests(name, question):
    assert _failures(name, question, HONEST[(name, question)]()) == []


@pytest.mark.parametrize("name,question", sorted(WRONG), ids=[f"{n}-{q}" for n, q in sorted(WRONG)])
def test_wrong_numbers_still_fail(name, question):
    for answers in WRONG[(name, question)]:
        failed = _failures(name, question, answers)
        assert any(f.startswith("hidden") for f in failed), (answers, failed)
    if (name, question) == ("10_object_detection", "q4"):   # the self-check says so too, before grading
        assert any(f.startswith("public") for f in _failures(name, question, WRONG[(name, question)][0]))


def _answered(path: Path, dest: Path, replace: dict[str, str], after: dict[str, str]) -> Path:
    """A copy of a built notebook with other answers: each ``replace`` key (found once) replaced, and
    after the cell that holds each ``after`` key a new code cell (a student's own version of a function)."""
    nb = nbformat.read(str(path), as_version=4)
    for find, new in replace.items():
        hits = [c for c in nb.cells if c.cell_type == "code" and find in c.source]
        assert len(hits) == 1 and hits[0].source.count(find) == 1, find
        hits[0].source = hits[0].source.replace(find, new)
    for find, source in after.items():
        (i,) = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and find in c.source]
        nb.cells.insert(i + 1, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, str(dest))
    return dest


def test_10_answers_rounded_to_2_decimals_and_the_prompts_border_rule_score_full_marks(built, tmp_path):
    """Graded for real: IoU and APs by hand to 2 decimals, encode_box written from the prompt."""
    name = "10_object_detection"
    if name not in built:
        pytest.skip(f"no {name}")
    b = built[name]
    sub = _answered(Path(b["solution"]), tmp_path / "rounded.ipynb",
                    replace={"iou_ab = (20 * 30) / (40 * 40 + 40 * 40 - 20 * 30)": "iou_ab = 0.23",
                             "ap_3 = voc_ap(np.array([1, 0, 1, 1, 0, 0, 1]), 5)": "ap_3 = 0.61",
                             "ap_7 = voc_ap(np.array([0, 1, 1]), 2)": "ap_7 = 0.67",
                             "map_37 = (ap_3 + ap_7) / 2": "map_37 = 0.64"},
                    after={"def encode_box(": inspect.getsource(_encode_box_from_the_prompt).replace(
                        "def _encode_box_from_the_prompt(", "def encode_box(")})
    r = A.grade_one(sub, b["autograder"], GRADE_TIMEOUT)
    assert r["problem"] == "" and r["errors"] == [], r
    assert r["scores"] == {q: float(p) for q, p in _points(name).items()}, r
    print(f"\n{name} with rounded answers graded in {r['seconds']:.0f} s ({r.get('cpu_seconds', 0):.0f} s CPU)")


# --------------------------------------------------------------------------------------------
# self-checks in "Colab": a stub google.colab, no notebook file and no tests/ folder in the cwd
# --------------------------------------------------------------------------------------------

COLAB_SHELL = '''\
"""Stub of Colab's shell module: only its name matters."""
'''

COLAB_STARTUP = '''\
# Colab imports google.colab before the first cell and runs a shell class from google.colab._shell.
import google.colab
from google.colab import _shell
_ip = get_ipython()
_ip.__class__ = type("Shell", (type(_ip),), {"__module__": "google.colab._shell"})
def _no_pip(line):  # the setup cell must not install anything here: cvhelpers is importable
    raise RuntimeError("%pip was called: " + line)
_ip.register_magic_function(_no_pip, "line", "pip")
'''


@pytest.fixture(scope="session")
def colab_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("colab")
    (root / "stub" / "google" / "colab").mkdir(parents=True)   # no google/__init__.py: a namespace
    (root / "stub" / "google" / "colab" / "__init__.py").write_text('"""Stub of google.colab."""\n')
    (root / "stub" / "google" / "colab" / "_shell.py").write_text(COLAB_SHELL)
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text(COLAB_STARTUP)
    content = root / "content"   # Colab's working directory: empty
    content.mkdir()
    env = A.child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(root / "stub"), env["PYTHONPATH"]])
    env["IPYTHONDIR"] = str(root / "ipython")
    return content, env


def _run_like_colab(path: Path, content: Path, env: dict):
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(   # a probe: where did this run, with which tests?
        'import os, sys\nprint("shell:", type(get_ipython()).__module__, "| otter imported:", "otter" in sys.modules, '
        '"| questions:", grader.questions(), "| cwd:", sorted(os.listdir()))'))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True)
    client.execute(cwd=str(content), env=env)
    assert not (content / "tests").exists() and not list(content.glob("*.ipynb"))
    return nb


@pytest.mark.skipif(not SOURCES, reason="no assignments")
@pytest.mark.parametrize("copy", ["solution", "student"])
def test_self_checks_work_in_colab(copy, built, colab_env):
    content, env = colab_env
    name = NAMES[0]
    nb = _run_like_colab(Path(built[name][copy]), content, env)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert not any(o.get("output_type") == "error" for o in setup.outputs), _outputs(setup)
    check = next(c for c in nb.cells if c.source.strip() == 'grader.check("q1")')
    out = _outputs(check)
    assert "ERROR" not in out and "q1 results" in out, out
    check_all = next(c for c in nb.cells if c.source.strip() == "grader.check_all()")
    out_all = _outputs(check_all)
    if copy == "solution":
        assert "q1 results: All test cases passed!" in out
        assert out_all.count("All test cases passed!") == len(_points(name)), out_all
    else:
        assert "All test cases passed" not in out and "failed" in out.lower(), out
        assert "All test cases passed" not in out_all
    # the checks really ran in "Colab" (the stub's shell), against the tests embedded in the copy
    probe = _outputs(nb.cells[-1])
    assert "shell: google.colab._shell | otter imported: False" in probe, probe   # the light checker
    assert f"questions: {sorted(_points(name), key=A.question_key)}" in probe and "cwd: []" in probe, probe


# --------------------------------------------------------------------------------------------
# `cvhelpers grade` on a folder of odd files
# --------------------------------------------------------------------------------------------

def _with_cell(path: Path, dest: Path, source: str) -> Path:
    nb = nbformat.read(str(path), as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(source))
    for c in nb.cells:
        c.metadata = {}   # what Colab's "Save a copy" may do: every cell's metadata gone
    nbformat.write(nb, str(dest))
    return dest


@pytest.mark.skipif(not SOURCES, reason="no assignments")
def test_cli_grades_a_folder_of_odd_files(built, tmp_path):
    name = NAMES[0]
    b = built[name]
    folder, slow = tmp_path / "submissions", tmp_path / "slow"
    folder.mkdir()
    slow.mkdir()
    (folder / f"Copy of {name}.ipynb").write_text(Path(b["solution"]).read_text())
    (folder / "alice.ipynb").write_text(Path(b["student"]).read_text())
    (folder / "bob.ipynb").write_bytes(b"PK\x03\x04 this is a zip, not a notebook")
    (folder / "readme.txt").write_text("not a submission")
    _with_cell(Path(b["solution"]), folder / "dave.ipynb", "import os\nos._exit(1)")
    _with_cell(Path(b["solution"]), slow / "carol.ipynb", "import time\nwhile True:\n    time.sleep(1)")

    def grade(folder, out, timeout):
        return subprocess.Popen([sys.executable, "-m", "cvhelpers.cli", "grade", name[:2], str(folder), "-o", str(out),
                                 "-j", "3", "-t", str(timeout), "--autograders", str(Path(b["autograder"]).parent)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=A.child_env(), cwd=tmp_path)

    t = time.monotonic()
    # the loop gets a short limit, the others a generous one (a shared CI machine can be slow)
    runs = [grade(folder, tmp_path / "scores.csv", 600), grade(slow, tmp_path / "slow.csv", 20)]
    (out, err), (slow_out, slow_err) = (p.communicate(timeout=900) for p in runs)
    took = time.monotonic() - t
    assert [p.returncode for p in runs] == [0, 0], err + slow_err
    rows = {row["file"]: row for row in csv.DictReader((tmp_path / "scores.csv").open())}
    assert sorted(rows) == sorted(["alice.ipynb", "bob.ipynb", f"Copy of {name}.ipynb", "dave.ipynb", "readme.txt"])
    possible = str(sum(_points(name).values()))
    full = rows[f"Copy of {name}.ipynb"]
    assert full["total"] == possible and full["possible"] == possible and full["problem"] == "", full
    assert rows["alice.ipynb"]["total"] == "0" and rows["alice.ipynb"]["problem"] == ""
    assert rows["bob.ipynb"]["problem"].startswith("not a notebook") and rows["bob.ipynb"]["total"] == "0"
    assert rows["dave.ipynb"]["problem"].startswith("the submission's process ended while running cell"), rows["dave.ipynb"]
    assert rows["dave.ipynb"]["total"] == "0"
    assert rows["readme.txt"]["problem"] == "not a notebook (.ipynb)" and "graded 5 file(s)" in out
    (carol,) = csv.DictReader((tmp_path / "slow.csv").open())
    assert carol["problem"].startswith("timed out after 20 s while running cell") and carol["total"] == "0", carol
    assert float(carol["seconds"]) < 60
    print(f"\ncvhelpers grade: 4 notebooks in {took:.0f} s (-j 3), and one stopped at its 20 s limit meanwhile")


def test_cli_grade_errors_are_one_line(tmp_path):
    env = A.child_env()
    (tmp_path / "alice.ipynb").write_text("{}")
    r = subprocess.run([sys.executable, "-m", "cvhelpers.cli", "grade", "99", str(tmp_path)],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("error: no assignment '99'"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    if SOURCES:
        r = subprocess.run([sys.executable, "-m", "cvhelpers.cli", "grade", NAMES[0][:2], str(tmp_path / "nope")],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        assert r.returncode == 1 and "is not a folder of submissions" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not SOURCES, reason="no assignments")
def test_a_missing_autograder_is_built_from_its_source(tmp_path, monkeypatch):
    calls = []

    def fake_build(names, src_dir=None, out_dir=None, quiet=False):
        calls.append((names, Path(src_dir), Path(out_dir)))
        return [{"autograder": str(Path(out_dir) / "autograder" / f"{names[0]}.zip")}]

    monkeypatch.setattr(A.grade, "build", fake_build)  # where find_autograder looks it up
    ag_dir = tmp_path / "dist" / "assignments" / "autograder"
    got = A.find_autograder(str(int(NAMES[0][:2])), ag_dir, REPO / "assignments")
    assert got == ag_dir / f"{NAMES[0]}.zip"
    assert calls == [([NAMES[0]], REPO / "assignments", ag_dir.parent)]
    with pytest.raises(ValueError, match="run `make assignments`"):
        A.find_autograder(NAMES[0], ag_dir, REPO / "assignments", build_missing=False)


def test_packed_tests_round_trip_and_damage_is_one_clear_error():
    files = {"q1.py": "OK_FORMAT = True\ntest = {'name': 'q1'}", "q2.py": "ü"}
    assert A.decode_tests(A.encode_tests(files)) == files
    with pytest.raises(ValueError, match="damaged"):
        A.decode_tests("not base64 at all!")
