"""Event metadata: the context round-trips whatever its keys; older data still reads."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from event_sourcery_kurrentdb import metadata

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
hostile_keys = st.sampled_from(
    ["created_at", "$es-version", "$es-head", "$es-ctx-created_at", "$", "$x", "correlation_id"]
)
contexts = st.dictionaries(hostile_keys | st.text(max_size=12), json_values, max_size=6)

CREATED = datetime(2026, 11, 29, 12, 30, 45, 123456)


@given(
    context=contexts,
    version=st.none() | st.integers(0, 2**40),
    name=st.none() | st.text(max_size=20),
)
def test_context_version_and_name_round_trip(
    context: dict[str, Any], version: int | None, name: str | None
) -> None:
    encoded = metadata.encode(
        created_at=CREATED, context=context, version=version, head=version, stream_name=name
    )
    decoded = metadata.decode(encoded, stream_position=7)
    assert decoded.context == context
    assert decoded.created_at == CREATED
    assert decoded.version == version
    assert decoded.head == version
    assert decoded.stream_name == name
    assert decoded.has_version


def test_metadata_written_by_earlier_versions_reads_with_positional_versions() -> None:
    upstream = {"correlation_id": None, "causation_id": None, "created_at": CREATED.isoformat()}
    decoded = metadata.decode(json.dumps(upstream).encode(), stream_position=4)
    assert decoded.version == 5
    assert decoded.head == 5
    assert not decoded.has_version
    assert decoded.context == {"correlation_id": None, "causation_id": None}
    assert decoded.created_at == CREATED


def test_upstream_snapshot_position_and_reserved_keys() -> None:
    upstream = {"created_at": CREATED.isoformat(), "$es-stream_position": 2, "$es-other": 1}
    decoded = metadata.decode(json.dumps(upstream).encode(), stream_position=0)
    assert decoded.snapshot_position == 2
    assert decoded.context == {}


def test_empty_metadata_of_foreign_events_decodes() -> None:
    decoded = metadata.decode(b"", stream_position=0)
    assert decoded.created_at is None
    assert decoded.context == {}
    assert decoded.version == 1
