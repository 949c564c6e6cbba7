"""Records: frozen msgspec Structs twinning the pydantic wire models, the input events the decision core receives.

A pydantic model instance carries a `__dict__` of every field, a `set` of the fields given and two more slots; building
two per line (envelope and `data`) and freeing them cost more than parsing the JSON. A record is a Struct of the same
name and fields, built from the wire model (`record_class`), so:

- msgspec decodes a line straight into records, in C (`events.fastpath`, for the lines it can vouch for);
- `record.<field>` reads the given value, else the wire model's default (a mutable default is the record's own copy);
- a *clearable* field (`events.wire.CLEARABLE`: null clears the value, absence keeps it) reads `UNSET` when the input
  left it out, which is the one thing the core needs of pydantic's `model_fields_set`;
- `==`, `hash` and `repr` follow the field values, and a record is immutable (frozen), as a frozen pydantic model.

A record class also knows whether msgspec can decode it exactly as pydantic validates it: each field's type is
translated from pydantic's own compiled core schema, for a small whitelist of constructs (strict str with
`min_length`, literals of strings, strict bool, strict int with `ge` and `le`, nullable, lists of these or of records,
records). A `pattern` is not translated (Python's `re` and pydantic's regex engine differ, e.g. on `$` before a final
newline): the field is decoded as a str and pydantic-core's own check of it runs after decoding (`_checks`). A plain
string's after-validator (the envelope's RFC 3339 `time`) is translated if declared with the pattern of the values it
keeps as they are (`keeps_values_matching`): pydantic-core tests that pattern after decoding, and a value it does not
match goes to pydantic. Anything else (a model validator, a pattern inside a list) makes the class, and
every class holding it, pydantic-only.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast

import msgspec
from pydantic import BaseModel
from pydantic_core import CoreConfig, SchemaValidator

UNSET: Any = msgspec.UNSET
"""What a clearable field the input left out reads (typed Any: the wire models, which type checkers see, lack it)."""

RECORD_OF: dict[type[BaseModel], type[Record]] = {}
"""Wire model -> its record class (filled by `record_class`)."""

Validator = TypeVar("Validator", bound=Callable[[str], str])
VALUES_KEPT: dict[Callable[[str], str], str] = {}
"""Validator of a str -> the pattern of the values it keeps as they are (`keeps_values_matching`)."""

Check = tuple[Callable[[Any], Any], Callable[[Any], bool]]  # (value at a path of the record, pydantic's test of it)


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every record class."""

    _decodable: ClassVar[bool] = False  # msgspec decodes it as pydantic validates it (with `_checks` run after)
    _checks: ClassVar[tuple[Check, ...]] = ()  # pattern tests of str values at paths below the record


class _Unsupported(Exception):
    """A construct not translated: the record class is built from validated models only."""


def _only(schema: dict[str, Any], allowed: set[str]) -> None:
    """Refuse a schema with any key not known to be harmless here (e.g. `max_length`, `validation_alias`)."""
    unknown = schema.keys() - allowed - {"type", "metadata"}
    if unknown:
        raise _Unsupported(f"{schema['type']}: {sorted(unknown)}")


def _strict(schema: dict[str, Any], config: dict[str, Any]) -> bool:
    return schema.get("strict", config.get("strict")) is True


def _field_type(schema: dict[str, Any], config: dict[str, Any], path: str, checks: list[Check]) -> Any:
    """The msgspec type that decodes exactly the JSON values pydantic accepts for `schema`, to equal values; pattern
    tests of the value at `path` (dotted, from the record) are appended to `checks`."""
    kind = schema["type"]
    if kind == "str" and _strict(schema, config):
        _only(schema, {"strict", "min_length", "pattern"})
        if "pattern" in schema:
            # pydantic-core itself checks the pattern, so the regex engine and its semantics stay pydantic's.
            checks.append(
                (operator.attrgetter(path), SchemaValidator(schema, cast(CoreConfig, config)).isinstance_python)
            )
        if "min_length" in schema:  # both count code points
            return Annotated[str, msgspec.Meta(min_length=int(schema["min_length"]))]
        return str
    if kind == "literal" and all(type(value) is str for value in schema["expected"]):
        _only(schema, {"expected"})
        return Literal[tuple(schema["expected"])]
    if kind == "bool" and _strict(schema, config):
        _only(schema, {"strict"})
        return bool
    if kind == "int" and _strict(schema, config):
        _only(schema, {"strict", "ge", "le"})
        if "ge" not in schema and "le" not in schema:
            return int
        return Annotated[int, msgspec.Meta(ge=schema.get("ge"), le=schema.get("le"))]
    if kind == "function-after" and schema["function"]["type"] == "no-info":
        _only(schema, {"function", "schema"})
        kept = VALUES_KEPT.get(schema["function"]["function"])
        if kept is None or _field_type(schema["schema"], config, path, checks) is not str:
            raise _Unsupported("a validator not declared with `keeps_values_matching`, or not of a plain str")
        # pydantic-core tests the pattern, as it does a field's own (~0.07 us; Python's `re` takes ~0.2).
        kept_schema = {"type": "str", "pattern": f"^(?:{kept})$"}
        checks.append((operator.attrgetter(path), SchemaValidator(kept_schema).isinstance_python))
        return str
    if kind == "nullable":
        _only(schema, {"schema"})
        # A pattern below a null reads None at its path, which the check passes (see `events.fastpath`).
        return _field_type(schema["schema"], config, path, checks) | None
    if kind == "list" and _strict(schema, config):
        _only(schema, {"strict", "items_schema"})  # no length constraints
        inner: list[Check] = []
        item = _field_type(schema["items_schema"], config, path, inner)
        if inner:
            raise _Unsupported("a pattern inside a list")
        return list[item]  # type: ignore[valid-type]
    if kind == "model":
        record = RECORD_OF.get(schema["cls"])
        if record is None or not record._decodable:
            raise _Unsupported(f"model {schema['cls'].__name__}")
        for value_at, test in record._checks:
            checks.append((_below(path, value_at), test))
        return record
    raise _Unsupported(kind)


def keeps_values_matching(pattern: str) -> Callable[[Validator], Validator]:
    """Declare of a validator of a str that it returns, unchanged, every value that `pattern` (a regular expression
    that Python's `re` and pydantic-core's engine read alike) matches in full. Only a validator so declared is
    translated: a decoded value that the pattern matches is kept; any other goes to pydantic, which runs the
    validator.

    Why not call the validator itself after decoding: for the envelope's `time` that cost ~0.3 us a line more, a
    quarter of a demo tenant's parse (1,618 against 1,303 ns a line; 1,075 against 785 on the bench workload)."""

    def declare(validator: Validator) -> Validator:
        VALUES_KEPT[validator] = pattern
        return validator

    return declare


def _below(path: str, value_at: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`value_at` applied to the value at `path`; None if that value is None (a nullable record left out)."""
    outer = operator.attrgetter(path)

    def value(record: Any) -> Any:
        parent = outer(record)
        return None if parent is None else value_at(parent)

    return value


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    """The core schemas of the model's fields, if its schema is a plain model one (no validator around it)."""
    schema = cast(dict[str, Any], model.__pydantic_core_schema__)
    if schema["type"] != "model":
        raise _Unsupported(f"model {model.__name__}: {schema['type']}")
    _only(schema, {"cls", "schema", "config", "custom_init", "root_model", "ref"})
    config = schema.get("config", {})
    _only({"type": "config", **config}, {"extra_fields_behavior", "strict", "title"})
    # extra='ignore' is msgspec's own behaviour with keys that are not fields.
    if schema.get("custom_init") or schema.get("root_model") or config.get("extra_fields_behavior") != "ignore":
        raise _Unsupported(f"model {model.__name__}")
    fields = schema["schema"]
    if fields["type"] != "model-fields" or fields.get("computed_fields"):
        raise _Unsupported(f"model {model.__name__}")
    _only(fields, {"fields", "model_name", "computed_fields"})
    return cast(dict[str, Any], fields["fields"])


def _decoding_types(model: type[BaseModel]) -> tuple[dict[str, Any], list[Check]]:
    """Per field, the msgspec type that decodes it as pydantic validates it; the pattern checks."""
    config = model.__pydantic_core_schema__.get("config", {})
    types: dict[str, Any] = {}
    checks: list[Check] = []
    for name, field in _model_fields(model).items():
        _only(field, {"schema"})
        schema = field["schema"]
        if schema["type"] == "default":
            _only(schema, {"schema", "default"})
            schema = schema["schema"]
        types[name] = _field_type(schema, config, name, checks)
    return types, checks


def record_class(
    model: type[BaseModel], module: str, tag_field: str | None = None, clearable: frozenset[str] = frozenset()
) -> type[Record]:
    """The record class twin of a wire model: same name and fields, the model's defaults (UNSET for the `clearable`
    fields); decodable by msgspec when every field's type translates (nested models need their records first).

    `tag_field`: the union's discriminator (an envelope's `type`, a literal of one value): msgspec matches it while
    decoding, and the record class holds it as a class attribute."""
    try:
        types, checks = _decoding_types(model)
        decodable = True
    except _Unsupported:
        types, checks, decodable = {name: Any for name in model.model_fields}, [], False
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    namespace: dict[str, Any] = {"__doc__": model.__doc__, "_decodable": decodable, "_checks": tuple(checks)}
    options: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == tag_field:
            (value,) = info.annotation.__args__  # type: ignore[union-attr]
            namespace[name] = value
            options = {"tag_field": name, "tag": value}
        elif name in clearable:
            fields.append((name, types[name] | msgspec.UnsetType, UNSET))
        elif info.is_required():
            fields.append((name, types[name]))
        else:
            if info.default_factory is not None:
                raise TypeError(f"{model.__name__}.{name}: default factories are not supported by records")
            default = info.default
            if isinstance(default, BaseModel):
                default = to_record(default)  # records are immutable: one shared default is safe
            elif default == []:
                default = msgspec.field(default_factory=list)
            elif not (default is None or isinstance(default, (str, int, float))):
                raise TypeError(f"{model.__name__}.{name}: default {default!r} is not supported by records")
            fields.append((name, types[name], default))
    cls: type[Record] = msgspec.defstruct(  # type: ignore[assignment]  # a subclass of its base, Record
        model.__name__,
        fields,
        bases=(Record,),
        module=module,
        namespace=namespace,
        frozen=True,
        kw_only=True,
        **options,
    )
    RECORD_OF[model] = cls
    return cls


def to_record(value: Any) -> Any:
    """The record twin of a validated pydantic value (a model, a list of models); other values are returned as is."""
    if isinstance(value, BaseModel):
        cls = RECORD_OF[type(value)]
        tag = cls.__struct_config__.tag_field
        return cls(**{name: to_record(getattr(value, name)) for name in value.model_fields_set if name != tag})
    if type(value) is list:
        return [to_record(item) for item in value]
    return value
