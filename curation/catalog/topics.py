"""Cycle check for the prerequisite graph (the tree's own check is Topic.clean)."""

from __future__ import annotations

from collections.abc import Iterable

from curation.models import Topic


def prerequisite_cycle_error(topic: Topic, prerequisites: Iterable[Topic]) -> str | None:
    """A message when giving `topic` these prerequisites would create a cycle, else None."""
    chosen = list(prerequisites)
    if topic.pk is None:
        return None
    if any(p.pk == topic.pk for p in chosen):
        return "A topic cannot be its own prerequisite."
    # One query for the whole graph: topic counts are in the hundreds or thousands.
    edges: dict[int, list[int]] = {}
    through = Topic.prerequisites.through
    for from_id, to_id in through.objects.values_list("from_topic_id", "to_topic_id"):
        if from_id != topic.pk:
            edges.setdefault(from_id, []).append(to_id)
    names = dict(Topic.objects.values_list("id", "name"))
    for prerequisite in chosen:
        path = _path_to(prerequisite.pk, topic.pk, edges)
        if path:
            chain = " → ".join(names.get(pk, str(pk)) for pk in [topic.pk, *path])
            return f"Prerequisite cycle: {chain}."
    return None


def _path_to(start: int, goal: int, edges: dict[int, list[int]]) -> list[int] | None:
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        for nxt in edges.get(node, ()):
            stack.append((nxt, [*path, nxt]))
    return None
