"""The course's datasets, one module each: what the files are, how they become arrays or folders.

==================  ==============================================================================
module              what it loads
==================  ==============================================================================
``mnist``           MNIST and Fashion-MNIST arrays (:func:`load_mnist`, :func:`load_fashion_mnist`)
``hoda``            HODA Persian digits: the ``.cdb`` reader, 32×32 arrays, MNIST-format arrays
``cats_vs_dogs``    Chollet's cats-vs-dogs subset as a JPEG folder, and as cached arrays
``oxford_pets``     Oxford-IIIT Pet (official or the course subset), its train/test lists and trimaps
==================  ==============================================================================

Their files come from the fetch engine (:mod:`cvhelpers.fetch`). The loaders are imported from
their modules (``from cvhelpers.datasets.hoda import load_hoda``); nothing is re-exported here, so
that ``cvhelpers.datasets.oxford_pets`` is the module, not its loader. ``cvhelpers.data``
re-exports the loaders under their old names.
"""
