"""What each kind of record contributes to the index.

A kind is named by its model's ``label_lower``, which is also the audit trail's target type,
so the audit log can look events up by the ids a search returns. ``texts`` are analysed as
text (Chinese, Latin, pinyin), ``codes`` as identifiers; both are value paths, so a brand's
row holds its owner's name. When such a name changes, ``dependents`` say which other rows to
analyse again: a brand's row when its owner is renamed, a product's when its brand is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class Dependent:
    kind: str  # the kind whose rows include this kind's fields
    via: str  # its foreign key to this kind
    fields: tuple[str, ...]  # the fields of this kind those rows include


@dataclass(frozen=True)
class Kind:
    label: str
    texts: tuple[str, ...]
    codes: tuple[str, ...] = ()
    dependents: tuple[Dependent, ...] = ()

    @property
    def model(self) -> Any:
        return apps.get_model(self.label)

    @property
    def paths(self) -> tuple[str, ...]:
        return (*self.texts, *self.codes)

    @property
    def sources(self) -> frozenset[str]:
        """The model's own fields the row is made of (``owner`` for ``owner__name``)."""
        return frozenset(path.split("__", 1)[0] for path in self.paths)


KINDS: dict[str, Kind] = {
    kind.label: kind
    for kind in (
        Kind(
            "registry.enterprise",
            texts=("name", "legal_representative"),
            codes=("uscc",),
            dependents=(Dependent("registry.brand", "owner", ("name",)),),
        ),
        Kind(
            "registry.brand",
            texts=("name", "name_en", "owner__name"),
            dependents=(Dependent("registry.product", "brand", ("name",)),),
        ),
        Kind("registry.product", texts=("name", "specification", "brand__name"), codes=("gtin",)),
        Kind("accounts.organisation", texts=("name", "short_name"), codes=("uscc",)),
        Kind("accounts.expertprofile", texts=("user__full_name", "user__username", "employer")),
    )
}


def get(label: str) -> Kind:
    try:
        return KINDS[label]
    except KeyError:
        raise ValueError(f"{label!r} is not a search kind; known: {', '.join(KINDS)}") from None
