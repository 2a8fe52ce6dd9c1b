"""cvhelpers: the small helper package behind the *Deep Learning for Computer Vision* notebooks.

Modules are imported on demand so that ``import cvhelpers`` (and the ``cvhelpers`` command)
stay fast: nothing here imports TensorFlow until a function needs it. ARCHITECTURE.md (at the
repository's root) draws the layers; one line per module:

Data
    ``fetch``         the fetch engine: registry, data folder / cache / mirrors / offline, downloads, extraction, profile plan
    ``datasets``      one module per dataset (mnist, hoda, cats_vs_dogs, oxford_pets): loaders and subset builders
    ``backbones``     the one table of pretrained keras.applications models; ``pretrained`` with registered weights
    ``data``          facade: the loaders and the fetch engine under the names the notebooks use
    ``download``      facade: ``download``, ``safe_extract``, ``DataError`` under their old import path
    ``hoda``          facade: HODA's ``.cdb`` reader (now in ``datasets.hoda``)
Lessons
    ``filters``       kernels, NumPy convolution, its matrix form, gradients, sample images, timing (notebooks 01-02)
    ``layer_math``    output sizes, parameter counts, multiplications, memory, receptive fields
    ``checks``        the input checks ``filters`` and ``layer_math`` share
    ``models``        the classic architectures (LeNet-5, AlexNet, VGG, Inception, ResNet, SE, separable)
    ``digits``        bring variable-size digit scans to MNIST's 28×28 format
    ``transfer``      transfer learning: backbones' input sizes and preprocessing, freezing, feature extraction
    ``detection``     IoU, non-max suppression, anchors, average precision / mAP (notebook 10)
    ``segmentation``  IoU per class, U-Nets, mask overlays (notebook 11)
    ``interpret``     activations, filter patterns, Grad-CAM (notebook 12)
    ``plots``         learning curves, image grids, confusion matrices, feature maps, boxes
    ``widgets``       interactive filter explorers (ipywidgets)
    ``pipeline``      small tf.data helpers
Running the course
    ``env``           the first cell of every notebook: environment check, seeding, distribution strategy
    ``profile``       the fast and full profiles (``CVHELPERS_FAST``)
    ``results``       training-results records and the checks against the committed ones
    ``assignments``   classroom assignments: ``check`` (the student's self-checks), ``build`` (student copies,
                      autograders), ``grade`` (a folder into a CSV), ``sandbox`` (bubblewrap around each submission),
                      ``runner`` (runs it inside), ``judge`` + ``remote`` + ``wire`` (tests outside, plain data across)
    ``cli``           the ``cvhelpers`` command (doctor, data list/fetch/verify/path, grade)
    ``home``          where the course lives on GitHub (one setting)
    ``nbtools``       keep notebooks clean in git (strip outputs)

>>> import cvhelpers
>>> cvhelpers.__version__ >= "0.1"
True
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
