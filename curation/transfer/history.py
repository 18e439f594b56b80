"""Link-health history in a JSON backup: each resource's health, checks and transitions.

Exported on request (`--with-history`); imported on request too, and then only for the
resources the import creates: a resource already in the catalogue keeps its own history
(merging two would count checks twice), and is named in a warning. Every value is checked
while the file is read (history_records), so an import with a bad check writes nothing. The
restore (restore_history) is the one write path for history that did not come from the
checker: checks, transitions and the resource's health fields, as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from curation.models import CheckSource, HealthState, HealthTransition, LinkCheck, Resource
from curation.transfer.records import HistoryRecord, Problem

BULK = 1000
DATE_FIELDS = frozenset(
    {"health_changed_at", "last_checked_at", "next_check_at", "first_failure_at",
     "snoozed_until", "checked_at", "at"}
)  # fmt: skip


def _text(limit: int | None = None) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected text, not {value!r}")
        if limit is not None and len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        return value

    return read


def _choice(choices: Iterable[str]) -> Callable[[Any], str]:
    allowed = frozenset(choices)

    def read(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return value

    return read


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a whole number, not {value!r}")
    return value


def _optional(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else read(value)


def _moment(value: Any) -> datetime:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, not {value!r}")
    return value


def _chain(value: Any) -> list:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


# Each exported field and how it is read back; the model's own field names.
STATE = {
    "health": _choice(HealthState.values),
    "health_changed_at": _optional(_moment),
    "last_checked_at": _optional(_moment),
    "last_outcome": _text(20),
    "last_status_code": _optional(_count),
    "next_check_at": _optional(_moment),
    "consecutive_failures": _count,
    "first_failure_at": _optional(_moment),
    "consecutive_blocked": _count,
    "consecutive_moves": _count,
    "suggested_url": _text(2048),
    "snoozed_until": _optional(_moment),
}
CHECK = {
    "checked_at": _moment,
    "url": _text(2048),
    "outcome": _text(20),
    "status_code": _optional(_count),
    "final_url": _text(),
    "redirect_chain": _chain,
    "elapsed_ms": _optional(_count),
    "error": _text(),
    "rule": _text(60),
    "evidence": _text(),
    "source": _choice(CheckSource.values),
    "dispatch_token": _text(64),
    "counted": _flag,
}
TRANSITION = {
    "at": _moment,
    "from_state": _choice(HealthState.values),
    "to_state": _choice(HealthState.values),
    "reason": _text(200),
    # The position of the check that caused it in the resource's "checks", or null.
    "check": _optional(_count),
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _plain(row: Any, fields: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(row, name)
        values[name] = _iso(value) if name in DATE_FIELDS else value
    return values


def history_rows(resources) -> list[dict[str, Any]]:
    """Each resource's health fields, checks (oldest first) and transitions, by URL."""
    rows = []
    checks = LinkCheck.objects.order_by("checked_at", "id")
    transitions = HealthTransition.objects.order_by("at", "id")
    for start in range(0, len(ids := list(resources.values_list("id", flat=True))), BULK):
        chunk = ids[start : start + BULK]
        by_resource: dict[int, list[LinkCheck]] = {}
        for check in checks.filter(resource_id__in=chunk):
            by_resource.setdefault(check.resource_id, []).append(check)
        moves: dict[int, list[HealthTransition]] = {}
        for move in transitions.filter(resource_id__in=chunk):
            moves.setdefault(move.resource_id, []).append(move)
        for resource in Resource.objects.filter(id__in=chunk).order_by("id"):
            own = by_resource.get(resource.pk, [])
            position = {check.pk: index for index, check in enumerate(own)}
            rows.append(
                {
                    "url": resource.url,
                    **_plain(resource, STATE),
                    "checks": [_plain(check, CHECK) for check in own],
                    "transitions": [
                        {
                            **_plain(move, {k: v for k, v in TRANSITION.items() if k != "check"}),
                            "check": position.get(move.link_check_id),
                        }
                        for move in moves.get(resource.pk, [])
                    ],
                }
            )
    return rows


def _read(entry: Any, fields: dict[str, Any], where: str, problems: list[Problem]) -> dict | None:
    if not isinstance(entry, dict):
        problems.append(Problem(None, f"{where} is not an object", column=where))
        return None
    values, good = {}, True
    for name, read in fields.items():
        try:
            if name not in entry:
                raise ValueError("missing")
            values[name] = read(entry[name])
        except ValueError as exc:
            problems.append(Problem(None, f"{name}: {exc}", column=f"{where}.{name}"))
            good = False
    return values if good else None


def history_records(entries: list[Any], problems: list[Problem]) -> list[HistoryRecord]:
    """The "health" section read and checked; each problem names its path (health[2].url)."""
    records = []
    for index, entry in enumerate(entries):
        where = f"health[{index}]"
        state = _read(entry, {"url": _text(2048), **STATE}, where, problems)
        if state is None:
            continue
        url = state.pop("url")
        checks = [
            _read(check, CHECK, f"{where}.checks[{n}]", problems)
            for n, check in enumerate(_entries(entry, "checks", where, problems))
        ]
        moves = [
            _read(move, TRANSITION, f"{where}.transitions[{n}]", problems)
            for n, move in enumerate(_entries(entry, "transitions", where, problems))
        ]
        for n, move in enumerate(moves):
            if move and move["check"] is not None and move["check"] >= len(checks):
                problems.append(Problem(None, f"check {move['check']} is not in {where}.checks",
                                        column=f"{where}.transitions[{n}].check"))  # fmt: skip
                moves[n] = None
        if None in checks or None in moves:
            continue
        records.append(HistoryRecord(url, state, checks, moves, where))  # type: ignore[arg-type]
    return records


def _entries(entry: dict, key: str, where: str, problems: list[Problem]) -> list:
    value = entry.get(key, [])
    if not isinstance(value, list):
        problems.append(Problem(None, f"{key} must be a list", column=f"{where}.{key}"))
        return []
    return value


def restore_history(records: list[tuple[HistoryRecord, Resource]]) -> None:
    """Write each record's checks, transitions and health fields onto its (new) resource."""
    for record, resource in records:
        for name, value in record.state.items():
            setattr(resource, name, value)
        checks = LinkCheck.objects.bulk_create(
            [LinkCheck(resource=resource, **check) for check in record.checks], batch_size=BULK
        )
        HealthTransition.objects.bulk_create(
            [
                HealthTransition(
                    resource=resource,
                    link_check=checks[move["check"]] if move["check"] is not None else None,
                    **{k: v for k, v in move.items() if k != "check"},
                )
                for move in record.transitions
            ],
            batch_size=BULK,
        )
    Resource.objects.bulk_update([r for _, r in records], list(STATE), batch_size=BULK)
