"""``KurrentDBDouble``: starts the double's gRPC services on a free local port."""

from __future__ import annotations

from concurrent import futures

import grpc
from kurrentdbclient.protos.v1 import persistent_pb2_grpc, streams_pb2_grpc

from .log import MAX_APPEND_SIZE, EventLog
from .persistent import PersistentSubscriptions, PersistentSubscriptionsServicer
from .streams import StreamsServicer


class KurrentDBDouble:
    """An in-process test double of a single, insecure KurrentDB node.

    ``start()`` binds 127.0.0.1 on a free port; ``uri`` is what ``KurrentDBClient`` takes;
    ``reset()`` forgets everything (open subscription calls end with ABORTED);
    ``stop()`` shuts the server down. ``max_append_size`` is the server's ``MaxAppendSize``.

    Every open subscription call holds one of the ``max_workers`` threads; calls beyond
    that wait for a free thread.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        max_workers: int = 200,
        max_append_size: int = MAX_APPEND_SIZE,
    ) -> None:
        self._host = host
        self._max_append_size = max_append_size
        self._max_workers = max_workers
        self._log = EventLog()
        self._persistent = PersistentSubscriptions(self._log)
        self._server: grpc.Server | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The KurrentDB double is not started")
        return self._port

    @property
    def uri(self) -> str:
        return f"kurrentdb://{self._host}:{self.port}?Tls=false"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("The KurrentDB double is already started")
        server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="kurrentdb-double"
            ),
            options=[("grpc.so_reuseport", 0)],
        )
        streams_pb2_grpc.add_StreamsServicer_to_server(
            StreamsServicer(self._log, self._max_append_size), server
        )  # type: ignore[no-untyped-call]
        persistent_pb2_grpc.add_PersistentSubscriptionsServicer_to_server(  # type: ignore[no-untyped-call]
            PersistentSubscriptionsServicer(self._persistent), server
        )
        self._port = server.add_insecure_port(f"{self._host}:0")
        server.start()
        self._server = server

    def reset(self) -> None:
        """Forget all streams, events and persistent subscriptions; end open calls."""
        with self._log.cond:
            self._persistent.reset()
            self._log.reset()

    def stop(self) -> None:
        self._log.close()
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None
            self._port = None

    def __enter__(self) -> KurrentDBDouble:
        self.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()
