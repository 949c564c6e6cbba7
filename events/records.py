"""Records: attribute-only twins of the pydantic wire models (immutable by contract), cheap to build and to free.

A pydantic model instance carries a `__dict__` of every field, a `set` of the fields given and two more slots; building
two per line (envelope and `data`) and freeing them later cost more than parsing the JSON. A record is an object whose
`__dict__` *is* the dict of fields the input gave (the fast path adopts the dict orjson decoded), while defaults live
on the record class, so:

- `record.<field>` reads the given value, else the wire model's default (mutable defaults are copied per read);
- `record.model_fields_set` is the set of fields the input gave, exactly as pydantic's;
- `==`, `hash` and `repr` follow the field values, as for a frozen pydantic model.

Records are immutable by contract, not enforced: a `__setattr__` guard would force the slow `object.__setattr__` to set
`__dict__` when building one, ~0.1 us per record, ~10 % of parsing a line. Records are built by `events.parse` only
(`cls()` gives an empty one). Nothing else of the pydantic API is offered (`model_dump`, `model_copy`, ...).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from pydantic import BaseModel

RECORD_OF: dict[type[BaseModel], type[Record]] = {}
"""Wire model -> its record class (filled by `record_class`)."""


class Record:
    __slots__ = ("__dict__",)
    _wire: ClassVar[type[BaseModel]]
    _fields: ClassVar[tuple[str, ...]]

    @property
    def model_fields_set(self) -> set[str]:
        # The instance dict holds exactly the fields the input gave; defaults are class attributes.
        return set(self.__dict__)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"


class _CopiedDefault:
    """A mutable default (`[]`): each read of a field the input left out gets a fresh copy, as pydantic copies it."""

    __slots__ = ("default",)

    def __init__(self, default: Any) -> None:
        self.default = default

    def __get__(self, record: object, owner: type | None = None) -> Any:
        return self.default if record is None else copy.deepcopy(self.default)


def record_class(model: type[BaseModel], module: str) -> type[Record]:
    """The record class twin of a wire model: same name and fields; the model's defaults as class attributes."""
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__module__": module,
        "__qualname__": model.__name__,
        "__doc__": model.__doc__,
        "_wire": model,
        "_fields": tuple(model.model_fields),
    }
    for name, field in model.model_fields.items():
        if field.is_required():
            continue  # always in the instance dict
        if field.default_factory is not None:
            raise TypeError(f"{model.__name__}.{name}: default factories are not supported by records")
        default = field.default
        if isinstance(default, BaseModel):
            namespace[name] = to_record(default)  # records are immutable: one shared default is safe
        elif default is None or isinstance(default, (str, int, float)):
            namespace[name] = default
        else:
            namespace[name] = _CopiedDefault(default)
    cls = type(model.__name__, (Record,), namespace)
    RECORD_OF[model] = cls
    return cls


def to_record(value: Any) -> Any:
    """The record twin of a validated pydantic value (a model, a list of models); other values are returned as is."""
    if isinstance(value, BaseModel):
        record = RECORD_OF[type(value)]()
        record.__dict__ = {name: to_record(getattr(value, name)) for name in value.model_fields_set}
        return record
    if type(value) is list:
        return [to_record(item) for item in value]
    return value
