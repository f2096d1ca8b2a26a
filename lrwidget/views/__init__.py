"""The views: what draws a run and takes the clicks (imports the layers below, never above).

- ``widget``: ``LRFinderWidget`` (anywidget, the bundle in ``static/``); ``static_fallback``: its
  bundle for front ends without widgets; ``find``: ``find_lr``, a finder and a widget in one call.
- ``bqview``: ``BqplotView``, the same curve on bqplot.
- ``report``: the static picture: SVG and a self-contained HTML report (``report_svg`` draws the
  SVG, ``report_geometry`` its scales, ``report_text`` its words).
- ``sidebar``: ``show_in_sidebar`` (JupyterLab's sidecar).
- ``owned``: the traits only the kernel writes (a front end's writes are reverted).
- ``remote_widget``: ``listen()`` and ``RemoteWidget``, the widget of a ``RemoteSource``.
"""
