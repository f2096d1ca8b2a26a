"""A range test in another process (imports only the channel and below, never a view).

- ``wire``: the signed messages (framing, HMAC-SHA256), the protocol's one face; ``fields``
  (limits, field parsers) and ``codec`` (events and state as fields and buffers) behind it.
- ``transport``: what both ends share: a socket thread, ZeroMQ, addresses, torch.distributed.
- ``link``: the job's side, ``connect()``; ``job_link`` (``Link``), ``link_thread`` (its socket
  and thread) and ``choosing`` (the notebook's choice on the job's side).
- ``source``: the notebook's side, ``RemoteSource``: a job's runs as a source of runs;
  ``receiving`` (its socket and thread), ``shown`` (the job's runs as shown), ``delivering``
  (to the subscribers) and ``applying`` (Apply requests).
"""
