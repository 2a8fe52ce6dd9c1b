"""The Colab check's own logic (tests/colab/check.py), without Colab's venv: it must be able to fail."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check  # noqa: E402

PINS = check.read_pins()


def test_pins_name_colabs_kernel_widgets_and_tensorflow():
    expected = {"ipywidgets": "7.7.1", "ipykernel": "6.17.1", "jupyter-client": "7.4.9", "notebook": "6.5.7",
                "widgetsnbextension": "3.6.10", "tensorflow": "2.20.0", "keras": "3.13.2", "numpy": "2.1.3",
                "matplotlib": "3.10.0", "scipy": "1.16.3", "pillow": "11.3.0", "protobuf": "5.29.6"}
    assert {k: PINS.get(k) for k in expected} == expected
    assert set(check.GUARDED) <= set(PINS)
    header = check.PINS.read_text().splitlines()[:3]
    assert "googlecolab/backend-info" in "".join(header) and "a72407924822ea377410b69f0a290150bcb5c9c2" in "".join(header)


def test_unchanged_pins_pass_and_new_packages_are_fine():
    installed = dict(PINS, cvhelpers="0.1.0", mtcnn="1.0.0")
    assert check.compare(PINS, installed) == []


def test_a_floor_above_colabs_pin_fails():
    """What `pip install` does with `ipywidgets>=8.1` in Colab: it replaces 7.7.1. The check must say so."""
    from packaging.requirements import Requirement

    floor = Requirement("ipywidgets>=8.1")
    assert not floor.specifier.contains(PINS["ipywidgets"])
    installed = dict(PINS, ipywidgets="8.1.5", widgetsnbextension="4.0.13")
    problems = check.compare(PINS, installed)
    assert problems == ["ipywidgets 7.7.1 -> 8.1.5 (Colab pins 7.7.1)",
                        "widgetsnbextension 3.6.10 -> 4.0.13 (Colab pins 3.6.10)"]
    removed = dict(PINS)
    del removed["numpy"]
    assert check.compare(PINS, removed) == ["numpy 2.1.3 -> removed (Colab pins 2.1.3)"]


def test_bad_pin_line_is_one_clear_error(tmp_path):
    f = tmp_path / "pins.txt"
    f.write_text("# header\nnumpy>=2\n")
    with pytest.raises(ValueError, match="not a name==version pin: 'numpy>=2'"):
        check.read_pins(f)


def test_missing_python_313_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setattr(check, "find_python", lambda: None)
    assert check.main(["--only", "venv"]) == 2
    err = capsys.readouterr().err
    assert "Python 3.13" in err and "pyenv install 3.13" in err and "COLAB_PYTHON" in err


def test_unknown_stage_and_notebook_are_refused(capsys):
    assert check.main(["--only", "venvv"]) == 2
    assert check.main(["--notebooks", "0"]) == 2
    err = capsys.readouterr().err
    assert "unknown stage(s) venvv" in err and "no notebook 0" in err
