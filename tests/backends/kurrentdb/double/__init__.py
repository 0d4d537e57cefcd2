"""In-process gRPC **test double** of a single KurrentDB node (24.x/25.x behaviour).

It serves the v1 ``Streams`` and ``PersistentSubscriptions`` gRPC services with the
protobuf stubs shipped in ``kurrentdbclient``, so the real ``KurrentDBClient`` talks to it
over real gRPC::

    server = KurrentDBDouble()
    server.start()              # 127.0.0.1, free port
    client = KurrentDBClient(uri=server.uri)
    server.reset()              # forget everything (open calls end with ABORTED)
    server.stop()

Modelled: Append and BatchAppend (atomic expected-revision checks, idempotent re-sends of
the same event ids), stream and ``$all`` reads (direction, count, positions, regex/prefix
filters on stream name or event type, ``$>`` link resolution), catch-up subscriptions
(stream and ``$all``; ``caught_up``; filter checkpoints; deadlines and cancellation),
soft delete (``$tb`` metadata, recreation continuing revisions), tombstones (a never
written stream too, with ``any``), stream metadata (``$tb``, ``$maxCount``; still writable
after a tombstone), ``MaxAppendSize`` (1,048,576 bytes by default, ``max_append_size=``:
data + metadata + twice the type's length, summed over one append), persistent subscription
groups (create / update / delete / list / info, consumers with ``buffer_size`` in-flight
limits, ack, nack park/retry/skip/stop, automatic parking after ``max_retry_count``,
``message_timeout`` checked on a one-second tick, redelivery when a consumer goes away,
parked-message streams and ``ReplayParked``, ``live_buffer_count``, unknown consumer
strategies and a history buffer not above the read batch refused with INTERNAL, unfiltered
``$all`` groups skipping system (``$``) streams, their own parked streams included).

NOT modelled (behaviour a real server has and this double lacks):

- Clustering: gossip, leader election, node preference, ``NotLeader`` errors, read-only
  replicas. The ``Gossip``, ``ServerFeatures``, ``Operations``, ``Users``, ``Monitoring``
  and ``Projections`` services and the v2 streams API (``multi_append_to_stream``,
  ``append_records``) are absent (UNIMPLEMENTED).
- TLS, authentication, users and ACLs (``$acl`` metadata is stored but ignored).
- Scavenging: deleted, truncated and expired events stay in ``$all`` forever;
  ``$maxAge`` is ignored (``$tb`` and ``$maxCount`` only hide events from stream reads).
- Real log positions: positions are synthetic (strictly increasing, non-contiguous,
  derived from record sizes; commit == prepare), not byte offsets of a real log; no
  explicit transactions; no system records at the start of the log.
- Limits: max event size (``MaxAppendEventSize``, 25.x), the ``deadline`` of BatchAppend
  options; the append size is counted as above, not as the server's exact record size.
- Projections, including the ``$by-category`` / ``$by-event-type`` / ``$streams`` system
  projections (no ``$ce-`` / ``$et-`` streams) and system streams such as ``$settings``.
- Link resolution other than ``$>`` links (``resolve_links``) on reads and subscriptions.
- Idempotency corner cases: only an exact re-send (same ids, contiguous, at the same
  expected revision / ``no_stream`` / ``any``) is idempotent; a partial match is written
  again (a real server rejects it).
- Catch-up subscriptions never fall behind (no ``fell_behind``, no "consumer too slow");
  checkpoints come every ``max * checkpointIntervalMultiplier`` scanned events and at the
  end of catch-up, which only approximates the real cadence.
- Persistent subscriptions: consumer strategies are not distinguished (the next message
  goes to whichever consumer has a free slot); group checkpoints are not written to
  ``$persistentsubscription-...-checkpoint`` streams and groups live only in memory;
  buffer/batch/checkpoint settings are stored but ignored; ``Update`` only replaces the
  settings (no restart, no new start position); nack ``Stop`` retries the messages and ends
  that consumer's call; the timeout tick runs per group from its creation, not one server
  timer; ``live_buffer_count`` counts undelivered events appended after the group was created
  (capped at ``live_buffer_size``), with no history/live switching; deleting a group keeps
  its parked stream; no statistics (rates, measurements).
- Deleting a stream that never had events always fails with "Actual version: -1" (the
  client's NotFoundError), whatever revision is expected; tombstoning one does so for every
  expected revision but ``any`` (only ``any`` was checked against a real server).
- Reading the metadata of a tombstoned stream raises ``StreamIsDeletedError``, even after
  new metadata was written to it.

Client-visible details worth knowing (they match the real server):

- Appending to a tombstoned stream with a *single* ``NewEvent`` (the ``Append`` RPC)
  raises ``FailedPreconditionError``; with a list of events (``BatchAppend``) it raises
  ``StreamIsDeletedError``. Reads of a tombstoned stream raise ``StreamIsDeletedError``.
- Soft delete writes ``{"$tb": 9223372036854775807}`` to ``$$<stream>``; appending again
  first writes ``{"$tb": <old last revision + 1>}``. After a soft delete both
  ``no_stream`` and the old last revision are accepted; ``stream_exists`` is refused as
  "stream deleted".
"""

from .server import KurrentDBDouble

__all__ = ["KurrentDBDouble"]
