"""One report per period and one email per report, however many triggers fire."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from curation import enqueue
from curation.models import HealthState, LinkReport, ReportStatus
from curation.reports import generate
from curation.reports.delivery import deliver_report, generate_and_deliver
from curation.reports.generate import claim_report, generate_link_report
from curation.reports.periods import Period
from curation.schedules import REPORT_SCHEDULE_NAME, ensure_default_schedules
from curation.tasks import generate_link_report_task
from tests.factories import (
    CuratorFactory,
    HealthTransitionFactory,
    ItemFactory,
    LinkCheckFactory,
    LinkReportFactory,
    ResourceFactory,
    UserFactory,
)

END = datetime(2026, 11, 23, tzinfo=UTC)
START = END - timedelta(days=7)
PERIOD = Period(start=START, end=END)
DURING = START + timedelta(days=3)
PROJECT = Path(__file__).resolve().parents[2]


def something_broke(title: str = "Dead link <script>alert(1)</script> & co"):
    resource = ResourceFactory(title=title, health=HealthState.BROKEN)
    check = LinkCheckFactory(
        resource=resource, checked_at=DURING, outcome="not_found", status_code=404
    )
    HealthTransitionFactory(
        resource=resource,
        from_state=HealthState.SUSPECT,
        to_state=HealthState.BROKEN,
        at=DURING,
        link_check=check,
        reason="failure-confirmed: 3 consecutive failures over 50.0 h",
    )
    ItemFactory(resource=resource)
    return resource


# --- Claiming -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_generating_twice_gives_one_report():
    first = generate_link_report(period=PERIOD)
    second = generate_link_report(period=PERIOD)

    assert first.created is True
    assert second.created is False
    assert second.report.pk == first.report.pk
    assert LinkReport.objects.count() == 1
    assert first.report.status == ReportStatus.READY


@pytest.mark.django_db
def test_a_fresh_claim_held_by_another_worker_is_left_alone():
    assert claim_report(PERIOD, now=END) is not None

    assert claim_report(PERIOD, now=END + timedelta(minutes=5)) is None
    result = generate_link_report(period=PERIOD, now=END + timedelta(minutes=5))
    assert result.created is False
    assert result.report.status == ReportStatus.CLAIMED


@pytest.mark.django_db
def test_a_claim_abandoned_by_a_dead_worker_is_taken_over(settings):
    settings.REPORT_CLAIM_TIMEOUT = 600
    claim_report(PERIOD, now=END)

    result = generate_link_report(period=PERIOD, now=END + timedelta(minutes=11))

    assert result.created is True
    assert result.report.status == ReportStatus.READY


@pytest.mark.django_db
def test_a_failed_report_is_marked_failed_and_retried_by_the_next_trigger(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    original = generate.build_report_data
    monkeypatch.setattr(generate, "build_report_data", explode)
    with pytest.raises(RuntimeError):
        generate_link_report(period=PERIOD)
    failed = LinkReport.objects.get()
    assert failed.status == ReportStatus.FAILED
    assert "database went away" in failed.error

    monkeypatch.setattr(generate, "build_report_data", original)
    retried = generate_link_report(period=PERIOD)

    assert retried.created is True
    assert retried.report.pk == failed.pk
    assert retried.report.status == ReportStatus.READY
    assert retried.report.error == ""


@pytest.mark.django_db
def test_the_change_since_the_previous_report_uses_the_report_before_this_one():
    ResourceFactory.create_batch(2)
    generate_link_report(period=Period(start=START - timedelta(days=7), end=START))
    ResourceFactory()

    report = generate_link_report(period=PERIOD).report

    healthy = next(s for s in report.data["totals"]["states"] if s["state"] == "healthy")
    assert healthy["change"] == 1
    assert report.data["previous_report"]["period_end"] == START.isoformat()


# --- Email ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_email_goes_to_each_curator_with_an_address_as_html_and_plain_text(mailoutbox):
    something_broke()
    CuratorFactory(email="ada@example.test")
    CuratorFactory(email="")
    CuratorFactory(email="bob@example.test", is_active=False)
    UserFactory(email="not-a-curator@example.test")

    _, delivery = generate_and_deliver(period=PERIOD)

    assert delivery.sent == 1
    [message] = mailoutbox
    assert message.to == ["ada@example.test"]
    assert "1 broken" in message.subject
    assert "Dead link <script>alert(1)</script> & co" in message.body
    assert "NEWLY BROKEN (1)" in message.body
    assert "failure-confirmed" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "Dead link &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<script>" not in html
    assert "Newly broken (1)" in html
    report = LinkReport.objects.get()
    assert report.emailed_at is not None
    assert report.email_recipients == 1


@pytest.mark.django_db
def test_duplicate_triggers_give_one_report_and_one_email(mailoutbox):
    something_broke()
    CuratorFactory()

    for _ in range(3):
        generate_and_deliver(period=PERIOD)

    assert LinkReport.objects.count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_nothing_changed_sends_no_email_by_default(mailoutbox):
    CuratorFactory()

    _, delivery = generate_and_deliver(period=PERIOD)

    assert delivery.sent == 0
    assert delivery.skipped_reason == "nothing changed"
    assert mailoutbox == []
    assert LinkReport.objects.get().emailed_at is None


@pytest.mark.django_db
def test_nothing_changed_is_emailed_when_the_setting_says_always(settings, mailoutbox):
    settings.REPORT_EMAIL_ONLY_ON_CHANGE = False
    CuratorFactory()

    generate_and_deliver(period=PERIOD)

    [message] = mailoutbox
    assert "nothing changed" in message.subject
    assert "Nothing changed" in message.body
    assert "no checks ran" in message.body


@pytest.mark.django_db
def test_a_failed_send_releases_the_claim_so_the_next_trigger_sends(monkeypatch, mailoutbox):
    from django.core.mail.backends.locmem import EmailBackend

    something_broke()
    CuratorFactory()
    calls = {"n": 0}
    real_send = EmailBackend.send_messages

    def flaky_send(self, messages):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("SMTP server unreachable")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky_send)
    with pytest.raises(OSError):
        generate_and_deliver(period=PERIOD)
    assert LinkReport.objects.get().emailed_at is None

    generate_and_deliver(period=PERIOD)

    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_report_that_is_not_ready_is_not_emailed(mailoutbox):
    CuratorFactory()
    report = LinkReportFactory(status=ReportStatus.CLAIMED, data={"changed": True})

    assert deliver_report(report, force=True).sent == 0
    assert mailoutbox == []


# --- Races on PostgreSQL ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_give_one_report_and_one_email(mailoutbox):
    something_broke()
    CuratorFactory()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def trigger():
        try:
            barrier.wait(timeout=30)
            generation, delivery = generate_and_deliver(period=PERIOD)
            results.append((generation.created, delivery.sent if delivery else 0))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(created for created, _ in results) == [False, False, False, True]
    assert sum(sent for _, sent in results) == 1
    assert LinkReport.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_racing_give_one_report_and_one_email(tmp_path):
    something_broke()
    CuratorFactory()
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "SYLLABUS_VAR_DIR": str(tmp_path),
    }
    command = [
        sys.executable,
        "manage.py",
        "link_report",
        "--period-end",
        END.isoformat(),
        "--quiet",
    ]
    processes = [
        subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outputs
    stdout = "".join(out.decode() for out, _ in outputs)
    stderr = "".join(err.decode() for _, err in outputs)
    assert stdout.count("Subject: [Syllabus] Link report") == 1
    assert stderr.count(" generated;") == 1
    assert stderr.count("already existed") == 1
    assert LinkReport.objects.count() == 1


# --- Command, task, schedule --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_generates_once_and_prints_the_chosen_format(mailoutbox):
    something_broke()
    CuratorFactory()
    out, err = StringIO(), StringIO()

    call_command(
        "link_report", "--period-end", "2026-11-23", "--format", "json", stdout=out, stderr=err
    )

    payload = json.loads(out.getvalue())
    assert payload["period_end"] == END.isoformat()
    assert payload["data"]["newly_broken"]["total"] == 1
    assert "generated; emailed to 1 curator(s)" in err.getvalue()

    err = StringIO()
    call_command("link_report", "--period-end", "2026-11-23", stdout=StringIO(), stderr=err)
    assert "already existed (ready)" in err.getvalue()
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_command_can_skip_email_and_print_markdown(mailoutbox):
    something_broke()
    CuratorFactory()
    out = StringIO()

    call_command(
        "link_report", "--period-end", "2026-11-23", "--no-email", stdout=out, stderr=StringIO()
    )

    assert out.getvalue().startswith("# Link health report: 2026-11-16 to 2026-11-23")
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_command_defaults_to_the_current_period(time_machine):
    time_machine.move_to(datetime(2026, 11, 25, 12, tzinfo=UTC))

    call_command("link_report", "--no-email", stdout=StringIO(), stderr=StringIO())

    report = LinkReport.objects.get()
    assert (report.period_start, report.period_end) == (START, END)


@pytest.mark.django_db
def test_the_task_generates_and_emails_the_current_report(time_machine, mailoutbox):
    time_machine.move_to(datetime(2026, 11, 23, 6, tzinfo=UTC))
    something_broke()
    CuratorFactory()

    report_id = generate_link_report_task.apply().get()
    generate_link_report_task.apply().get()

    report = LinkReport.objects.get()
    assert report.pk == report_id
    assert report.period_end == END
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_schedule_is_created_once_and_a_curators_edits_are_kept(settings):
    assert REPORT_SCHEDULE_NAME in ensure_default_schedules()
    task = PeriodicTask.objects.get(name=REPORT_SCHEDULE_NAME)
    assert task.task == enqueue.GENERATE_LINK_REPORT
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "1")

    task.crontab = None
    task.enabled = False
    task.interval = IntervalSchedule.objects.create(every=3, period=IntervalSchedule.DAYS)
    task.save()
    settings.REPORT_SCHEDULE_CRONTAB = "30 7 * * 5"

    assert REPORT_SCHEDULE_NAME not in ensure_default_schedules()

    again = PeriodicTask.objects.get(name=REPORT_SCHEDULE_NAME)
    assert again.enabled is False
    assert again.interval.every == 3
    assert again.crontab is None


@pytest.mark.django_db
def test_the_email_links_to_the_report_in_the_admin_when_the_base_url_is_set(settings, mailoutbox):
    settings.REPORT_BASE_URL = "https://syllabus.example.test"
    something_broke()
    CuratorFactory()

    generate_and_deliver(period=PERIOD)

    report = LinkReport.objects.get()
    link = f"https://syllabus.example.test/admin/curation/linkreport/{report.pk}/change/"
    [message] = mailoutbox
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
