"""Properties of the versioning rule (SPEC §4.3 "Our rule") against a simple reference model.

The model is written from the SPEC, independently of ``plan_stored_version``/``plan_append``:

* the batch must match the mode (all ``None`` under ``NO_VERSIONING``, all ints otherwise) and
  must not repeat a version;
* compatibility (versioned vs versionless stream) is checked before the version comparison;
* a non-zero ``expected_version`` must equal the stored version (a missing stream has none);
* a version already stored in that (tenant, stream) is a ``ConcurrentStreamWriteError``;
* on success the stored version is the highest version of the stream (``None`` if versionless).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from event_sourcery import NO_VERSIONING, StreamId
from event_sourcery._core.append_plan import plan_append
from event_sourcery._core.versioning import ExplicitVersioning, plan_stored_version
from event_sourcery.backend import InMemoryBackend
from event_sourcery.event import Event, WrappedEvent
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    ExpectedVersionUsedOnVersionlessStream,
    NoExpectedVersionGivenOnVersionedStream,
    VersionsDoNotMatchVersioning,
)
from event_sourcery.in_memory.storage import InMemoryStorage, stream_key
from event_sourcery.interfaces import Versioning


class Numbered(Event):
    __event_name__ = "unit-tests.versioning.Numbered"

    note: int = 0


@dataclass
class ModelStream:
    versioned: bool
    stored: int | None
    versions: list[int | None] = field(default_factory=list)


Expected = int | Versioning


def model_outcome(
    stream: ModelStream | None, expected: Expected, batch: list[int | None]
) -> type[Exception] | None:
    """The exception the rule demands for this append, or ``None`` when it must succeed."""
    unversioned = expected is NO_VERSIONING
    if unversioned and any(v is not None for v in batch):
        return VersionsDoNotMatchVersioning
    if not unversioned and any(v is None for v in batch):
        return VersionsDoNotMatchVersioning
    if len(set(batch)) != len(batch) and not unversioned:
        return ConcurrentStreamWriteError
    if stream is None:
        return ConcurrentStreamWriteError if not unversioned and expected != 0 else None
    if not unversioned and not stream.versioned:
        return ExpectedVersionUsedOnVersionlessStream
    if unversioned and stream.versioned:
        return NoExpectedVersionGivenOnVersionedStream
    if not unversioned and expected != 0 and stream.stored != expected:
        return ConcurrentStreamWriteError
    if any(v is not None and v in stream.versions for v in batch):
        return ConcurrentStreamWriteError
    return None


def model_apply(stream: ModelStream | None, expected: Expected, batch: list[int | None]) -> Any:
    if stream is None:
        stream = ModelStream(versioned=expected is not NO_VERSIONING, stored=None)
    stream.versions.extend(batch)
    if stream.versioned:
        stream.stored = max(v for v in stream.versions if v is not None)
    return stream


TENANTS = ["", "tenant-b"]
STREAMS = [StreamId(name="s-1"), StreamId(name="s-1", category="other")]
KEYS = [(tenant, index) for tenant in TENANTS for index in range(len(STREAMS))]

versions_lists = (
    st.lists(st.integers(1, 12), min_size=1, max_size=3)
    | st.lists(st.none(), min_size=1, max_size=3)
    | st.lists(st.integers(1, 12) | st.none(), min_size=1, max_size=3)
)


class AppendMachine(RuleBasedStateMachine):
    """Random appends to two streams in two tenants, checked against the model."""

    def __init__(self) -> None:
        super().__init__()
        self.backend = InMemoryBackend()
        self.storage = self.backend[InMemoryStorage]
        self.model: dict[tuple[str, int], ModelStream] = {}
        self.rejections = 0

    def event_store(self, tenant: str) -> Any:
        return self.backend.in_tenant_mode(tenant).event_store

    def choose_expected(self, key: tuple[str, int], kind: str, stale: int) -> Expected:
        stream = self.model.get(key)
        if kind == "zero":
            return 0
        if kind == "no_versioning":
            return NO_VERSIONING
        if kind == "correct":
            if stream is None:
                return 0
            return NO_VERSIONING if stream.stored is None else stream.stored
        current = stream.stored if stream is not None else None
        return stale if stale != current else stale + 1

    def attempt(self, key: tuple[str, int], expected: Expected, events: list[Any]) -> None:
        tenant, index = key
        if isinstance(events[0], WrappedEvent):
            batch = [e.version for e in events]
        elif expected is NO_VERSIONING:
            batch = [None] * len(events)
        else:
            batch = [int(expected) + n for n in range(1, len(events) + 1)]  # type: ignore[arg-type]
        demanded = model_outcome(self.model.get(key), expected, batch)
        event(f"outcome: {demanded.__name__ if demanded else 'stored'}")
        before_log = list(self.storage.log)
        before_stream = self.loaded(key)
        raised: Exception | None = None
        try:
            self.event_store(tenant).append(
                *events, stream_id=STREAMS[index], expected_version=expected
            )
        except Exception as error:
            raised = error
        if demanded is None:
            assert raised is None, f"append {batch} with {expected!r} raised {raised!r}"
            self.model[key] = model_apply(self.model.get(key), expected, batch)
        else:
            assert type(raised) is demanded, f"{batch} with {expected!r}: {raised!r}"
            self.rejections += 1
            assert self.storage.log == before_log, "a rejected append stored something"
            assert self.loaded(key) == before_stream

    def loaded(self, key: tuple[str, int]) -> list[tuple[Any, int | None]]:
        tenant, index = key
        return [(e.uuid, e.version) for e in self.event_store(tenant).load_stream(STREAMS[index])]

    @rule(
        key=st.sampled_from(KEYS),
        kind=st.sampled_from(["zero", "correct", "stale", "no_versioning"]),
        stale=st.integers(1, 14),
        count=st.integers(1, 3),
    )
    def append_bare_events(self, key: tuple[str, int], kind: str, stale: int, count: int) -> None:
        expected = self.choose_expected(key, kind, stale)
        self.attempt(key, expected, [Numbered(note=n) for n in range(count)])

    @rule(
        key=st.sampled_from(KEYS),
        kind=st.sampled_from(["zero", "correct", "stale", "no_versioning"]),
        stale=st.integers(1, 14),
        versions=versions_lists,
    )
    def append_wrapped_events(
        self, key: tuple[str, int], kind: str, stale: int, versions: list[int | None]
    ) -> None:
        expected = self.choose_expected(key, kind, stale)
        self.attempt(key, expected, [WrappedEvent.wrap(Numbered(), v) for v in versions])

    @rule(key=st.sampled_from(KEYS))
    def append_continuing_the_stream_always_succeeds(self, key: tuple[str, int]) -> None:
        stream = self.model.get(key)
        expected: Expected = 0 if stream is None else stream.stored or NO_VERSIONING
        self.attempt(key, expected, [Numbered()])
        last = self.model[key].versions[-1]
        assert last == (None if expected is NO_VERSIONING else int(expected) + 1)  # type: ignore[arg-type]

    @invariant()
    def stored_version_is_the_highest_version_stored(self) -> None:
        for (tenant, index), model in self.model.items():
            state = self.storage.streams[stream_key(tenant, STREAMS[index])]
            stored = [e.version for e in state.events]
            if model.versioned:
                assert state.version == max(v for v in stored if v is not None)
            else:
                assert state.version is None
                assert set(stored) == {None}

    @invariant()
    def no_version_is_ever_stored_twice(self) -> None:
        for key in self.model:
            versions = [v for _, v in self.loaded(key) if v is not None]
            assert len(versions) == len(set(versions))

    @invariant()
    def loads_match_the_model_per_tenant_and_stream(self) -> None:
        for key in KEYS:
            model = self.model.get(key)
            loaded = [v for _, v in self.loaded(key)]
            if model is None:
                assert loaded == []
            elif model.versioned:
                assert loaded == sorted(model.versions)  # type: ignore[type-var]
            else:
                assert loaded == model.versions


AppendMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25)
TestAppendSequences = AppendMachine.TestCase


# --------------------------------------------------------------------------- the pure rule


@st.composite
def stream_states(draw: st.DrawFn) -> ModelStream | None:
    """A missing stream, a versionless one, or a versioned one whose stored version is its max."""
    kind = draw(st.sampled_from(["missing", "versionless", "versioned"]))
    if kind == "missing":
        return None
    if kind == "versionless":
        return ModelStream(versioned=False, stored=None, versions=[None])
    versions = sorted(draw(st.sets(st.integers(1, 12), min_size=1, max_size=5)))
    return ModelStream(versioned=True, stored=max(versions), versions=list(versions))


@st.composite
def appends(draw: st.DrawFn) -> tuple[ModelStream | None, Expected, list[int | None]]:
    """A stream state, an expected version (zero, correct, stale or NO_VERSIONING) and a batch
    that mostly fits the mode."""
    stream = draw(stream_states())
    kind = draw(st.sampled_from(["zero", "correct", "stale", "no_versioning"]))
    current = stream.stored if stream is not None else None
    expected: Expected
    if kind == "zero":
        expected = 0
    elif kind == "no_versioning":
        expected = NO_VERSIONING
    elif kind == "correct":
        expected = 0 if stream is None else (NO_VERSIONING if current is None else current)
    else:
        expected = draw(st.integers(1, 13).filter(lambda v: v != current))
    fitting = (
        st.lists(st.none(), min_size=1, max_size=3)
        if expected is NO_VERSIONING
        else st.lists(st.integers(1, 40), min_size=1, max_size=4)
    )
    return stream, expected, draw(fitting | versions_lists)


@given(case=appends())
@example(case=(None, 0, [5, 3]))
@example(case=(ModelStream(versioned=True, stored=2, versions=[1, 2]), 2, [9, 7]))
def test_plan_stored_version_follows_the_model(
    case: tuple[ModelStream | None, Expected, list[int | None]],
) -> None:
    stream, expected, batch = case
    event(f"outcome: {getattr(model_outcome(stream, expected, batch), '__name__', 'stored')}")
    demanded = model_outcome(stream, expected, batch)
    if expected is NO_VERSIONING:
        versioning: Versioning = NO_VERSIONING
    else:
        last = batch[-1] if batch[-1] is not None else 0
        versioning = ExplicitVersioning(int(expected), initial_version=last)  # type: ignore[arg-type]
    old = stream.versions if stream is not None else []
    taken = [v for v in batch if v is not None and v in old]

    def plan() -> int | None:
        return plan_stored_version(
            stream is not None, stream.stored if stream else None, versioning, batch, taken
        )

    if demanded is not None:
        with pytest.raises(demanded) as caught:
            plan()
        assert type(caught.value) is demanded
    else:
        assert plan() == model_apply(stream, expected, batch).stored


@given(
    expected=st.integers(0, 100),
    count=st.integers(1, 5),
)
def test_bare_events_are_numbered_after_the_expected_version(expected: int, count: int) -> None:
    wrapped, versioning = plan_append([Numbered() for _ in range(count)], expected)

    assert [w.version for w in wrapped] == list(range(expected + 1, expected + count + 1))
    assert versioning.expected_version == expected
    assert versioning.initial_version == expected + count


@given(versions=st.lists(st.integers(1, 50), min_size=1, max_size=5, unique=True))
def test_wrapped_event_versions_are_kept_as_given(versions: list[int]) -> None:
    events = [WrappedEvent.wrap(Numbered(), v) for v in versions]

    wrapped, versioning = plan_append(events, 0)

    assert wrapped == events
    assert [w.version for w in wrapped] == versions
    assert versioning.expected_version == 0


@settings(max_examples=30)
@given(versions=st.permutations([1, 2, 3, 4, 5]))
def test_an_unsorted_pre_numbered_batch_leaves_the_stream_at_its_highest_version(
    versions: list[int],
) -> None:
    event_store = InMemoryBackend().event_store
    stream_id = StreamId()
    event_store.append(*(WrappedEvent.wrap(Numbered(), v) for v in versions), stream_id=stream_id)

    event_store.append(Numbered(), stream_id=stream_id, expected_version=5)

    assert [e.version for e in event_store.load_stream(stream_id)] == [1, 2, 3, 4, 5, 6]
