"""lrwidget inside the frameworks people train with.

- :mod:`lrwidget.integrations.lightning`: ``LRFinderCallback`` for PyTorch Lightning.
- :mod:`lrwidget.integrations.transformers`: ``LRFinderCallback`` for the Hugging Face Trainer.
- :mod:`lrwidget.integrations.watching`: both callbacks' ``watch=True`` (the doctor on training).
- :mod:`lrwidget.integrations.framework_schedule`: both callbacks' ``schedule=`` (a schedule over a
  range in place of a single lr).
- accelerate needs no callback: ``LRFinder`` takes what ``accelerator.prepare`` returns (README,
  "accelerate").

Each framework is an extra (``pip install "lrwidget[lightning]"``), imported only by its module.
The shared part (settings, where the choice comes from, moving a schedule to the chosen lr) is
:mod:`lrwidget.integrations.choice` and :mod:`lrwidget.engine.schedules`.
"""
