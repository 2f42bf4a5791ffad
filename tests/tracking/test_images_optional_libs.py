"""log_image and log_figure take numpy arrays, PIL images and matplotlib figures when those are installed."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlscope


def artifact_dir() -> Path:
    return Path(mlscope.get_artifact_uri().removeprefix("file://"))


def test_log_image_accepts_a_numpy_array(root: Path) -> None:
    np = pytest.importorskip("numpy")
    PIL = pytest.importorskip("PIL.Image")
    mlscope.log_image(np.full((4, 6, 3), 200, dtype=np.uint8), "array.png")
    with PIL.open(artifact_dir() / "array.png") as img:
        assert (img.size, img.getpixel((0, 0))[:3]) == ((6, 4), (200, 200, 200))


def test_log_image_accepts_a_pil_image(root: Path) -> None:
    PIL = pytest.importorskip("PIL.Image")
    mlscope.log_image(PIL.new("RGB", (5, 3), (10, 20, 30)), "pil.png")
    with PIL.open(artifact_dir() / "pil.png") as img:
        assert (img.size, img.getpixel((1, 1))) == ((5, 3), (10, 20, 30))


def test_log_figure_writes_a_matplotlib_figure_in_the_requested_format(root: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([0, 1, 2], [2, 1, 3])
    mlscope.log_figure(figure, "plots/curve.png")
    mlscope.log_figure(figure, "plots/curve.svg")
    plt.close(figure)
    assert (artifact_dir() / "plots" / "curve.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (artifact_dir() / "plots" / "curve.svg").read_bytes()[:500]


def test_an_image_series_thumbnail_is_scaled_to_256_as_mlflows(root: Path, mlflow_client) -> None:
    np = pytest.importorskip("numpy")
    PIL = pytest.importorskip("PIL.Image")
    picture = np.zeros((40, 100, 3), dtype=np.uint8)
    ours = mlscope.MlscopeClient(str(root))
    theirs = mlflow_client(root)
    sizes = []
    for client in (ours, theirs):
        run_id = client.create_run("0").info.run_id
        client.log_image(run_id, picture, key="sample", step=1)
        folder = Path(client.get_run(run_id).info.artifact_uri.removeprefix("file://")) / "images"
        (thumbnail,) = folder.glob("*+compressed.webp")
        with PIL.open(thumbnail) as image:
            sizes.append((image.format, image.size))
    assert sizes[0] == sizes[1] == ("WEBP", (256, 102))
