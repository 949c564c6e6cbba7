"""The fast path of `parse_event`: orjson plus a generated check, for lines pydantic would plainly accept.

Why: on the project VM (Python 3.11 without PGO), pydantic takes ~2.6 us to validate a GroupMemberAdded line into
two models and ~0.7 us more to free them. orjson decodes the line in ~0.7 us; the generated check of the decoded
values and two records (`events.records`) adopting the decoded dicts add ~1 us, freeing included.

Sound, not complete: a parser here returns an event only for a line that `input_event_adapter` (pydantic, the
validator of record) accepts, with the same values; for anything else it returns None and the caller asks pydantic,
so which lines are rejected, and why, is pydantic's answer alone. The parsers are generated from pydantic's own
compiled core schema of the input union, translating a small whitelist of constructs (anything else, e.g. a model
validator or a list of models, leaves that event type to pydantic):

- str (strict; min_length: `len`, as pydantic counts code points; pattern: checked by pydantic-core itself, so the
  regex semantics stay its own), literal of strings, bool, int (strict, `ge`: an integer orjson decoded as int;
  orjson decodes integers beyond 64 bits as floats, which the check refuses), nullable, list of these;
- model with extra='ignore': a JSON object having only keys of its fields (a key pydantic would ignore sends the line
  to pydantic), required fields present; an absent optional field reads the model's default (`events.records`).

orjson and pydantic's parser (jiter) agree on the JSON they both accept: the same strings (escapes, surrogates,
UTF-8), the last of duplicate keys wins in both; what orjson refuses (NaN, Infinity, 1e400, BOM) goes to pydantic.
An accepted line nests at most four levels (envelope, data, settings, list), far below jiter's depth limit.
tests/test_parse_speed_equivalence.py checks all this line by line against pydantic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import orjson
from pydantic_core import CoreConfig, SchemaValidator

from events.records import RECORD_OF, Record
from events.wire import input_event_adapter

Parser = Callable[[dict[str, Any]], Record | None]


class _Unsupported(Exception):
    """A construct this module does not translate: lines of that event type always go to pydantic."""


class _Source:
    """The Python source of one generated parser and the constants it names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name


def _only(schema: dict[str, Any], allowed: set[str]) -> None:
    """Refuse a schema with any key not known to be harmless here (e.g. `max_length`, `validation_alias`)."""
    unknown = schema.keys() - allowed - {"type", "metadata"}
    if unknown:
        raise _Unsupported(f"{schema['type']}: {sorted(unknown)}")


def _test(schema: dict[str, Any], var: str, config: dict[str, Any], src: _Source) -> str:
    """A Python expression over `var` (a decoded JSON value), true only if pydantic accepts that value for this leaf
    schema and returns an equal value."""
    kind = schema["type"]
    strict = schema.get("strict", config.get("strict")) is True
    if kind == "str" and strict:
        _only(schema, {"strict", "min_length", "pattern"})
        if "pattern" in schema:
            # pydantic-core itself checks the pattern, so the regex engine and its semantics stay pydantic's.
            check = src.constant(SchemaValidator(schema, cast(CoreConfig, config)).isinstance_python)
            return f"(type({var}) is str and {check}({var}))"
        if schema.get("min_length") == 1:
            return f"(type({var}) is str and {var} != '')"
        if "min_length" in schema:
            return f"(type({var}) is str and len({var}) >= {int(schema['min_length'])})"
        return f"(type({var}) is str)"
    if kind == "literal" and all(type(value) is str for value in schema["expected"]):
        _only(schema, {"expected"})
        if len(schema["expected"]) == 1:  # only a str equals a str (orjson decodes no str subclass)
            return f"({var} == {schema['expected'][0]!r})"
        return f"(type({var}) is str and {var} in {src.constant(frozenset(schema['expected']))})"
    if kind == "bool" and strict:
        _only(schema, {"strict"})
        return f"(type({var}) is bool)"
    if kind == "int" and strict:
        _only(schema, {"strict", "ge"})
        if "ge" in schema:
            return f"(type({var}) is int and {var} >= {int(schema['ge'])})"
        return f"(type({var}) is int)"
    if kind == "nullable":
        _only(schema, {"schema"})
        return f"({var} is None or {_test(schema['schema'], var, config, src)})"
    raise _Unsupported(kind)


def _model(schema: dict[str, Any], depth: int, indent: int, src: _Source, tag: str | None = None) -> str:
    """Emit the checks of the JSON object in `d<depth>` against a model schema, then the building of its record.

    `tag`: the name of the discriminator field, whose value the caller already matched. Returns the name of the
    variable holding the record."""
    _only(schema, {"cls", "schema", "config", "custom_init", "root_model", "ref"})
    config = schema.get("config", {})
    _only({"type": "config", **config}, {"extra_fields_behavior", "strict", "title"})
    if schema.get("custom_init") or schema.get("root_model") or config.get("extra_fields_behavior") != "ignore":
        raise _Unsupported(f"model {schema['cls'].__name__}")
    record_cls = RECORD_OF.get(schema["cls"])
    fields = schema["schema"]
    if record_cls is None or fields["type"] != "model-fields" or fields.get("computed_fields"):
        raise _Unsupported(f"model {schema['cls'].__name__}")
    _only(fields, {"fields", "model_name", "computed_fields"})

    obj, given = f"d{depth}", f"n{depth}"
    src.emit(indent, f"{given} = 0  # optional fields given")
    required = 0
    for name, field in fields["fields"].items():
        _only(field, {"schema"})
        value = field["schema"]
        if value["type"] == "default":  # optional: absent reads the default (a class attribute of the record)
            _only(value, {"schema", "default"})
            src.emit(indent, f"if {name!r} in {obj}:")
            src.emit(indent + 1, f"v = {obj}[{name!r}]")
            src.emit(indent + 1, f"{given} += 1")
            _value(value["schema"], name, config, depth, indent + 1, src)
        elif name == tag:
            required += 1  # present, and the value this parser is registered for
        else:
            required += 1
            src.emit(indent, f"v = {obj}[{name!r}]  # KeyError: missing")
            _value(value, name, config, depth, indent, src)
    # Every key is a field: a key pydantic would ignore (extra='ignore') sends the line to pydantic.
    src.emit(indent, f"if len({obj}) != {required} + {given}:")
    src.emit(indent + 1, "return None")
    record = f"r{depth}"
    src.emit(indent, f"{record} = {src.constant(record_cls)}()")
    src.emit(indent, f"{record}.__dict__ = {obj}  # the record adopts the decoded dict")
    return record


def _value(schema: dict[str, Any], name: str, config: dict[str, Any], depth: int, indent: int, src: _Source) -> None:
    """Emit the check of `v`, the value of field `name` of `d<depth>`; a nested model is replaced by its record."""
    if schema["type"] == "nullable" and schema["schema"]["type"] in ("model", "list"):
        _only(schema, {"schema"})
        src.emit(indent, "if v is not None:")
        _value(schema["schema"], name, config, depth, indent + 1, src)
    elif schema["type"] == "list" and schema.get("strict", config.get("strict")) is True:
        _only(schema, {"strict", "items_schema"})  # no length constraints
        src.emit(indent, "if type(v) is not list:")
        src.emit(indent + 1, "return None")
        src.emit(indent, "for x in v:")
        src.emit(indent + 1, f"if not {_test(schema['items_schema'], 'x', config, src)}:")
        src.emit(indent + 2, "return None")
    elif schema["type"] == "model":
        src.emit(indent, "if type(v) is not dict:")
        src.emit(indent + 1, "return None")
        src.emit(indent, f"d{depth + 1} = v")
        record = _model(schema, depth + 1, indent, src)
        src.emit(indent, f"d{depth}[{name!r}] = {record}")
    else:
        src.emit(indent, f"if not {_test(schema, 'v', config, src)}:")
        src.emit(indent + 1, "return None")


def _compile(tag: str, schema: dict[str, Any]) -> Parser:
    src = _Source()
    src.emit(0, "def parse(d0):")
    src.emit(1, "try:")
    record = _model(schema, 0, 2, src, tag="type")
    src.emit(2, f"return {record}")
    src.emit(1, "except KeyError:  # a required field is missing")
    src.emit(2, "return None")
    code = "\n".join(src.lines) + "\n"
    namespace = dict(src.constants)
    exec(compile(code, f"<fast parser of {tag}>", "exec"), namespace)
    parser: Parser = namespace["parse"]
    parser.__doc__ = code  # the generated source, for whoever debugs it
    return parser


def _compile_all() -> dict[str, Parser]:
    union = input_event_adapter.core_schema
    if union["type"] != "tagged-union" or union.get("discriminator") != "type":
        return {}  # not the shape this module knows: every line goes to pydantic
    parsers = {}
    for tag, schema in union["choices"].items():
        try:
            parsers[tag] = _compile(tag, schema)
        except _Unsupported:
            pass
    return parsers


PARSERS: dict[str, Parser] = _compile_all()
"""Event type -> its generated parser; types without one (see the module docstring) always go to pydantic."""

_loads = orjson.loads


def parse_fast(raw: bytes | str) -> Record | None:
    """The event of a line pydantic plainly accepts, or None: not vouched for here, pydantic decides."""
    try:
        fields = _loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(fields) is not dict:
        return None
    kind = fields.get("type")
    parser = PARSERS.get(kind) if type(kind) is str else None
    return None if parser is None else parser(fields)
