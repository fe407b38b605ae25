"""Signs of progress from the threads that do the work, which systemd's watchdog checks (common/liveness.py)."""
import contextlib
import gc
import re
import threading
import time

from common.liveness import beat, doing, doings, stuck, wait, watching


def started(work, ready=None):
    """`work` started in a daemon thread of its own (and, given `ready`, once it has set it)."""
    t = threading.Thread(target=work, daemon=True)
    t.start()
    assert ready is None or ready.wait(10)
    return t


def test_a_work_that_gives_no_sign_of_progress_is_stuck_and_says_where():
    """Where a stuck work is: the call its thread is in (a library's), then the project's own two innermost calls
    (which of our lines called it), innermost first; a thread stuck in our own code, from that code on."""
    go_on, ready, done = threading.Event(), threading.Event(), threading.Event()

    def hung_read():
        go_on.wait(30)  # a read that never comes back

    def read_frame():
        hung_read()

    def camera():
        with watching("gate-in"):
            beat()
            ready.set()
            read_frame()
        done.set()

    def spin():
        while not go_on.is_set():
            time.sleep(0)  # (C code: no frame of its own)

    def busy():
        with watching("gate-out"):
            spin()

    threads = [started(camera), started(busy)]
    assert ready.wait(10)
    assert [w.name for w in stuck(5)] == []  # it beat just now
    time.sleep(0.15)
    late = sorted(stuck(0.1), key=lambda w: w.name)
    assert [w.name for w in late] == ["gate-in", "gate-out"] and all(0.1 <= w.seconds < 5 for w in late)
    assert re.fullmatch(r"threading\.py:\d+ wait < test_liveness\.py:\d+ hung_read < test_liveness\.py:\d+ read_frame",
                        late[0].where), late[0].where
    assert re.fullmatch(r"test_liveness\.py:\d+ spin < test_liveness\.py:\d+ busy", late[1].where), late[1].where
    go_on.set()
    assert done.wait(10)
    for t in threads:
        t.join(10)
    assert stuck(0) == []  # a work that ended is not watched


def test_a_work_that_beats_is_not_stuck_and_a_thread_unwatched_is_not_looked_at(never_stuck):
    halt = threading.Event()

    def camera():
        while not halt.is_set():
            beat()
            time.sleep(0.01)

    def idle():  # not watched: its beats go nowhere
        beat()
        halt.wait(30)

    idler = started(idle)
    t, longest = never_stuck(camera, 0.3, 0.2)
    try:
        assert longest == 0
        assert [w.name for w in stuck(0)] == ["cam"]  # the watched one is there, alone
    finally:
        halt.set()
        for thread in (t, idler):
            thread.join(10)


def test_the_tests_watcher_lays_a_pause_of_the_whole_process_not_to_the_work_but_catches_its_silence(never_stuck):
    """The tests' watcher (`never_stuck`, tests/conftest.py) holds a work stuck for its own silences only: a pause of
    the whole process (a collection of a big heap, a virtual machine's stolen time; one of 0.7 s failed a CI run) holds
    up the watcher as much as the work, which could not beat either; a work silent while the watcher looks on time is
    caught."""
    gate, stop, naps = threading.Lock(), threading.Event(), []

    def nap(s: float) -> None:  # the watcher's sleeps; in its sixth, nothing runs for 0.7 s
        naps.append(s)
        with gate if len(naps) == 6 else contextlib.nullcontext():
            time.sleep(0.7 if len(naps) == 6 else s)

    def camera() -> None:
        while not stop.is_set():
            with gate:
                beat()
            stop.wait(0.01)

    t, longest = never_stuck(camera, 1.2, 0.3, nap=nap)
    stop.set()
    t.join(10)
    assert longest == 0 and len(naps) >= 6 and not t.is_alive()
    t, longest = never_stuck(lambda: time.sleep(0.8), 0.7, 0.3)  # a read that hangs, the watcher on time
    t.join(10)
    assert longest >= 0.3


def test_no_collection_of_the_heap_lands_inside_a_test_timed_to_tenths_of_a_second(no_gc_pauses):
    """The timed tests' `no_gc_pauses`: cycles made by the hundred thousand start no collection (each one late in the
    suite held every thread for up to 1.15 s: bench/results/gc_pauses_2026-12-07.txt)."""
    ran = []
    gc.callbacks.append(lambda phase, info: ran.append(info["generation"]))
    try:
        for _ in range(100_000):
            a: list = []
            a.append(a)
    finally:
        gc.callbacks.pop()
    assert ran == []


def test_a_work_inside_another_is_watched_under_its_own_name_then_the_outer_again():
    names = []

    def folder():
        with watching("drop folder"):
            names.append([w.name for w in stuck(0)])
            with watching("drop folder/clip.mp4"):
                names.append([w.name for w in stuck(0)])
            names.append([w.name for w in stuck(0)])
        names.append([w.name for w in stuck(0)])

    started(folder).join(10)
    assert names == [["drop folder"], ["drop folder/clip.mp4"], ["drop folder"], []]


def test_a_long_wait_beats_as_it_goes_and_says_whether_it_was_ended(never_stuck):
    seen, stop = [], threading.Event()

    def camera_waited_for():
        seen.append(wait(stop, 0.6))  # the back-off's wait: 0.6 s, none of it a hang
        seen.append(wait(stop, 30))

    t, longest = never_stuck(camera_waited_for, 0.8, 0.15)
    assert longest == 0 and seen == [False]
    stop.set()
    t.join(10)
    assert seen == [False, True]
    begun = time.monotonic()
    assert wait(threading.Event(), 0.05) is False and time.monotonic() - begun >= 0.05


def test_what_a_work_waits_for_is_told_by_its_name_until_it_reads_again():
    """`systemctl status` said a camera was read while it waited for the camera to open or for its stream to come
    back; what a watched work waits for is now kept beside it (nothing where no work is watched)."""
    seen = []

    def camera():
        doing("not watched: nowhere")
        with watching("gate-in"):
            seen.append(doings())
            doing("waiting for the camera to open")
            seen.append(doings())
            with watching("gate-in/clip.mp4"):
                seen.append(doings())
            seen.append(doings())
            doing("")
            seen.append(doings())
        seen.append(doings())

    started(camera).join(10)
    waiting = {"gate-in": "waiting for the camera to open"}
    assert seen == [{}, waiting, {}, waiting, {}, {}]
