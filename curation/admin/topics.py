"""Topics in the admin: the tree with paths, prerequisites, saved through save_topic."""

from __future__ import annotations

import threading

from django import forms
from django.contrib import admin
from django.db.models import Count

from curation.catalog import services
from curation.catalog.topics import prerequisite_cycle_error
from curation.models import Topic

_changelist_state = threading.local()


class TopicAdminForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["name", "slug", "description", "parent", "prerequisites"]

    def clean(self):
        # The tree's own cycle check runs in Topic.clean, with the model's validation.
        cleaned = super().clean()
        prerequisites = cleaned.get("prerequisites")
        if prerequisites is not None:
            error = prerequisite_cycle_error(self.instance, prerequisites)
            if error:
                self.add_error("prerequisites", error)
        return cleaned


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicAdminForm
    list_display = ["tree_name", "slug", "resource_count", "prerequisite_list"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    filter_horizontal = ["prerequisites"]

    def save_model(self, request, obj, form, change):
        services.save_topic(obj, prerequisites=form.cleaned_data.get("prerequisites"))

    def save_related(self, request, form, formsets, change):
        # save_topic has set the prerequisites: the form's own m2m save would write around it.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(num_resources=Count("resources", distinct=True))
            .prefetch_related("prerequisites")
        )

    @admin.display(description="topic (path in the tree)", ordering="name")
    def tree_name(self, topic: Topic) -> str:
        nodes = getattr(_changelist_state, "topics", None) or {}
        names, node, seen = [topic.name], topic.parent_id, {topic.pk}
        while node is not None and node not in seen and node in nodes:
            seen.add(node)
            parent_id, name = nodes[node]
            names.append(name)
            node = parent_id
        return " › ".join(reversed(names))

    def changelist_view(self, request, extra_context=None):
        # One query for every topic's path, instead of walking parents row by row; kept per
        # thread because one ModelAdmin instance serves every request.
        _changelist_state.topics = {
            pk: (parent_id, name)
            for pk, parent_id, name in Topic.objects.values_list("id", "parent_id", "name")
        }
        try:
            return super().changelist_view(request, extra_context)
        finally:
            _changelist_state.topics = None

    @admin.display(description="resources", ordering="num_resources")
    def resource_count(self, topic: Topic) -> int:
        return topic.num_resources

    @admin.display(description="prerequisites")
    def prerequisite_list(self, topic: Topic) -> str:
        return ", ".join(p.name for p in topic.prerequisites.all())
