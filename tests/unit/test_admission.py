"""The bound on requests worked on at once (api/middleware/admission.py): no more than the
bound inside, waiters let in first come first served, and a waiter cancelled (its client gone)
neither keeps a turn nor loses one for the others."""

from __future__ import annotations

import asyncio

from ringlet.api.middleware.admission import Admission


async def _hold(admission: Admission, name: str, inside: list[str], release: asyncio.Event) -> None:
    async with admission:
        inside.append(name)
        await release.wait()
        inside.remove(name)


def test_at_most_the_bound_inside_and_first_come_first_served() -> None:
    async def scenario() -> list[str]:
        admission = Admission(2)
        inside: list[str] = []
        entered: list[str] = []
        gates = {name: asyncio.Event() for name in "abcde"}

        async def request(name: str) -> None:
            async with admission:
                entered.append(name)
                inside.append(name)
                assert len(inside) <= 2, inside
                await gates[name].wait()
                inside.remove(name)

        tasks = [asyncio.create_task(request(name)) for name in "abcde"]
        await asyncio.sleep(0)
        assert entered == ["a", "b"]
        for name in "badce":
            gates[name].set()
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        return entered

    assert asyncio.run(scenario()) == ["a", "b", "c", "d", "e"]


def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    async def scenario() -> list[str]:
        admission = Admission(1)
        inside: list[str] = []
        release = asyncio.Event()
        first = asyncio.create_task(_hold(admission, "first", inside, release))
        await asyncio.sleep(0)
        waiting = asyncio.create_task(_hold(admission, "cancelled", inside, asyncio.Event()))
        last = asyncio.create_task(_hold(admission, "last", inside, release))
        await asyncio.sleep(0)
        waiting.cancel()
        release.set()
        await asyncio.gather(first, last)
        assert waiting.cancelled()
        # The one turn is free again, and only one: of two newcomers, one is let in.
        seen: list[str] = []
        again = asyncio.Event()
        more = [asyncio.create_task(_hold(admission, n, seen, again)) for n in ("x", "y")]
        await asyncio.sleep(0)
        snapshot = list(seen)
        again.set()
        await asyncio.gather(*more)
        return snapshot

    assert asyncio.run(scenario()) == ["x"]


def test_a_turn_handed_to_a_waiter_as_it_is_cancelled_goes_to_the_next() -> None:
    async def scenario() -> bool:
        admission = Admission(1)
        inside: list[str] = []
        release = asyncio.Event()
        first = asyncio.create_task(_hold(admission, "first", inside, release))
        await asyncio.sleep(0)
        unlucky = asyncio.create_task(_hold(admission, "unlucky", inside, asyncio.Event()))
        next_in = asyncio.create_task(_hold(admission, "next", inside, release))
        await asyncio.sleep(0)
        release.set()
        await asyncio.sleep(0)  # `first` leaves: the turn is handed to `unlucky`...
        unlucky.cancel()  # ...which is cancelled before it runs
        await asyncio.gather(first, next_in)
        return unlucky.cancelled()

    assert asyncio.run(asyncio.wait_for(scenario(), 5))
