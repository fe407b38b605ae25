import csv

import cv2
import numpy as np
import pytest

from common.errors import UserError
from pipeline.synth_clip import main, make_clip


def dataset(tmp_path):
    bg = tmp_path / "frames"
    (bg / "images").mkdir(parents=True)
    frame = np.full((180, 320, 3), 70, np.uint8)
    frame[100:110, 40:80] = 250  # the frame's own plate: painted out in the clip
    cv2.imwrite(str(bg / "images" / "f.png"), frame)
    (bg / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\nf.png,OWN1,40,100,80,110\n")
    crops = tmp_path / "crops"
    (crops / "images").mkdir(parents=True)
    rows = []
    for i, text in enumerate(["AB123", "CD456"]):
        img = np.full((40, 120, 3), 230, np.uint8)
        cv2.putText(img, text, (6, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
        cv2.imwrite(str(crops / "images" / f"{i}.png"), img)
        rows.append(f"{i}.png,{text}")
    (crops / "labels.csv").write_text("image,plate_text\n" + "\n".join(rows) + "\n")
    return bg, crops


def read_frames(clip) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            return frames
        frames.append(f.astype(np.int16))


def test_a_clip_of_known_vehicles(tmp_path):
    bg, crops = dataset(tmp_path)
    clip = make_clip(bg, [crops], tmp_path / "out", vehicles=2, seed=1, gap=6)
    rows = list(csv.DictReader((tmp_path / "out" / "expected.csv").open()))
    assert sorted(r["plate_text"] for r in rows) == ["AB123", "CD456"]
    frames = read_frames(clip)
    first, last = int(rows[1]["first_frame"]), int(rows[1]["last_frame"])
    assert int(rows[0]["first_frame"]) == 0 and first == int(rows[0]["last_frame"]) + 1 + 6
    assert len(frames) == last + 1 + 6 and 24 <= last - first + 1 <= 40
    empty = frames[first - 1]  # a gap frame: the background alone, its own plate painted out
    assert empty[100:110, 40:80].mean() < 150
    grown = [int((np.abs(f - empty).max(axis=2) > 40).sum()) for f in frames[first:last + 1]]
    assert grown[0] > 0 and grown[-1] > 4 * grown[0]  # the plate is there and comes closer


def test_more_vehicles_than_plate_texts_is_refused(tmp_path):
    bg, crops = dataset(tmp_path)
    with pytest.raises(UserError, match="3 vehicles asked, but only 2 plate texts"):
        make_clip(bg, [crops], tmp_path / "out", vehicles=3)


def test_frames_of_another_size_are_resized_not_dropped(tmp_path):
    """OpenCV's writer silently drops a frame of another size: every vehicle must still be in the clip."""
    bg, crops = dataset(tmp_path)
    cv2.imwrite(str(bg / "images" / "g.png"), np.full((240, 400, 3), 60, np.uint8))
    with (bg / "labels.csv").open("a") as f:
        f.write("g.png,,0,0,1,1\n")
    for seed in range(6):  # some seeds put the two vehicles on frames of different sizes
        out = tmp_path / f"out{seed}"
        clip = make_clip(bg, [crops], out, vehicles=2, seed=seed, gap=6)
        last = int(list(csv.DictReader((out / "expected.csv").open()))[-1]["last_frame"])
        cap = cv2.VideoCapture(str(clip))
        n = 0
        while cap.read()[0]:
            n += 1
        assert n == last + 1 + 6


def test_vehicles_together_overlap_in_time_each_in_its_lane(tmp_path):
    bg, crops = dataset(tmp_path)
    clip = make_clip(bg, [crops], tmp_path / "out", vehicles=2, seed=1, gap=6, together=2, pan=40)
    rows = list(csv.DictReader((tmp_path / "out" / "expected.csv").open()))
    (a0, a1), (b0, b1) = sorted((int(r["first_frame"]), int(r["last_frame"])) for r in rows)
    assert a0 == 0 and 4 <= b0 <= 14 and b0 <= a1  # the second starts 4-14 frames after the first, while it is shown
    frames = read_frames(clip)
    assert len(frames) == max(a1, b1) + 1 + 6
    empty = frames[-1]
    both = np.abs(frames[min(a1, b1)] - empty).max(axis=2) > 40  # a frame with both plates near
    cols = np.nonzero(both.any(axis=0))[0]
    assert cols.size and cols.min() < 160 < cols.max()  # one in the left lane, one in the right (320 px wide)



def test_an_interlaced_clip_combs_the_moving_plate(tmp_path):
    from detection.interlace import comb_score

    bg, crops = dataset(tmp_path)
    plain = make_clip(bg, [crops], tmp_path / "plain", vehicles=2, seed=1, gap=6)
    combed = make_clip(bg, [crops], tmp_path / "combed", vehicles=2, seed=1, gap=6, interlace=True)
    assert (tmp_path / "plain" / "expected.csv").read_text() == (tmp_path / "combed" / "expected.csv").read_text()
    rows = list(csv.DictReader((tmp_path / "combed" / "expected.csv").open()))
    f = int(rows[0]["last_frame"]) - 2  # the plate near and moving
    a, b = read_frames(plain)[f], read_frames(combed)[f]
    empty = read_frames(plain)[int(rows[1]["first_frame"]) - 1]
    ys, xs = np.nonzero(np.abs(a - empty).max(axis=2) > 40)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    u8 = [np.clip(x, 0, 255).astype(np.uint8) for x in (a, b)]
    assert comb_score(u8[1][box]) > 2 * comb_score(u8[0][box])  # the same plate, its rows alternating


def test_a_quiet_clip_has_its_gaps_and_sensor_noise(tmp_path):
    """--gap 20 --noise 3: twenty empty frames after each vehicle, noise drawn afresh for every frame; the vehicles
    are the same as without noise."""
    bg, crops = dataset(tmp_path)
    clip = make_clip(bg, [crops], tmp_path / "quiet", vehicles=2, seed=1, gap=20, noise=3.0)
    plain = make_clip(bg, [crops], tmp_path / "plain", vehicles=2, seed=1, gap=20)
    rows = [list(csv.DictReader((tmp_path / d / "expected.csv").open())) for d in ("quiet", "plain")]
    assert rows[0] == rows[1] and int(rows[0][1]["first_frame"]) == int(rows[0][0]["last_frame"]) + 1 + 20
    noisy, clean = read_frames(clip), read_frames(plain)
    gap = int(rows[0][1]["first_frame"]) - 1
    assert len(noisy) == len(clean)
    assert np.abs(noisy[gap] - clean[gap]).mean() > 1.0  # (the encoder keeps little of it from frame to frame)
    assert np.abs(noisy[0] - clean[0]).mean() > 1.0


def test_the_command_writes_a_clip_without_noise_by_default_and_refuses_negative_noise(tmp_path, capsys):
    bg, crops = dataset(tmp_path)
    args = ["--backgrounds", str(bg), "--plates", str(crops), "--vehicles", "1", "--gap", "0"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b"), "--noise", "0"]) == 0
    a, b = read_frames(tmp_path / "a" / "clip.mp4"), read_frames(tmp_path / "b" / "clip.mp4")
    assert len(a) == len(b) > 0 and all((x == y).all() for x, y in zip(a, b))  # --noise 0 is the default, no noise
    assert main(args + ["--out", str(tmp_path / "c"), "--noise", "-1"]) == 2
    assert "--noise must be 0 or more, not -1" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("lane, fields", [((0.0, 1.0), 1), ((0.5, 1.0), 1), ((0.0, 1.0), 2)])
def test_a_plate_approaches_in_a_straight_line_growing_geometrically_inside_its_lane(lane, fields):
    from pipeline.synth_clip import vehicle_path

    H, W = 720, 1280
    plate = np.full((60, 240, 3), 200, np.uint8)
    path, _ = vehicle_path((H, W), plate, np.random.default_rng(3), lane, fields)
    n = len(path) // fields
    assert 24 <= n <= 40 and len(path) == n * fields
    for p in path:  # wholly inside the frame
        h, w = p.patch.shape[:2]
        assert p.mask.shape == (h, w) and 0 <= p.x <= W - w and 0 <= p.y <= H - h
    widths = np.array([p.patch.shape[1] for p in path[::fields]], float)
    assert 40 - 1 <= widths[0] <= 70 and 150 - 1 <= widths[-1] <= 260  # far to near, at 1280 px wide
    ratios = widths[1:] / widths[:-1]
    assert np.all(ratios >= 1) and np.ptp(ratios) < 0.12  # one growth factor each frame (widths are whole px)
    centres = np.array([(p.x + p.patch.shape[1] / 2, p.y + p.patch.shape[0] / 2) for p in path])
    clear = [0 < p.x < W - p.patch.shape[1] for p in path]  # a plate reaching the frame's edge is kept inside it
    steps = np.array([centres[i + 1] - centres[i] for i in range(len(path) - 1) if clear[i] and clear[i + 1]])
    assert len(steps) > len(path) // 2 and np.abs(steps - np.median(steps, axis=0)).max() <= 1.0  # evenly, one line
    assert np.all(steps[:, 1] > 0) and 0.42 * H - 1 <= centres[0, 1] <= 0.5 * H + 1 <= 0.68 * H - 1 <= centres[-1, 1]
    assert np.all((centres[:, 0] >= lane[0] * W) & (centres[:, 0] <= lane[1] * W))


def test_interlaced_rows_alternate_from_the_first_view_and_the_second():
    from pipeline.synth_clip import interlaced

    out = interlaced(np.zeros((5, 3, 3), np.uint8), np.full((5, 3, 3), 9, np.uint8))
    assert out[:, 0, 0].tolist() == [0, 9, 0, 9, 0]


def test_compose_pastes_far_plates_first_and_turns_the_camera_by_shift():
    from pipeline.synth_clip import Placement, compose

    background = np.zeros((40, 80, 3), np.uint8)
    near = Placement(np.full((20, 40, 3), (250, 0, 0), np.uint8), np.full((20, 40), 255, np.uint8), 10, 10)
    far = Placement(np.full((10, 20, 3), (0, 0, 250), np.uint8), np.full((10, 20), 255, np.uint8), 20, 15)
    for order in ([(near, 1), (far, 2)], [(far, 2), (near, 1)]):
        img = compose(background, order)
        overlap = img[17:23, 25:35].astype(int).mean(axis=(0, 1))
        assert overlap[0] > 100 > 20 > overlap[2]  # blue: the near plate covers the far (red) one
    shifted = compose(background, [(near, 1), (far, 2)], shift=10.0)
    assert (shifted[:, 10:] == img[:, :-10]).all() and (shifted[:, :10] == img[:, :1]).all()  # edges repeated
