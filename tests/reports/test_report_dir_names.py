"""Report folder names are printed in lines that are masked for secrets first: a name must never
be taken for a secret (a timestamp of 13 to 19 digits passes the card-number Luhn check one time
in ten), or the hint that names the folder points nowhere."""

from datetime import UTC, datetime, timedelta

from harness.reports.files import new_report_dir, report_stamp
from harness.secrets import safe


def _seconds(count: int) -> list[datetime]:
    start = datetime(2026, 12, 1, 6, 0, 0, tzinfo=UTC)
    return [start + timedelta(seconds=7 * i) for i in range(count)]


def test_no_report_folder_name_is_masked_as_a_card_number():
    lines = [
        f"run `harness log reports/{report_stamp(now)}-6e27be` once the store is reachable" for now in _seconds(3000)
    ]
    assert [line for line in lines if safe(line) != line] == []


def test_the_dashed_stamp_it_replaces_was_masked():
    # The old form, `%Y%m%d-%H%M%S`, against the same masker: the check above can fail.
    lines = [f"run `harness log reports/{now.strftime('%Y%m%d-%H%M%S')}-6e27be`" for now in _seconds(3000)]
    assert any("[REDACTED" in safe(line) for line in lines)


def test_new_report_dir_uses_the_stamp(tmp_path):
    folder = new_report_dir(tmp_path, "calibration-")
    assert folder.is_dir() and folder.parent == tmp_path
    stamp = folder.name[len("calibration-") :].rsplit("-", 1)[0]
    assert datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
