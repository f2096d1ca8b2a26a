"""The channel: between a source of runs and its views (imports only the engine and below).

- ``core``: ``Channel``, ``ChannelView``, ``Source``: the run state the views draw, and the
  commands they send, validated once.
- ``protocol``: the messages a view sends and the readings' binary layout (pure).
"""
