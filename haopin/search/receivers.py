"""Organisations and experts, kept in the index when accounts saves or deletes them.

The registry's services call ``search.index`` themselves, inside their transactions. The
accounts services do not call it (yet): until they do, these receivers index organisations
and expert profiles when they are saved or deleted — still inside the service's transaction,
since Django sends ``post_save`` from within ``save()``. A user's name is part of their expert
profile's row. Saves that name their fields (``update_fields``) and touch no searched field,
such as the ``last_login`` of every sign-in, cost nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from haopin.search import index, kinds

ORGANISATION = "accounts.organisation"
EXPERT = "accounts.expertprofile"
USER_FIELDS = {"full_name", "username"}


def _changed(created: bool, update_fields: Any) -> set[str] | None:
    return None if created or update_fields is None else set(update_fields)


def organisation_saved(
    sender: Any, instance: Any, created: bool, update_fields: Any = None, **kw: Any
) -> None:
    index.index_objects(ORGANISATION, [instance], changed=_changed(created, update_fields))


def expert_saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kw: Any) -> None:
    index.index_objects(EXPERT, [instance], changed=_changed(created, update_fields))


def user_saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kw: Any) -> None:
    if created or (update_fields is not None and not USER_FIELDS & set(update_fields)):
        return  # a new user has no expert profile yet
    profiles = kinds.get(EXPERT).model.objects.filter(user_id=instance.pk).values_list("pk", flat=True)
    index.index_objects(EXPERT, list(profiles))


def removed(kind: str) -> Any:
    def receiver(sender: Any, instance: Any, **kw: Any) -> None:
        index.remove(kind, [instance.pk])

    return receiver


def connect() -> None:
    from haopin.accounts.models import ExpertProfile, Organisation, User

    post_save.connect(organisation_saved, sender=Organisation, dispatch_uid="search-organisation-saved")
    post_save.connect(expert_saved, sender=ExpertProfile, dispatch_uid="search-expert-saved")
    post_save.connect(user_saved, sender=User, dispatch_uid="search-user-saved")
    post_delete.connect(
        removed(ORGANISATION), sender=Organisation, dispatch_uid="search-organisation-gone", weak=False
    )
    post_delete.connect(removed(EXPERT), sender=ExpertProfile, dispatch_uid="search-expert-gone", weak=False)
