"""FramePacer (ui/frames.py): the main screen paints as soon as something changed, never two
paints within a frame. Textual's grid-aligned timer held the second paint of a key 17-33 ms."""

from __future__ import annotations

import asyncio

from dockyard.ui.frames import FramePacer

FRAME = 0.5  # s: long, so a busy machine's scheduling delays stay far below it


async def test_a_change_after_a_quiet_spell_is_painted_at_once_and_paints_keep_a_frame_apart():
    loop = asyncio.get_running_loop()
    painted: list[float] = []
    pacer = FramePacer(lambda: painted.append(loop.time()), lambda error: None, frame=FRAME)

    async def change() -> tuple[float, float]:
        """Something changed (the screen resumes its timer): when it was painted, from now and
        from the paint before."""
        asked = loop.time()
        count = len(painted)
        pacer.resume()
        pacer.resume()  # asked twice before the paint: still one paint
        while len(painted) == count:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.02)
        assert len(painted) == count + 1
        return painted[-1] - asked, painted[-1] - (painted[-2] if count else float("-inf"))

    assert (await change())[0] < FRAME / 2  # nothing painted lately: at once
    after, since = await change()  # just painted: a frame after that paint, no later
    assert after < FRAME and FRAME - 0.001 <= since < FRAME * 1.5
    await asyncio.sleep(FRAME * 1.3)  # a quiet spell that ends off Textual's 1/60 s grid
    assert (await change())[0] < FRAME / 2  # at once again, not on the next grid point
    pacer.resume()
    pacer.pause()  # the screen painted meanwhile (Textual pauses its timer as it paints)
    await asyncio.sleep(FRAME * 1.5)
    assert len(painted) == 3


async def test_a_paint_that_fails_is_reported_and_the_next_change_is_painted():
    loop = asyncio.get_running_loop()
    failures: list[BaseException] = []
    calls: list[float] = []

    def paint() -> None:
        calls.append(loop.time())
        if len(calls) == 1:
            raise RuntimeError("boom")

    pacer = FramePacer(paint, failures.append, frame=0.05)
    pacer.resume()
    await asyncio.sleep(0.1)
    pacer.resume()
    await asyncio.sleep(0.2)
    assert [str(e) for e in failures] == ["boom"] and len(calls) == 2
