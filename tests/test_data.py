"""The data layer: lookup order, mirrors, offline mode, loaders on the real offline mirror."""

from __future__ import annotations

import gzip
import io
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cvhelpers import data as D
from cvhelpers.datasets import oxford_pets as oxford_pets_module  # oxford_pets() fetches through it
from cvhelpers.download import DataError


@pytest.fixture
def tiny_registry(monkeypatch, server):
    """Register a small dataset whose official URL is on the local server."""
    payload = b"tiny dataset bytes" * 100
    h = server.add("tiny.bin", payload)
    ds = D.Dataset("tiny", "a tiny test dataset", (D.Artifact("tiny.bin", (h,), len(payload), (server.url("ok", "tiny.bin"),)),),
                   "test licence", "test citation")
    monkeypatch.setitem(D.REGISTRY, "tiny", ds)
    return payload


def test_registry_entries_are_complete():
    for name, ds in D.REGISTRY.items():
        assert ds.name == name and ds.title and ds.licence and ds.citation
        for art in ds.artifacts:  # the main form: official URL, or a note saying where to get it
            assert art.urls or ds.note, f"{name}: a mirror-only file must say where to get it"
        for form in (ds.artifacts, *ds.alternatives):
            for art in form:
                for h in art.hashes:
                    algo, digest = h.split(":")
                    assert len(digest) == {"sha256": 64, "md5": 32, "gitblob": 40}[algo]


def test_official_download_into_cache(clean_env, tiny_registry, server):
    (p,) = D.fetch("tiny", progress=False)
    assert p == clean_env / "tiny.bin" and p.read_bytes() == tiny_registry
    assert D.find("tiny") == [p]


def test_data_dir_comes_before_cache_and_is_never_written(clean_env, tiny_registry, tmp_path, monkeypatch, server):
    ro = tmp_path / "classroom share"
    ro.mkdir()
    (ro / "tiny.bin").write_bytes(tiny_registry)
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(ro))
    before = sorted(p.name for p in ro.iterdir())
    assert D.fetch("tiny") == [ro / "tiny.bin"]
    assert server.count("ok", "tiny.bin") == 0
    assert sorted(p.name for p in ro.iterdir()) == before  # no lock files or temp files there


def test_wrong_file_in_data_dir_is_ignored(clean_env, tiny_registry, tmp_path, monkeypatch):
    ro = tmp_path / "share"
    ro.mkdir()
    (ro / "tiny.bin").write_bytes(b"something else")
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(ro))
    (p,) = D.fetch("tiny", progress=False)
    assert p.parent == clean_env  # the bad copy was skipped, a good one downloaded to the cache


def test_mirror_is_tried_before_official(clean_env, tiny_registry, monkeypatch, server):
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{server.base}/404, {server.base}/ok")
    D.fetch("tiny", progress=False)
    assert server.count("404", "tiny.bin") == 1 and server.count("ok", "tiny.bin") == 1


def test_bad_mirror_falls_back_to_official(clean_env, tiny_registry, monkeypatch, server):
    server.files["tiny.bin.wrong"] = b"x"
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{server.base}/404")
    (p,) = D.fetch("tiny", progress=False)
    assert p.read_bytes() == tiny_registry


def test_offline_never_touches_the_network(clean_env, tiny_registry, monkeypatch, server):
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    t = time.monotonic()
    with pytest.raises(DataError) as err:
        D.fetch("tiny")
    assert time.monotonic() - t < 5
    assert server.hits == {}
    msg = str(err.value)
    assert "offline" in msg and "tiny.bin" in msg and server.url("ok", "tiny.bin") in msg and "\n" not in msg


def test_bad_flag_value_is_explained(monkeypatch):
    monkeypatch.setenv("CVHELPERS_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="CVHELPERS_OFFLINE"):
        D.offline()


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset 'nope'.*mnist"):
        D.fetch("nope")


def test_mirror_only_file_error_says_where_to_get_it(clean_env):
    with pytest.raises(DataError, match="no official download URL.*course mirror"):
        D.fetch("oxford_pets_subset")


def test_fashion_official_gz_files_from_a_mirror(clean_env, monkeypatch, server):
    """Without the course bundle, Fashion-MNIST is read from the four official idx.gz files."""
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": (16, rng.integers(0, 255, (3, 28, 28), dtype=np.uint8)),
              "train-labels-idx1-ubyte.gz": (8, np.array([1, 2, 3], np.uint8)),
              "t10k-images-idx3-ubyte.gz": (16, rng.integers(0, 255, (2, 28, 28), dtype=np.uint8)),
              "t10k-labels-idx1-ubyte.gz": (8, np.array([4, 5], np.uint8))}
    arts = []
    for fname, (offset, arr) in arrays.items():
        blob = gzip.compress(b"\0" * offset + arr.tobytes())
        h = server.add(fname, blob)
        arts.append(D.Artifact(fname, (h,), len(blob), ("http://127.0.0.1:9/unreachable/" + fname,)))
    real = D.REGISTRY["fashion_mnist"]
    monkeypatch.setitem(D.REGISTRY, "fashion_mnist", D.Dataset("fashion_mnist", real.title, tuple(arts), real.licence,
                                                                real.citation, alternatives=real.alternatives))
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{server.base}/ok")
    (xtr, ytr), (xte, yte) = D.load_fashion_mnist(verbose=False)
    assert xtr.shape == (3, 28, 28) and list(ytr) == [1, 2, 3] and list(yte) == [4, 5]
    np.testing.assert_array_equal(xtr, arrays["train-images-idx3-ubyte.gz"][1])


# ----------------------------------------------------------------------------- the real mirror
def test_load_mnist_from_mirror(clean_env, mirror_dir, monkeypatch):
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    (x, y), (xt, yt) = D.load_mnist()
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert list(y[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # known first labels (MANIFEST)
    assert np.bincount(yt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_load_fashion_and_hoda_from_mirror(clean_env, mirror_dir, monkeypatch):
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    (x, y), _ = D.load_fashion_mnist()
    assert x.shape == (60000, 28, 28) and list(y[:10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    (hx, hy), (hxt, hyt) = D.load_hoda()
    assert hx.shape == (60000, 32, 32) and hxt.shape == (20000, 32, 32)
    assert np.bincount(hy).tolist() == [6000] * 10 and set(np.unique(hx)) <= {0, 255}
    (rx, _), _ = D.load_hoda(raw=True)
    assert len(rx) == 60000 and all(a.ndim == 2 for a in rx[:100])
    assert max(a.shape[0] for a in rx[:2000]) > 32  # original sizes vary


def test_cats_vs_dogs_small_from_mirror(clean_env, mirror_dir, monkeypatch):
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    root = D.cats_vs_dogs(source="small")
    counts = {s: {c: len(list((root / s / c).glob("*.jpg"))) for c in ("cat", "dog")} for s in ("train", "validation", "test")}
    assert counts == {"train": {"cat": 1000, "dog": 1000}, "validation": {"cat": 500, "dog": 500},
                      "test": {"cat": 500, "dog": 500}}
    assert D.cats_vs_dogs(source="small", verbose=False) == root  # second call reuses the extraction
    assert not any(p.name.startswith(".") for p in root.parent.parent.iterdir())


def test_cats_vs_dogs_source_override(clean_env, mirror_dir, monkeypatch):
    """Full profile offline: the official zip is unreachable unless CVHELPERS_CATS_VS_DOGS picks the mirror."""
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    with pytest.raises(DataError, match="kagglecatsanddogs"):
        D.cats_vs_dogs(verbose=False)
    monkeypatch.setenv("CVHELPERS_CATS_VS_DOGS", "Small")
    root = D.cats_vs_dogs(verbose=False)
    assert D.describe_cats_vs_dogs(root) == "course mirror subset, 1000/500/500 per class"
    assert len(list((root / "test" / "dog").glob("*.jpg"))) == 500
    monkeypatch.setenv("CVHELPERS_CATS_VS_DOGS", "huge")
    with pytest.raises(DataError, match="CVHELPERS_CATS_VS_DOGS='huge': set it to 'small' or 'official'"):
        D.cats_vs_dogs(verbose=False)
    with pytest.raises(ValueError, match="source must be"):
        D.cats_vs_dogs(source="huge")


def test_weights_from_mirror(clean_env, mirror_dir, monkeypatch):
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    assert D.weights_path("mobilenet_0.25") == str((mirror_dir / "weights" / "mobilenet_2_5_224_tf_no_top.h5").resolve())


def test_weights_offline_missing_is_a_clear_error(clean_env, monkeypatch):
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    with pytest.raises(DataError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5.*storage.googleapis.com"):
        D.weights_path("vgg16")
    with pytest.raises(DataError, match="no ImageNet weights registered"):
        D.weights_path("alexnet")


def test_weights_online_without_mirror_defer_to_keras(clean_env):
    assert D.weights_path("vgg16") == "imagenet"


# ----------------------------------------------------------------------------- the official cats/dogs zip
def _jpeg(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), seed % 255, np.uint8)).save(buf, format="JPEG")  # Pillow writes JFIF
    return buf.getvalue()


def test_build_subset_drops_unreadable_files(tmp_path):
    zpath = tmp_path / "kagglecatsanddogs_5340.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for label in ("Cat", "Dog"):
            for i in range(12):
                if i == 3:
                    zf.writestr(f"PetImages/{label}/{i}.jpg", b"")  # empty file, as in the real zip
                elif i == 5:
                    zf.writestr(f"PetImages/{label}/{i}.jpg", b"\x89PNG not a jpeg")
                else:
                    zf.writestr(f"PetImages/{label}/{i}.jpg", _jpeg(i))
        zf.writestr("PetImages/Cat/Thumbs.db", b"junk")
    out = tmp_path / "subset"
    info = D.build_cats_vs_dogs_subset(zpath, out, counts=(4, 2, 3))
    assert info["dropped_before_subset_complete"] == 4
    names = {s: sorted(p.name for p in (out / s / "cat").iterdir()) for s in ("train", "validation", "test")}
    assert names == {"train": ["cat.0.jpg", "cat.1.jpg", "cat.2.jpg", "cat.4.jpg"],
                     "validation": ["cat.6.jpg", "cat.7.jpg"], "test": ["cat.10.jpg", "cat.8.jpg", "cat.9.jpg"]}
    with pytest.raises(DataError, match="only 10 readable cat images"):
        D.build_cats_vs_dogs_subset(zpath, tmp_path / "too big", counts=(8, 4, 4))
    assert not (tmp_path / "too big").exists()


def _small_official_zip(monkeypatch, size, urls=None):
    """Microsoft's zip in the registry with the size (and URLs) of a small test zip instead of the real ones."""
    real = D.REGISTRY["cats_vs_dogs"]
    art = D.Artifact(real.artifacts[0].filename, (), size, real.artifacts[0].urls if urls is None else tuple(urls))
    monkeypatch.setitem(D.REGISTRY, "cats_vs_dogs", D.Dataset("cats_vs_dogs", real.title, (art,), real.licence,
                                                               real.citation, note=real.note))


@pytest.mark.slow  # seconds of real archive work: not in `make unit`
def test_fast_profile_without_mirror_builds_subset_from_official_zip(clean_env, monkeypatch, server, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for label in ("Cat", "Dog"):
            for i in range(2000):
                zf.writestr(f"PetImages/{label}/{i}.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes([i % 256]))
    server.add("kagglecatsanddogs_5340.zip", buf.getvalue())
    _small_official_zip(monkeypatch, len(buf.getvalue()))  # the registry checks the real zip's size
    monkeypatch.setenv("CVHELPERS_FAST", "1")
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{server.base}/ok")  # has the official zip, not the course subset
    root = D.cats_vs_dogs()
    assert len(list((root / "test" / "dog").iterdir())) == 500 and len(list((root / "train" / "cat").iterdir())) == 1000


def test_pretrained_download_failure_is_a_data_error(clean_env, monkeypatch):
    import keras

    def refuse(*a, **k):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -2]")

    monkeypatch.setattr(keras.applications, "VGG16", refuse)
    with pytest.raises(DataError, match="vgg16: ImageNet weights could not be downloaded.*put vgg16_weights"):
        D.pretrained("vgg16", input_shape=(64, 64, 3))


def _tar_gz(path: Path, files: dict[str, bytes]) -> Path:
    import tarfile

    with tarfile.open(path, "w:gz") as tf:
        for name, blob in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    return path


def test_official_pets_layout_matches_the_subset(clean_env, tmp_path, monkeypatch):
    """The two official tarballs end up as root/images and root/annotations/trimaps, like the subset."""
    images = _tar_gz(tmp_path / "images.tar.gz", {"images/Bengal_1.jpg": b"jpg"})
    annotations = _tar_gz(tmp_path / "annotations.tar.gz", {"annotations/trimaps/Bengal_1.png": b"png",
                                                             "annotations/list.txt": b"# list\n"})
    monkeypatch.setattr(oxford_pets_module, "fetch", lambda name: [images, annotations])
    root = D.oxford_pets(source="official", verbose=False)
    assert (root / "images" / "Bengal_1.jpg").read_bytes() == b"jpg"
    assert (root / "annotations" / "trimaps" / "Bengal_1.png").read_bytes() == b"png"
    assert sorted(p.name for p in root.iterdir()) == ["annotations", "images"]
    assert [p.name for p in root.parent.iterdir() if not p.name.endswith(".lock")] == ["oxford_pets"]  # no staging left
    assert D.oxford_pets(source="official", verbose=False) == root  # second call: nothing to do


def test_official_pets_bad_archive_leaves_nothing(clean_env, tmp_path, monkeypatch):
    images = _tar_gz(tmp_path / "images.tar.gz", {"images/a.jpg": b"jpg"})
    wrong = _tar_gz(tmp_path / "annotations.tar.gz", {"other/a.png": b"png"})
    monkeypatch.setattr(oxford_pets_module, "fetch", lambda name: [images, wrong])
    with pytest.raises(DataError, match="expected a top folder 'annotations'"):
        D.oxford_pets(source="official", verbose=False)
    assert not [p for p in (clean_env / "extracted").iterdir() if not p.name.endswith(".lock")]


def test_pets_subset_from_mirror(clean_env, mirror_dir, monkeypatch):
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    root = D.oxford_pets(source="subset", verbose=False)
    assert len(list((root / "images").glob("*.jpg"))) == 393
    assert len(list((root / "annotations" / "trimaps").glob("*.png"))) == 393


# ----------------------------------------------------------------------------- the pets subset from the official tarballs
def _official_pets(tmp_path: Path, drop: str = "", extra: dict | None = None) -> tuple[Path, Path, dict]:
    """Tiny tarballs in the official layout: the subset's 393 names plus others, with the official lists."""
    names = D.pets_subset_names()
    others = ["Abyssinian_2", "Bengal_1", "yorkshire_terrier_5", "pug_3"]  # in the release, not in the subset
    everything = sorted([*names, *others])
    # head boxes exist for trainval images only (as in the release): the 296 with xml are trainval
    split = {n: "test" if i % 9 == 0 and not names.get(n) else "trainval" for i, n in enumerate(everything)}
    images = {f"images/{n}.jpg": f"jpeg {n}".encode() for n in everything}
    annotations = {f"annotations/trimaps/{n}.png": f"png {n}".encode() for n in everything}
    annotations.update({f"annotations/trimaps/._{n}.png": b"mac junk" for n in everything[:5]})
    annotations.update({f"annotations/xmls/{n}.xml": f"<xml {n}>".encode() for n in everything if split[n] == "trainval"})
    header = "#Image CLASS-ID SPECIES BREED ID\n#ID: 1:37 Class ids\n"
    line = lambda n: f"{n} 1 {1 if n[0].isupper() else 2} 1\n"  # noqa: E731
    annotations["annotations/list.txt"] = (header + "".join(line(n) for n in everything)).encode()
    for s in ("trainval", "test"):
        annotations[f"annotations/{s}.txt"] = "".join(line(n) for n in everything if split[n] == s).encode()
    annotations["annotations/README"] = b"the dataset's README"
    images.pop(drop, None)
    annotations.pop(drop, None)
    annotations.update(extra or {})
    return (_tar_gz(tmp_path / "images.tar.gz", images), _tar_gz(tmp_path / "annotations.tar.gz", annotations),
            {"split": split, "images": images, "annotations": annotations})


def _serve_official_pets(monkeypatch, server, tarballs):
    arts = []
    for p in tarballs:
        blob = p.read_bytes()
        arts.append(D.Artifact(p.name, (server.add(p.name, blob),), len(blob), (server.url("ok", p.name),)))
    real = D.REGISTRY["oxford_pets"]
    monkeypatch.setitem(D.REGISTRY, "oxford_pets", D.Dataset("oxford_pets", real.title, tuple(arts), real.licence,
                                                              real.citation))


def test_fast_profile_without_mirror_builds_pets_subset_from_official_tarballs(clean_env, monkeypatch, server, tmp_path):
    *tarballs, made = _official_pets(tmp_path)
    _serve_official_pets(monkeypatch, server, tarballs)
    monkeypatch.setenv("CVHELPERS_FAST", "1")
    root = D.oxford_pets(verbose=False)
    names = D.pets_subset_names()
    assert sorted(p.stem for p in (root / "images").iterdir()) == sorted(names)
    assert sorted(p.stem for p in (root / "annotations" / "trimaps").iterdir()) == sorted(names)
    assert sorted(p.stem for p in (root / "annotations" / "xmls").iterdir()) == sorted(n for n, x in names.items() if x)
    assert len(names) == 393 and sum(names.values()) == 296  # the course subset's size
    assert (root / "images" / "Bengal_100.jpg").read_bytes() == made["images"]["images/Bengal_100.jpg"]  # bytes as shipped
    listed = (root / "annotations" / "list.txt").read_text().splitlines()
    assert listed[:2] == ["#Image CLASS-ID SPECIES BREED ID", "#ID: 1:37 Class ids"] and len(listed) == 2 + 393
    from cvhelpers import segmentation as S

    trainval, test = S.pet_split(root, "trainval"), S.pet_split(root, "test")
    assert sorted(trainval + test) == sorted(names) and all(made["split"][n] == "test" for n in test)
    assert (root / "annotations" / "README").read_bytes() == b"the dataset's README"
    hits = dict(server.hits)
    assert D.oxford_pets(verbose=False) == root and server.hits == hits  # second call: built once
    assert [p.name for p in root.parent.iterdir() if not p.name.endswith(".lock")] == [root.name]


@pytest.mark.parametrize("fault", ["missing image", "link", "climbs out", "not a tarball"])
def test_bad_official_pets_archive_leaves_nothing(clean_env, monkeypatch, server, tmp_path, fault):
    import tarfile

    if fault == "missing image":
        *tarballs, _ = _official_pets(tmp_path, drop="images/Sphynx_93.jpg")
        expected = "lack 1 file\\(s\\) of the course subset \\(first: images/Sphynx_93.jpg\\)"
    elif fault == "climbs out":
        *tarballs, _ = _official_pets(tmp_path, extra={"../../escape.txt": b"x"})
        expected = "climbs out with '..'"
    elif fault == "link":
        *tarballs, _ = _official_pets(tmp_path, drop="annotations/trimaps/Bengal_100.png")
        with tarfile.open(tarballs[1], "r:gz") as tf:
            members = [(m, tf.extractfile(m).read()) for m in tf.getmembers()]
        with tarfile.open(tarballs[1], "w:gz") as tf:
            for m, blob in members:
                tf.addfile(m, io.BytesIO(blob))
            link = tarfile.TarInfo("annotations/trimaps/Bengal_100.png")
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tf.addfile(link)
        expected = "refusing link or special file 'annotations/trimaps/Bengal_100.png'"
    else:
        *tarballs, _ = _official_pets(tmp_path)
        tarballs[0].write_bytes(tarballs[0].read_bytes()[: 2000])  # cut short: gzip/tar stream ends early
        expected = "images.tar.gz: the file is damaged \\(unreadable archive"
    _serve_official_pets(monkeypatch, server, tarballs)
    with pytest.raises(DataError, match=expected) as err:
        D.oxford_pets(source="subset", verbose=False)
    assert "\n" not in str(err.value)
    assert not [p for p in (clean_env / "extracted").iterdir() if not p.name.endswith(".lock")]
    assert not (clean_env.parent / "escape.txt").exists()
    if fault == "not a tarball":  # a damaged download in the cache is removed, so the next run fetches it anew
        assert "it was removed" in str(err.value) and not (clean_env / "images.tar.gz").exists()


def test_pets_subset_names_match_the_course_zip(mirror_dir):
    """The subset built from the official tarballs selects exactly the images of the course's zip."""
    with zipfile.ZipFile(mirror_dir / "oxford_pets_subset.zip") as zf:
        files = zf.namelist()
    images = {Path(f).stem for f in files if f.startswith("oxford_pets_subset/images/") and f.endswith(".jpg")}
    xmls = {Path(f).stem for f in files if f.startswith("oxford_pets_subset/annotations/xmls/") and f.endswith(".xml")}
    names = D.pets_subset_names()
    assert set(names) == images and {n for n, x in names.items() if x} == xmls


# ----------------------------------------------------------------------------- registry fixes (issue 21)
def test_pets_tarballs_come_from_the_new_host_first_then_the_old_one():
    """The files moved to thor.robots.ox.ac.uk (keras-io#1200, tensorflow-datasets); the old address stays as a fallback."""
    for art in D.REGISTRY["oxford_pets"].artifacts:
        assert art.urls == (f"https://thor.robots.ox.ac.uk/datasets/pets/{art.filename}",
                            f"https://www.robots.ox.ac.uk/~vgg/data/pets/data/{art.filename}")
        assert art.hashes and art.size  # the same checksum pins the file whichever host serves it


def test_the_second_official_url_is_used_when_the_first_fails(clean_env, monkeypatch, server):
    payload = b"moved file" * 100
    h = server.add("moved.bin", payload)
    urls = (server.url("404", "moved.bin"), server.url("ok", "moved.bin"))
    monkeypatch.setitem(D.REGISTRY, "moved", D.Dataset("moved", "a moved dataset",
                                                       (D.Artifact("moved.bin", (h,), len(payload), urls),), "l", "c"))
    (p,) = D.fetch("moved", progress=False)
    assert p.read_bytes() == payload
    assert server.count("404", "moved.bin") == 1 and server.count("ok", "moved.bin") == 1


def _cats_zip(per_class: int = 2500, other: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for label in ("Cat", "Dog"):
            for i in range(per_class):
                name = f"{'Other' if other else 'PetImages'}/{label}/{i}.jpg"
                zf.writestr(name, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes([i % 256]))
    return buf.getvalue()


def test_microsofts_zip_is_checked_by_its_size(clean_env, monkeypatch, server):
    art = D.REGISTRY["cats_vs_dogs"].artifacts[0]
    assert art.size == 824_887_076 and art.hashes == ()  # size only: no sha256 could be checked against a second record
    small = _cats_zip(10)
    server.add(art.filename, small)
    url = server.url("ok", art.filename)
    _small_official_zip(monkeypatch, art.size, [url])  # the real size, a local URL serving another file
    with pytest.raises(DataError) as err:
        D.fetch("cats_vs_dogs", progress=False)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{url}: got {len(small):,} bytes, expected 824,887,076; put {art.filename}")
    assert [p.name for p in clean_env.iterdir() if not p.name.endswith(".lock")] == []  # removed, no part kept
    (clean_env / art.filename).write_bytes(small)  # a wrong file in the cache is not taken for the zip...
    assert D.find("cats_vs_dogs") is None
    with pytest.raises(DataError, match="expected 824,887,076"):
        D.cats_vs_dogs(source="official", verbose=False)
    assert not (clean_env / art.filename).exists()  # ...and is removed when the loader tries again


@pytest.mark.slow  # seconds of real archive work: not in `make unit`
@pytest.mark.parametrize("damage", ["truncated", "bad crc", "foreign"])
def test_a_damaged_official_zip_is_one_line_removed_and_fetched_anew(clean_env, monkeypatch, server, damage):
    """A zip of the registered size that does not open: no BadZipFile traceback, nothing half-built, removed."""
    good = _cats_zip()
    if damage == "truncated":
        bad = good[: len(good) // 2]
    elif damage == "bad crc":
        bad = bytearray(good)
        bad[good.index(b"PetImages/Cat/5.jpg") + len("PetImages/Cat/5.jpg") + 8] ^= 0xFF  # in the member's bytes
        bad = bytes(bad)
    else:
        bad = _cats_zip(other=True)
    name = "kagglecatsanddogs_5340.zip"
    server.add(name, bad)
    _small_official_zip(monkeypatch, len(bad), [server.url("ok", name)])
    with pytest.raises(DataError) as err:
        D.cats_vs_dogs(source="official", verbose=False)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{clean_env / name}: the file is damaged (")
    assert msg.endswith("it was removed: run this again to fetch it anew"), msg
    assert not (clean_env / name).exists()
    assert [p.name for p in (clean_env / "extracted").iterdir() if not p.name.endswith(".lock")] == []
    server.add(name, good)  # the next run downloads it again and builds the subset
    _small_official_zip(monkeypatch, len(good), [server.url("ok", name)])
    root = D.cats_vs_dogs(source="official", verbose=False)
    assert len(list((root / "test" / "cat").iterdir())) == 1000 and server.count("ok", name) == 2


def test_a_damaged_zip_in_the_data_dir_is_left_alone(clean_env, monkeypatch, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    bad = _cats_zip()[:5000]
    (share / "kagglecatsanddogs_5340.zip").write_bytes(bad)
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(share))
    _small_official_zip(monkeypatch, len(bad))
    with pytest.raises(DataError, match="damaged.*delete or replace it and fetch it again") as err:
        D.cats_vs_dogs(source="official", verbose=False)
    assert "removed" not in str(err.value) and (share / "kagglecatsanddogs_5340.zip").read_bytes() == bad


def test_offline_subset_errors_name_the_official_files_the_loader_builds_them_from(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    monkeypatch.setenv("CVHELPERS_FAST", "1")
    with pytest.raises(DataError) as err:
        D.oxford_pets(verbose=False)
    msg = str(err.value)
    assert "\n" not in msg and "none, course mirror only" not in msg
    assert msg.startswith("oxford_pets_subset.zip is not available offline (CVHELPERS_OFFLINE=1; only the course "
                          "mirror has this file, but the loader builds a subset of the same size from the official "
                          "oxford_pets "
                          "files images.tar.gz, annotations.tar.gz (https://thor.robots.ox.ac.uk/datasets/pets/) "
                          "when they are here: unset CVHELPERS_OFFLINE to download them, or put them in "), msg
    with pytest.raises(DataError) as err:
        D.cats_vs_dogs(verbose=False)
    assert "official cats_vs_dogs file kagglecatsanddogs_5340.zip (https://download.microsoft.com/" in str(err.value)
    assert "when it is here: unset CVHELPERS_OFFLINE to download it, or put it in" in str(err.value)
    for folder in ("share1", "share2"):
        (tmp_path / folder).mkdir()
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{tmp_path / 'share1'} {tmp_path / 'share2'}")  # folders without it
    with pytest.raises(DataError, match="no download was tried \\(the loader builds a subset of the same size from the official"):
        D.fetch("oxford_pets_subset")


@pytest.mark.slow  # seconds of real archive work: not in `make unit`
def test_offline_the_subsets_are_built_from_official_files_already_here(clean_env, monkeypatch, server, tmp_path):
    """What the offline message says is true: official files in the cache are enough, for both subsets."""
    *tarballs, _ = _official_pets(tmp_path)
    _serve_official_pets(monkeypatch, server, tarballs)  # registers their checksums; the URLs are never used
    clean_env.mkdir(parents=True, exist_ok=True)
    for t in tarballs:
        shutil.copy(t, clean_env / t.name)
    blob = _cats_zip(2000)
    (clean_env / "kagglecatsanddogs_5340.zip").write_bytes(blob)
    _small_official_zip(monkeypatch, len(blob))
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    monkeypatch.setenv("CVHELPERS_FAST", "1")
    root = D.oxford_pets(verbose=False)
    assert len(list((root / "images").iterdir())) == 393
    root = D.cats_vs_dogs(verbose=False)
    assert D.describe_cats_vs_dogs(root) == "Microsoft's official zip, unreadable files dropped, 1000/500/500 per class"
    assert server.hits == {}


def test_readme_data_section_names_every_check_the_registry_uses():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text.split("## Data: where it comes from, where it goes", 1)[1].split("\n## ", 1)[0]
    arts = [a for ds in D.REGISTRY.values() for form in (ds.artifacts, *ds.alternatives) for a in form]
    arts += list(D.WEIGHTS.values())
    words = {"sha256": "SHA-256", "md5": "MD5", "sha1": "SHA-1", "gitblob": "git blob SHA-1"}
    for algo in {h.split(":")[0] for a in arts for h in a.hashes}:
        assert words[algo] in section, algo
    for a in arts:
        if not a.hashes and a.size:  # checked by size only: the README says so
            assert a.filename in section and f"{a.size:,}" in section, a.filename
    assert "SHA-256 checksums)" not in section  # the old claim that every file has one
