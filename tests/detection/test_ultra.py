"""detection/ultra.py: ultralytics imported with its offline and safe-load switches and its sync turned off."""
import os

import pytest

import detection.ultra as ultra


class Settings(dict):
    """ultralytics' settings as a dict that counts its updates (each one rewrites the user's settings file)."""

    updates = 0

    def update(self, *args, **kwargs) -> None:
        self.updates += 1
        super().update(*args, **kwargs)


@pytest.fixture
def fresh_import(monkeypatch):
    """`fresh_import(settings)`: `yolo_class()` run again with ultralytics' settings replaced and the switches unset
    but YOLO_VERBOSE, which the user set."""
    import ultralytics

    def run(settings: Settings) -> type:
        monkeypatch.setattr(ultralytics, "settings", settings)
        for key in ultra.OFFLINE_ENV:
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("YOLO_VERBOSE", "True")
        ultra.yolo_class.cache_clear()
        return ultra.yolo_class()

    yield run
    ultra.yolo_class.cache_clear()


def test_ultralytics_is_imported_offline_with_safe_loading_and_its_sync_turned_off(fresh_import):
    import ultralytics

    settings = Settings(sync=True)
    assert fresh_import(settings) is ultralytics.YOLO
    assert settings == {"sync": False} and settings.updates == 1
    assert {k: os.environ[k] for k in ultra.OFFLINE_ENV} == {
        "YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "False", "ULTRALYTICS_SAFE_LOAD": "1", "YOLO_VERBOSE": "True"}


@pytest.mark.parametrize("settings", [Settings(sync=False), Settings()])
def test_settings_already_without_sync_are_not_rewritten(fresh_import, settings):
    fresh_import(settings)
    assert settings.updates == 0
