"""The emulators are reachable from ``clauderoute.testing`` (issue #17 item 7), found through
the registry in the installed platform packages, without core naming any platform."""

from __future__ import annotations

import pytest

from clauderoute import testing
from clauderoute._registry import EMULATORS, emulator_class, installed


def test_every_installed_emulator_is_importable_from_testing() -> None:
    kinds = installed(EMULATORS)
    assert len(kinds) >= 6  # the two commands install every platform package
    for kind in kinds:
        cls = emulator_class(kind)
        assert getattr(testing, cls.__name__) is cls, kind
        assert issubclass(cls, testing.EmulatorServer)


def test_a_second_emulator_of_a_package_is_found_too() -> None:
    from clauderoute_bedrock import BedrockMantleEmulator

    from clauderoute.testing import BedrockMantleEmulator as found

    assert found is BedrockMantleEmulator


def test_unknown_names_still_fail_as_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="NoSuchEmulator"):
        _ = testing.NoSuchEmulator
    with pytest.raises(AttributeError, match="_PrivateEmulator"):
        _ = testing._PrivateEmulator
    with pytest.raises(ImportError):
        from clauderoute.testing import NotAnEmulatorAtAll  # noqa: F401


async def test_an_emulator_from_testing_serves_a_call() -> None:
    from clauderoute_anthropic import AnthropicProvider

    import clauderoute as cr
    from clauderoute.testing import AnthropicEmulator

    async with AnthropicEmulator() as emu:
        provider = AnthropicProvider(base_url=emu.url, api_key="test-anthropic-key")
        async with cr.AsyncClient(providers=[provider]) as client:
            msg = await client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=16,
                messages=[{"role": "user", "content": "hello there"}],
            )
    assert msg.content[0].text == "Echo: hello there"


@pytest.mark.parametrize("op", ["create", "stream"])
async def test_stop_ends_a_handler_whose_client_left_mid_pause(op: str) -> None:
    """A delayed answer or a stalled stream whose client timed out and left: aiohttp does not
    cancel such a handler, so stop() must, or it (and the test) waits the pause out. The pause
    here is an hour; stop() ends it at once, and no emulator task outlives stop()."""
    import asyncio

    from clauderoute_anthropic import AnthropicProvider

    import clauderoute as cr
    from clauderoute.testing import AnthropicEmulator, Fault

    before = asyncio.all_tasks()
    emu = await AnthropicEmulator().start()
    try:
        if op == "create":
            emu.faults.add(Fault(delay_s=3600))
        else:
            emu.faults.add(
                Fault(operations=frozenset({"messages.stream"}), stall_s=3600, after_events=1)
            )
        provider = AnthropicProvider(base_url=emu.url, api_key="test-anthropic-key", max_retries=0)
        async with cr.AsyncClient(providers=[provider], timeout=0.1) as client:
            with pytest.raises(cr.ReadTimeout):
                if op == "create":
                    await client.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=8,
                        messages=[{"role": "user", "content": "hi"}],
                    )
                else:
                    async with client.messages.stream(
                        model="claude-haiku-4-5",
                        max_tokens=8,
                        messages=[{"role": "user", "content": "hi"}],
                    ) as stream:
                        await stream.get_final_message()
        assert len(emu.requests) == 1
    finally:
        # The bound only keeps a broken stop() from hanging the suite for an hour.
        await asyncio.wait_for(emu.stop(), 30)
    assert emu.open_streams == 0
    assert asyncio.all_tasks() - before == set()
