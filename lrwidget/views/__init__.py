"""The views: what draws a run and takes the clicks (imports the layers below, never above).

- ``widget``: ``LRFinderWidget`` and ``find_lr`` (anywidget, the bundle in ``static/``).
- ``bqview``: ``BqplotView``, the same curve on bqplot.
- ``report``: the static picture: SVG and a self-contained HTML report.
- ``sidebar``: ``show_in_sidebar`` (JupyterLab's sidecar).
- ``owned``: the traits only the kernel writes (a front end's writes are reverted).
- ``remote_widget``: ``listen()`` and ``RemoteWidget``, the widget of a ``RemoteSource``.
"""
