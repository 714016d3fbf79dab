"""Finding a catalog model by any hash that images and model sites quote."""

from __future__ import annotations

import re

from django.db.models import Q

from catalog.models import CatalogModel
from catalog.selectors import model_detail_queryset
from config.api import Conflict, InvalidInput, NotFound

# Hash forms, their length in hex digits, and the column each is looked up in.
HASH_FORMS: dict[str, tuple[int, str]] = {
    "sha256": (64, "sha256"),
    "tensor_sha256": (64, "tensor_sha256"),
    "autov3": (12, "autov3"),
    "autov2": (10, "autov2"),
    "autov1": (8, "autov1"),
}
# Candidates listed in a 409 at most.
MAX_CANDIDATES = 20
_HEX = re.compile(r"[0-9a-f]+")


class AmbiguousHash(Conflict):
    """Several catalog models carry the hash; ``candidates`` lists their sha256."""

    code = "ambiguous_hash"

    def __init__(self, message: str, *, candidates: list[str]):
        super().__init__(message)
        self.candidates = candidates


def hash_query(value: object) -> tuple[str, Q]:
    """The cleaned hash and the condition that finds it, from a client's ``hash``.

    Any case; an optional ``sha256:``, ``tensor_sha256:``, ``autov1:``,
    ``autov2:`` or ``autov3:`` prefix limits the search to that form, else
    the length decides (64: sha256 or tensor_sha256; 12, 10, 8: AutoV3, V2,
    V1). Raises InvalidInput for anything else.
    """
    text = value.strip().lower() if isinstance(value, str) else ""
    form, _, digits = text.rpartition(":")
    form = form.strip().replace("-", "_")
    digits = digits.strip()
    if form and form not in HASH_FORMS:
        raise _invalid(f"Unknown hash prefix {form!r}; use one of {', '.join(HASH_FORMS)}.")
    if not _HEX.fullmatch(digits):
        raise _invalid("hash must be hexadecimal digits (with an optional prefix such as autov2:).")
    forms = [form] if form else [name for name, (length, _) in HASH_FORMS.items()]
    columns = [HASH_FORMS[name][1] for name in forms if HASH_FORMS[name][0] == len(digits)]
    if not columns:
        lengths = sorted({HASH_FORMS[name][0] for name in forms}, reverse=True)
        raise _invalid(
            f"A {form or 'hash'} has {' or '.join(map(str, lengths))} hexadecimal digits, "
            f"not {len(digits)}."
        )
    condition = Q()
    for column in columns:
        condition |= Q(**{column: digits})
    return digits, condition


def model_lookup(*, value: object) -> CatalogModel:
    """The one catalog model whose sha256, tensor_sha256, autov3, autov2 or autov1 is ``value``.

    One indexed query finds the matches (each form has its own index); the
    model's tags come with it. Raises InvalidInput for a malformed hash,
    NotFound when no model matches and AmbiguousHash (409) when several do.
    """
    digits, condition = hash_query(value)
    found = list(model_detail_queryset().filter(condition).order_by("sha256")[: MAX_CANDIDATES + 1])
    if not found:
        raise NotFound(f"No catalog model has the hash {digits}.", code="hash_not_found")
    if len(found) > 1:
        raise AmbiguousHash(
            f"{len(found) if len(found) <= MAX_CANDIDATES else 'More than ' + str(MAX_CANDIDATES)} "
            f"catalog models have the hash {digits}; look one up by its full sha256.",
            candidates=[model.sha256 for model in found[:MAX_CANDIDATES]],
        )
    return found[0]


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_hash", fields={"hash": [message]})
