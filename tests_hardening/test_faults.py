"""The fault injection of the crash tests cannot fire in the service itself."""

from __future__ import annotations

from config.checkpoints import checkpoint, checkpoint_reached


def test_production_settings_connect_nothing_to_the_checkpoints():
    assert not checkpoint_reached.has_listeners()


def test_fault_point_in_the_environment_does_nothing_without_the_test_settings(monkeypatch):
    monkeypatch.setenv("FAULT_POINT", "image_delete_shift")
    checkpoint("image_delete_shift")  # still alive: no receiver kills
    assert checkpoint_reached.send(sender=None, name="image_delete_shift") == []
