# The stand-in google.colab and its IPython start-up file run only inside colab-check's kernels
# (importing them here would put a fake google.colab into the test session).
collect_ignore = ["standin"]
