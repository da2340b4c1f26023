"""Stage timing: nested stages are excluded from their parent, nothing is recorded without a
recorder, and worker threads record only where the recorder is handed to them."""

import threading
import time

from models.stages import StageTotals, current, recording, stage


def test_nested_stages_add_up_without_double_counting() -> None:
    totals = StageTotals()
    with recording(totals):
        started = time.perf_counter()
        with stage("outer"):
            time.sleep(0.02)
            with stage("inner"):
                time.sleep(0.05)
            with stage("inner"):
                time.sleep(0.01)
        wall = time.perf_counter() - started
    assert totals.calls == {"inner": 2, "outer": 1}
    assert 0.06 <= totals.seconds["inner"] < 0.06 + 0.05
    assert 0.02 <= totals.seconds["outer"] < 0.05  # its own time only
    assert totals.total() <= wall and totals.total("inn") == totals.seconds["inner"]


def test_no_recorder_records_nothing_and_recording_ends_with_its_block() -> None:
    totals = StageTotals()
    with stage("before"):
        pass
    with recording(totals):
        assert current() is totals
        with stage("during"):
            pass
    with stage("after"):
        pass
    assert list(totals.calls) == ["during"] and current() is None


def test_threads_record_only_where_handed_the_recorder() -> None:
    totals = StageTotals()

    def work(handed: bool) -> None:
        if handed:
            with recording(totals), stage("handed"):
                pass
        else:
            with stage("not_handed"):
                pass

    with recording(totals):
        threads = [threading.Thread(target=work, args=(h,)) for h in (True, False) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert totals.calls == {"handed": 4}
