"""The registry: every dataset and weights file the course uses, as plain data.

Each :class:`Dataset` names its files (:class:`Artifact`: a name on disk and on mirrors, the
accepted digests, a size, the official URLs), its licence and citation. ``WEIGHTS`` holds the
ImageNet weights files of ``keras.applications`` by ``(model, include_top)``. Nothing here
touches the disk or the network; :mod:`cvhelpers.fetch.sources` does.

>>> sorted(REGISTRY)[:3]
['cats_vs_dogs', 'cats_vs_dogs_small', 'fashion_mnist']
>>> dataset("mnist").artifacts[0].filename
'mnist.npz'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DataError

__all__ = ["Artifact", "Dataset", "REGISTRY", "WEIGHTS", "dataset", "all_artifacts"]


@dataclass(frozen=True)
class Artifact:
    """One file: its name on disk and on mirrors, accepted checksums, size, official URL(s)."""

    filename: str  # relative path, e.g. "mnist.npz" or "weights/x.h5"
    hashes: tuple = ()  # accepted digests: "sha256:...", "md5:..." or "gitblob:..." (git's blob SHA-1)
    size: int | None = None  # bytes; with no hashes, the size alone is what is verified
    urls: tuple = ()  # official URLs, tried after the mirrors


@dataclass(frozen=True)
class Dataset:
    """A dataset: what it is, where it comes from, its licence, and the files that make it."""

    name: str
    title: str
    artifacts: tuple
    licence: str
    citation: str
    homepage: str = ""
    note: str = ""
    alternatives: tuple = field(default=())  # other complete sets of files (e.g. a course bundle)
    fallback: str = ""  # a dataset with public URLs from which the loader builds the same subset


_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


_KAPPS = "https://storage.googleapis.com/tensorflow/keras-applications/"


_HODA_CDB = ("https://raw.githubusercontent.com/amir-saniyan/HodaDatasetReader/"
             "728dd5465fcf38c3c82a1d3fda721da30b2e70ed/DigitDB/")


# Oxford-IIIT Pet moved to thor.robots.ox.ac.uk (keras-io#1200; tensorflow-datasets downloads it
# there); the old address is kept as a fallback. The same checksums pin both.
_PETS = ("https://thor.robots.ox.ac.uk/datasets/pets/", "https://www.robots.ox.ac.uk/~vgg/data/pets/data/")


REGISTRY: dict[str, Dataset] = {d.name: d for d in [
    Dataset(
        "mnist", "MNIST handwritten digits (60,000 train / 10,000 test, 28×28 grey)",
        (Artifact("mnist.npz", ("sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",  # Keras
                                "sha256:06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"),  # course mirror
                  None, (_KERAS + "mnist.npz",)),),
        "CC BY-SA 3.0 (per the Keras docs; the original site states none)",
        "Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits.",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    Dataset(
        "fashion_mnist", "Fashion-MNIST (Zalando; 60,000 train / 10,000 test, 28×28 grey, 10 classes)",
        tuple(Artifact(f, (h,), s, (_KERAS + f, _ZALANDO + f)) for f, h, s in [
            ("train-images-idx3-ubyte.gz", "sha256:3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
            ("train-labels-idx1-ubyte.gz", "sha256:a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
            ("t10k-images-idx3-ubyte.gz", "sha256:346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
            ("t10k-labels-idx1-ubyte.gz", "sha256:67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
        ]),
        "MIT (© 2017 Zalando SE)",
        "H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST, arXiv:1708.07747 (2017).",
        "https://github.com/zalandoresearch/fashion-mnist",
        alternatives=((Artifact("fashion_mnist.npz", ("sha256:5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469",),
                                30869925),),),
    ),
    Dataset(
        "hoda", "HODA Persian handwritten digits (60,000 train / 20,000 test; 32×32 arrays + original sizes)",
        # HODA's own .cdb files, pinned to a commit of a public repository; git's blob SHA-1 checks
        # each exactly (no sha256 was ever published for the train file).
        (Artifact("hoda_cdb/Train 60000.cdb", ("gitblob:a87ae8c4b1a9e9227f600194ae82a8af3d0e08ec",), None,
                  (_HODA_CDB + "Train%2060000.cdb",)),
         Artifact("hoda_cdb/Test 20000.cdb", ("gitblob:1928104d6d0537c653ec2105d666e0b6733aabbf",
                                              "sha256:f947c38071c886677ec212fe5000863fafae0b4ed349d97d51c33abe3c8e2b07"),
                  2184440, (_HODA_CDB + "Test%2020000.cdb",)),
         Artifact("hoda_cdb/RemainingSamples.cdb", ("gitblob:9d2fcb7a4e6ce0f8657a2bf27a6751f2317b2d52",
                                                    "sha256:11c9b0661b8de5f743b1b01ac76b4de19b238062d6da3500b5d6128fb1989e3d"),
                  2440199, (_HODA_CDB + "RemainingSamples.cdb",))),
        "free of charge for research and non-commercial use only (farsiocr.ir)",
        "H. Khosravi, E. Kabir, Introducing a very large dataset of handwritten Farsi digits..., "
        "Pattern Recognition Letters 28 (2007).",
        "http://farsiocr.ir",
        note="The official .cdb files are decoded by cvhelpers.hoda (once; the arrays are kept in the "
             "cache). The course mirror's hoda.npz holds the same arrays, ready to load.",
        alternatives=((Artifact("hoda.npz", ("sha256:99095458a63055d221a7f3f5a7a24ddabc4bebbf5d3874d2cfb0ca8a9be2c895",),
                                10104856),),),
    ),
    Dataset(
        "cats_vs_dogs", "Kaggle Dogs vs. Cats, Microsoft's official zip (25,000 photos, ~1,600 unreadable)",
        # Verified by its size only: the public records give 824,887,076 bytes. Its sha256 is not
        # pinned because Microsoft publishes none and no second public record of one could be
        # checked here; a zip of the right size that does not open is removed from the cache when used.
        (Artifact("kagglecatsanddogs_5340.zip", (), 824887076,
                  ("https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
                   "kagglecatsanddogs_5340.zip",)),),
        "Microsoft Research licence terms (download id 54765); no open licence",
        "J. Elson, J. R. Douceur, J. Howell, J. Saul, Asirra, ACM CCS 2007.",
        "https://www.microsoft.com/en-us/download/details.aspx?id=54765",
        note="Microsoft publishes no checksum for this zip: its size is checked, then it is checked by opening it.",
    ),
    Dataset(
        "cats_vs_dogs_small", "Chollet's small cats-vs-dogs subset (course mirror: 1000/500/500 per class)",
        (Artifact("cats_vs_dogs_small.zip", ("sha256:d908c461ca27f1a25d932a392f1b28bade0a124290eddf318a28a6e14091fb33",),
                  91534091),),
        "no open licence (Kaggle/Microsoft terms); do not redistribute",
        "J. Elson et al., Asirra, ACM CCS 2007; split of F. Chollet, Deep Learning with Python.",
        note="Only the course mirror serves this zip; without it cats_vs_dogs() builds a subset of the "
             "same size from Microsoft's official zip.",
        fallback="cats_vs_dogs",
    ),
    Dataset(
        "oxford_pets", "Oxford-IIIT Pet (7,390 images, 37 breeds, trimaps and head boxes)",
        (Artifact("images.tar.gz", ("sha256:67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d",), 791918971,
                  tuple(base + "images.tar.gz" for base in _PETS)),
         Artifact("annotations.tar.gz", ("sha256:52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91",), 19173078,
                  tuple(base + "annotations.tar.gz" for base in _PETS))),
        "CC BY-SA 4.0; image copyright stays with the owners",
        "O. M. Parkhi, A. Vedaldi, A. Zisserman, C. V. Jawahar, Cats and Dogs, CVPR 2012.",
        "https://www.robots.ox.ac.uk/~vgg/data/pets/",
    ),
    Dataset(
        "oxford_pets_subset", "Oxford-IIIT Pet subset (course mirror: 393 images, trimaps, 296 head boxes)",
        (Artifact("oxford_pets_subset.zip", ("sha256:24dac6f7e0cd4dd62646ad48bbfbc8d3552f5ebb1996b26679b9c2385d4ef984",),
                  37343221),),
        "CC BY-SA 4.0; image copyright stays with the owners",
        "O. M. Parkhi et al., Cats and Dogs, CVPR 2012.",
        "https://www.robots.ox.ac.uk/~vgg/data/pets/",
        note="Only the course mirror serves this zip; without it oxford_pets() builds the same 393-image "
             "subset from the official tarballs.",
        fallback="oxford_pets",
    ),
]}


# Pretrained ImageNet weights for keras.applications, by (model, include_top).
WEIGHTS: dict[tuple[str, bool], Artifact] = {
    ("vgg16", False): Artifact("weights/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                               ("md5:6d6bbae143d832006294945121d1f1fc",), None,
                               (_KAPPS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",)),
    ("vgg16", True): Artifact("weights/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                              ("md5:64373286793e3c8b2b4e3219cbf3544b",), None,
                              (_KAPPS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",)),
    ("resnet50", True): Artifact("weights/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
                                 ("md5:2cb95161c43110f7111970584f804107",), None,
                                 (_KAPPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",)),
    ("resnet50", False): Artifact("weights/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                  ("md5:4d473c1dd8becc155b73f8504c6f6626",), None,
                                  (_KAPPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",)),
    ("mobilenet_0.25", False): Artifact("weights/mobilenet_2_5_224_tf_no_top.h5",
                                        ("sha256:dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf",), 2108140,
                                        (_KAPPS + "mobilenet/mobilenet_2_5_224_tf_no_top.h5",)),
    ("efficientnetv2b0", False): Artifact("weights/efficientnetv2-b0_notop.h5",
                                          ("md5:893217f2bb855e2983157299931e43ff",), None,  # Keras' own hash
                                          (_KAPPS + "efficientnet_v2/efficientnetv2-b0_notop.h5",)),
}


def dataset(name: str) -> Dataset:
    """The registered :class:`Dataset` called ``name``; an unknown name is a one-line :class:`DataError`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def all_artifacts() -> list[Artifact]:
    """Every registered file: each dataset's files in all their forms, then the weights."""
    return [a for ds in REGISTRY.values() for form in (ds.artifacts, *ds.alternatives) for a in form] + list(WEIGHTS.values())
