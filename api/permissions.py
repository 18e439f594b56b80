from __future__ import annotations

from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions

# Token first, on every API view: DRF answers 401 only when the first authentication class
# has a challenge to send (`WWW-Authenticate: Token`); session authentication has none, so
# with it first a request without credentials would get 403, the answer for a user who
# lacks the permission. So: no credentials, 401; credentials without the right, 403.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

# Workflow actions change a resource or collection; they need the "change" permission
# rather than the "add" permission DRF would infer from POST.
CHANGE_ACTIONS = frozenset({"archive", "check_now", "refresh_metadata"})


class CuratorWriteOrReadOnly(DjangoModelPermissions):
    """Anyone may read; writing needs a logged-in user with the model permission to do it.

    Views without a queryset (pure reads such as recommendations) allow safe methods only.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if not request.user or not request.user.is_authenticated:
            return False
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return False
        if getattr(view, "action", None) in CHANGE_ACTIONS:
            model = self._queryset(view).model
            return request.user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")
        return super().has_permission(request, view)


def can_see_unpublished(request, model) -> bool:
    """Curators (users allowed to view the model in the admin) also see drafts and archives."""
    user = request.user
    if not user or not user.is_authenticated:
        return False
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
