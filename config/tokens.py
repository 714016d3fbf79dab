"""API tokens for API_AUTH=token (rest_framework.authtoken's one token per user)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from config.api import InvalidInput, NotFound


@transaction.atomic
def api_token_issue(
    *, username: str, create_user: bool = False, staff: bool | None = None, rotate: bool = False
) -> tuple[Token, bool]:
    """Return the user's API token (made if missing) and whether it is new.

    ``create_user`` makes the user when missing (with no password: it logs in
    to the API by token only). ``staff`` sets or clears staff rights, needed
    for scan, legacy import, promotion and image deletion. ``rotate`` replaces
    an existing token, so the old one stops working at once.
    Raises InvalidInput for a blank name and NotFound for an unknown user
    without ``create_user``. Writes no files.
    """
    username = username.strip()
    if not username:
        raise InvalidInput("The user name cannot be blank.")
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get_by_natural_key(username)
    except user_model.DoesNotExist:
        if not create_user:
            raise NotFound(f"There is no user {username!r}; add --create to make one.") from None
        user = user_model._default_manager.create_user(username=username)
        user.set_unusable_password()
    if staff is not None:
        user.is_staff = staff
    user.save()
    if rotate:
        Token.objects.filter(user=user).delete()
    token, created = Token.objects.get_or_create(user=user)
    return token, created
