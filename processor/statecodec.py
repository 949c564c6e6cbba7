"""Tenant states as snapshot blobs: MessagePack of their field values, a format whose decoding runs no code.

A blob holds the state without its catalogue. The catalogue is the runtime's (the shipped one, given to
`decode_state`) plus the tenant's own plan additions (ServicePlanAdded), which the blob lists as (SKU, plan id,
plan name) and which are applied again with `Catalog.with_plan`; so the catalogue's memo caches are never stored,
and an upgraded catalogue is never shadowed by an old copy.

Every blob starts with its version: a digest of the state classes' fields, of this codec's layout and of the
catalogue the additions apply to. A blob of another version (the classes, the codec or the catalogue changed)
decodes to None: the caller rebuilds the tenant from its log, which is the truth.

Layout: the users, groups and entries are stored a column per field, and every string, plan mask and error detail
once, in a table, with the fields holding its number. A tenant shares a few thousand distinct SKU ids, group ids,
states and times among millions of fields; decoding each once keeps them shared in memory (as the decided state
shares them), and a column decodes with `map` instead of a Python loop per object.

Shared by the embedded runtime (its `snapshots` table) and the Kafka runtime; touches no database.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from operator import attrgetter
from typing import Any

import msgspec

from processor.catalog_file import shipped_catalog
from processor.core.catalog import Catalog
from processor.core.state import Entry, Group, Settings, Subscription, TenantState, User

CODEC_LAYOUT = 1  # bump when the payload below changes shape
VERSION_BYTES = 16
WIDE = 1  # MessagePack extension code of an integer beyond 64 bits (little-endian, signed)
INT64 = 1 << 63

Wide = int | msgspec.msgpack.Ext
Addition = tuple[str, str, str]  # (skuId, servicePlanId, servicePlanName), as given to Catalog.with_plan

# How each field of a user, group or entry is stored: the kind of its column.
STR = "str"  # str or None: numbers in the strings table (0 is None)
MASK = "mask"  # plan mask: numbers in the masks table
DETAIL = "detail"  # error detail dict or None: numbers in the details table (0 is None)
BOOL = "bool"
WIDE_INT = "wide"  # int or None, natively within 64 bits, else a WIDE extension
STR_TUPLE = "str tuple"  # tuple of str: lists of string numbers
STR_SET = "str set"  # set of str: lists of string numbers
STR_TO_INT = "str -> int"  # dict: (string numbers of its keys, its values), in order
STR_TO_MASK = "str -> mask"  # dict: (string numbers of its keys, mask numbers of its values), in order
ENTRIES = "entries"  # a user's entries dict: how many, the entries themselves in ENTRY_COLUMNS (keyed by them)

ENTRY_COLUMNS = {
    "sku_id": STR,
    "group_id": STR,
    "disabled": MASK,
    "state": STR,
    "error": STR,
    "detail": DETAIL,
    "last_updated": STR,
    "requested": MASK,
    "first_error_at": STR,
}
USER_COLUMNS = {
    "user_id": STR,
    "upn": STR,
    "display_name": STR,
    "usage_location": STR,
    "proxy_addresses": STR_TUPLE,
    "account_enabled": BOOL,
    "soft_deleted": BOOL,
    "entries": ENTRIES,
    "groups": STR_TO_INT,
    "suspended": MASK,
    "version": WIDE_INT,
}
GROUP_COLUMNS = {
    "group_id": STR,
    "display_name": STR,
    "kind": STR,
    "security_enabled": BOOL,
    "deleted": BOOL,
    "licenses": STR_TO_MASK,
    "members": STR_TO_INT,
    "nested": STR_TO_INT,
    "sourced": STR_SET,
    "errors": STR_SET,
    "processing_state": STR,
    "license_version": WIDE_INT,
}
# TenantState, Settings and Subscription are few: stored as their values, by the code below. Every field of every
# state class is stored: a test holds these lists to the classes.
TENANT_FIELDS = (
    "tenant_id",
    "catalog",  # not stored: rebuilt from the base catalogue and the additions
    "country",
    "mode",
    "ruleset",
    "settings",
    "subscriptions",
    "consumed",
    "known_skus",
    "users",
    "groups",
    "proxy_holders",
    "address_sharers",
    "versions",
    "count_waiters",
    "seq",
)
SETTINGS_FIELDS = (
    "group_prereq_policy",
    "dependency_on_group_removal",
    "proxy_conflict_mode",
    "allowed_group_kinds",  # a tuple: stored as a list
    "release_seat_on_soft_delete",
    "error_enum_spelling",
)
SUBSCRIPTION_FIELDS = ("enabled", "warning", "suspended", "locked_out", "version")  # all WIDE_INT

_COLUMN_TYPES: dict[str, Any] = {
    STR: list[int],
    MASK: list[int],
    DETAIL: list[int],
    BOOL: list[bool],
    WIDE_INT: list[Wide | None],
    STR_TUPLE: list[list[int]],
    STR_SET: list[list[int]],
    STR_TO_INT: list[tuple[list[int], list[int]]],
    STR_TO_MASK: list[tuple[list[int], list[int]]],
}


def _columns_type(kinds: dict[str, str]) -> Any:
    """The type msgspec checks the columns of `kinds` against while decoding."""
    return tuple[tuple(_COLUMN_TYPES[kind] for kind in kinds.values())]  # type: ignore[misc]


# (entries per user, the entries' columns)
_COLUMN_TYPES[ENTRIES] = tuple[list[int], _columns_type(ENTRY_COLUMNS)]  # type: ignore[misc]


def _payload_type() -> Any:
    """What a blob holds after its version, checked while decoding: a blob of another shape does not decode."""
    return tuple[  # type: ignore[misc]
        list[Addition],
        list[str | None],  # the strings table
        list[bytes],  # the masks table, masks as little-endian signed bytes (a mask can exceed 64 bits)
        list[dict[str, Any] | None],  # the details table
        tuple[str, str | None, str, str, tuple[str, str, str, list[str], bool, str], int],  # tenant, settings, seq
        list[tuple[str, Wide, Wide, Wide, Wide, Wide | None]],  # subscriptions
        dict[str, int],  # consumed
        list[str],  # known SKUs, in order
        _columns_type(USER_COLUMNS),
        _columns_type(GROUP_COLUMNS),
        list[tuple[int, list[int]]],  # proxy holders: address -> user ids
        list[tuple[int, int]],  # address sharers: user id -> count
        list[tuple[list[str], Wide]],  # versions: key -> last version applied
        list[tuple[str, list[tuple[int, int]]]],  # count waiters: SKU -> (user id, group id), oldest first
    ]


_decoder = msgspec.msgpack.Decoder(_payload_type())
_encoder = msgspec.msgpack.Encoder()


class _Table(dict[Any, int]):
    """Distinct values numbered in order of first use: `table[value]` is the value's number."""

    def __missing__(self, value: Any) -> int:
        number = self[value] = len(self)
        return number


class _Tables:
    """The tables of one blob being written."""

    def __init__(self) -> None:
        self.strings = _Table({None: 0})
        self.masks = _Table()
        self.details: list[dict[str, Any] | None] = [None]
        self._detail_numbers: dict[int, int] = {}  # id(detail) -> its number: shared dicts stay shared

    def detail(self, detail: dict[str, Any] | None) -> int:
        if detail is None:
            return 0
        number = self._detail_numbers.get(id(detail))
        if number is None:
            number = self._detail_numbers[id(detail)] = len(self.details)
            self.details.append(detail)
        return number

    def column(self, kind: str, values: list[Any]) -> Any:
        text, mask = self.strings.__getitem__, self.masks.__getitem__
        if kind == STR:
            return list(map(text, values))
        if kind == MASK:
            return list(map(mask, values))
        if kind == DETAIL:
            return list(map(self.detail, values))
        if kind == BOOL:
            return values
        if kind == WIDE_INT:
            return list(map(_wide, values))
        if kind in (STR_TUPLE, STR_SET):
            return [list(map(text, items)) for items in values]
        if kind == STR_TO_INT:
            return [(list(map(text, items)), list(items.values())) for items in values]
        if kind == STR_TO_MASK:
            return [(list(map(text, items)), list(map(mask, items.values()))) for items in values]
        assert kind == ENTRIES
        entries = [entry for items in values for entry in items.values()]
        return list(map(len, values)), self.columns(ENTRY_COLUMNS, entries)

    def columns(self, kinds: dict[str, str], objects: list[Any]) -> tuple[Any, ...]:
        return tuple(self.column(kind, list(map(attrgetter(name), objects))) for name, kind in kinds.items())


class _Reader:
    """The tables of one blob being read."""

    def __init__(self, strings: list[str | None], masks: list[int], details: list[dict[str, Any] | None]) -> None:
        self.text: Callable[[int], Any] = strings.__getitem__
        self.mask: Callable[[int], int] = masks.__getitem__
        self.detail: Callable[[int], Any] = details.__getitem__

    def column(self, kind: str, column: Any) -> Iterable[Any]:
        text, mask = self.text, self.mask
        if kind == STR:
            return map(text, column)
        if kind == MASK:
            return map(mask, column)
        if kind == DETAIL:
            return map(self.detail, column)
        if kind == BOOL:
            return column  # type: ignore[no-any-return]
        if kind == WIDE_INT:
            return map(_maybe_int, column)
        if kind == STR_TUPLE:
            return (tuple(map(text, items)) for items in column)
        if kind == STR_SET:
            return (set(map(text, items)) for items in column)
        if kind == STR_TO_INT:
            return (dict(zip(map(text, keys), values)) for keys, values in column)
        if kind == STR_TO_MASK:
            return (dict(zip(map(text, keys), map(mask, values))) for keys, values in column)
        assert kind == ENTRIES
        counts, entry_columns = column
        return self._entries(counts, entry_columns)

    def objects(self, cls: Callable[..., Any], kinds: dict[str, str], columns: tuple[Any, ...]) -> list[Any]:
        return list(map(cls, *(self.column(kind, column) for kind, column in zip(kinds.values(), columns))))

    def _entries(self, counts: list[int], columns: tuple[Any, ...]) -> Iterator[dict[tuple[str, str | None], Entry]]:
        """Each user's entries dict, keyed by (skuId, group) as the core keys them."""
        entries = self.objects(Entry, ENTRY_COLUMNS, columns)
        keys = zip(map(attrgetter("sku_id"), entries), map(attrgetter("group_id"), entries))
        values = iter(entries)
        for count in counts:
            yield dict(zip(islice(keys, count), islice(values, count)))


def encode_state(state: TenantState, base: Catalog | None = None) -> bytes:
    """The state as a blob: its fields, and its catalogue as `base` (default: the shipped catalogue) plus additions.

    A state whose catalogue is not `base` plus plan additions is encoded against its own catalogue, which only
    that same catalogue decodes (anything else rebuilds it from the log)."""
    if base is None:
        base = shipped_catalog()
    additions = plan_additions(base, state.catalog)
    if additions is None:
        base, additions = state.catalog, []
    tables = _Tables()
    text = tables.strings.__getitem__
    users = tables.columns(USER_COLUMNS, list(state.users.values()))
    groups = tables.columns(GROUP_COLUMNS, list(state.groups.values()))
    proxy_holders = [(text(address), list(map(text, holders))) for address, holders in state.proxy_holders.items()]
    address_sharers = [(text(user_id), count) for user_id, count in state.address_sharers.items()]
    count_waiters = [
        (sku_id, [(text(user_id), text(group_id)) for user_id, group_id in waiters])
        for sku_id, waiters in state.count_waiters.items()
    ]
    payload = (
        additions,
        list(tables.strings),
        list(map(_int_bytes, tables.masks)),
        tables.details,
        (
            state.tenant_id,
            state.country,
            state.mode,
            state.ruleset,
            [list(value) if isinstance(value, tuple) else value for value in settings_values(state.settings)],
            state.seq,
        ),
        [(sku_id, *map(_wide, subscription_values(s))) for sku_id, s in state.subscriptions.items()],
        state.consumed,
        list(state.known_skus),
        users,
        groups,
        proxy_holders,
        address_sharers,
        [(list(key), _wide(version)) for key, version in state.versions.items()],
        count_waiters,
    )
    return state_version(base) + _encoder.encode(payload)


settings_values = attrgetter(*SETTINGS_FIELDS)
subscription_values = attrgetter(*SUBSCRIPTION_FIELDS)


def decode_state(blob: bytes, catalog: Catalog) -> TenantState | None:
    """The state of a blob `encode_state` made against `catalog`; None for a blob of another version (or a damaged
    one): the caller rebuilds the tenant from the log."""
    if blob[:VERSION_BYTES] != state_version(catalog):
        return None
    try:
        payload = _decoder.decode(memoryview(blob)[VERSION_BYTES:])
        additions, strings, mask_bytes, details, tenant, subscriptions, consumed, known, users, groups, *rest = payload
        proxy_holders, address_sharers, versions, count_waiters = rest
        for sku_id, plan_id, plan_name in additions:
            catalog = catalog.with_plan(sku_id, plan_id, plan_name)
        reader = _Reader(strings, [int.from_bytes(raw, "little", signed=True) for raw in mask_bytes], details)
        text = reader.text
        tenant_id, country, mode, ruleset, settings, seq = tenant
        policy, removal, proxies, kinds, release, spelling = settings
        return TenantState(
            tenant_id,
            catalog,
            country,
            mode,
            ruleset,
            Settings(policy, removal, proxies, tuple(kinds), release, spelling),
            {
                sku_id: Subscription(_int(enabled), _int(warning), _int(suspended), _int(locked), _maybe_int(version))
                for sku_id, enabled, warning, suspended, locked, version in subscriptions
            },
            consumed,
            dict.fromkeys(known),
            {user.user_id: user for user in reader.objects(User, USER_COLUMNS, users)},
            {group.group_id: group for group in reader.objects(Group, GROUP_COLUMNS, groups)},
            {text(address): set(map(text, holders)) for address, holders in proxy_holders},
            {text(user_id): count for user_id, count in address_sharers},
            {tuple(key): _int(version) for key, version in versions},
            {sku_id: {(text(user), text(group)): None for user, group in waiters} for sku_id, waiters in count_waiters},
            seq,
        )
    except (msgspec.DecodeError, IndexError, KeyError, ValueError, TypeError):
        return None  # damaged: numbers beyond their tables, columns of unequal lengths, an addition to no SKU


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True)


def _wide(value: int | None) -> Wide | None:
    """An integer as MessagePack holds it: natively within 64 bits, else as a WIDE extension."""
    if value is None or -INT64 <= value < INT64:
        return value
    return msgspec.msgpack.Ext(WIDE, _int_bytes(value))


def _int(value: Wide) -> int:
    if isinstance(value, msgspec.msgpack.Ext):
        if value.code != WIDE:
            raise ValueError(f"extension {value.code} is not an integer")
        return int.from_bytes(value.data, "little", signed=True)
    return value


def _maybe_int(value: Wide | None) -> int | None:
    return None if value is None else _int(value)


# ---- versions ---------------------------------------------------------------------------------------------------


def plan_additions(base: Catalog, catalog: Catalog) -> list[Addition] | None:
    """The plan additions that make `catalog` of `base` (in an order `with_plan` reproduces it in), or None when
    `catalog` is not `base` plus plan additions."""
    if catalog is base:
        return []
    known = len(base.plan_ids)
    if (
        catalog.plan_ids[:known] != base.plan_ids
        or catalog.plan_names[:known] != base.plan_names
        or catalog.skus.keys() != base.skus.keys()
    ):
        return None
    additions: list[Addition] = []
    for bit in range(len(catalog.plan_ids)):  # a new plan takes the next bit: adding in bit order renumbers none
        for sku_id, sku in catalog.skus.items():
            if sku.plans >> bit & 1 and not base.skus[sku_id].plans >> bit & 1:
                additions.append((sku_id, catalog.plan_ids[bit], catalog.plan_names[bit]))
    rebuilt = base
    for addition in additions:
        rebuilt = rebuilt.with_plan(*addition)
    return additions if rebuilt == catalog else None


def state_version(catalog: Catalog) -> bytes:
    """The version of blobs made against `catalog`: a digest of the state classes' fields, the codec's layout and
    the catalogue's data."""
    digest = hashlib.sha256(STATE_LAYOUT)
    digest.update(catalog_digest(catalog))
    return digest.digest()[:VERSION_BYTES]


def _state_layout() -> bytes:
    classes = (TenantState, Settings, Subscription, User, Group, Entry)
    fields = [(cls.__qualname__, [(f.name, str(f.type)) for f in dataclasses.fields(cls)]) for cls in classes]
    return repr((CODEC_LAYOUT, fields)).encode()


STATE_LAYOUT = _state_layout()


def catalog_digest(catalog: Catalog) -> bytes:
    """A digest of the catalogue's data (its compared fields; the memo caches are not data)."""
    return hashlib.sha256(repr(_canonical(catalog)).encode()).digest()


def _canonical(value: Any) -> Any:
    """`value` as nested tuples whose repr is the same in every process (sets sorted: their order is not)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__qualname__,
            tuple((f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value) if f.compare),
        )
    if isinstance(value, dict):
        return ("dict", tuple((_canonical(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted((_canonical(item) for item in value), key=repr)))
    if isinstance(value, tuple | list):
        return tuple(_canonical(item) for item in value)
    return value
