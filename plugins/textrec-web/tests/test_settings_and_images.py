"""Settings from the environment, and image decoding and its refusals (no model needed)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from textrec_web import Settings, SettingsError
from textrec_web.errors import ApiError
from textrec_web.imaging import decode_base64, decode_image


def test_defaults_are_safe():
    settings = Settings()
    assert settings.max_request_bytes == 2 * 1024 * 1024 and settings.max_image_pixels == 4_000_000
    assert settings.allow_image_url is False and settings.url_allow_hosts == ()
    assert settings.corrections_dir is None and settings.corrections_max_mb == 100  # corrections off


def test_environment_then_overrides():
    env = {"TEXTREC_WEB_MAX_REQUEST_BYTES": "1_000_000", "TEXTREC_WEB_ALLOW_IMAGE_URL": "yes",
           "TEXTREC_WEB_URL_ALLOW_HOSTS": " Images.Example , cdn.example ", "TEXTREC_WEB_URL_TIMEOUT": "2.5",
           "TEXTREC_WEB_MAX_IMAGE_SIDE": "4000", "UNRELATED": "x"}
    settings = Settings.from_env(env, max_image_side=100, url_max_bytes=None)
    assert settings == Settings(max_request_bytes=1_000_000, allow_image_url=True, url_timeout=2.5,
                                url_allow_hosts=("images.example", "cdn.example"), max_image_side=100)


@pytest.mark.parametrize(("env", "message"), [
    ({"TEXTREC_WEB_MAX_IMAGE_PIXELS": "lots"}, "TEXTREC_WEB_MAX_IMAGE_PIXELS: expected a positive integer"),
    ({"TEXTREC_WEB_MAX_REQUEST_BYTES": "0"}, "TEXTREC_WEB_MAX_REQUEST_BYTES: expected a positive integer"),
    ({"TEXTREC_WEB_URL_TIMEOUT": "nan"}, "TEXTREC_WEB_URL_TIMEOUT: expected a positive number"),
    ({"TEXTREC_WEB_ALLOW_IMAGE_URL": "maybe"}, "TEXTREC_WEB_ALLOW_IMAGE_URL: expected one of"),
    ({"TEXTREC_WEB_ALLOW_IMAGE_URL": "1"}, "url_allow_hosts is empty"),
])
def test_bad_environment_values_name_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_corrections_folder_from_the_environment_or_code(tmp_path):
    settings = Settings.from_env({"TEXTREC_WEB_CORRECTIONS_DIR": " /srv/corrections ",
                                  "TEXTREC_WEB_CORRECTIONS_MAX_MB": "250"})
    assert (settings.corrections_dir, settings.corrections_max_mb) == ("/srv/corrections", 250)
    assert Settings.from_env({"TEXTREC_WEB_CORRECTIONS_DIR": ""}).corrections_dir is None  # empty: off
    assert Settings(corrections_dir=tmp_path).corrections_dir == str(tmp_path)
    with pytest.raises(SettingsError, match="TEXTREC_WEB_CORRECTIONS_MAX_MB: expected a positive integer"):
        Settings.from_env({"TEXTREC_WEB_CORRECTIONS_MAX_MB": "0"})


def test_bad_values_in_code_are_refused():
    for bad in ({"max_image_side": -1}, {"max_request_bytes": True}, {"url_timeout": 0},
                {"url_allow_hosts": "images.example"}, {"url_allow_hosts": ("",)}, {"corrections_dir": ""},
                {"corrections_dir": 3}, {"corrections_max_mb": 0}):
        with pytest.raises(SettingsError):
            Settings(**bad)


def test_base64_forms():
    data = bytes(range(256))
    encoded = base64.b64encode(data).decode()
    assert decode_base64(encoded) == data
    assert decode_base64(f"data:image/png;base64,{encoded}") == data
    assert decode_base64(f"DATA:;charset=x;BASE64,{encoded[:40]}\n{encoded[40:]}") == data
    assert decode_base64(encoded.rstrip("=")) == data  # missing padding forgiven
    for bad in ("data:image/png,abc", "abc$", "a"):
        with pytest.raises(ApiError) as refused:
            decode_base64(bad)
        assert (refused.value.status, refused.value.code) == (400, "invalid_base64")


def encode(image: Image.Image, format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def test_images_become_grayscale_with_transparency_on_white():
    rgba = np.zeros((20, 40, 4), dtype=np.uint8)
    rgba[5:15, 5:10] = (0, 0, 0, 255)  # black ink on a transparent background
    gray = decode_image(encode(Image.fromarray(rgba), "PNG"), Settings())
    assert gray.dtype == np.uint8 and gray.shape == (20, 40)
    assert gray[10, 7] == 0 and gray[0, 0] == 255
    rgb = np.full((20, 40, 3), 255, dtype=np.uint8)
    rgb[5:15, 5:10] = 0
    for fmt in ("JPEG", "GIF", "BMP", "WEBP"):
        gray = decode_image(encode(Image.fromarray(rgb), fmt), Settings())
        assert gray.shape == (20, 40) and gray[10, 7] < 30 and gray[0, 0] > 225, fmt
    deep = np.full((20, 40), 60000, dtype=np.uint16)  # a 16-bit scan
    deep[5:15, 5:10] = 1000
    gray = decode_image(encode(Image.fromarray(deep), "PNG"), Settings())
    assert (gray[10, 7], gray[0, 0]) == (4, 233)


def test_the_pixel_limit_is_checked_before_decoding(monkeypatch):
    bomb = encode(Image.new("L", (3000, 2000)), "PNG")
    loaded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loaded.append(self))
    with pytest.raises(ApiError) as refused:
        decode_image(bomb, Settings(max_image_pixels=5_999_999))
    assert (refused.value.status, refused.value.code) == (413, "image_too_large") and not loaded


def test_unsupported_formats_are_not_images():
    tiff = encode(Image.new("L", (10, 10), 128), "TIFF")
    with pytest.raises(ApiError, match="not a readable image"):
        decode_image(tiff, Settings())
