"""Pure rules: numbers in, numbers out; no torch state, no threads, no widget (the lowest layer).

- ``schedule``: the sweep (the lr of every step) and its argument rules.
- ``suggest``: the suggestion rules (an lr from a curve), the default first.
- ``rules`` (+ ``rules.json``): what the Python views and the front end must draw alike.
- ``numbers``: what counts as a number in an argument or a message (never a bool).
- ``readings``: a consumer's copy of one run's readings, growing as they arrive.
- ``verdict``: the training doctor's rules: a loss stream in, a verdict out.
- ``trace``: a training stream in bounded memory, drawn per pixel column at any zoom.
- ``smooth``: a finished curve smoothed without lag (the line the views draw once a run is over).
- ``scaling``: lr* ∝ B^a over batch sizes and seeds, and the rule its spread can name.
"""
