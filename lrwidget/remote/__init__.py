"""A range test in another process (imports only the channel and below, never a view).

- ``wire``: the signed messages (framing, HMAC-SHA256) and the events as bytes.
- ``transport``: what both ends share: ZeroMQ, addresses, a waker, torch.distributed.
- ``link``: the job's side, ``connect()``: a finder's runs streamed to a notebook.
- ``source``: the notebook's side, ``RemoteSource``: a job's runs as a source of runs.
"""
