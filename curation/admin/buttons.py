"""The change page's buttons: one object, one POST, back to its page.

A button is a small form on an object's change page that posts to its own admin URL (apply a
suggested address, snooze, use an archived copy, send a test webhook). Each needs the same
three things, kept here once: refuse anything but POST (a link followed by a crawler or a
prefetch must not change a resource), require the change permission on that object, and
return to the object's change page where the messages are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse


def change_page(modeladmin: admin.ModelAdmin, object_id: Any) -> HttpResponseRedirect:
    opts = modeladmin.model._meta
    return HttpResponseRedirect(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
    )


def object_button(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    object_id: Any,
    act: Callable[[Any], None],
) -> HttpResponse:
    """Run `act(obj)` for a POST by someone who may change the object, then go back to its
    change page; 405 for any other method, 403 when the object is missing or not theirs to
    change (as the admin does not tell the two apart)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    found = modeladmin.model._default_manager.filter(pk=object_id).first()
    if found is None or not modeladmin.has_change_permission(request, found):
        raise PermissionDenied
    act(found)
    return change_page(modeladmin, object_id)
