import functools

import cv2
import numpy as np
import pytest

from detection.dataset import PlateBox
from detection.scenes import make_scene, warp_plate


def test_boxes_match_the_pasted_plates():
    rng = np.random.default_rng(0)
    frame = np.zeros((360, 640, 3), np.uint8)
    existing = [PlateBox(10, 300, 60, 315, "B21GSB")]
    plate = np.full((50, 100, 3), 255, np.uint8)
    texts = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        scene = make_scene(frame, existing, [(plate, "AB123CD")], rng, max_plates=3, synth_share=0.0)
        assert scene.boxes[0] == existing[0]
        assert len(scene.boxes) > 1 and {b.text for b in scene.boxes[1:]} <= {"AB123CD", ""}  # text, or none if occluded
        texts += [b.text for b in scene.boxes[1:]]
        assert scene.image.shape == frame.shape
        for b in scene.boxes[1:]:
            x1, y1, x2, y2 = (int(round(v)) for v in (b.x1, b.y1, b.x2, b.y2))
            inside = scene.image[y1:y2, x1:x2].max(axis=2) > 60
            assert inside.mean() > 0.5  # the plate fills its box
        bright = scene.image.max(axis=2) > 60
        covered = np.zeros_like(bright)
        for b in scene.boxes:
            covered[max(0, int(b.y1) - 6):int(b.y2) + 7, max(0, int(b.x1) - 1):int(b.x2) + 2] = True
        assert (bright & ~covered).sum() == 0
    assert texts.count("AB123CD") > texts.count("")  # most pasted plates keep their text


def test_boxes_never_overlap():
    frame = np.full((720, 1280, 3), 90, np.uint8)
    scene = make_scene(frame, [], [], np.random.default_rng(3), max_plates=4, synth_share=1.0)
    b = scene.boxes
    assert b and all(len(x.text) >= 4 or x.text == "" for x in b) and any(x.text for x in b)  # rendered text
    for i in range(len(b)):
        for j in range(i + 1, len(b)):
            assert b[i].x2 < b[j].x1 or b[j].x2 < b[i].x1 or b[i].y2 < b[j].y1 or b[j].y2 < b[i].y1


def test_excluded_frames_are_never_backgrounds_and_included_ones_are_the_only(tmp_path):
    import cv2
    import pytest

    from common.errors import UserError
    from detection.dataset import read_box_labels, write_box_labels
    from detection.scenes import synthesize

    bg = tmp_path / "bg"
    (bg / "images").mkdir(parents=True)
    for name, grey in (("held.jpg", 220), ("free.jpg", 40)):
        cv2.imwrite(str(bg / "images" / name), np.full((180, 320, 3), grey, np.uint8))
    write_box_labels({"held.jpg": [], "free.jpg": []}, bg / "labels.csv")
    out = synthesize(bg, [], tmp_path / "out", n=6, exclude={("bg", "held.jpg")}, synth_share=1.0)
    scenes = read_box_labels(out)
    assert len(scenes) == 6
    for name in scenes:
        img = cv2.imread(str(tmp_path / "out" / "images" / name))
        assert np.median(img) < 100  # every scene is the dark free frame, never the bright held-out one
    only = synthesize(bg, [], tmp_path / "only", n=3, include={("bg", "held.jpg")}, synth_share=1.0)
    assert all(np.median(cv2.imread(str(tmp_path / "only" / "images" / n))) > 150 for n in read_box_labels(only))
    crops = tmp_path / "crops"
    (crops / "images").mkdir(parents=True)
    for name, grey in (("val.png", 255), ("train.png", 0)):
        cv2.imwrite(str(crops / "images" / name), np.full((30, 90, 3), grey, np.uint8))
    (crops / "labels.csv").write_text("image,plate_text\nval.png,VAL123\ntrain.png,TRN456\n")
    mixed = synthesize(bg, [crops], tmp_path / "mixed", n=4, include={("crops", "val.png")},
                       exclude={("bg", "held.jpg")}, synth_share=0.0)
    texts = {b.text for boxes in read_box_labels(mixed).values() for b in boxes}
    assert texts - {""} == {"VAL123"}  # only the included crop (or an occluded one); backgrounds stay usable
    with pytest.raises(UserError, match="no background frames left"):
        synthesize(bg, [], tmp_path / "out2", n=1, exclude={("bg", "held.jpg"), ("bg", "free.jpg")})


def test_plates_labelled_by_another_tool_are_pasted_a_photos_plate_cut_out(tmp_path):
    """--plates reads what the OCR reads (ocr/label_files.py): fast-plate-ocr's crops, OpenALPR's photos with boxes."""
    import cv2

    from detection.dataset import write_box_labels
    from detection.scenes import load_sources

    bg = tmp_path / "bg"
    (bg / "images").mkdir(parents=True)
    cv2.imwrite(str(bg / "images" / "road.jpg"), np.full((180, 320, 3), 40, np.uint8))
    write_box_labels({"road.jpg": []}, bg / "labels.csv")
    fpo = tmp_path / "fpo"
    (fpo / "images").mkdir(parents=True)
    cv2.imwrite(str(fpo / "images" / "a.png"), np.full((30, 90, 3), 200, np.uint8))
    (fpo / "annotations.csv").write_text("image_path,plate_text\nimages/a.png,ab-123\n")
    photos = tmp_path / "openalpr"
    photos.mkdir()
    cv2.imwrite(str(photos / "car.jpg"), np.full((200, 300, 3), 90, np.uint8))
    (photos / "car.txt").write_text("car.jpg\t100\t120\t100\t30\tXY987\n")
    _, _, crops = load_sources(bg, [fpo, photos])
    assert [(c.shape, t) for c, t in crops] == [((30, 90, 3), "AB123"), ((37, 112, 3), "XY987")]  # 6 % margin


def test_zoom_in_maps_boxes_inside_and_never_cuts_one():
    from detection.scenes import zoom_in

    frame = np.zeros((360, 640, 3), np.uint8)
    boxes = [PlateBox(100, 200, 160, 215, "AAA111"), PlateBox(400, 100, 470, 118, "BBB222")]
    for b in boxes:
        frame[int(b.y1):int(b.y2), int(b.x1):int(b.x2)] = 255
    for seed in range(20):
        img, mapped = zoom_in(frame, boxes, np.random.default_rng(seed))
        assert img.shape == frame.shape and len(mapped) <= 2
        bright = img.max(axis=2) > 127
        covered = np.zeros_like(bright)
        for b in mapped:
            assert b.text in ("AAA111", "BBB222") and b.x2 - b.x1 > 60 * 1.6  # enlarged at least 1/0.6 times
            x1, y1, x2, y2 = int(b.x1), int(b.y1), int(np.ceil(b.x2)), int(np.ceil(b.y2))
            assert bright[y1 + 2:y2 - 2, x1 + 2:x2 - 2].all()  # the white plate is where its box says
            covered[max(0, y1 - 2):y2 + 2, max(0, x1 - 2):x2 + 2] = True
        assert not (bright & ~covered).any()  # no plate is in the picture without its box (none cut at the edge)


def test_close_up_scene_has_one_large_plate():
    frame = np.full((360, 640, 3), 90, np.uint8)
    plate = np.full((50, 100, 3), 255, np.uint8)
    widths = []
    for seed in range(10):
        scene = make_scene(frame, [], [(plate, "AB123CD")], np.random.default_rng(seed), synth_share=0.0,
                           close_up=True)
        assert len(scene.boxes) <= 1
        widths += [b.x2 - b.x1 for b in scene.boxes]
    assert len(widths) >= 8 and min(widths) >= 0.25 * 640  # a warp may narrow the plate a little


def test_unboxed_plates_of_the_backgrounds_become_textless_boxes_never_pasted_over(tmp_path):
    import cv2

    from detection.dataset import read_box_labels, write_box_labels
    from detection.scenes import synthesize

    bg = tmp_path / "bg"
    (bg / "images").mkdir(parents=True)
    cv2.imwrite(str(bg / "images" / "f.jpg"), np.full((360, 640, 3), 60, np.uint8))
    write_box_labels({"f.jpg": [PlateBox(10, 300, 60, 315, "B21GSB")]}, bg / "labels.csv")
    unboxed = tmp_path / "unboxed.csv"
    unboxed.write_text("image,x1,y1,x2,y2\nf.jpg,200,200,400,260\n")  # a large region: pasting must avoid it
    out = synthesize(bg, [], tmp_path / "out", n=5, synth_share=1.0, unboxed=unboxed)
    for boxes in read_box_labels(out).values():
        assert boxes[:2] == [PlateBox(10, 300, 60, 315, "B21GSB"), PlateBox(200, 200, 400, 260, "")]
        for b in boxes[2:]:  # the pasted plates stay clear of the unlabelled one
            assert b.x2 < 200 or b.x1 > 400 or b.y2 < 200 or b.y1 > 260


def test_a_plate_taller_than_the_space_below_the_horizon_still_fits():
    """Far plates sit below the top quarter; a tall (two-row) plate in a short frame goes as low as it fits
    rather than past the frame's bottom (which crashed the blend)."""
    frame = np.full((100, 260, 3), 90, np.uint8)
    crop = np.full((100, 100, 3), 220, np.uint8)  # square, like a two-row plate
    for seed in range(300):
        scene = make_scene(frame, [], [(crop, "AB12")], np.random.default_rng(seed), synth_share=0.0)
        for b in scene.boxes:
            assert 0 <= b.y1 < b.y2 <= 100 and 0 <= b.x1 < b.x2 <= 260


def test_gray_scenes_are_the_colour_scenes_in_greyscale(tmp_path):
    import cv2

    from detection.dataset import read_box_labels, write_box_labels
    from detection.scenes import synthesize

    bg = tmp_path / "bg"
    (bg / "images").mkdir(parents=True)
    frame = np.dstack([np.full((180, 320), v, np.uint8) for v in (30, 90, 200)])
    cv2.imwrite(str(bg / "images" / "f.jpg"), frame)
    write_box_labels({"f.jpg": []}, bg / "labels.csv")
    colour = read_box_labels(synthesize(bg, [], tmp_path / "c", n=3, seed=4, synth_share=1.0))
    grey = read_box_labels(synthesize(bg, [], tmp_path / "g", n=3, seed=4, synth_share=1.0, gray=True))
    assert grey == colour and any(colour.values())
    for name in grey:
        g = cv2.imread(str(tmp_path / "g" / "images" / name)).astype(int)
        c = cv2.imread(str(tmp_path / "c" / "images" / name))
        assert np.abs(g[..., 0] - g[..., 2]).max() <= 2  # three equal channels (JPEG rounding aside)
        assert np.abs(g[..., 1] - cv2.cvtColor(c, cv2.COLOR_BGR2GRAY).astype(int)).mean() < 3


def test_a_plate_shrunk_far_is_averaged_not_aliased():
    # 1-px black and white columns shrunk 10x: a camera (or INTER_AREA) sees mid grey; a warp that only samples
    # the source keeps hitting whole black or white columns, the aliasing that made far plates unreadable
    plate = np.zeros((100, 400, 3), np.uint8)
    plate[:, ::2] = 255
    for seed in range(3):
        patch, mask, _ = warp_plate(plate, 40, np.random.default_rng(seed))
        inner = cv2.erode(mask, np.ones((3, 3), np.uint8)) == 255
        assert inner.sum() > 100
        values = patch[inner].astype(float)
        assert abs(values.mean() - 127.5) < 10 and values.std() < 12


def test_boxes_within_4_px_of_each_other_count_as_touching_on_every_side():
    from detection.scenes import _iou_any

    box = (100.0, 100.0, 150.0, 120.0)
    for near, far in [((154, 100, 170, 120), (154.5, 100, 170, 120)), ((80, 100, 96, 120), (80, 100, 95.5, 120)),
                      ((100, 124, 150, 130), (100, 124.5, 150, 130)), ((100, 90, 150, 96), (100, 90, 150, 95.5))]:
        assert _iou_any(box, [PlateBox(*near)]) and not _iou_any(box, [PlateBox(*far)])


@functools.cache
def pasted() -> tuple[PlateBox, ...]:
    """The boxes of a white plate pasted into a grey 640 x 360 frame's scenes of seeds 0-59 (made once)."""
    frame = np.full((360, 640, 3), 90, np.uint8)
    plate = np.full((50, 100, 3), 255, np.uint8)
    return tuple(b for seed in range(60) for b in make_scene(frame, [], [(plate, "AB123CD")],
                                                                np.random.default_rng(seed), synth_share=0.0).boxes)


def test_plates_are_pasted_below_the_horizon_at_28_px_to_a_third_of_the_width():
    boxes = pasted()
    assert len(boxes) >= 90 and 90 <= min(b.y1 for b in boxes) < 150  # from a quarter of the height down
    widths = [b.x2 - b.x1 for b in boxes]  # log-uniform: many small, some large
    assert 22 <= min(widths) < 45 and 60 < max(widths) <= 0.35 * 640 * 1.2


def test_about_one_plate_in_seven_is_occluded_and_so_has_no_text():
    texts = [b.text for b in pasted()]
    assert len(texts) >= 90 and 0.05 <= texts.count("") / len(texts) <= 0.27


def test_a_real_crop_is_trimmed_towards_its_plate_by_up_to_8_and_2_percent(fixed_draws):
    from detection.scenes import _plate_source

    crop = np.arange(100 * 200 * 3, dtype=np.uint32).reshape(100, 200, 3).astype(np.uint8)
    plate, text = _plate_source([(crop, "AB123CD")], fixed_draws(0.99, at=1.0), synth_share=0.5)
    assert text == "AB123CD" and (plate == crop[8:92, 4:196]).all()
    untrimmed, _ = _plate_source([(crop, "AB123CD")], fixed_draws(0.5, at=0.0), synth_share=0.5)
    assert untrimmed.shape == crop.shape
    rendered, text = _plate_source([(crop, "AB123CD")], fixed_draws(0.49, at=0.0), synth_share=0.5)
    assert text != "AB123CD"  # drawn by ocr/synth_render.py instead


@pytest.mark.parametrize("at, share, corner", [(0.0, 0.3, (0, 0)), (1.0, 0.6, (256, 144))])
def test_a_close_up_blows_up_a_region_of_30_to_60_percent(fixed_draws, at, share, corner):
    from detection.scenes import zoom_in

    frame = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    x, y = corner
    w, h = int(640 * share), int(360 * share)
    box = PlateBox(x + 10, y + 20, x + 60, y + 35, "AB12")
    img, boxes = zoom_in(frame, [box], fixed_draws(0.0, at=at))
    assert (img == cv2.resize(frame[y:y + h, x:x + w], (640, 360), interpolation=cv2.INTER_LINEAR)).all()
    sx, sy = 640 / w, 360 / h
    assert boxes == [PlateBox(10 * sx, 20 * sy, 60 * sx, 35 * sy, "AB12")]


@pytest.mark.parametrize("local, patch, value", [(0, 255, 98), (200, 255, 223), (255, 150, 195)])
def test_a_pasted_plate_takes_the_brightness_of_its_spot_within_bounds(fixed_draws, local, patch, value):
    """The gain: 0.7-1.15 times 0.55 + 0.45 x the spot's mean / 128, held to 0.25-1.3 (here the draws' low end, and
    for the bright spot the high end)."""
    from detection.scenes import paste

    frame = np.full((100, 200, 3), local, np.uint8)
    mask = np.full((20, 40), 255, np.uint8)
    paste(frame, np.full((20, 40, 3), patch, np.uint8), mask, 50, 30, fixed_draws(0.99, at=1.0 if local == 255 else 0))
    assert int(frame[40, 70, 0]) == value and (frame[:30] == local).all()


@pytest.mark.parametrize("level, scenes", [(2, 0), (3, 4)])
def test_frames_black_to_a_mean_below_3_are_no_backgrounds(tmp_path, level, scenes):
    from detection.scenes import synthesize

    bg = tmp_path / "bg"
    (bg / "images").mkdir(parents=True)
    cv2.imwrite(str(bg / "images" / "f.png"), np.full((120, 200, 3), level, np.uint8))
    (bg / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\nf.png,,,,,\n")
    synthesize(bg, [], tmp_path / "out", 4, synth_share=1.0)
    assert len(list((tmp_path / "out" / "images").iterdir())) == scenes


@pytest.mark.parametrize("occluded", [False, True])
def test_a_pasted_plates_box_is_its_outline_where_it_landed_and_a_bar_hides_its_text(monkeypatch, fixed_draws,
                                                                                      occluded):
    """With fixed draws: the plate (its warp stood in for: a 60 x 20 outline in an 80 x 30 patch) lands at the middle
    of where it may (x 279, y 209); one in the occluded draw gets a bar 8 % of its width, 5 px past its top and bottom,
    and no text."""
    import detection.scenes as sc

    mask = np.zeros((30, 80), np.uint8)
    mask[5:25, 10:70] = 255
    monkeypatch.setattr(sc, "warp_plate", lambda plate, width, rng: (np.full((30, 80, 3), 200, np.uint8), mask, None))
    frame = np.full((360, 640, 3), 90, np.uint8)
    draws = fixed_draws([0.99, 0.99, 0.99, 0.1 if occluded else 0.99], at=0.5)
    scene = make_scene(frame, [], [(np.full((50, 100, 3), 255, np.uint8), "AB123CD")], draws, max_plates=1,
                       synth_share=0.0)
    assert scene.boxes == (PlateBox(289, 214, 349, 234, "" if occluded else "AB123CD"),)
    bar = scene.image[209:240, 316:323]
    assert (bar == 127).all() == occluded and (scene.image[200:208, 300:340] == 90).all()
    if occluded:
        assert (scene.image[209:240, 315] != 127).any() and (scene.image[209:240, 323] != 127).any()
