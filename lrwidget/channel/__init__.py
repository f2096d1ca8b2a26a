"""The channel: between a source of runs and its views (imports only the engine and below).

- ``core``: ``Channel``: the run state the views draw, and the commands they send, validated
  once.
- ``interfaces``: ``Source`` and ``ChannelView``, the two ends a channel connects.
- ``writer``: the channel's one writer thread (a queue, ``call``).
- ``applying``: select / apply and the outcome every view shows (a mixin of ``Channel``).
- ``protocol``: the messages a view sends and the readings' binary layout (pure).
- ``run_state``: one source's current run as its consumers replicate it (pure).
"""
