"""Sessions keep Python state and files across calls; runaway calls die, the state survives."""

from __future__ import annotations

import time

from autan.tools.sandbox import Limits, SessionPool
from tests.sandbox.helpers import EXACT_KEYS, executor


def test_state_and_files_persist_across_calls() -> None:
    with executor().session() as session:
        first = session.run("def square(x):\n    return x * x\nopen('notes.txt', 'w').write('hi')")
        second = session.run("print(square(7), open('notes.txt').read())")
    assert first.ok and first.files == [{"path": "notes.txt", "change": "added", "bytes": 2}]
    assert second.ok and second.stdout == "49 hi\n"
    assert set(second.to_dict()) == EXACT_KEYS


def test_runaway_call_is_killed_in_time_and_earlier_state_is_kept() -> None:
    with executor().session() as session:
        session.run("counter = 41")
        started = time.monotonic()
        runaway = session.run("counter += 1000\nwhile True: pass", Limits(timeout_s=1.0))
        elapsed = time.monotonic() - started
        after = session.run("counter += 1\nprint(counter)")
    assert not runaway.ok and runaway.error and runaway.error["type"] == "Timeout"
    assert elapsed < 1.0 + 1.0
    assert after.ok and after.stdout == "42\n"


def test_cpu_limit_kills_the_call_not_the_session() -> None:
    with executor().session() as session:
        session.run("kept = 'yes'")
        burn = session.run("while True: pass", Limits(timeout_s=5.0, cpu_s=1))
        after = session.run("print(kept)")
    assert burn.error and burn.error["type"] == "Killed" and "CPU" in burn.error["message"]
    assert after.stdout == "yes\n"


def test_user_errors_are_results_with_a_traceback() -> None:
    with executor().session() as session:
        failed = session.run("x = 1\ndef f():\n    return 1 / 0\nf()")
        syntax = session.run("def (:")
        exited = session.run("raise SystemExit(3)")
        still = session.run("print(x)")
    assert failed.error and failed.error["type"] == "ZeroDivisionError"
    assert 'File "<cell-1>", line 3, in f' in failed.error["traceback"]
    assert "_worker" not in failed.error["traceback"]
    assert syntax.error and syntax.error["type"] == "SyntaxError"
    assert exited.error and exited.error["type"] == "SystemExit"
    assert still.stdout == "1\n"


def test_reset_forgets_variables_and_files() -> None:
    with executor().session() as session:
        session.run("gone = 1\nopen('f', 'w').write('x')")
        session.reset()
        after = session.run("import os\nprint('gone' in globals(), os.listdir('.'))")
    assert after.stdout == "False []\n"


def test_a_dead_worker_is_reported_and_the_next_call_starts_afresh() -> None:
    with executor().session() as session:
        session.run("lost = 1")
        died = session.run("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
        fresh = session.run("print('lost' in globals())")
    assert died.error and died.error["type"] == "WorkerDied"
    assert "state" in died.error["message"] and "lost" in died.error["message"]
    assert fresh.ok and fresh.stdout == "False\n"


def test_output_is_capped_with_a_marker() -> None:
    result = executor().run("print('x' * 200_000)", {"max_output_bytes": 1000})
    assert result.ok and result.truncated
    assert result.stdout.startswith("x" * 1000) and "output truncated" in result.stdout
    assert len(result.stdout) < 1100


def test_default_cap_keeps_ordinary_output_and_marks_the_rest() -> None:
    """A program printing a few hundred KB (a report, a CSV) gets all of it by default."""
    assert Limits().max_output_bytes == 1024 * 1024
    result = executor().run("print('r' * 300_000)")
    assert result.ok and not result.truncated and result.stdout.count("r") == 300_000
    flood = executor().run("print('f' * 3_000_000)")
    assert flood.ok and flood.truncated and "output truncated" in flood.stdout
    assert flood.stdout.count("f") == 1024 * 1024


def test_benign_programs_work() -> None:
    code = (
        "import json, math, re, statistics\n"
        "open('data.json', 'w').write(json.dumps({'v': [1, 2, 3]}))\n"
        "v = json.load(open('data.json'))['v']\n"
        "print(math.sqrt(16), statistics.mean(v), re.findall(r'\\d', 'a1b2'))\n"
        "print('y' * 100_000)\n"
    )
    result = executor().run(code, {"max_output_bytes": 200_000})
    assert result.ok and result.stdout.startswith("4.0 2 ['1', '2']\n")
    assert not result.truncated and result.stdout.count("y") == 100_000


def test_idle_sessions_are_reaped() -> None:
    pool = SessionPool(executor(idle_reap_s=60))
    session = pool.get("idle")
    session.run("x = 1")
    assert session.alive and pool.reap() == []
    assert pool.reap(now=time.monotonic() + 61) == ["idle"]
    assert not session.alive and pool.names() == []


def test_commands_run_in_the_same_scratch() -> None:
    with executor().session() as session:
        session.run("open('made_by_python.txt', 'w').write('1')")
        listed = session.command("ls; echo err >&2; exit 4")
    assert listed.stdout == "made_by_python.txt\n" and listed.stderr == "err\n"
    assert listed.error and listed.error["type"] == "ExitStatus"


def test_state_survives_the_end_of_the_thread_that_started_the_session() -> None:
    import threading

    session = executor().session()  # not entered: the worker starts in the thread below
    try:
        starter = threading.Thread(target=session.run, args=("kept = 7",))
        starter.start()
        starter.join()
        time.sleep(1.0)  # give a parent-death signal time to arrive, if one was sent
        after = session.run("print(kept)")
    finally:
        session.close()
    assert after.ok and after.stdout == "7\n", after.to_dict()
